"""Goods in kind and referrals (R3.10)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import Field

from app.api_types import InputModel, PathId
from app.deps import CurrentPrincipal, NowDep, SessionDep
from app.routers.applications import (
    ACTION_ERRORS,
    ApplicationDetail,
    IfMatch,
    application_detail,
    load_for_action,
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
    application_id: PathId,
    body: ReferralCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    at: NowDep,
    if_match: IfMatch = None,
) -> ApplicationDetail:
    application = await load_for_action(session, principal, application_id, if_match)
    await flow.refer(
        session,
        application,
        actor=principal,
        now=at,
        agency=body.agency,
        programme=body.programme,
        note=body.note,
    )
    return await application_detail(session, application, principal, at)


class ReferralOutcome(InputModel):
    outcome: str = Field(min_length=1, max_length=255, examples=["已纳入医疗救助"])
    note: str = Field(default="", max_length=2000)


@router.post(
    "/{application_id}/referral/outcome",
    summary="Record what became of a referral",
    responses=ACTION_ERRORS,
)
async def referral_outcome(
    application_id: PathId,
    body: ReferralOutcome,
    principal: CurrentPrincipal,
    session: SessionDep,
    at: NowDep,
    if_match: IfMatch = None,
) -> ApplicationDetail:
    application = await load_for_action(session, principal, application_id, if_match)
    await flow.record_referral_outcome(
        session,
        application,
        actor=principal,
        now=at,
        outcome=body.outcome,
        note=body.note,
    )
    return await application_detail(session, application, principal, at)


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
    application_id: PathId,
    body: DeliveryCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    at: NowDep,
    if_match: IfMatch = None,
) -> ApplicationDetail:
    application = await load_for_action(session, principal, application_id, if_match)
    await flow.record_delivery(
        session,
        application,
        actor=principal,
        now=at,
        received_by=body.received_by,
        delivered_on=body.delivered_on,
        note=body.note,
    )
    return await application_detail(session, application, principal, at)
