"""Advance assistance (先行救助) and its settlement (R3.9)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from app.api_types import InputModel, MoneyStr, PathId
from app.deps import CurrentPrincipal, NowDep, SessionDep
from app.routers.applications import (
    ACTION_ERRORS,
    ApplicationDetail,
    IfMatch,
    application_detail,
    load_for_action,
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
    application_id: PathId,
    body: AdvanceCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    at: NowDep,
    if_match: IfMatch = None,
) -> ApplicationDetail:
    application = await load_for_action(session, principal, application_id, if_match)
    await flow.pay_advance(
        session,
        application,
        actor=principal,
        now=at,
        amount=body.amount,
        note=body.note,
    )
    return await application_detail(session, application, principal, at)


@router.post(
    "/{application_id}/advance/settlement",
    summary="Close a case its advance already covered; recover any excess",
    responses=ACTION_ERRORS,
)
async def settle_advance(
    application_id: PathId,
    principal: CurrentPrincipal,
    session: SessionDep,
    at: NowDep,
    if_match: IfMatch = None,
) -> ApplicationDetail:
    application = await load_for_action(session, principal, application_id, if_match)
    await flow.settle(session, application, actor=principal, now=at)
    return await application_detail(session, application, principal, at)
