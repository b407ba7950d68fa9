"""Spot checks of street-approved cases and the district filing list (R3.5, R3.6)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from app.api_types import InputModel, LocalDateTime, MoneyStr, OutputModel, PathId
from app.clock import local_date
from app.deps import Authorized, NowDep, SessionDep
from app.domain.money import Money
from app.errors import problem_responses
from app.persistence.tables import SpotCheckDraw, pk
from app.workflow import spot_checks as flow
from app.workflow.spot_checks import MAX_SEED, MONTH_PATTERN_TEXT, Month

router = APIRouter(prefix="/api/v1", tags=["spot-checks"])

MonthQuery = Annotated[
    str,
    Query(
        pattern=MONTH_PATTERN_TEXT,
        description="A calendar month in China time, e.g. 2026-03.",
        examples=["2026-03"],
    ),
]
StreetQuery = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9]{12}$",
        description="Narrow to one street (its 12-digit code).",
    ),
]


class FilingEntryPublic(OutputModel):
    decision_id: int
    application_id: int
    street_code: str
    region_code: str = Field(description="The community or village of the case.")
    amount: MoneyStr
    approved_on: dt.date = Field(description="The date of approval, in China.")
    approved_at: LocalDateTime
    approved_by: str
    approver_name: str
    application_status: str
    in_force: bool = Field(
        description="False once the approval was revoked (an upheld objection, a "
        "failed spot check) or replaced."
    )


class FilingList(OutputModel):
    month: str
    count: int
    total: MoneyStr = Field(description="The sum of the approvals in force.")
    entries: list[FilingEntryPublic]


@router.get(
    "/filings",
    summary="The filing list (备案): the streets' delegated approvals of a month",
    responses=problem_responses(401, 403, 422),
)
async def filing_list(
    month: MonthQuery, principal: Authorized, session: SessionDep
) -> FilingList:
    entries = await flow.filing_list(session, principal, Month.parse(month))
    return FilingList(
        month=month,
        count=len(entries),
        total=Money(sum(e.decision.amount_fen or 0 for e in entries if e.in_force)),
        entries=[
            FilingEntryPublic(
                decision_id=pk(e.decision),
                application_id=pk(e.application),
                street_code=e.street_code,
                region_code=e.application.region_code,
                amount=Money(e.decision.amount_fen or 0),
                approved_on=local_date(e.decision.decided_at),
                approved_at=e.decision.decided_at,
                approved_by=e.decision.decided_by,
                approver_name=e.approver_name,
                application_status=e.application.status,
                in_force=e.in_force,
            )
            for e in entries
        ],
    )


class SpotCheckPublic(OutputModel):
    id: int
    draw_id: int
    street_code: str
    month: str
    application_id: int
    region_code: str
    decision_id: int
    approved_amount: MoneyStr
    approved_on: dt.date
    application_status: str
    status: flow.CheckStatus
    findings: str
    recovery_required: bool = Field(
        description="Failed after payment: a recovery (R5.2) is due."
    )
    checked_by: str | None
    checked_at: LocalDateTime | None
    version: int


def check_public(row: flow.CheckRow) -> SpotCheckPublic:
    check, draw = row.check, row.draw
    return SpotCheckPublic(
        id=pk(check),
        draw_id=pk(draw),
        street_code=draw.street_code,
        month=draw.month,
        application_id=pk(row.application),
        region_code=row.application.region_code,
        decision_id=pk(row.decision),
        approved_amount=Money(row.decision.amount_fen or 0),
        approved_on=local_date(row.decision.decided_at),
        application_status=row.application.status,
        status=flow.CheckStatus(check.status),
        findings=check.findings,
        recovery_required=check.recovery_required,
        checked_by=check.checked_by,
        checked_at=check.checked_at,
        version=check.version,
    )


class DrawCreate(InputModel):
    street_code: str = Field(pattern=r"^[0-9]{12}$", examples=["430204001000"])
    month: str = Field(pattern=MONTH_PATTERN_TEXT, examples=["2026-03"])
    seed: int | None = Field(
        default=None,
        ge=0,
        le=MAX_SEED,
        description="Omit to have the server draw a random seed; either way it "
        "is recorded.",
    )


class DrawPublic(OutputModel):
    id: int
    street_code: str
    month: str
    seed: int
    seed_source: Literal["generated", "given"]
    ratio: str = Field(description="spot_check_ratio in force for the month.")
    population_count: int
    population_ids: list[int] = Field(
        description="The application ids drawn from; with the seed and the "
        "ratio they repeat the draw."
    )
    drawn_count: int
    drawn_by: str
    drawn_at: LocalDateTime
    checks: list[SpotCheckPublic]


def draw_public(draw: SpotCheckDraw, checks: list[flow.CheckRow]) -> DrawPublic:
    return DrawPublic(
        id=pk(draw),
        street_code=draw.street_code,
        month=draw.month,
        seed=draw.seed,
        seed_source="given" if draw.seed_source == "given" else "generated",
        ratio=draw.ratio,
        population_count=draw.population_count,
        population_ids=draw.population_ids,
        drawn_count=draw.drawn_count,
        drawn_by=draw.drawn_by,
        drawn_at=draw.drawn_at,
        checks=[check_public(c) for c in checks],
    )


@router.post(
    "/spot-checks/draws",
    status_code=201,
    summary="Draw a street's spot checks for a finished month (once per month)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def draw_month(
    body: DrawCreate, principal: Authorized, session: SessionDep, at: NowDep
) -> DrawPublic:
    draw, checks = await flow.draw_month(
        session,
        principal,
        at,
        body.street_code,
        Month.parse(body.month),
        seed=body.seed,
    )
    return draw_public(draw, checks)


@router.get(
    "/spot-checks/draws",
    summary="The draws of a month, with their seeds and populations",
    responses=problem_responses(401, 403, 422),
)
async def list_draws(
    month: MonthQuery,
    principal: Authorized,
    session: SessionDep,
    street_code: StreetQuery = None,
) -> list[DrawPublic]:
    draws = await flow.draws_of(
        session, principal, month=Month.parse(month), street_code=street_code
    )
    return [draw_public(draw, checks) for draw, checks in draws]


@router.get(
    "/spot-checks",
    summary="The spot checks of a month in the caller's scope",
    responses=problem_responses(401, 403, 422),
)
async def list_checks(
    month: MonthQuery,
    principal: Authorized,
    session: SessionDep,
    street_code: StreetQuery = None,
) -> list[SpotCheckPublic]:
    rows = await flow.checks_of(
        session, principal, month=Month.parse(month), street_code=street_code
    )
    return [check_public(r) for r in rows]


class StreetCoveragePublic(OutputModel):
    street_code: str
    street_name: str
    population: int = Field(
        description="Street approvals in force of the month (as recorded by the "
        "draw once drawn)."
    )
    drawn: int
    checked: int
    failed: int
    ratio: str | None = Field(
        description="drawn / population with two decimals, truncated; null when "
        "there was nothing to draw."
    )
    required_ratio: str
    meets_ratio: bool
    draw_id: int | None


class Coverage(OutputModel):
    month: str
    streets: list[StreetCoveragePublic]


@router.get(
    "/spot-checks/coverage",
    summary="Spot-check coverage per street for a month",
    responses=problem_responses(401, 403, 409, 422),
)
async def coverage(
    month: MonthQuery, principal: Authorized, session: SessionDep
) -> Coverage:
    report = await flow.coverage(session, principal, Month.parse(month))
    return Coverage(
        month=month,
        streets=[
            StreetCoveragePublic(
                street_code=c.street.code,
                street_name=c.street.name,
                population=c.population,
                drawn=c.drawn,
                checked=c.checked,
                failed=c.failed,
                ratio=None if c.ratio is None else flow.ratio_text(c.ratio),
                required_ratio=c.required_ratio,
                meets_ratio=c.meets_ratio,
                draw_id=None if c.draw is None else pk(c.draw),
            )
            for c in report
        ],
    )


class CheckResult(InputModel):
    result: Literal["passed", "failed"]
    findings: str = Field(
        default="",
        max_length=2000,
        description="What the check found; required when it failed.",
    )


@router.post(
    "/spot-checks/{check_id}/result",
    summary="Record a spot check's result; a failure reopens the case or, once "
    "paid, calls for a recovery",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def record_result(
    check_id: PathId,
    body: CheckResult,
    principal: Authorized,
    session: SessionDep,
    at: NowDep,
) -> SpotCheckPublic:
    row = await flow.record_result(
        session,
        principal,
        at,
        check_id,
        passed=body.result == "passed",
        findings=body.findings,
    )
    return check_public(row)
