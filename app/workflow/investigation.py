"""Investigation (调查核实, R3.3): home visit, neighbours, appraisal, the check.

The household economic-status check is required when no home visit was
possible or its result is in doubt; the application then waits in
``awaiting_check`` and the street gives no opinion before the result.

A check needs the household's signed authorisation letter (授权书) on file.
Requesting one only queues it (``verification_dispatch.enqueue``); the
dispatcher sends it and records the report, and a clerk's refresh reads it
back at once through the same code. A failed check is retried by an action
of its own, under a new request id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.adapters.verification import VerificationPlatform
from app.auth.principal import Principal
from app.clock import local_date
from app.domain.catalog import Material
from app.domain.money import Money
from app.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    PermissionDenied,
)
from app.persistence.tables import (
    Application,
    Appraisal,
    CheckAuthorisation,
    CheckMemberReport,
    EconomicCheck,
    HouseholdMember,
    Investigation,
    VerificationRequest,
    pk,
)
from app.workflow import attachments, audit
from app.workflow.applications import transition
from app.workflow.states import STATUS_TITLES_ZH, ApplicationStatus
from app.workflow.transitions import EDGES, Action, allowed_actions, edge_for
from app.workflow.verification_dispatch import (
    LIVE_STATES,
    DispatchPolicy,
    RequestState,
    apply_outcome,
    current_authorisation,
    enqueue,
    exchange,
    load_job,
    request_for,
)
from app.workflow.versioning import compare_and_set

# Who may ask for a check, record its authorisation and retry it: the roles
# of the request edge.
CHECK_ROLES = next(e.roles for e in EDGES if e.action is Action.REQUEST_CHECK)

# A letter can be recorded until the case has left the investigation stage.
_AUTHORISATION_STATUSES = frozenset(
    {
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.RETURNED,
        ApplicationStatus.ACCEPTED,
        ApplicationStatus.INVESTIGATED,
        ApplicationStatus.AWAITING_CHECK,
    }
)

_LETTER = "《家庭经济状况核对授权书》"
_RECORD_LETTER = (
    f"请先上传申请人签字的{_LETTER}扫描件，并登记签字人和签字日期"
    "（「登记核对授权书」），"
)
# A check requested before the outbox existed has nothing to read back with.
_LEGACY_REASON = "该核对请求早于核对发送队列，无法查询结果，请重新核对。"


class AuthorisationMissing(InvalidInput):
    code = "authorisation_missing"
    title = "The household's authorisation letter is not on file"

    def __init__(self, *, at_investigation: bool = False) -> None:
        if at_investigation:
            detail = (
                "未能入户调查或调查结果存疑的，须进行家庭经济状况核对，"
                "核对须经申请人书面授权。" + _RECORD_LETTER + "再登记调查结果。"
            )
        else:
            detail = (
                "家庭经济状况核对须经申请人书面授权。" + _RECORD_LETTER + "再申请核对。"
            )
        super().__init__(detail, missing_material=Material.AUTHORISATION_LETTER.value)


class CheckFailed(Conflict):
    code = "check_failed"
    title = "The check failed; retry it"

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"本次核对已失败（{reason}），没有可读取的结果。请执行「重新核对」。",
            reason=reason,
        )


class CheckNotFailed(Conflict):
    code = "check_not_failed"
    title = "Only a failed check is retried"


async def record_investigation(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    home_visit_done: bool,
    result_in_doubt: bool,
    home_visit_note: str,
    neighbour_interviews: int,
    neighbour_note: str,
    monthly_income_per_capita: Money,
    findings: str,
) -> Investigation:
    await edge_for(session, application, Action.RECORD_INVESTIGATION, actor.role, now)
    check_needed = not home_visit_done or result_in_doubt
    if check_needed and await current_authorisation(session, pk(application)) is None:
        # Refused before anything is written: the clerk records the letter,
        # then sends the same investigation again.
        raise AuthorisationMissing(at_investigation=True)

    investigation = Investigation(
        application_id=pk(application),
        home_visit_done=home_visit_done,
        result_in_doubt=result_in_doubt,
        home_visit_note=home_visit_note,
        neighbour_interviews=neighbour_interviews,
        neighbour_note=neighbour_note,
        monthly_income_fen=monthly_income_per_capita.fen,
        findings=findings,
        recorded_by=actor.subject,
        recorded_at=now,
    )
    session.add(investigation)
    await transition(
        session,
        application,
        Action.RECORD_INVESTIGATION,
        actor=actor,
        now=now,
        details={
            "home_visit_done": home_visit_done,
            "result_in_doubt": result_in_doubt,
        },
    )

    if check_needed:
        await request_check(
            session,
            application,
            actor=actor,
            now=now,
            why="未能入户调查" if not home_visit_done else "入户调查结果存疑",
        )
    return investigation


async def _authorisation(
    session: AsyncSession, application: Application
) -> CheckAuthorisation:
    found = await current_authorisation(session, pk(application))
    if found is None:
        raise AuthorisationMissing()
    return found


async def request_check(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    why: str,
) -> EconomicCheck:
    """Queue a check of every member; the application waits for its result.

    Nothing is sent here: the request is written in this transaction and the
    dispatcher sends it, so a platform that is down neither fails the
    clerk's action nor loses the request.
    """
    await edge_for(session, application, Action.REQUEST_CHECK, actor.role, now)
    authorisation = await _authorisation(session, application)

    check, _ = await enqueue(
        session, application, actor=actor, now=now, authorisation=authorisation
    )
    await transition(
        session,
        application,
        Action.REQUEST_CHECK,
        actor=actor,
        now=now,
        details={"why": why, "request_id": check.request_id},
    )
    return check


async def latest_check(
    session: AsyncSession, application_id: int
) -> EconomicCheck | None:
    found: EconomicCheck | None = await session.scalar(
        select(EconomicCheck)
        .where(EconomicCheck.application_id == application_id)
        .order_by(col(EconomicCheck.id).desc())
        .limit(1)
    )
    return found


async def refresh_check(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    platform: VerificationPlatform,
    policy: DispatchPolicy,
) -> EconomicCheck:
    """Read the platform's answer now; a completed check resumes the procedure.

    The same exchange as the dispatcher's: a request not yet sent is sent,
    then its status is read and, once completed, its report stored. A
    platform that does not answer leaves the check pending with the reason
    (the clerk's refresh does not count towards the dispatcher's bound, nor
    postpone its next attempt). A failed check is not read again: it is
    retried (``retry_check``).
    """
    await edge_for(session, application, Action.RECORD_CHECK_RESULT, actor.role, now)
    check = await latest_check(session, pk(application))
    if check is None:
        raise InvalidInput("尚未申请家庭经济状况核对。")
    if check.status == RequestState.FAILED:
        raise CheckFailed(check.reason)
    request = await request_for(session, check)
    if request is None:
        check.status, check.reason = RequestState.FAILED.value, _LEGACY_REASON
        await session.flush()
        return check
    if RequestState(request.state) not in LIVE_STATES:
        return check

    outcome = await exchange(platform, await load_job(session, request))
    await apply_outcome(session, request, outcome, now=now, policy=policy, actor=actor)
    return check


async def retry_check(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    why: str,
) -> EconomicCheck:
    """Send a failed check again as a new request (a new id: the platform
    would answer the old one with the same failure). The failed check and
    its reason stay on record; the case keeps waiting."""
    if actor.role not in CHECK_ROLES:
        raise PermissionDenied("您的角色无权重新核对。")
    status = ApplicationStatus(application.status)
    if status is not ApplicationStatus.AWAITING_CHECK:
        allowed = await allowed_actions(session, application, actor.role, now)
        raise InvalidTransition(
            f"申请当前状态为「{STATUS_TITLES_ZH[status]}」，不能重新核对。",
            current_status=status.value,
            allowed_actions=[a.value for a in allowed],
        )
    failed = await latest_check(session, pk(application))
    if failed is None or failed.status != RequestState.FAILED:
        raise CheckNotFailed(
            "最近一次核对没有失败，无需重新核对；请等待结果或读取核对结果。",
            check_status=None if failed is None else failed.status,
        )
    authorisation = await _authorisation(session, application)

    check, _ = await enqueue(
        session, application, actor=actor, now=now, authorisation=authorisation
    )
    # A new version, so that two clerks retrying at once do not both queue.
    await compare_and_set(session, application, updated_at=now)
    await audit.record(
        session,
        actor=actor,
        at=now,
        action="application.retry_check",
        entity_type="application",
        entity_id=pk(application),
        details={
            "why": why,
            "request_id": check.request_id,
            "previous_request_id": failed.request_id,
        },
    )
    return check


async def record_authorisation(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    signed_by: str,
    signed_on: dt.date,
    filename: str,
    content: bytes,
) -> CheckAuthorisation:
    """File the signed letter (an attachment of the case file) and record who
    signed it and when. The latest letter is the one in force."""
    if actor.role not in CHECK_ROLES:
        raise PermissionDenied("您的角色无权登记核对授权书。")
    status = ApplicationStatus(application.status)
    if status not in _AUTHORISATION_STATUSES:
        allowed = await allowed_actions(session, application, actor.role, now)
        raise InvalidTransition(
            f"申请当前状态为「{STATUS_TITLES_ZH[status]}」，不能登记核对授权书。",
            current_status=status.value,
            allowed_actions=[a.value for a in allowed],
        )
    if signed_on > local_date(now):
        raise InvalidInput("签字日期不能晚于今天。", field="signed_on")

    attachment = await attachments.upload(
        session,
        application,
        actor=actor,
        now=now,
        material=Material.AUTHORISATION_LETTER,
        filename=filename,
        content=content,
    )
    authorisation = CheckAuthorisation(
        application_id=pk(application),
        signed_by=signed_by,
        signed_on=signed_on,
        attachment_id=pk(attachment),
        recorded_by=actor.subject,
        recorded_at=now,
    )
    session.add(authorisation)
    await session.flush()
    # The signer's name stays out of the audit trail, like file names.
    await audit.record(
        session,
        actor=actor,
        at=now,
        action="application.record_check_authorisation",
        entity_type="application",
        entity_id=pk(application),
        details={
            "authorisation_id": pk(authorisation),
            "attachment_id": pk(attachment),
            "signed_on": signed_on.isoformat(),
        },
    )
    return authorisation


@dataclass(frozen=True, slots=True)
class MemberFinding:
    report: CheckMemberReport
    member: HouseholdMember


@dataclass(frozen=True, slots=True)
class CheckView:
    """A check as the application detail shows it: the record, its delivery
    (``None`` for a check from before the outbox) and the report per member."""

    check: EconomicCheck
    request: VerificationRequest | None
    members: tuple[MemberFinding, ...]


async def check_views(session: AsyncSession, application_id: int) -> list[CheckView]:
    checks = list(
        await session.scalars(
            select(EconomicCheck)
            .where(EconomicCheck.application_id == application_id)
            .order_by(col(EconomicCheck.id))
        )
    )
    ids = [pk(c) for c in checks]
    requests = {
        r.economic_check_id: r
        for r in await session.scalars(
            select(VerificationRequest).where(
                col(VerificationRequest.economic_check_id).in_(ids)
            )
        )
    }
    findings: dict[int, list[MemberFinding]] = {}
    rows = await session.execute(
        select(CheckMemberReport, HouseholdMember)
        .join(
            HouseholdMember,
            col(HouseholdMember.id) == col(CheckMemberReport.member_id),
        )
        .where(col(CheckMemberReport.economic_check_id).in_(ids))
        .order_by(
            col(CheckMemberReport.economic_check_id), col(CheckMemberReport.position)
        )
    )
    for report, member in rows:
        findings.setdefault(report.economic_check_id, []).append(
            MemberFinding(report, member)
        )
    return [
        CheckView(c, requests.get(pk(c)), tuple(findings.get(pk(c), ())))
        for c in checks
    ]


async def record_appraisal(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    held_on: dt.date,
    attendees: int,
    votes_for: int,
    votes_against: int,
    note: str,
) -> Appraisal:
    await edge_for(session, application, Action.RECORD_APPRAISAL, actor.role, now)
    if votes_for + votes_against > attendees:
        raise InvalidInput("赞成票与反对票之和不能超过参会人数。", field="votes_for")
    if held_on > local_date(now):
        raise InvalidInput("评议日期不能晚于今天。", field="held_on")
    appraisal = Appraisal(
        application_id=pk(application),
        held_on=held_on,
        attendees=attendees,
        votes_for=votes_for,
        votes_against=votes_against,
        result="agree" if votes_for > votes_against else "disagree",
        note=note,
        recorded_by=actor.subject,
        recorded_at=now,
    )
    session.add(appraisal)
    await transition(
        session,
        application,
        Action.RECORD_APPRAISAL,
        actor=actor,
        now=now,
        details={"result": appraisal.result, "attendees": attendees},
    )
    return appraisal
