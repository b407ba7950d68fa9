"""Help other than cash through the bank (R3.10): goods in kind, referrals."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.clock import local_date
from app.errors import InvalidInput
from app.persistence.tables import Application
from app.workflow.advances import recover_unearned
from app.workflow.applications import transition
from app.workflow.transitions import Action


async def refer(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    agency: str,
    programme: str,
    note: str,
) -> None:
    """Refer the household to another programme, department or charity."""
    referral = {"agency": agency, "programme": programme, "note": note, "outcome": ""}
    await transition(
        session,
        application,
        Action.REFER,
        actor=actor,
        now=now,
        details={"agency": agency, "programme": programme},
        referral=referral,
    )
    await recover_unearned(session, application, actor=actor, now=now)


async def record_referral_outcome(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    outcome: str,
    note: str,
) -> None:
    referral = {**application.referral, "outcome": outcome, "outcome_note": note}
    await transition(
        session,
        application,
        Action.RECORD_REFERRAL_OUTCOME,
        actor=actor,
        now=now,
        details={"outcome": outcome},
        referral=referral,
    )


async def record_delivery(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    received_by: str,
    delivered_on: dt.date,
    note: str,
) -> None:
    """The goods were handed over: the in-kind case is complete, like a paid one."""
    if delivered_on > local_date(now):
        raise InvalidInput("发放日期不能晚于今天。", field="delivered_on")
    if application.decided_on is not None and delivered_on < application.decided_on:
        raise InvalidInput(
            f"发放日期不能早于审批日期 {application.decided_on.isoformat()}。",
            field="delivered_on",
        )
    await transition(
        session,
        application,
        Action.RECORD_DELIVERY,
        actor=actor,
        now=now,
        details={"delivered_on": delivered_on.isoformat()},
        delivery={
            "received_by": received_by,
            "delivered_on": delivered_on.isoformat(),
            "note": note,
        },
    )
