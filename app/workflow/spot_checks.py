"""The district's filing list of street approvals and its spot checks (R3.5, R3.6).

A grant within the street's limit is approved by the street on the
district's behalf and filed with the district (备案): the filing list is
every such approval of a month. Each month the district draws at least
``spot_check_ratio`` of every street's approvals at random, with a seed it
records, and checks them. A failed check sends a case not yet paid back to
investigation with its grant revoked; a case already paid is marked for
recovery (R5.2 builds the recovery itself).

A month is a calendar month in China time, like every decision date.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from sqlalchemy import ColumnElement, and_, exists, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from app.auth.principal import Principal
from app.clock import CHINA_TZ, local_date
from app.domain import sampling
from app.domain.money import Money
from app.domain.parameters import ParameterName
from app.domain.regions import RegionLevel, ancestor_at, level_of, scope_prefix
from app.domain.roles import Role
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.persistence.tables import (
    Application,
    Decision,
    Grant,
    Region,
    SpotCheck,
    SpotCheckDraw,
    User,
    pk,
)
from app.workflow import audit
from app.workflow.applications import transition
from app.workflow.policy_inputs import parameter_book
from app.workflow.states import ApplicationStatus
from app.workflow.transitions import DELEGATED_STAGES, Action
from app.workflow.versioning import compare_and_set

S = ApplicationStatus

# Who draws and records checks: the district, which delegated the approval.
SPOT_CHECKERS = frozenset({Role.DISTRICT_OFFICER, Role.DISTRICT_ASSISTANCE_LEADER})

# A failed check on a case in these statuses reopens it (Action.REOPEN) ...
_REOPENABLE = frozenset({S.APPROVED, S.IN_PUBLICITY, S.AWAITING_PAYMENT})
# ... and on a case in these the money is out: a recovery is due instead.
_PAID_OUT = frozenset({S.PAID, S.CLOSED})

MONTH_PATTERN_TEXT = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"
MONTH_PATTERN = re.compile(MONTH_PATTERN_TEXT)

# Seeds fit 32 bits, generated or given, so every recorded seed is alike.
MAX_SEED = 2**32 - 1


class CheckStatus(StrEnum):
    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"


class AlreadyDrawn(Conflict):
    code = "spot_check_already_drawn"
    title = "Already drawn for this street and month"


class MonthNotOver(Conflict):
    code = "month_not_over"
    title = "The month is not over yet"


class CheckRecorded(Conflict):
    code = "spot_check_recorded"
    title = "The check's result is already recorded"


@dataclass(frozen=True, slots=True)
class Month:
    """A calendar month in China time, as ``YYYY-MM``."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """Read ``YYYY-MM`` for a year of this century (``MONTH_PATTERN``)."""
        if not MONTH_PATTERN.fullmatch(text):
            raise InvalidInput("月份须写成 YYYY-MM，例如 2026-03。", field="month")
        return cls(int(text[:4]), int(text[5:]))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def next_first_day(self) -> dt.date:
        if self.month == 12:
            return dt.date(self.year + 1, 1, 1)
        return dt.date(self.year, self.month + 1, 1)

    @property
    def last_day(self) -> dt.date:
        return self.next_first_day - dt.timedelta(days=1)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """The first instant of the month and of the next, at +08:00."""
        midnight = dt.time(tzinfo=CHINA_TZ)
        return (
            dt.datetime.combine(self.first_day, midnight),
            dt.datetime.combine(self.next_first_day, midnight),
        )


def street_of(region_code: str) -> str:
    return ancestor_at(region_code, RegionLevel.STREET)


async def streets_in_scope(session: AsyncSession, actor: Principal) -> list[Region]:
    """The streets (and towns) the caller sees, in code order."""
    rows = await session.scalars(
        select(Region)
        .where(
            col(Region.code).startswith(actor.scope_prefix),
            Region.level == RegionLevel.STREET.value,
        )
        .order_by(col(Region.code))
    )
    return list(rows)


def _street_approvals(month: Month, prefix: str) -> list[ColumnElement[bool]]:
    """Street approvals decided in ``month`` for applications under ``prefix``.

    The conditions of a query that joins ``Decision`` and ``Application``.
    """
    start, end = month.bounds()
    return [
        col(Application.id) == col(Decision.application_id),
        # 小额快救 grants are street approvals too (decided by the street leader).
        col(Decision.stage).in_(DELEGATED_STAGES),
        col(Decision.outcome) == "approved",
        col(Decision.decided_at) >= start,
        col(Decision.decided_at) < end,
        col(Application.region_code).startswith(prefix),
    ]


def _in_force() -> ColumnElement[bool]:
    """The decision is its application's latest approval and its grant counts.

    An approval revoked by an upheld objection or a failed check is no
    longer in force; neither is one that a later approval replaced.
    """
    later = aliased(Decision)
    replaced = exists().where(
        col(later.application_id) == col(Decision.application_id),
        col(later.outcome) == "approved",
        col(later.id) > col(Decision.id),
    )
    counting = exists().where(
        col(Grant.application_id) == col(Decision.application_id), col(Grant.active)
    )
    return and_(~replaced, counting, col(Application.status) != S.REFUSED.value)


# --- The filing list (R3.5) ----------------------------------------------


@dataclass(frozen=True, slots=True)
class FilingEntry:
    decision: Decision
    application: Application
    street_code: str
    approver_name: str
    in_force: bool


async def _display_names(session: AsyncSession, subjects: set[str]) -> dict[str, str]:
    ids = {
        int(key)
        for kind, _, key in (s.partition(":") for s in subjects)
        if kind == "user" and key.isdigit()
    }
    if not ids:
        return {}
    users = await session.scalars(select(User).where(col(User.id).in_(ids)))
    return {f"user:{pk(u)}": u.display_name for u in users}


async def filing_list(
    session: AsyncSession, actor: Principal, month: Month
) -> list[FilingEntry]:
    """Every street approval of ``month`` in the caller's scope, oldest first.

    Approvals later revoked stay on the list (they were filed) with
    ``in_force`` false.
    """
    conditions = _street_approvals(month, actor.scope_prefix)
    rows = (
        await session.execute(
            select(Decision, Application)
            .where(*conditions)
            .order_by(col(Decision.decided_at), col(Decision.id))
        )
    ).all()
    forced = set(
        await session.scalars(select(Decision.id).where(*conditions, _in_force()))
    )
    names = await _display_names(session, {d.decided_by for d, _ in rows})

    return [
        FilingEntry(
            decision=decision,
            application=application,
            street_code=street_of(application.region_code),
            approver_name=names.get(decision.decided_by, decision.decided_by),
            in_force=pk(decision) in forced,
        )
        for decision, application in rows
    ]


# --- The draw (R3.6) -----------------------------------------------------


async def population(
    session: AsyncSession, street_code: str, month: Month
) -> dict[int, int]:
    """The cases a draw for this street and month picks from: application id to
    the approval decision checked.

    An application counts when its latest approval is the street's, decided
    in the month, and still in force (not refused, not revoked).
    """
    rows = await session.execute(
        select(Decision.application_id, Decision.id).where(
            *_street_approvals(month, scope_prefix(street_code)), _in_force()
        )
    )
    return {application_id: decision_id for application_id, decision_id in rows}


async def _spot_check_ratio(
    session: AsyncSession, street_code: str, month: Month
) -> str:
    """The ratio in force on the month's last day: the month's obligation does
    not depend on the day the district gets round to drawing."""
    book = await parameter_book(session, street_code, month.last_day)
    return book.require(ParameterName.SPOT_CHECK_RATIO).value


async def load_street(session: AsyncSession, actor: Principal, code: str) -> Region:
    if level_of(code) is not RegionLevel.STREET:
        raise InvalidInput("请填写街道（乡镇）的区划代码。", field="street_code")
    region = await session.get(Region, code)
    if region is None or not actor.can_see(code):
        raise NotFound(f"街道 {code} 不存在。")
    return region


@dataclass(frozen=True, slots=True)
class CheckRow:
    """A check with what a reader needs beside it."""

    check: SpotCheck
    draw: SpotCheckDraw
    application: Application
    decision: Decision


async def draw_month(
    session: AsyncSession,
    actor: Principal,
    now: dt.datetime,
    street_code: str,
    month: Month,
    seed: int | None = None,
) -> tuple[SpotCheckDraw, list[CheckRow]]:
    """Draw this street's checks for a month that is over; once per street and
    month.

    Only a finished month has its whole population: a draw taken earlier
    would leave the month's later approvals unchecked.
    """
    if actor.role not in SPOT_CHECKERS:
        raise PermissionDenied("只有区民政局可以抽取抽查案件。")
    street = await load_street(session, actor, street_code)
    if local_date(now) < month.next_first_day:
        raise MonthNotOver(
            f"{month} 尚未结束，月度抽查须在次月进行。", month=str(month)
        )
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise InvalidInput(f"随机种子须在 0 至 {MAX_SEED} 之间。", field="seed")
    existing = await session.scalar(
        select(SpotCheckDraw.id).where(
            SpotCheckDraw.street_code == street.code, SpotCheckDraw.month == str(month)
        )
    )
    if existing is not None:
        raise AlreadyDrawn(
            f"{street.name} {month} 的抽查已抽取，不能重复抽取。", draw_id=existing
        )

    cases = await population(session, street.code, month)
    ratio = await _spot_check_ratio(session, street.code, month)
    given = seed is not None
    used_seed = seed if seed is not None else secrets.randbits(32)
    ids = sorted(cases)
    drawn = sampling.draw(ids, ratio=Fraction(ratio), seed=used_seed)

    draw = SpotCheckDraw(
        street_code=street.code,
        month=str(month),
        seed=used_seed,
        seed_source="given" if given else "generated",
        ratio=ratio,
        population_count=len(ids),
        population_ids=ids,
        drawn_count=len(drawn),
        drawn_by=actor.subject,
        drawn_at=now,
    )
    session.add(draw)
    try:
        await session.flush()
    except IntegrityError as exc:
        # The unique (street, month): a concurrent draw won the race.
        raise AlreadyDrawn(
            f"{street.name} {month} 的抽查已抽取，不能重复抽取。"
        ) from exc
    session.add_all(
        SpotCheck(
            draw_id=pk(draw),
            application_id=application_id,
            decision_id=cases[application_id],
            status=CheckStatus.PENDING.value,
        )
        for application_id in drawn
    )
    await session.flush()

    await audit.record(
        session,
        actor=actor,
        at=now,
        action="spot_check.draw",
        entity_type="spot_check_draw",
        entity_id=pk(draw),
        details={
            "street_code": street.code,
            "month": str(month),
            "seed": used_seed,
            "seed_source": draw.seed_source,
            "ratio": ratio,
            "population": ids,
            "drawn": drawn,
        },
    )
    return draw, await checks_of(session, actor, month=month, draw_id=pk(draw))


async def checks_of(
    session: AsyncSession,
    actor: Principal,
    *,
    month: Month,
    street_code: str | None = None,
    draw_id: int | None = None,
) -> list[CheckRow]:
    """The checks of a month in the caller's scope; a filter only narrows it."""
    query = (
        select(SpotCheck, SpotCheckDraw, Application, Decision)
        .join(SpotCheckDraw, col(SpotCheckDraw.id) == col(SpotCheck.draw_id))
        .join(Application, col(Application.id) == col(SpotCheck.application_id))
        .join(Decision, col(Decision.id) == col(SpotCheck.decision_id))
        .where(
            SpotCheckDraw.month == str(month),
            col(SpotCheckDraw.street_code).startswith(actor.scope_prefix),
        )
    )
    if street_code is not None:
        query = query.where(SpotCheckDraw.street_code == street_code)
    if draw_id is not None:
        query = query.where(SpotCheckDraw.id == draw_id)
    rows = await session.execute(
        query.order_by(col(SpotCheckDraw.street_code), col(SpotCheck.application_id))
    )
    return [CheckRow(check, draw, app, decision) for check, draw, app, decision in rows]


async def draws_of(
    session: AsyncSession,
    actor: Principal,
    *,
    month: Month,
    street_code: str | None = None,
) -> list[tuple[SpotCheckDraw, list[CheckRow]]]:
    """The draws of a month in the caller's scope, each with its checks."""
    query = select(SpotCheckDraw).where(
        SpotCheckDraw.month == str(month),
        col(SpotCheckDraw.street_code).startswith(actor.scope_prefix),
    )
    if street_code is not None:
        query = query.where(SpotCheckDraw.street_code == street_code)
    draws = await session.scalars(query.order_by(col(SpotCheckDraw.street_code)))
    rows = await checks_of(session, actor, month=month, street_code=street_code)

    return [(d, [r for r in rows if r.draw.id == d.id]) for d in draws]


# --- Results (R3.6) ------------------------------------------------------


async def load_check(
    session: AsyncSession, actor: Principal, check_id: int
) -> CheckRow:
    check = await session.get(SpotCheck, check_id)
    draw = None if check is None else await session.get(SpotCheckDraw, check.draw_id)
    if check is None or draw is None or not actor.can_see(draw.street_code):
        raise NotFound(f"抽查记录 {check_id} 不存在。")
    application = await session.get(Application, check.application_id)
    decision = await session.get(Decision, check.decision_id)
    if application is None or decision is None:
        raise NotFound(f"抽查记录 {check_id} 对应的申请不存在。")
    return CheckRow(check, draw, application, decision)


async def _approval_in_force(session: AsyncSession, check: SpotCheck) -> bool:
    """Whether the approval checked is still the case's approval in force.

    If it was revoked (an upheld objection) or replaced since the draw, a
    failed result is recorded but changes nothing on the case.
    """
    found = await session.scalar(
        select(Decision.id).where(
            col(Application.id) == col(Decision.application_id),
            col(Decision.id) == check.decision_id,
            _in_force(),
        )
    )
    return found is not None


async def record_result(
    session: AsyncSession,
    actor: Principal,
    now: dt.datetime,
    check_id: int,
    *,
    passed: bool,
    findings: str,
) -> CheckRow:
    """Record a check's result, once.

    A failed check on an approval still in force reopens a case not yet paid
    (back to investigation, its grant no longer counting, as an upheld
    objection does) or, when the money is out, marks the check
    ``recovery_required`` and says so in the audit log for R5.2.
    """
    if actor.role not in SPOT_CHECKERS:
        raise PermissionDenied("只有区民政局可以登记抽查结果。")
    row = await load_check(session, actor, check_id)
    check, application = row.check, row.application
    if check.status != CheckStatus.PENDING:
        raise CheckRecorded(
            "该抽查结果已登记，不能重复登记。", check_status=check.status
        )
    findings = findings.strip()
    if not passed and not findings:
        raise InvalidInput("抽查不合格须写明发现的问题。", field="findings")

    status = ApplicationStatus(application.status)
    in_force = not passed and await _approval_in_force(session, check)
    reopen = in_force and status in _REOPENABLE
    recover = in_force and status in _PAID_OUT
    # The check is marked first, so that whatever reads the case's checks
    # during the transition (a future guard on REOPEN) sees the failure.
    result = CheckStatus.PASSED if passed else CheckStatus.FAILED
    await compare_and_set(
        session,
        check,
        status=result.value,
        findings=findings,
        recovery_required=recover,
        checked_by=actor.subject,
        checked_at=now,
    )
    details = {"spot_check_id": pk(check), "draw_id": check.draw_id}
    await audit.record(
        session,
        actor=actor,
        at=now,
        action=f"spot_check.{result.value}",
        entity_type="application",
        entity_id=pk(application),
        details={**details, "findings": findings},
    )

    if reopen:
        await session.execute(
            update(Grant)
            .where(col(Grant.application_id) == pk(application), col(Grant.active))
            .values(active=False)
        )
        await transition(
            session,
            application,
            Action.REOPEN,
            actor=actor,
            now=now,
            details={**details, "findings": findings},
            proposed_fen=None,
            approved_fen=None,
            decided_on=None,
            publicity_starts_at=None,
            publicity_ends_at=None,
        )
    if recover:
        # R5.2 reads this entry and the check's flag to open the recovery.
        await audit.record(
            session,
            actor=actor,
            at=now,
            action="spot_check.recovery_required",
            entity_type="application",
            entity_id=pk(application),
            details={
                **details,
                "amount": str(Money(row.decision.amount_fen or 0)),
            },
        )
    return row


# --- Coverage (R3.6) -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreetCoverage:
    street: Region
    draw: SpotCheckDraw | None
    population: int
    drawn: int
    checked: int
    failed: int
    required_ratio: str

    @property
    def ratio(self) -> Fraction | None:
        if self.population == 0:
            return None
        return Fraction(self.drawn, self.population)

    @property
    def meets_ratio(self) -> bool:
        ratio = self.ratio
        return ratio is None or ratio >= Fraction(self.required_ratio)


def ratio_text(ratio: Fraction) -> str:
    """Two decimals, truncated: a report never shows more coverage than there is."""
    hundredths = ratio.numerator * 100 // ratio.denominator
    return f"{hundredths // 100}.{hundredths % 100:02d}"


async def coverage(
    session: AsyncSession, actor: Principal, month: Month
) -> list[StreetCoverage]:
    """Per street in scope: how much of the month's approvals were drawn and
    checked.

    Once drawn, the population is the one recorded by the draw, so that a
    case revoked after a failed check still counts as checked; before, it is
    the population a draw would take now.
    """
    draws = {
        d.street_code: d
        for d in await session.scalars(
            select(SpotCheckDraw).where(
                SpotCheckDraw.month == str(month),
                col(SpotCheckDraw.street_code).startswith(actor.scope_prefix),
            )
        )
    }
    results: dict[int, Sequence[str]] = {}
    for draw_id, status in await session.execute(
        select(SpotCheck.draw_id, SpotCheck.status).where(
            col(SpotCheck.draw_id).in_([pk(d) for d in draws.values()])
        )
    ):
        results[draw_id] = [*results.get(draw_id, []), status]

    report = []
    for street in await streets_in_scope(session, actor):
        draw = draws.get(street.code)
        if draw is None:
            count = len(await population(session, street.code, month))
            ratio = await _spot_check_ratio(session, street.code, month)
            statuses: Sequence[str] = []
        else:
            count, ratio = draw.population_count, draw.ratio
            statuses = results.get(pk(draw), [])
        report.append(
            StreetCoverage(
                street=street,
                draw=draw,
                population=count,
                drawn=0 if draw is None else draw.drawn_count,
                checked=sum(s != CheckStatus.PENDING for s in statuses),
                failed=sum(s == CheckStatus.FAILED for s in statuses),
                required_ratio=ratio,
            )
        )
    return report
