"""Advance assistance (先行救助, R3.9).

In an urgent emergency the street or the district pays at once out of the
street's reserve fund, before the check, the appraisal and the publicity.
The case then completes its procedure; the district's final amount is paid
net of the advance (the top-up, 补足), and an advance above the final amount
leaves the difference to recover.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.clock import local_date
from app.domain.money import Money
from app.domain.regions import RegionLevel, ancestor_at
from app.persistence.tables import Application, Grant, pk
from app.workflow import funds, recoveries
from app.workflow.applications import transition
from app.workflow.eligibility import CaseDraft, evaluate_case, refusal
from app.workflow.households import lock_household
from app.workflow.transitions import Action, edge_for


async def pay_advance(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    amount: Money,
    note: str,
) -> None:
    """The advance stays within the caps as they stand today (R2.2, R2.3)."""
    edge = await edge_for(session, application, Action.PAY_ADVANCE, actor.role, now)
    household = await lock_household(session, actor, application.household_id)
    evaluation = await evaluate_case(
        session, CaseDraft.of(application), household, amount=amount, on=local_date(now)
    )
    if not evaluation.eligible:
        raise refusal(evaluation)

    await funds.draw(
        session,
        actor=actor,
        now=now,
        street_code=ancestor_at(application.region_code, RegionLevel.STREET),
        amount=amount,
        application_id=pk(application),
        note=note or "先行救助",
    )
    # Paid money counts against the caps from the day it is paid, so other
    # cases of the household cannot use the same room in the meantime.
    session.add(
        Grant(
            household_id=application.household_id,
            application_id=pk(application),
            decided_on=local_date(now),
            amount_fen=amount.fen,
            household_size=application.household_size,
            reason=application.reason,
        )
    )
    await transition(
        session,
        application,
        Action.PAY_ADVANCE,
        actor=actor,
        now=now,
        details={"advance": str(amount)},
        checked=edge,
        advance_fen=amount.fen,
        advance_paid_at=now,
    )


def top_up(application: Application) -> Money:
    """What remains to pay through the bank once publicity is over."""
    return Money(
        max((application.approved_fen or 0) - (application.advance_fen or 0), 0)
    )


async def settle(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
) -> None:
    """Close a case whose advance covered the final amount; recover any excess."""
    await transition(session, application, Action.SETTLE_ADVANCE, actor=actor, now=now)

    advance = Money(application.advance_fen or 0)
    granted = Money(application.approved_fen or 0)
    excess = advance - granted
    if excess.fen > 0:
        await recoveries.open_recovery(
            session,
            application,
            actor=actor,
            now=now,
            amount=excess,
            reason=recoveries.RecoveryReason.ADVANCE_EXCESS,
            note=f"先行救助 {advance.grouped()} 元高于核定金额"
            f" {granted.grouped()} 元，差额追回。",
            as_effect=True,
        )


async def recover_unearned(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
) -> None:
    """A case that ends without a grant (refused, referred) owes its advance back."""
    if not application.advance_fen:
        return
    await recoveries.open_recovery(
        session,
        application,
        actor=actor,
        now=now,
        amount=Money(application.advance_fen),
        reason=recoveries.RecoveryReason.ADVANCE_EXCESS,
        note=f"先行救助 {Money(application.advance_fen).grouped()} 元，"
        "案件最终未予救助，全额追回。",
        as_effect=True,
    )
