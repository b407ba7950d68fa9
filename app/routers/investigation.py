"""Investigation: findings, democratic appraisal and the economic-status check."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import Field

from app.api_types import InputModel, MoneyStr
from app.deps import PlatformDep
from app.routers.applications import (
    ACTION_ERRORS,
    ApplicationDetail,
    CaseActionDep,
)
from app.workflow import investigation as flow

router = APIRouter(prefix="/api/v1/applications", tags=["investigation"])


class InvestigationCreate(InputModel):
    home_visit_done: bool
    result_in_doubt: bool = Field(
        default=False,
        description="The home visit's result is in doubt: the check is required.",
    )
    home_visit_note: str = Field(default="", max_length=2000)
    neighbour_interviews: int = Field(default=0, ge=0, le=100)
    neighbour_note: str = Field(default="", max_length=2000)
    monthly_income_per_capita: MoneyStr
    findings: str = Field(default="", max_length=2000)


@router.post(
    "/{application_id}/investigation",
    summary="Record the investigation (home visit, neighbours, income)",
    description="Without a home visit, or with a result in doubt, the household "
    "economic-status check is requested at once and the application waits for it.",
    responses=ACTION_ERRORS,
)
async def investigate(
    case: CaseActionDep,
    body: InvestigationCreate,
    platform: PlatformDep,
) -> ApplicationDetail:
    await flow.record_investigation(
        case.session,
        case.application,
        actor=case.principal,
        now=case.now,
        platform=platform,
        home_visit_done=body.home_visit_done,
        result_in_doubt=body.result_in_doubt,
        home_visit_note=body.home_visit_note,
        neighbour_interviews=body.neighbour_interviews,
        neighbour_note=body.neighbour_note,
        monthly_income_per_capita=body.monthly_income_per_capita,
        findings=body.findings,
    )
    return await case.detail()


class CheckRequest(InputModel):
    why: str = Field(min_length=1, max_length=255, examples=["入户调查结果存疑"])


@router.post(
    "/{application_id}/economic-check",
    summary="Request the household economic-status check",
    responses=ACTION_ERRORS,
)
async def request_check(
    case: CaseActionDep,
    body: CheckRequest,
    platform: PlatformDep,
) -> ApplicationDetail:
    await flow.request_check(
        case.session,
        case.application,
        actor=case.principal,
        now=case.now,
        platform=platform,
        why=body.why,
    )
    return await case.detail()


@router.post(
    "/{application_id}/economic-check/refresh",
    summary="Read the check's result; a failed check is sent again",
    responses=ACTION_ERRORS,
)
async def refresh_check(
    case: CaseActionDep,
    platform: PlatformDep,
) -> ApplicationDetail:
    await flow.refresh_check(
        case.session,
        case.application,
        actor=case.principal,
        now=case.now,
        platform=platform,
    )
    return await case.detail()


class AppraisalCreate(InputModel):
    held_on: dt.date
    attendees: int = Field(ge=1, le=1000)
    votes_for: int = Field(ge=0, le=1000)
    votes_against: int = Field(ge=0, le=1000)
    note: str = Field(default="", max_length=2000)


@router.post(
    "/{application_id}/appraisal",
    summary="Record a democratic appraisal (民主评议)",
    responses=ACTION_ERRORS,
)
async def appraise(
    case: CaseActionDep,
    body: AppraisalCreate,
) -> ApplicationDetail:
    await flow.record_appraisal(
        case.session,
        case.application,
        actor=case.principal,
        now=case.now,
        held_on=body.held_on,
        attendees=body.attendees,
        votes_for=body.votes_for,
        votes_against=body.votes_against,
        note=body.note,
    )
    return await case.detail()
