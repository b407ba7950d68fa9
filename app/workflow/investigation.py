"""Investigation (调查核实, R3.3): home visit, neighbours, appraisal, the check.

The household economic-status check is required when no home visit was
possible or its result is in doubt; the application then waits in
``awaiting_check`` and the street gives no opinion before the result.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.adapters.verification import CheckState, VerificationPlatform
from app.auth.principal import Principal
from app.clock import local_date
from app.domain.money import Money
from app.errors import InvalidInput
from app.persistence.tables import (
    Application,
    Appraisal,
    EconomicCheck,
    Investigation,
    pk,
)
from app.workflow.applications import transition
from app.workflow.households import members_of
from app.workflow.transitions import Action, edge_for


async def record_investigation(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    platform: VerificationPlatform,
    home_visit_done: bool,
    result_in_doubt: bool,
    home_visit_note: str,
    neighbour_interviews: int,
    neighbour_note: str,
    monthly_income_per_capita: Money,
    findings: str,
) -> Investigation:
    await edge_for(session, application, Action.RECORD_INVESTIGATION, actor.role, now)
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

    if not home_visit_done or result_in_doubt:
        await request_check(
            session,
            application,
            actor=actor,
            now=now,
            platform=platform,
            why="未能入户调查" if not home_visit_done else "入户调查结果存疑",
        )
    return investigation


async def request_check(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    platform: VerificationPlatform,
    why: str,
) -> EconomicCheck:
    """Ask the platform to check every member; the application waits for it."""
    await edge_for(session, application, Action.REQUEST_CHECK, actor.role, now)
    check = await _submit(session, application, actor=actor, now=now, platform=platform)
    await transition(
        session,
        application,
        Action.REQUEST_CHECK,
        actor=actor,
        now=now,
        details={"why": why, "request_id": check.request_id},
    )
    return check


async def _submit(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    platform: VerificationPlatform,
) -> EconomicCheck:
    members = await members_of(session, application.household_id)
    request_id = uuid.uuid4().hex
    # TODO: write the request to an outbox in this transaction and let a job
    # send it, so that a platform that is down loses nothing.
    platform_id = await platform.submit(
        request_id=request_id, id_numbers=[m.id_number for m in members]
    )
    check = EconomicCheck(
        application_id=pk(application),
        request_id=request_id,
        platform_check_id=platform_id,
        status=CheckState.SUBMITTED.value,
        requested_by=actor.subject,
        requested_at=now,
    )
    session.add(check)
    await session.flush()
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
) -> EconomicCheck:
    """Read the platform's answer; a completed check resumes the procedure.

    A failed check is sent again under a new request (retrying is an action
    the clerk takes; the failed attempt and its reason stay on record).
    """
    await edge_for(session, application, Action.RECORD_CHECK_RESULT, actor.role, now)
    check = await latest_check(session, pk(application))
    if check is None:
        raise InvalidInput("尚未申请家庭经济状况核对。")
    if check.status == CheckState.FAILED:
        return await _submit(
            session, application, actor=actor, now=now, platform=platform
        )

    result = await platform.result(check.platform_check_id or "")
    check.status = result.state.value
    check.reason = result.reason
    if result.state is not CheckState.COMPLETED:
        await session.flush()
        return check

    income = result.monthly_income_per_capita
    check.monthly_income_fen = None if income is None else income.fen
    check.assets = dict(result.assets)
    check.completed_at = now
    await transition(
        session,
        application,
        Action.RECORD_CHECK_RESULT,
        actor=actor,
        now=now,
        details={
            "request_id": check.request_id,
            "monthly_income_per_capita": None if income is None else str(income),
            "assets": check.assets,
        },
    )
    return check


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
