"""Street reserve funds and recoveries of money paid wrongly (R5.1, R5.2)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_types import (
    InputModel,
    LocalDateTime,
    MoneyStr,
    OutputModel,
    PathId,
)
from app.deps import Authorized, NowDep, SessionDep
from app.domain.money import Money
from app.errors import problem_responses
from app.persistence.tables import Recovery, Repayment, pk
from app.routers.applications import ACTION_ERRORS, IfMatch, load_for_action
from app.workflow import funds as fund_flow
from app.workflow import recoveries as recovery_flow
from app.workflow.applications import load_application
from app.workflow.recoveries import REASON_TITLES_ZH, RecoveryReason

router = APIRouter(prefix="/api/v1", tags=["funds"])

StreetCode = Annotated[
    str, Path(pattern=r"^[0-9]{12}$", description="The street's 12-digit code.")
]

_MOVEMENT_TITLES_ZH = {
    fund_flow.MovementKind.SET_CAP: "核定备用金规模",
    fund_flow.MovementKind.ADVANCE: "先行救助支出",
    fund_flow.MovementKind.REPLENISH: "补充备用金",
    fund_flow.MovementKind.ADJUST: "调整（超出上限部分退回）",
}


class FundSetUp(InputModel):
    street_code: str = Field(pattern=r"^[0-9]{12}$")
    year: int = Field(ge=2019, le=2100, description="The year the cap is for.")
    last_year_spending: MoneyStr = Field(
        description="The street's temporary-assistance spending of the year before."
    )


class Replenishment(InputModel):
    amount: MoneyStr
    note: str = Field(default="", max_length=2000)


class MovementPublic(OutputModel):
    id: int
    kind: fund_flow.MovementKind
    kind_title: str
    direction: Literal["in", "out", "none"] = Field(
        description="Whether the line added to the balance or paid out of it."
    )
    amount: MoneyStr = Field(description="The size of the change, never negative.")
    balance_after: MoneyStr
    application_id: int | None
    note: str
    by: str
    at: LocalDateTime


class FundPublic(OutputModel):
    id: int
    street_code: str
    street_name: str
    year: int
    cap: MoneyStr
    balance: MoneyStr
    room: MoneyStr = Field(description="How much may still be added: cap − balance.")
    explanation: str = Field(description="Why the cap is what it is, in Chinese.")
    version: int
    movements: list[MovementPublic]


def _direction(amount_fen: int) -> Literal["in", "out", "none"]:
    if amount_fen > 0:
        return "in"
    return "out" if amount_fen < 0 else "none"


def _fund_public(view: fund_flow.FundView) -> FundPublic:
    fund = view.fund
    set_caps = [
        m.note for m in view.movements if m.kind == fund_flow.MovementKind.SET_CAP
    ]
    return FundPublic(
        id=pk(fund),
        street_code=fund.street_code,
        street_name=view.street_name,
        year=fund.year,
        cap=Money(fund.cap_fen),
        balance=Money(fund.balance_fen),
        room=Money(fund.cap_fen - fund.balance_fen),
        explanation=set_caps[-1] if set_caps else "",
        version=fund.version,
        movements=[
            MovementPublic(
                id=pk(m),
                kind=fund_flow.MovementKind(m.kind),
                kind_title=_MOVEMENT_TITLES_ZH[fund_flow.MovementKind(m.kind)],
                direction=_direction(m.amount_fen),
                amount=Money(abs(m.amount_fen)),
                balance_after=Money(m.balance_after_fen),
                application_id=m.application_id,
                note=m.note,
                by=m.by,
                at=m.at,
            )
            for m in view.movements
        ],
    )


@router.post(
    "/reserve-funds",
    status_code=201,
    summary="Set up a street's reserve fund for a year, or reset its cap",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def set_up_fund(
    body: FundSetUp, principal: Authorized, session: SessionDep, at: NowDep
) -> FundPublic:
    """The cap is `street_reserve_share` × last year's spending, at most
    `street_reserve_cap`, with the parameters in force today. A new fund
    starts empty; money goes in as replenishments."""
    await fund_flow.set_up_fund(
        session,
        actor=principal,
        now=at,
        street_code=body.street_code,
        year=body.year,
        last_year_spending=body.last_year_spending,
    )
    return _fund_public(await fund_flow.fund_of(session, principal, body.street_code))


@router.get(
    "/reserve-funds/{street_code}",
    summary="A street's reserve fund with its ledger",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_fund(
    street_code: StreetCode, principal: Authorized, session: SessionDep
) -> FundPublic:
    return _fund_public(await fund_flow.fund_of(session, principal, street_code))


@router.post(
    "/reserve-funds/{street_code}/replenishments",
    status_code=201,
    summary="Add money to a street's reserve fund, up to its cap",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def replenish(
    street_code: StreetCode,
    body: Replenishment,
    principal: Authorized,
    session: SessionDep,
    at: NowDep,
) -> FundPublic:
    await fund_flow.replenish(
        session,
        actor=principal,
        now=at,
        street_code=street_code,
        amount=body.amount,
        note=body.note,
    )
    return _fund_public(await fund_flow.fund_of(session, principal, street_code))


class RecoveryCreate(InputModel):
    amount: MoneyStr
    # An advance above the approved amount is recovered by the service itself
    # when the case is settled or ends without a grant, never by hand.
    reason: Literal[RecoveryReason.FRAUD, RecoveryReason.SPOT_CHECK]
    note: str = Field(
        min_length=1, max_length=2000, description="The facts and the grounds."
    )


class RepaymentCreate(InputModel):
    amount: MoneyStr
    paid_on: dt.date
    receipt_no: str = Field(min_length=1, max_length=64)


class RepaymentPublic(OutputModel):
    id: int
    amount: MoneyStr
    paid_on: dt.date
    receipt_no: str
    recorded_by: str
    recorded_at: LocalDateTime


class RecoveryPublic(OutputModel):
    id: int
    application_id: int
    reason: RecoveryReason
    reason_title: str
    amount: MoneyStr
    recovered: MoneyStr
    outstanding: MoneyStr
    status: recovery_flow.RecoveryStatus
    note: str
    opened_by: str
    opened_at: LocalDateTime
    version: int
    repayments: list[RepaymentPublic]


def _recovery_public(recovery: Recovery, repayments: list[Repayment]) -> RecoveryPublic:
    reason = RecoveryReason(recovery.reason)
    return RecoveryPublic(
        id=pk(recovery),
        application_id=recovery.application_id,
        reason=reason,
        reason_title=REASON_TITLES_ZH[reason],
        amount=Money(recovery.amount_fen),
        recovered=Money(recovery.recovered_fen),
        outstanding=Money(recovery.amount_fen - recovery.recovered_fen),
        status=recovery_flow.RecoveryStatus(recovery.status),
        note=recovery.note,
        opened_by=recovery.opened_by,
        opened_at=recovery.opened_at,
        version=recovery.version,
        repayments=[
            RepaymentPublic(
                id=pk(r),
                amount=Money(r.amount_fen),
                paid_on=r.paid_on,
                receipt_no=r.receipt_no,
                recorded_by=r.recorded_by,
                recorded_at=r.recorded_at,
            )
            for r in repayments
        ],
    )


async def _with_repayments(session: AsyncSession, recovery: Recovery) -> RecoveryPublic:
    found = await recovery_flow.repayments_of(session, [pk(recovery)])
    return _recovery_public(recovery, found[pk(recovery)])


@router.post(
    "/applications/{application_id}/recoveries",
    status_code=201,
    summary="Open a recovery of money obtained by fraud or paid wrongly",
    responses=ACTION_ERRORS,
)
async def open_recovery(
    application_id: PathId,
    body: RecoveryCreate,
    principal: Authorized,
    session: SessionDep,
    at: NowDep,
    if_match: IfMatch = None,
) -> RecoveryPublic:
    """Only a paid or closed case; the amounts claimed from one case add up
    to at most its approved amount. The case keeps its status."""
    application = await load_for_action(session, principal, application_id, if_match)
    recovery = await recovery_flow.open_recovery(
        session,
        application,
        actor=principal,
        now=at,
        amount=body.amount,
        reason=body.reason,
        note=body.note,
    )
    return await _with_repayments(session, recovery)


@router.get(
    "/applications/{application_id}/recoveries",
    summary="The recoveries of an application with their repayments",
    responses=problem_responses(401, 403, 404, 422),
)
async def list_recoveries(
    application_id: PathId, principal: Authorized, session: SessionDep
) -> list[RecoveryPublic]:
    application = await load_application(session, principal, application_id)
    recoveries = await recovery_flow.recoveries_of(session, pk(application))
    repayments = await recovery_flow.repayments_of(session, [pk(r) for r in recoveries])
    return [_recovery_public(r, repayments[pk(r)]) for r in recoveries]


@router.post(
    "/recoveries/{recovery_id}/repayments",
    status_code=201,
    summary="Record money paid back against a recovery",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def record_repayment(
    recovery_id: PathId,
    body: RepaymentCreate,
    principal: Authorized,
    session: SessionDep,
    at: NowDep,
) -> RecoveryPublic:
    """Never more than is outstanding; the recovery is settled when nothing
    is left, and takes no further repayment."""
    recovery, _ = await recovery_flow.load_recovery(session, principal, recovery_id)
    await recovery_flow.record_repayment(
        session,
        recovery,
        actor=principal,
        now=at,
        amount=body.amount,
        paid_on=body.paid_on,
        receipt_no=body.receipt_no,
    )
    return await _with_repayments(session, recovery)


class RecoveryFigures(OutputModel):
    recoveries: int = Field(description="How many recoveries were opened.")
    due: MoneyStr = Field(description="The amounts claimed back.")
    recovered: MoneyStr
    outstanding: MoneyStr
    written_off: MoneyStr


class StreetRecoveryFigures(RecoveryFigures):
    street_code: str
    street_name: str


class RecoveryReportPublic(OutputModel):
    year: int | None = Field(description="Recoveries opened in this year; all if null.")
    streets: list[StreetRecoveryFigures]
    totals: RecoveryFigures


def _figures(totals: recovery_flow.RecoveryTotals) -> dict[str, int | Money]:
    return {
        "recoveries": totals.recoveries,
        "due": totals.due,
        "recovered": totals.recovered,
        "outstanding": totals.outstanding,
        "written_off": totals.written_off,
    }


@router.get(
    "/recoveries/report",
    summary="Money recovered and outstanding, per street, to the fen",
    responses=problem_responses(401, 403, 422),
)
async def recovery_report(
    principal: Authorized,
    session: SessionDep,
    year: Annotated[int | None, Query(ge=2019, le=2100)] = None,
) -> RecoveryReportPublic:
    report = await recovery_flow.recovery_report(session, principal, year)
    return RecoveryReportPublic(
        year=report.year,
        streets=[
            StreetRecoveryFigures(
                street_code=s.street_code,
                street_name=s.street_name,
                **_figures(s.totals),
            )
            for s in report.streets
        ],
        totals=RecoveryFigures(**_figures(report.totals)),
    )
