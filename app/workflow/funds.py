"""Street reserve funds (临时救助备用金, R5.1): set-up, advances, replenishments.

A fund belongs to one street. The district sets it up for a year: its cap
is ``street_reserve_share`` × the street's spending of the year before, at
most ``street_reserve_cap``, with the parameters in force on the day of the
set-up. A new fund starts empty; the district's transfers are
replenishments, and urgent cases draw advances on it. Every change is a
compare-and-set on the fund's ``version`` and one line of its ledger
(``ReserveMovement``), with an audit entry and an outbox event in the same
transaction. The balance stays between zero and the cap: the domain
functions refuse first, the table's check constraint backs them up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.auth.principal import Principal
from app.clock import local_date
from app.domain.funds import (
    BalanceAboveCap,
    BalanceBelowZero,
    NonPositiveAmount,
    after_draw,
    after_replenish,
    carry_over,
    reserve_cap,
)
from app.domain.money import Money
from app.domain.parameters import ParameterName
from app.domain.regions import RegionLevel, contains, level_of
from app.domain.roles import Role
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.persistence.tables import Region, ReserveFund, ReserveMovement, pk
from app.workflow import audit
from app.workflow.applications import load_application
from app.workflow.policy_inputs import parameter_book
from app.workflow.versioning import compare_and_set

# Who sets up and replenishes funds: the district's assistance officer and
# its finance leader (the money comes out of the district's budget).
MANAGERS = frozenset({Role.DISTRICT_OFFICER, Role.DISTRICT_FINANCE_LEADER})
# Who may read a fund: the district, the auditor, and the street's own staff
# (the region scope keeps a street to its own fund).
READERS = MANAGERS | {
    Role.DISTRICT_ASSISTANCE_LEADER,
    Role.AUDITOR,
    Role.STREET_WORKER,
    Role.STREET_LEADER,
}


class MovementKind(StrEnum):
    SET_CAP = "set_cap"
    ADVANCE = "advance"
    REPLENISH = "replenish"
    ADJUST = "adjust"


class ReserveInsufficient(Conflict):
    code = "reserve_insufficient"
    title = "Reserve fund balance insufficient"


class ReserveOverCap(Conflict):
    code = "reserve_over_cap"
    title = "Reserve fund would exceed its cap"


class ReserveFundMissing(Conflict):
    code = "reserve_fund_missing"
    title = "No reserve fund set up for the street"


class ReserveYearPassed(Conflict):
    code = "reserve_year_passed"
    title = "The fund is already set up for a later year"


@dataclass(frozen=True, slots=True)
class FundView:
    fund: ReserveFund
    street_name: str
    movements: list[ReserveMovement]


def _snapshot(fund: ReserveFund) -> dict[str, Any]:
    """The outbox payload: the fund's figures, nothing personal."""
    return {
        "id": pk(fund),
        "street_code": fund.street_code,
        "year": fund.year,
        "cap": str(Money(fund.cap_fen)),
        "balance": str(Money(fund.balance_fen)),
        "version": fund.version,
    }


async def _street(session: AsyncSession, actor: Principal, street_code: str) -> Region:
    """The street in the caller's scope; anything outside it answers 404."""
    region = await session.get(Region, street_code)
    if region is None or not actor.can_see(street_code):
        raise NotFound(f"街道 {street_code} 不存在。")
    if level_of(street_code) is not RegionLevel.STREET:
        raise InvalidInput(
            f"{region.name}（{street_code}）不是街道（乡镇），不能设立备用金。",
            field="street_code",
        )
    return region


async def _fund(session: AsyncSession, street_code: str) -> ReserveFund | None:
    fund: ReserveFund | None = await session.scalar(
        select(ReserveFund).where(col(ReserveFund.street_code) == street_code)
    )
    return fund


def _move(
    session: AsyncSession,
    fund: ReserveFund,
    *,
    kind: MovementKind,
    amount: Money,
    actor: Principal,
    now: dt.datetime,
    note: str,
    application_id: int | None = None,
) -> ReserveMovement:
    """One ledger line; ``fund.balance_fen`` must already be the new balance."""
    movement = ReserveMovement(
        fund_id=pk(fund),
        kind=kind.value,
        amount_fen=amount.fen,
        balance_after_fen=fund.balance_fen,
        application_id=application_id,
        note=note,
        by=actor.subject,
        at=now,
    )
    session.add(movement)
    return movement


async def _record(
    session: AsyncSession,
    fund: ReserveFund,
    *,
    actor: Principal,
    now: dt.datetime,
    action: str,
    details: dict[str, Any],
) -> None:
    await audit.record(
        session,
        actor=actor,
        at=now,
        action=f"reserve_fund.{action}",
        entity_type="reserve_fund",
        entity_id=pk(fund),
        details=details,
        event_type=f"reserve_fund.{action}",
        entity_version=fund.version,
        payload=_snapshot(fund),
    )


async def set_up_fund(
    session: AsyncSession,
    *,
    actor: Principal,
    now: dt.datetime,
    street_code: str,
    year: int,
    last_year_spending: Money,
) -> ReserveFund:
    """Create the street's fund for ``year``, or reset its cap for the year.

    The balance carries over a reset; if the new cap is below it, the money
    above the cap goes back to the district (an ``adjust`` line), so the
    balance is never above the cap. A year before the fund's current year
    is refused: the figures of a closed year are not rewritten.
    """
    if actor.role not in MANAGERS:
        raise PermissionDenied("只有区民政局经办人或财务分管领导可以设立备用金。")
    region = await _street(session, actor, street_code)

    book = await parameter_book(session, street_code, local_date(now))
    share = book.require(ParameterName.STREET_RESERVE_SHARE)
    limit = book.require(ParameterName.STREET_RESERVE_CAP)
    cap, explanation = reserve_cap(
        last_year_spending=last_year_spending,
        share=share.as_fraction(),
        cap=limit.as_money(),
    )

    fund = await _fund(session, street_code)
    returned = Money.zero()
    if fund is None:
        fund = ReserveFund(
            street_code=street_code, year=year, cap_fen=cap.fen, balance_fen=0
        )
        session.add(fund)
        await session.flush()
    else:
        if year < fund.year:
            raise ReserveYearPassed(
                f"{region.name}备用金已按 {fund.year} 年设立，"
                f"不能再按 {year} 年重新核定。",
                current_year=fund.year,
            )
        kept, returned = carry_over(Money(fund.balance_fen), cap)
        await compare_and_set(
            session, fund, year=year, cap_fen=cap.fen, balance_fen=kept.fen
        )

    if returned.fen:
        _move(
            session,
            fund,
            kind=MovementKind.ADJUST,
            amount=Money(-returned.fen),
            actor=actor,
            now=now,
            note=(
                f"新核定上限低于余额，超出上限的 {returned.grouped()} 元退回区民政局。"
            ),
        )
    _move(
        session,
        fund,
        kind=MovementKind.SET_CAP,
        amount=Money.zero(),
        actor=actor,
        now=now,
        note=f"{year} 年：{explanation}",
    )

    await _record(
        session,
        fund,
        actor=actor,
        now=now,
        action="set_up",
        details={
            "street_code": street_code,
            "year": year,
            "last_year_spending": str(last_year_spending),
            "cap": str(cap),
            "returned": str(returned),
            "explanation": explanation,
            "parameters": [share.reference(), limit.reference()],
        },
    )
    return fund


async def draw(
    session: AsyncSession,
    *,
    actor: Principal,
    now: dt.datetime,
    street_code: str,
    amount: Money,
    application_id: int,
    note: str,
) -> ReserveMovement:
    """Pay an advance for ``application_id`` out of the street's fund.

    The caller authorises the role (the advance is its own action with its
    own rules); this function checks the scope, that the case belongs to the
    street, and the balance: a draw that would leave less than zero is
    refused with 409 ``reserve_insufficient`` and changes nothing. Exactly
    zero left is allowed. Two draws racing on one fund cannot both win: the
    loser gets 409 ``concurrent_update``.
    """
    region = await _street(session, actor, street_code)
    application = await load_application(session, actor, application_id)
    if not contains(street_code, application.region_code):
        raise InvalidInput(
            f"申请 {application_id} 不属于{region.name}，不能使用该街道的备用金。",
            field="application_id",
        )
    fund = await _fund(session, street_code)
    if fund is None:
        raise ReserveFundMissing(f"{region.name}尚未设立临时救助备用金。")

    balance = Money(fund.balance_fen)
    try:
        left = after_draw(balance, amount)
    except NonPositiveAmount as exc:
        raise InvalidInput(str(exc), field="amount") from exc
    except BalanceBelowZero as exc:
        raise ReserveInsufficient(
            f"{region.name}临时救助备用金余额为 {balance.grouped()} 元，"
            f"不足以垫付 {amount.grouped()} 元。",
            balance=str(balance),
            amount=str(amount),
        ) from exc

    await compare_and_set(session, fund, balance_fen=left.fen)
    movement = _move(
        session,
        fund,
        kind=MovementKind.ADVANCE,
        amount=Money(-amount.fen),
        actor=actor,
        now=now,
        note=note,
        application_id=application_id,
    )

    await _record(
        session,
        fund,
        actor=actor,
        now=now,
        action="advance",
        details={
            "application_id": application_id,
            "amount": str(amount),
            "balance_after": str(left),
        },
    )
    return movement


async def replenish(
    session: AsyncSession,
    *,
    actor: Principal,
    now: dt.datetime,
    street_code: str,
    amount: Money,
    note: str,
) -> ReserveMovement:
    """Add the district's transfer to the fund; up to exactly the cap.

    More than the cap allows is refused with 409 ``reserve_over_cap`` and
    changes nothing.
    """
    if actor.role not in MANAGERS:
        raise PermissionDenied("只有区民政局经办人或财务分管领导可以补充备用金。")
    region = await _street(session, actor, street_code)
    fund = await _fund(session, street_code)
    if fund is None:
        raise NotFound(f"{region.name}尚未设立临时救助备用金。")

    balance, cap = Money(fund.balance_fen), Money(fund.cap_fen)
    try:
        after = after_replenish(balance, amount, cap)
    except NonPositiveAmount as exc:
        raise InvalidInput(str(exc), field="amount") from exc
    except BalanceAboveCap as exc:
        raise ReserveOverCap(
            f"{region.name}临时救助备用金余额为 {balance.grouped()} 元，"
            f"上限为 {cap.grouped()} 元，最多还能补充 {(cap - balance).grouped()} 元，"
            f"不能补充 {amount.grouped()} 元。",
            balance=str(balance),
            cap=str(cap),
            room=str(cap - balance),
        ) from exc

    await compare_and_set(session, fund, balance_fen=after.fen)
    movement = _move(
        session,
        fund,
        kind=MovementKind.REPLENISH,
        amount=amount,
        actor=actor,
        now=now,
        note=note,
    )

    await _record(
        session,
        fund,
        actor=actor,
        now=now,
        action="replenish",
        details={"amount": str(amount), "balance_after": str(after)},
    )
    return movement


async def fund_of(
    session: AsyncSession, actor: Principal, street_code: str
) -> FundView:
    """The street's fund with its ledger, oldest line first."""
    if actor.role not in READERS:
        raise PermissionDenied("您的角色无权查看备用金。")
    region = await _street(session, actor, street_code)
    fund = await _fund(session, street_code)
    if fund is None:
        raise NotFound(f"{region.name}尚未设立临时救助备用金。")

    movements = await session.scalars(
        select(ReserveMovement)
        .where(col(ReserveMovement.fund_id) == pk(fund))
        .order_by(col(ReserveMovement.id))
    )
    return FundView(fund=fund, street_name=region.name, movements=list(movements))
