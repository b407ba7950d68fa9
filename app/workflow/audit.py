"""Audit entries and outbox events, written beside the change they describe.

Every state change calls ``record`` inside the request's transaction, so the
change, its audit entry and its event for the provincial platform commit or
vanish together.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.persistence.tables import AuditEntry, OutboxEvent

# TODO: chain each entry to the previous one by hash (tamper-evident audit
# log) here; callers already go through this one function.


async def record(
    session: AsyncSession,
    *,
    actor: Principal,
    at: dt.datetime,
    action: str,
    entity_type: str,
    entity_id: int,
    from_status: str | None = None,
    to_status: str | None = None,
    details: dict[str, Any] | None = None,
    event_type: str | None = None,
    entity_version: int = 1,
    payload: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit entry and, with ``event_type``, one outbox event."""
    entry = AuditEntry(
        at=at,
        actor=actor.subject,
        actor_role=actor.role.value,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        from_status=from_status,
        to_status=to_status,
        details=details or {},
    )
    session.add(entry)
    if event_type is not None:
        session.add(
            OutboxEvent(
                at=at,
                event_type=event_type,
                entity_type=entity_type,
                entity_id=entity_id,
                entity_version=entity_version,
                payload=payload or {},
            )
        )
    await session.flush()
    return entry
