"""Recovering money obtained by fraud or paid wrongly (追回, R5.2).

A recovery is opened on a case that was paid (``paid`` or ``closed``),
through the table's ``record_recovery`` edge, so the case's audit trail and
outbox show it; the case keeps its status. The amounts claimed back from
one case add up to at most what was approved for it. Repayments are
recorded with their receipt; none may exceed what is still outstanding,
and the recovery is settled when exactly nothing is left. The report sums
what was claimed, recovered and is still outstanding per street, in fen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from app.auth.principal import Principal
from app.clock import CHINA_TZ, local_date
from app.domain.money import Money
from app.domain.regions import RegionLevel, ancestor_at
from app.domain.roles import DISTRICT_ROLES, Role
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.persistence.tables import Application, Recovery, Region, Repayment, pk
from app.workflow import audit
from app.workflow.applications import load_application, transition
from app.workflow.transitions import Action, edge_for
from app.workflow.versioning import compare_and_set


class RecoveryReason(StrEnum):
    FRAUD = "fraud"  # 骗取
    SPOT_CHECK = "spot_check"  # 抽查不合格
    ADVANCE_EXCESS = "advance_excess"  # 先行救助超出核定金额


REASON_TITLES_ZH: dict[RecoveryReason, str] = {
    RecoveryReason.FRAUD: "以虚报、隐瞒、伪造等手段骗取救助金",
    RecoveryReason.SPOT_CHECK: "抽查发现不符合救助条件",
    RecoveryReason.ADVANCE_EXCESS: "先行救助金额超过核定金额",
}


class RecoveryStatus(StrEnum):
    OPEN = "open"  # money still outstanding
    SETTLED = "settled"  # repaid to the fen
    WRITTEN_OFF = "written_off"  # the rest will not come back (no action yet)


# Repayments are money received: the finance leader and the officer record them.
REPAYMENT_RECORDERS = frozenset({Role.DISTRICT_FINANCE_LEADER, Role.DISTRICT_OFFICER})
# The report is the district's, the auditor's and each street's for itself.
REPORT_READERS = DISTRICT_ROLES | {
    Role.AUDITOR,
    Role.STREET_WORKER,
    Role.STREET_LEADER,
}


class RecoveryAboveGrant(Conflict):
    code = "recovery_above_grant"
    title = "More recovered than was granted"


class RecoveryClosed(Conflict):
    code = "recovery_closed"
    title = "The recovery is no longer open"


class RepaymentAboveOutstanding(Conflict):
    code = "repayment_above_outstanding"
    title = "Repayment larger than the amount outstanding"


class ReceiptAlreadyRecorded(Conflict):
    code = "receipt_already_recorded"
    title = "Receipt already recorded"


def _payload(recovery: Recovery) -> dict[str, Any]:
    """The outbox payload: the amounts, nothing personal."""
    return {
        "id": pk(recovery),
        "application_id": recovery.application_id,
        "reason": recovery.reason,
        "amount": str(Money(recovery.amount_fen)),
        "recovered": str(Money(recovery.recovered_fen)),
        "status": recovery.status,
        "version": recovery.version,
    }


async def recoveries_of(session: AsyncSession, application_id: int) -> list[Recovery]:
    rows = await session.scalars(
        select(Recovery)
        .where(col(Recovery.application_id) == application_id)
        .order_by(col(Recovery.id))
    )
    return list(rows)


async def repayments_of(
    session: AsyncSession, recovery_ids: Sequence[int]
) -> dict[int, list[Repayment]]:
    """Each recovery's repayments, oldest first; every id is a key."""
    found: dict[int, list[Repayment]] = {i: [] for i in recovery_ids}
    if not recovery_ids:
        return found
    rows = await session.scalars(
        select(Repayment)
        .where(col(Repayment.recovery_id).in_(recovery_ids))
        .order_by(col(Repayment.id))
    )
    for row in rows:
        found[row.recovery_id].append(row)
    return found


async def load_recovery(
    session: AsyncSession, actor: Principal, recovery_id: int
) -> tuple[Recovery, Application]:
    """The recovery and its case, in the caller's scope; else 404."""
    recovery = await session.get(Recovery, recovery_id)
    if recovery is None:
        raise NotFound(f"追回记录 {recovery_id} 不存在。")
    try:
        application = await load_application(session, actor, recovery.application_id)
    except NotFound as exc:
        raise NotFound(f"追回记录 {recovery_id} 不存在。") from exc
    return recovery, application


async def open_recovery(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    amount: Money,
    reason: RecoveryReason,
    note: str,
    as_effect: bool = False,
) -> Recovery:
    """Open a recovery of ``amount`` on a paid or closed case.

    ``as_effect``: the recovery follows from an action the caller was just
    allowed to take (a settlement, a refusal after an advance), so the
    recovery edge's roles are not asked again.

    The edge decides first, so a case not paid is refused with 409
    ``invalid_transition`` and a role outside the edge with 403. The sum of
    the case's recoveries (written-off ones included: that money was claimed
    once) may not exceed what it paid out (the approved amount, or a larger
    advance): 409 ``recovery_above_grant``.
    """
    edge = await edge_for(
        session,
        application,
        Action.RECORD_RECOVERY,
        actor.role,
        now,
        role_checked=not as_effect,
    )
    if amount.fen <= 0:
        raise InvalidInput("追回金额须大于 0。", field="amount")
    if not note.strip():
        raise InvalidInput("请写明追回的事实和依据。", field="note")

    # What the household received: the approved amount, or the advance (R3.9)
    # where it was larger, since the top-up never makes up a negative rest.
    granted = Money(max(application.approved_fen or 0, application.advance_fen or 0))
    claimed = Money(
        sum(r.amount_fen for r in await recoveries_of(session, pk(application)))
    )
    room = granted - claimed
    if amount > room:
        raise RecoveryAboveGrant(
            f"追回金额合计不能超过已发放的救助金额 {granted.grouped()} 元："
            f"已登记追回 {claimed.grouped()} 元，本次最多 {room.grouped()} 元。",
            granted=str(granted),
            claimed=str(claimed),
            room=str(room),
        )

    recovery = Recovery(
        application_id=pk(application),
        reason=reason.value,
        amount_fen=amount.fen,
        recovered_fen=0,
        status=RecoveryStatus.OPEN.value,
        note=note,
        opened_by=actor.subject,
        opened_at=now,
    )
    session.add(recovery)
    await session.flush()

    await transition(
        session,
        application,
        Action.RECORD_RECOVERY,
        actor=actor,
        now=now,
        details={
            "recovery_id": pk(recovery),
            "amount": str(amount),
            "reason": reason.value,
        },
        checked=edge,
    )
    return recovery


async def record_repayment(
    session: AsyncSession,
    recovery: Recovery,
    *,
    actor: Principal,
    now: dt.datetime,
    amount: Money,
    paid_on: dt.date,
    receipt_no: str,
) -> Repayment:
    """Record money paid back; the recovery is settled at exactly zero left.

    A repayment above the outstanding amount is refused (409
    ``repayment_above_outstanding``), as is any repayment on a recovery no
    longer open (409 ``recovery_closed``) and a receipt recorded before on
    the same recovery (409 ``receipt_already_recorded``). Two clerks
    recording at once cannot both count against the same outstanding sum:
    the recovery changes by compare-and-set.
    """
    if actor.role not in REPAYMENT_RECORDERS:
        raise PermissionDenied("只有区民政局经办人或财务分管领导可以登记追回款。")
    if recovery.status != RecoveryStatus.OPEN:
        raise RecoveryClosed(
            "该追回已结清或已核销，不能再登记还款。", recovery_status=recovery.status
        )
    if amount.fen <= 0:
        raise InvalidInput("还款金额须大于 0。", field="amount")
    if paid_on > local_date(now):
        raise InvalidInput("缴款日期不能晚于今天。", field="paid_on")
    if not receipt_no.strip():
        raise InvalidInput("请填写缴款凭证号。", field="receipt_no")

    outstanding = Money(recovery.amount_fen - recovery.recovered_fen)
    if amount > outstanding:
        raise RepaymentAboveOutstanding(
            f"尚未追回 {outstanding.grouped()} 元，"
            f"本次还款 {amount.grouped()} 元超过未追回金额。",
            outstanding=str(outstanding),
        )
    duplicate = await session.scalar(
        select(func.count())
        .select_from(Repayment)
        .where(
            col(Repayment.recovery_id) == pk(recovery),
            col(Repayment.receipt_no) == receipt_no,
        )
    )
    if duplicate:
        raise ReceiptAlreadyRecorded(
            f"缴款凭证 {receipt_no} 已登记过，不能重复登记。", field="receipt_no"
        )

    before = recovery.status
    recovered = recovery.recovered_fen + amount.fen
    settled = recovered == recovery.amount_fen
    await compare_and_set(
        session,
        recovery,
        recovered_fen=recovered,
        status=(RecoveryStatus.SETTLED if settled else RecoveryStatus.OPEN).value,
    )
    repayment = Repayment(
        recovery_id=pk(recovery),
        amount_fen=amount.fen,
        paid_on=paid_on,
        receipt_no=receipt_no,
        recorded_by=actor.subject,
        recorded_at=now,
    )
    session.add(repayment)
    await session.flush()

    await audit.record(
        session,
        actor=actor,
        at=now,
        action="recovery.repayment",
        entity_type="recovery",
        entity_id=pk(recovery),
        from_status=before,
        to_status=recovery.status,
        details={
            "application_id": recovery.application_id,
            "repayment_id": pk(repayment),
            "amount": str(amount),
            "paid_on": paid_on.isoformat(),
            "receipt_no": receipt_no,
            "outstanding": str(Money(recovery.amount_fen - recovered)),
        },
        event_type="recovery.repayment_recorded",
        entity_version=recovery.version,
        payload=_payload(recovery),
    )
    return repayment


@dataclass(frozen=True, slots=True)
class RecoveryTotals:
    """Sums over recoveries; ``due == recovered + outstanding + written_off``."""

    recoveries: int = 0
    due: Money = field(default_factory=Money.zero)
    recovered: Money = field(default_factory=Money.zero)
    outstanding: Money = field(default_factory=Money.zero)
    written_off: Money = field(default_factory=Money.zero)

    def plus(self, recovery: Recovery) -> RecoveryTotals:
        left = Money(recovery.amount_fen - recovery.recovered_fen)
        lost = recovery.status == RecoveryStatus.WRITTEN_OFF
        return RecoveryTotals(
            recoveries=self.recoveries + 1,
            due=self.due + Money(recovery.amount_fen),
            recovered=self.recovered + Money(recovery.recovered_fen),
            outstanding=self.outstanding + (Money(0) if lost else left),
            written_off=self.written_off + (left if lost else Money(0)),
        )


@dataclass(frozen=True, slots=True)
class StreetRecoveries:
    street_code: str
    street_name: str
    totals: RecoveryTotals


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    year: int | None
    streets: list[StreetRecoveries]
    totals: RecoveryTotals


async def recovery_report(
    session: AsyncSession, actor: Principal, year: int | None = None
) -> RecoveryReport:
    """Recoveries per street in the caller's scope, with totals to the fen.

    With ``year``, the recoveries opened in that calendar year in China;
    their recovered and outstanding amounts are as they stand now. Every
    street in scope has a row, zero where nothing was recovered.
    """
    if actor.role not in REPORT_READERS:
        raise PermissionDenied("您的角色无权查看追回统计。")

    query = (
        select(Recovery, Application.region_code)
        .join(Application, col(Application.id) == col(Recovery.application_id))
        .where(col(Application.region_code).startswith(actor.scope_prefix))
    )
    if year is not None:
        starts = dt.datetime(year, 1, 1, tzinfo=CHINA_TZ)
        ends = dt.datetime(year + 1, 1, 1, tzinfo=CHINA_TZ)
        query = query.where(
            col(Recovery.opened_at) >= starts, col(Recovery.opened_at) < ends
        )
    rows = (await session.execute(query)).all()
    streets = await session.scalars(
        select(Region)
        .where(
            col(Region.level) == RegionLevel.STREET.value,
            col(Region.code).startswith(actor.scope_prefix),
        )
        .order_by(col(Region.code))
    )
    by_street = {
        s.code: StreetRecoveries(s.code, s.name, RecoveryTotals()) for s in streets
    }

    totals = RecoveryTotals()
    for recovery, region_code in rows:
        code = ancestor_at(region_code, RegionLevel.STREET)
        row = by_street.get(code) or StreetRecoveries(code, code, RecoveryTotals())
        by_street[code] = StreetRecoveries(
            row.street_code, row.street_name, row.totals.plus(recovery)
        )
        totals = totals.plus(recovery)
    return RecoveryReport(
        year=year,
        streets=sorted(by_street.values(), key=lambda s: s.street_code),
        totals=totals,
    )
