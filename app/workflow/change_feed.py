"""The change feed for the provincial platform: outbox events by position.

Positions are given in commit order (app/workflow/audit.py), so every read
sees a gap-free prefix of the feed as far as it goes: reading the events
after a cursor, in position order, never skips one that commits later. The
cursor is the position of the last event read; 0 is the start.
See docs/change-feed.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col, select

from app.persistence.tables import OutboxEvent

# A stream reads this many events per short session.
STREAM_PAGE = 500


@dataclass(frozen=True, slots=True)
class Change:
    """One event of the feed, detached from any session."""

    cursor: int
    event_type: str
    entity_type: str
    entity_id: int
    entity_version: int
    occurred_at: dt.datetime
    payload: dict[str, Any]


def _change(row: OutboxEvent) -> Change:
    if row.position is None:  # excluded by the query; a bug otherwise
        raise RuntimeError(f"outbox event {row.id} has no position")
    return Change(
        cursor=row.position,
        event_type=row.event_type,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        entity_version=row.entity_version,
        occurred_at=row.at,
        payload=row.payload,
    )


async def read_changes(
    session: AsyncSession, *, after: int, limit: int
) -> list[Change]:
    """Up to ``limit`` events after position ``after``, in position order.

    Unnumbered rows (of transactions not committed yet) have no position and
    do not match; they appear later, above every position given so far.
    """
    rows = await session.scalars(
        select(OutboxEvent)
        .where(col(OutboxEvent.position) > after)
        .order_by(col(OutboxEvent.position))
        .limit(limit)
    )
    return [_change(row) for row in rows]


async def stream_changes(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    after: int,
    limit: int,
    page: int = STREAM_PAGE,
) -> AsyncIterator[Change]:
    """Up to ``limit`` events after ``after``, read a page at a time.

    Each page has its own short session, closed before its events are
    yielded: a slow consumer holds no database connection, and memory stays
    at one page whatever ``limit`` is.
    """
    cursor = after
    remaining = limit
    while remaining > 0:
        size = min(page, remaining)
        async with sessionmaker() as session:
            changes = await read_changes(session, after=cursor, limit=size)
        for change in changes:
            yield change
        if len(changes) < size:
            return
        cursor = changes[-1].cursor
        remaining -= len(changes)
