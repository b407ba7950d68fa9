"""The outbox of economic-status checks and the dispatcher that empties it.

Requesting a check never calls the platform: it writes an ``EconomicCheck``
(status ``pending``) and its ``VerificationRequest`` in the case's
transaction, so a request exists exactly when the case says it does, and a
platform that is down loses nothing. The dispatcher then, for every request
that is due:

1. sends it if it was not answered yet (``submit``, idempotent by
   ``request_id``: the same id on every attempt, one check at the platform);
2. asks where it stands (``status``) and, once completed, reads the report;
3. records what it learnt in a transaction of its own: the state, the
   report per member, the per-capita income R1.3 reads, and, when the report
   is in, the case's edge ``record_check_result`` exactly as a clerk's
   refresh takes it.

A platform that does not answer (``PlatformUnavailable``) is tried again
later with a growing delay; after ``max_failures`` calls in a row without an
answer the check is failed with the reason, and a clerk retries it under a
new request id. A refusal of the request itself (``PlatformRejected`` on
submit) fails it at once: sending the same request again cannot help. No
``PlatformError`` leaves this module.

The platform is called outside any database transaction (SQLite takes its
write lock at ``BEGIN``; a slow platform must not stall every clerk). What
was learnt is then written as a compare-and-set on the request's
``version``: when a clerk's refresh and the dispatcher, or two dispatchers,
handle the same request at once, one write wins and the other is dropped;
the platform calls they both made were harmless reads or the same
idempotent submit.

The clerk's refresh (``workflow.investigation.refresh_check``) goes through
the same ``exchange`` and ``apply_outcome``, inside the request's session.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col, select

from app.adapters.verification import (
    CheckMember,
    CheckReport,
    CheckState,
    CheckStatus,
    PlatformError,
    PlatformRejected,
    VerificationPlatform,
)
from app.auth.principal import Principal
from app.clock import Clock
from app.domain.money import Money
from app.domain.roles import Role
from app.errors import AppError
from app.persistence.tables import (
    Application,
    CheckAuthorisation,
    CheckMemberReport,
    EconomicCheck,
    HouseholdMember,
    VerificationRequest,
    pk,
)
from app.workflow import audit
from app.workflow.applications import transition
from app.workflow.households import members_of
from app.workflow.states import ApplicationStatus
from app.workflow.transitions import Action
from app.workflow.versioning import compare_and_set

if TYPE_CHECKING:
    from app.settings import Settings

log = logging.getLogger(__name__)

# Who the audit trail names for what the dispatcher does on its own.
DISPATCHER_SUBJECT = "system:verification-dispatcher"


class RequestState(StrEnum):
    PENDING = "pending"  # written, not yet answered by the platform
    SUBMITTED = "submitted"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


LIVE_STATES = (RequestState.PENDING, RequestState.SUBMITTED, RequestState.PROCESSING)

_REPORT_MISMATCH = "核对报告与申请核对的家庭成员不一致，请重新核对。"
_NO_REASON = "核对平台未说明失败原因。"


@dataclass(frozen=True, slots=True)
class DispatchPolicy:
    """How patient the dispatcher is with a platform that does not answer."""

    max_failures: int = 8
    retry_initial: dt.timedelta = dt.timedelta(seconds=30)
    retry_max: dt.timedelta = dt.timedelta(minutes=30)
    batch_size: int = 100  # requests handled in one run, the most overdue first

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.batch_size < 1:
            raise ValueError("max_failures and batch_size must be at least 1")

    @classmethod
    def from_settings(cls, settings: Settings) -> DispatchPolicy:
        return cls(
            max_failures=settings.verification_max_failures,
            retry_initial=dt.timedelta(seconds=settings.verification_retry_initial),
            retry_max=dt.timedelta(seconds=settings.verification_retry_max),
        )

    def delay_after(self, failures: int) -> dt.timedelta:
        """``retry_initial`` doubled per failure in a row, up to ``retry_max``."""
        doublings: int = min(max(failures - 1, 0), 30)
        doubled: dt.timedelta = self.retry_initial * (2**doublings)
        return min(doubled, self.retry_max)


# --- writing the outbox -----------------------------------------------------


async def current_authorisation(
    session: AsyncSession, application_id: int
) -> CheckAuthorisation | None:
    """The authorisation letter in force: the latest one recorded."""
    found: CheckAuthorisation | None = await session.scalar(
        select(CheckAuthorisation)
        .where(CheckAuthorisation.application_id == application_id)
        .order_by(col(CheckAuthorisation.id).desc())
        .limit(1)
    )
    return found


async def enqueue(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    authorisation: CheckAuthorisation,
) -> tuple[EconomicCheck, VerificationRequest]:
    """A new check and its outbox row, due at once; nothing is sent here.

    The members are fixed now, applicant first (the platform reads the
    household from its first member), so every attempt sends the same ones.
    """
    members = sorted(
        await members_of(session, application.household_id),
        key=lambda m: (not m.is_applicant, pk(m)),
    )
    request_id = uuid.uuid4().hex
    check = EconomicCheck(
        application_id=pk(application),
        request_id=request_id,
        status=RequestState.PENDING.value,
        requested_by=actor.subject,
        requested_at=now,
    )
    session.add(check)
    await session.flush()

    request = VerificationRequest(
        economic_check_id=pk(check),
        application_id=pk(application),
        request_id=request_id,
        state=RequestState.PENDING.value,
        member_ids=[pk(m) for m in members],
        authorisation_id=pk(authorisation),
        requested_role=actor.role.value,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    await session.flush()
    return check, request


async def request_for(
    session: AsyncSession, check: EconomicCheck
) -> VerificationRequest | None:
    """The outbox row of a check; ``None`` for a check requested before the
    outbox existed."""
    found: VerificationRequest | None = await session.scalar(
        select(VerificationRequest).where(
            VerificationRequest.economic_check_id == pk(check)
        )
    )
    return found


# --- talking to the platform ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Job:
    """What one exchange with the platform needs, read from the outbox row."""

    row_id: int
    version: int
    state: RequestState
    request_id: str
    platform_check_id: str | None
    members: tuple[CheckMember, ...] = field(repr=False)


async def _members_by_id(
    session: AsyncSession, member_ids: Sequence[int]
) -> dict[int, HouseholdMember]:
    rows = await session.scalars(
        select(HouseholdMember).where(col(HouseholdMember.id).in_(member_ids))
    )
    return {pk(m): m for m in rows}


async def load_job(session: AsyncSession, request: VerificationRequest) -> Job:
    members = await _members_by_id(session, request.member_ids)
    return Job(
        row_id=pk(request),
        version=request.version,
        state=RequestState(request.state),
        request_id=request.request_id,
        platform_check_id=request.platform_check_id,
        members=tuple(
            CheckMember(
                id_number=members[i].id_number,
                name=members[i].name,
                relation=members[i].relation,
            )
            for i in request.member_ids
        ),
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one exchange learnt. ``error`` set: the platform did not answer
    (or refused) at some step; the fields before it still hold."""

    sent: bool = False  # a submit was attempted
    check_id: str | None = None  # the platform's id of the check, once known
    status: CheckStatus | None = None
    report: CheckReport | None = None
    error: PlatformError | None = None
    rejected_on_submit: bool = False


async def exchange(platform: VerificationPlatform, job: Job) -> Outcome:
    """Send the request if it was never answered, then ask where it stands
    and, once completed, read the report. Never raises ``PlatformError``."""
    check_id = job.platform_check_id
    sent = False
    try:
        if check_id is None:
            sent = True
            check_id = await platform.submit(
                request_id=job.request_id, members=job.members
            )
    except PlatformRejected as exc:
        return Outcome(sent=True, error=exc, rejected_on_submit=True)
    except PlatformError as exc:
        return Outcome(sent=True, error=exc)

    try:
        status = await platform.status(check_id)
        report = None
        if status.state is CheckState.COMPLETED:
            report = await platform.report(check_id)
    except PlatformError as exc:
        # A report refused as "not completed" right after a completed status
        # is the platform's hiccup, not the check's end: tried again later.
        return Outcome(sent=sent, check_id=check_id, error=exc)
    return Outcome(sent=sent, check_id=check_id, status=status, report=report)


# --- recording what was learnt ----------------------------------------------


def system_actor(request: VerificationRequest, application: Application) -> Principal:
    """The dispatcher acts for the clerk who requested the check: the edge is
    taken under that clerk's role, the audit entry names the dispatcher."""
    return Principal(
        subject=DISPATCHER_SUBJECT,
        role=Role(request.requested_role),
        region_code=application.region_code,
        display_name="核对请求发送程序",
    )


async def apply_outcome(
    session: AsyncSession,
    request: VerificationRequest,
    outcome: Outcome,
    *,
    now: dt.datetime,
    policy: DispatchPolicy,
    actor: Principal | None = None,
) -> None:
    """Write what ``exchange`` learnt: the outbox row (compare-and-set), its
    check, and, once the report is in, the report and the case's edge.

    ``actor`` is the clerk who asked to read back now; ``None`` is the
    dispatcher. Raises ``ConcurrentUpdate`` when someone else handled the
    request since it was read.
    """
    check = await session.get(EconomicCheck, request.economic_check_id)
    application = await session.get(Application, request.application_id)
    if check is None or application is None:
        raise RuntimeError(f"verification request {pk(request)} lost its check")
    changes: dict[str, Any] = {"updated_at": now}
    if outcome.sent:
        changes["attempts"] = request.attempts + 1
    if outcome.check_id is not None and request.platform_check_id is None:
        changes |= {
            "platform_check_id": outcome.check_id,
            "submitted_at": now,
            "state": RequestState.SUBMITTED.value,
        }
        check.platform_check_id = outcome.check_id

    failure: str | None = None
    if outcome.error is not None:
        failure = _unanswered(
            request,
            outcome.error,
            changes,
            final=outcome.rejected_on_submit,
            counted=actor is None,
            now=now,
            policy=policy,
        )
    elif outcome.status is not None:
        changes |= {"failures": 0, "last_error": "", "next_attempt_at": now}
        state = outcome.status.state
        if state is CheckState.FAILED:
            failure = outcome.status.reason or _NO_REASON
        elif outcome.report is not None:
            failure = await _store_report(session, request, check, outcome.report)
            if failure is None:
                changes |= {"state": RequestState.COMPLETED.value, "finished_at": now}
        elif state is CheckState.COMPLETED:
            raise RuntimeError("exchange reads the report of every completed check")
        else:
            changes["state"] = RequestState(state.value).value

    if failure is not None:
        changes |= {"state": RequestState.FAILED.value, "finished_at": now}
    await compare_and_set(session, request, **changes)
    check.status = request.state
    check.reason = failure if failure is not None else request.last_error
    await session.flush()

    if request.state == RequestState.COMPLETED:
        await _resume_case(session, request, check, application, now=now, actor=actor)
    elif failure is not None:
        await audit.record(
            session,
            actor=actor or system_actor(request, application),
            at=now,
            action="application.check_failed",
            entity_type="application",
            entity_id=pk(application),
            details={"request_id": request.request_id, "reason": failure},
        )


def _unanswered(
    request: VerificationRequest,
    error: PlatformError,
    changes: dict[str, Any],
    *,
    final: bool,
    counted: bool,
    now: dt.datetime,
    policy: DispatchPolicy,
) -> str | None:
    """Note a call without an answer; the failure reason once it is final.

    ``final``: the platform refused the request, no retry can help.
    ``counted``: the dispatcher's call, which counts towards the bound and
    sets the next attempt; a clerk's refresh only shows the reason, so that
    clicking during an outage neither fails the check nor delays it.
    """
    if final:
        return error.reason[:255]
    if not counted:
        changes["last_error"] = error.reason[:255]
        return None
    failures = request.failures + 1
    changes |= {
        "failures": failures,
        "last_error": error.reason[:255],
        "next_attempt_at": now + policy.delay_after(failures),
    }
    log.warning(
        "verification request %s: no answer (%d in a row, %d allowed)",
        request.request_id,
        failures,
        policy.max_failures,
    )
    if failures >= policy.max_failures:
        return f"连续 {failures} 次未能得到核对平台的应答：{error.reason}"[:255]
    return None


async def _store_report(
    session: AsyncSession,
    request: VerificationRequest,
    check: EconomicCheck,
    report: CheckReport,
) -> str | None:
    """The report per member and the household figures; the failure reason
    instead when it does not cover exactly the members sent."""
    members = await _members_by_id(session, request.member_ids)
    by_number = {m.id_number: member_id for member_id, m in members.items()}
    reported = [m.id_number for m in report.members]
    if sorted(reported) != sorted(by_number) or len(set(reported)) != len(reported):
        log.error(
            "verification report of %s covers %d members, %d were sent",
            request.request_id,
            len(reported),
            len(by_number),
        )
        return _REPORT_MISMATCH

    for position, member in enumerate(report.members):
        income, assets = member.income, member.assets
        session.add(
            CheckMemberReport(
                economic_check_id=pk(check),
                position=position,
                member_id=by_number[member.id_number],
                wages_fen=income.wages.fen,
                business_fen=income.business.fen,
                property_income_fen=income.property_income.fen,
                transfers_fen=income.transfers.fen,
                deposits_fen=assets.deposits.fen,
                securities_fen=assets.securities.fen,
                real_estate=assets.real_estate,
                vehicles=assets.vehicles,
                businesses=list(member.businesses),
            )
        )
    # What R1.3 reads (``workflow.eligibility.latest_income``), rounded to
    # the fen as every per-capita figure the service stores.
    check.monthly_income_fen = report.monthly_income_per_capita.fen
    check.assets = report.asset_flags()
    return None


async def _resume_case(
    session: AsyncSession,
    request: VerificationRequest,
    check: EconomicCheck,
    application: Application,
    *,
    now: dt.datetime,
    actor: Principal | None,
) -> None:
    """The check is in: the case waiting for it moves on (R3.3)."""
    check.completed_at = now
    await session.flush()
    latest = await session.scalar(
        select(func.max(EconomicCheck.id)).where(
            EconomicCheck.application_id == pk(application)
        )
    )
    if application.status != ApplicationStatus.AWAITING_CHECK or latest != pk(check):
        # Nothing waits for this one (an older check, or the case moved on):
        # the report stays on record and decides nothing.
        log.info("verification report of %s stored; no case waits", request.request_id)
        return
    income = Money(check.monthly_income_fen or 0)
    await transition(
        session,
        application,
        Action.RECORD_CHECK_RESULT,
        actor=actor or system_actor(request, application),
        now=now,
        details={
            "request_id": request.request_id,
            "monthly_income_per_capita": str(income),
            "assets": check.assets,
        },
    )


# --- the dispatcher ---------------------------------------------------------


@dataclass(slots=True)
class DispatchSummary:
    """What one run did, for the CLI and the logs (counts only)."""

    handled: int = 0
    completed: int = 0
    failed: int = 0
    waiting: int = 0  # submitted or processing at the platform
    deferred: int = 0  # the platform did not answer; tried again later
    skipped: int = 0  # handled meanwhile by someone else

    def __str__(self) -> str:
        return (
            f"handled {self.handled}: completed {self.completed}, "
            f"failed {self.failed}, waiting {self.waiting}, "
            f"deferred {self.deferred}, skipped {self.skipped}"
        )


async def dispatch_verification(
    sessionmaker: async_sessionmaker[AsyncSession],
    platform: VerificationPlatform,
    now: dt.datetime,
    *,
    policy: DispatchPolicy | None = None,
) -> DispatchSummary:
    """One run over the requests due at ``now``; see the module docstring."""
    policy = policy or DispatchPolicy()
    async with sessionmaker() as session:
        due = await session.scalars(
            select(VerificationRequest)
            .where(
                col(VerificationRequest.state).in_([s.value for s in LIVE_STATES]),
                col(VerificationRequest.next_attempt_at) <= now,
            )
            .order_by(
                col(VerificationRequest.next_attempt_at), col(VerificationRequest.id)
            )
            .limit(policy.batch_size)
        )
        jobs = [await load_job(session, request) for request in due]

    summary = DispatchSummary()
    for job in jobs:
        outcome = await exchange(platform, job)

        summary.handled += 1
        try:
            state = await _record(sessionmaker, job, outcome, now=now, policy=policy)
        except AppError as exc:
            # A concurrent refresh or another dispatcher got there first.
            log.info("verification request %s not recorded: %s", job.request_id, exc)
            state = None
        except Exception:
            # One bad row must not stop the others; it is tried on the next run.
            log.exception("verification request %s not recorded", job.request_id)
            state = None
        _count(summary, state, outcome)
    if jobs:
        log.info("verification dispatch: %s", summary)
    return summary


async def _record(
    sessionmaker: async_sessionmaker[AsyncSession],
    job: Job,
    outcome: Outcome,
    *,
    now: dt.datetime,
    policy: DispatchPolicy,
) -> RequestState | None:
    async with sessionmaker() as session, session.begin():
        request = await session.get(VerificationRequest, job.row_id)
        if request is None or request.version != job.version:
            return None
        await apply_outcome(session, request, outcome, now=now, policy=policy)
        return RequestState(request.state)


def _count(summary: DispatchSummary, state: RequestState | None, o: Outcome) -> None:
    if state is None:
        summary.skipped += 1
    elif state is RequestState.COMPLETED:
        summary.completed += 1
    elif state is RequestState.FAILED:
        summary.failed += 1
    elif o.error is not None:
        summary.deferred += 1
    else:
        summary.waiting += 1


async def run_dispatcher(
    sessionmaker: async_sessionmaker[AsyncSession],
    platform: VerificationPlatform,
    clock: Clock,
    *,
    interval: float,
    policy: DispatchPolicy,
    stop: asyncio.Event,
) -> None:
    """Run ``dispatch_verification`` every ``interval`` seconds until ``stop``.

    Used by the server's lifespan and ``linshi dispatch-verification``. A run
    that fails (the database away, say) is logged and the next one comes.
    """
    while not stop.is_set():
        try:
            await dispatch_verification(
                sessionmaker, platform, clock.now(), policy=policy
            )
        except Exception:
            log.exception("verification dispatch run failed")

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
