"""Objections raised during publicity, and their decision."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import Field

from app.api_types import InputModel, PathId
from app.deps import Authorized, NowDep, SessionDep
from app.errors import problem_responses
from app.persistence.tables import pk
from app.routers.applications import (
    ACTION_ERRORS,
    ApplicationDetail,
    CaseActionDep,
    IfMatch,
    ObjectionPublic,
    application_detail,
    load_for_action,
    objection_public,
)
from app.workflow import objections as flow
from app.workflow.applications import load_application

router = APIRouter(prefix="/api/v1", tags=["publicity"])


class ObjectionCreate(InputModel):
    source: Literal["clerk", "phone", "letter", "visit"] = "clerk"
    content: str = Field(min_length=1, max_length=2000)
    contact: str = Field(default="", max_length=64, description="Phone or address.")


@router.post(
    "/applications/{application_id}/objections",
    status_code=201,
    summary="Record an objection received during publicity",
    responses=ACTION_ERRORS,
)
async def raise_objection(
    case: CaseActionDep,
    body: ObjectionCreate,
) -> ApplicationDetail:
    await flow.raise_objection(
        case.session,
        case.application,
        actor=case.principal,
        now=case.now,
        source=body.source,
        content=body.content,
        contact=body.contact,
    )
    return await case.detail()


@router.get(
    "/applications/{application_id}/objections",
    summary="The objections of an application",
    responses=problem_responses(401, 403, 404),
)
async def list_objections(
    application_id: PathId, principal: Authorized, session: SessionDep
) -> list[ObjectionPublic]:
    application = await load_application(session, principal, application_id)
    return [
        objection_public(o) for o in await flow.objections_of(session, pk(application))
    ]


class ObjectionDecision(InputModel):
    decision: Literal["dismiss", "uphold"]
    note: str = Field(min_length=1, max_length=2000)


@router.post(
    "/objections/{objection_id}/decision",
    summary="Dismiss an objection (publicity goes on) or uphold it (back to "
    "investigation)",
    responses=ACTION_ERRORS,
)
async def decide_objection(
    objection_id: PathId,
    body: ObjectionDecision,
    principal: Authorized,
    session: SessionDep,
    at: NowDep,
    if_match: IfMatch = None,
) -> ApplicationDetail:
    """``If-Match`` names the application's version (its ETag), as for every
    other action on a case: a decision on a stale screen answers 412."""
    objection, _ = await flow.load_objection(session, principal, objection_id)
    application = await load_for_action(
        session, principal, objection.application_id, if_match
    )
    await flow.decide(
        session,
        objection,
        application,
        actor=principal,
        now=at,
        uphold=body.decision == "uphold",
        note=body.note,
    )
    return await application_detail(session, application, principal, at)
