"""Investigation: findings, democratic appraisal and the economic-status check."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import Field

from app.api_types import InputModel, MoneyStr
from app.deps import PlatformDep
from app.domain.catalog import MAX_UPLOAD_BYTES
from app.errors import InvalidInput, problem_responses
from app.routers.applications import (
    ACTION_ERRORS,
    ApplicationDetail,
    CaseActionDep,
)
from app.workflow import investigation as flow
from app.workflow.verification_dispatch import DispatchPolicy

router = APIRouter(prefix="/api/v1/applications", tags=["investigation"])


def get_dispatch_policy(request: Request) -> DispatchPolicy:
    policy: DispatchPolicy = request.app.state.dispatch_policy
    return policy


DispatchPolicyDep = Annotated[DispatchPolicy, Depends(get_dispatch_policy)]


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
    "economic-status check is requested at once and the application waits for "
    "it; the household's authorisation letter must be on file first "
    "(422 `authorisation_missing`).",
    responses=ACTION_ERRORS,
)
async def investigate(
    case: CaseActionDep,
    body: InvestigationCreate,
) -> ApplicationDetail:
    await flow.record_investigation(
        case.session,
        case.application,
        actor=case.principal,
        now=case.now,
        home_visit_done=body.home_visit_done,
        result_in_doubt=body.result_in_doubt,
        home_visit_note=body.home_visit_note,
        neighbour_interviews=body.neighbour_interviews,
        neighbour_note=body.neighbour_note,
        monthly_income_per_capita=body.monthly_income_per_capita,
        findings=body.findings,
    )
    return await case.detail()


@router.post(
    "/{application_id}/economic-check/authorisation",
    status_code=201,
    summary="Record the household's signed authorisation letter (授权书)",
    description=(
        "Multipart form: `signed_by` (the signer's name), `signed_on` "
        "(YYYY-MM-DD, not after today) and `file`, the scan (PDF, JPEG or PNG, "
        f"at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB), filed with the case "
        "as material `authorisation_letter`. No check is requested without "
        "it. The latest letter is the one in force."
    ),
    responses=problem_responses(401, 403, 404, 409, 412, 413, 415, 422),
)
async def record_authorisation(
    case: CaseActionDep,
    signed_by: Annotated[str, Form(min_length=1, max_length=64)],
    signed_on: Annotated[dt.date, Form()],
    file: Annotated[UploadFile, File(description="The signed letter, scanned.")],
) -> ApplicationDetail:
    signer = signed_by.strip()
    if not signer or "\x00" in signer:
        raise InvalidInput("请填写授权书签字人的姓名。", field="signed_by")
    # One byte past the limit is enough for the upload to refuse it.
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    await flow.record_authorisation(
        case.session,
        case.application,
        actor=case.principal,
        now=case.now,
        signed_by=signer,
        signed_on=signed_on,
        filename=file.filename or "",
        content=content,
    )
    return await case.detail()


class CheckRequest(InputModel):
    why: str = Field(min_length=1, max_length=255, examples=["入户调查结果存疑"])


@router.post(
    "/{application_id}/economic-check",
    summary="Request the household economic-status check",
    description="Queues the request (the platform is not called here: a "
    "dispatcher sends it within seconds) and the application waits for the "
    "result. Needs the authorisation letter on file (422 "
    "`authorisation_missing`).",
    responses=ACTION_ERRORS,
)
async def request_check(
    case: CaseActionDep,
    body: CheckRequest,
) -> ApplicationDetail:
    await flow.request_check(
        case.session,
        case.application,
        actor=case.principal,
        now=case.now,
        why=body.why,
    )
    return await case.detail()


@router.post(
    "/{application_id}/economic-check/refresh",
    summary="Read the check's result from the platform now",
    description="Sends the request if it is still pending, then reads its "
    "status and, once completed, its report; the application then moves on. "
    "A platform that does not answer leaves the check pending with the reason "
    "(200). A failed check is not read again: 409 `check_failed`, retry it.",
    responses=ACTION_ERRORS,
)
async def refresh_check(
    case: CaseActionDep,
    platform: PlatformDep,
    policy: DispatchPolicyDep,
) -> ApplicationDetail:
    await flow.refresh_check(
        case.session,
        case.application,
        actor=case.principal,
        now=case.now,
        platform=platform,
        policy=policy,
    )
    return await case.detail()


class CheckRetry(InputModel):
    why: str = Field(default="核对失败，重新核对", min_length=1, max_length=255)


@router.post(
    "/{application_id}/economic-check/retry",
    summary="Retry a failed check under a new request",
    description="Only when the latest check failed (else 409 "
    "`check_not_failed`); the failed check and its reason stay on record.",
    responses=ACTION_ERRORS,
)
async def retry_check(
    case: CaseActionDep,
    body: CheckRetry | None = None,
) -> ApplicationDetail:
    await flow.retry_check(
        case.session,
        case.application,
        actor=case.principal,
        now=case.now,
        why=(body or CheckRetry()).why,
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
