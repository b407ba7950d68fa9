"""Objections during publicity (异议, R3.7).

Anyone may object while a result is posted. An objection is dismissed (the
publicity goes on) or upheld: the approval is revoked, its grant no longer
counts against the caps, and the case goes back to investigation. Publicity
cannot close while an objection is open.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.auth.principal import Principal
from app.clock import local_date
from app.domain.roles import Role
from app.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionDenied,
)
from app.persistence.tables import Application, Grant, Objection, pk
from app.workflow import audit
from app.workflow.applications import (
    investigation_due_on,
    load_application,
    transition,
)
from app.workflow.states import ApplicationStatus
from app.workflow.transitions import (
    CREATE_ROLES,
    OBJECTION_DECIDERS,
    Action,
    allowed_actions,
)
from app.workflow.versioning import compare_and_set

SOURCES = ("clerk", "phone", "letter", "visit")


class ObjectionDecided(Conflict):
    code = "objection_decided"


async def raise_objection(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    source: str,
    content: str,
    contact: str,
) -> Objection:
    if actor.role not in CREATE_ROLES | OBJECTION_DECIDERS | {Role.DISTRICT_OFFICER}:
        raise PermissionDenied("您的角色无权登记异议。")
    if application.status != ApplicationStatus.IN_PUBLICITY:
        allowed = await allowed_actions(session, application, actor.role, now)
        raise InvalidTransition(
            "只有公示期间才能登记异议。",
            current_status=application.status,
            allowed_actions=[a.value for a in allowed],
        )
    if source not in SOURCES:
        raise InvalidInput("异议来源不正确。", field="source")
    # Raising an objection changes the case: a concurrent close of the
    # publicity, which read the case without it, must not win.
    await compare_and_set(session, application, updated_at=now)
    objection = Objection(
        application_id=pk(application),
        source=source,
        content=content,
        contact=contact,
        raised_by=actor.subject,
        raised_at=now,
    )
    session.add(objection)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        at=now,
        action="objection.raise",
        entity_type="application",
        entity_id=pk(application),
        details={"objection_id": pk(objection), "source": source},
    )
    return objection


async def load_objection(
    session: AsyncSession, actor: Principal, objection_id: int
) -> tuple[Objection, Application]:
    objection = await session.get(Objection, objection_id)
    if objection is None:
        raise NotFound(f"异议 {objection_id} 不存在。")
    application = await load_application(session, actor, objection.application_id)
    return objection, application


async def objections_of(session: AsyncSession, application_id: int) -> list[Objection]:
    rows = await session.scalars(
        select(Objection)
        .where(Objection.application_id == application_id)
        .order_by(col(Objection.id))
    )
    return list(rows)


async def decide(
    session: AsyncSession,
    objection: Objection,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    uphold: bool,
    note: str,
) -> None:
    if objection.status != "open":
        raise ObjectionDecided("该异议已处理。", objection_status=objection.status)
    if not note.strip():
        raise InvalidInput("请写明处理意见。", field="note")
    if not uphold and actor.role not in OBJECTION_DECIDERS:
        raise PermissionDenied("您的角色无权处理异议。")

    if uphold:
        # The edge's guard needs this objection still open, so the case moves
        # first and the objection is marked upheld after.
        await session.execute(
            update(Grant)
            .where(col(Grant.application_id) == pk(application), col(Grant.active))
            .values(active=False)
        )
        await transition(
            session,
            application,
            Action.UPHOLD_OBJECTION,
            actor=actor,
            now=now,
            details={"objection_id": pk(objection), "note": note},
            proposed_fen=None,
            approved_fen=None,
            decided_on=None,
            publicity_starts_at=None,
            publicity_ends_at=None,
            accepted_at=now,
            investigation_due_on=await investigation_due_on(
                session, application, accepted_on=local_date(now)
            ),
        )
    else:
        # A decision changes what the case's screen shows: a clerk acting on
        # a copy read before it is asked to refresh (If-Match, 412).
        await compare_and_set(session, application, updated_at=now)
    await compare_and_set(
        session,
        objection,
        status="upheld" if uphold else "dismissed",
        decision_note=note,
        decided_by=actor.subject,
        decided_at=now,
    )
    if uphold:
        # The approval they objected to is gone; the other objections go with
        # it, so that they cannot hold the next publicity of the new decision.
        await session.execute(
            update(Objection)
            .where(
                col(Objection.application_id) == pk(application),
                col(Objection.status) == "open",
            )
            .values(
                status="superseded",
                decision_note="异议所针对的审批已撤销，一并了结。",
                decided_by=actor.subject,
                decided_at=now,
                version=Objection.version + 1,
            )
        )
    await audit.record(
        session,
        actor=actor,
        at=now,
        action="objection.uphold" if uphold else "objection.dismiss",
        entity_type="application",
        entity_id=pk(application),
        details={"objection_id": pk(objection)},
    )
