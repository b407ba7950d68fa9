"""Audit entries and outbox events, written beside the change they describe.

Every state change calls ``record`` inside the request's transaction, so the
change, its audit entry and its event for the provincial platform commit or
vanish together.

Events get their place in the change feed (``OutboxEvent.position``) only
when their transaction commits, so that positions follow commit order and a
reader at cursor C never misses an event that commits later below C
(docs/change-feed.md). ``record`` notes the events of the session; a
``before_commit`` hook on every ORM session numbers them under the row lock
of ``outbox_counter``, which the transaction then holds until it commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, event, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.persistence.tables import AuditEntry, OutboxEvent, pk

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
    outbox = None
    if event_type is not None:
        outbox = OutboxEvent(
            at=at,
            event_type=event_type,
            entity_type=entity_type,
            entity_id=entity_id,
            entity_version=entity_version,
            payload=payload or {},
        )
        session.add(outbox)
    await session.flush()
    if outbox is not None:
        session.info.setdefault(_PENDING, []).append(pk(outbox))
    return entry


# --- Feed positions, given at commit --------------------------------------

# ``session.info`` key: ids of the outbox rows this session wrote and has not
# numbered yet.
_PENDING = "outbox_pending_ids"

_UNNUMBERED = text(
    "SELECT id FROM outbox_events WHERE position IS NULL AND id IN :ids ORDER BY id"
).bindparams(bindparam("ids", expanding=True))

# Takes (or creates) the counter row and keeps its lock until this
# transaction ends: a second writer waits here until the first has committed,
# so its positions are larger than any a reader can still be waiting for.
# ``WHERE true`` lets SQLite parse ``INSERT … SELECT … ON CONFLICT``. The
# row is created on first use (an emptied database) after the largest
# position there is, so positions are never given twice.
_CLAIM = text(
    "INSERT INTO outbox_counter (id, last_position)"
    " SELECT 1, COALESCE(MAX(position), 0) + :n FROM outbox_events WHERE true"
    " ON CONFLICT (id) DO UPDATE"
    " SET last_position = outbox_counter.last_position + :n"
    " RETURNING last_position"
)

_PLACE = text("UPDATE outbox_events SET position = :position WHERE id = :id")


@event.listens_for(Session, "before_commit")
def _number_events(session: Session) -> None:
    """Give this transaction's events their positions, as late as possible.

    Only the outermost commit numbers (a savepoint's release is no commit).
    Everything else is flushed first, so the counter's lock is held only for
    the numbering and the COMMIT itself. Ids whose rows are gone (rolled back
    earlier in a reused session) or already numbered are skipped, so nothing
    stale takes a position.
    """
    if session.in_nested_transaction():
        return
    pending: list[int] | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()
    ids = list(session.execute(_UNNUMBERED, {"ids": sorted(set(pending))}).scalars())
    if not ids:
        return
    last = int(session.execute(_CLAIM, {"n": len(ids)}).scalar_one())
    first = last - len(ids) + 1
    # Within a transaction, positions follow the order of the ``record`` calls.
    session.execute(
        _PLACE, [{"position": first + i, "id": key} for i, key in enumerate(ids)]
    )
