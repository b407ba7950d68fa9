"""Advance assistance (先行救助) and its settlement (R3.9)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from app.api_types import InputModel, MoneyStr
from app.routers.applications import (
    ACTION_ERRORS,
    ApplicationDetail,
    CaseActionDep,
)
from app.workflow import advances as flow

router = APIRouter(prefix="/api/v1/applications", tags=["advance assistance"])


class AdvanceCreate(InputModel):
    amount: MoneyStr
    note: str = Field(default="", max_length=2000, examples=["火灾后当日先行救助"])


@router.post(
    "/{application_id}/advance",
    summary="Pay an urgent emergency case at once from the street's reserve fund",
    responses=ACTION_ERRORS,
)
async def pay_advance(
    case: CaseActionDep,
    body: AdvanceCreate,
) -> ApplicationDetail:
    await flow.pay_advance(
        case.session,
        case.application,
        actor=case.principal,
        now=case.now,
        amount=body.amount,
        note=body.note,
    )
    return await case.detail()


@router.post(
    "/{application_id}/advance/settlement",
    summary="Close a case its advance already covered; recover any excess",
    responses=ACTION_ERRORS,
)
async def settle_advance(
    case: CaseActionDep,
) -> ApplicationDetail:
    await flow.settle(
        case.session, case.application, actor=case.principal, now=case.now
    )
    return await case.detail()
