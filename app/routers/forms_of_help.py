"""Goods in kind and referrals (R3.10)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import Field

from app.api_types import InputModel
from app.routers.applications import (
    ACTION_ERRORS,
    ApplicationDetail,
    CaseActionDep,
)
from app.workflow import forms_of_help as flow

router = APIRouter(prefix="/api/v1/applications", tags=["forms of help"])


class ReferralCreate(InputModel):
    agency: str = Field(min_length=1, max_length=128, examples=["区医疗保障局"])
    programme: str = Field(min_length=1, max_length=128, examples=["医疗救助"])
    note: str = Field(default="", max_length=2000)


@router.post(
    "/{application_id}/referral",
    summary="Refer the household to another programme, department or charity",
    responses=ACTION_ERRORS,
)
async def refer(
    case: CaseActionDep,
    body: ReferralCreate,
) -> ApplicationDetail:
    await flow.refer(
        case.session,
        case.application,
        actor=case.principal,
        now=case.now,
        agency=body.agency,
        programme=body.programme,
        note=body.note,
    )
    return await case.detail()


class ReferralOutcome(InputModel):
    outcome: str = Field(min_length=1, max_length=255, examples=["已纳入医疗救助"])
    note: str = Field(default="", max_length=2000)


@router.post(
    "/{application_id}/referral/outcome",
    summary="Record what became of a referral",
    responses=ACTION_ERRORS,
)
async def referral_outcome(
    case: CaseActionDep,
    body: ReferralOutcome,
) -> ApplicationDetail:
    await flow.record_referral_outcome(
        case.session,
        case.application,
        actor=case.principal,
        now=case.now,
        outcome=body.outcome,
        note=body.note,
    )
    return await case.detail()


class DeliveryCreate(InputModel):
    received_by: str = Field(min_length=1, max_length=64)
    delivered_on: dt.date
    note: str = Field(default="", max_length=2000)


@router.post(
    "/{application_id}/delivery",
    summary="Record that goods granted in kind were handed over",
    responses=ACTION_ERRORS,
)
async def deliver(
    case: CaseActionDep,
    body: DeliveryCreate,
) -> ApplicationDetail:
    await flow.record_delivery(
        case.session,
        case.application,
        actor=case.principal,
        now=case.now,
        received_by=body.received_by,
        delivered_on=body.delivered_on,
        note=body.note,
    )
    return await case.detail()
