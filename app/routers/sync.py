"""The change feed the provincial platform reads (docs/change-feed.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api_types import LocalDateTime, OutputModel
from app.deps import Authorized, SessionDep
from app.errors import problem_responses
from app.workflow import change_feed as feed

router = APIRouter(prefix="/api/v1/sync", tags=["sync"])

NDJSON = "application/x-ndjson"
MAX_PAGE = 1000
MAX_STREAM = 100_000
# Positions are BIGINT.
MAX_CURSOR = 2**63 - 1

After = Annotated[
    int,
    Query(
        ge=0,
        le=MAX_CURSOR,
        description="The `next_cursor` (or an event's `cursor`) read last; "
        "omitted or 0: from the first event.",
    ),
]


class ChangePublic(OutputModel):
    cursor: int
    type: str
    entity_type: str
    entity_id: int
    entity_version: int
    occurred_at: LocalDateTime
    payload: dict[str, Any]

    @classmethod
    def of(cls, change: feed.Change) -> ChangePublic:
        return cls(
            cursor=change.cursor,
            type=change.event_type,
            entity_type=change.entity_type,
            entity_id=change.entity_id,
            entity_version=change.entity_version,
            occurred_at=change.occurred_at,
            payload=change.payload,
        )


class ChangesPage(OutputModel):
    events: list[ChangePublic]
    # Pass as ``after`` next time; equal to ``after`` when nothing was new.
    next_cursor: int
    # A full page: more events may be waiting, ask again at once.
    has_more: bool


def _stream(
    sessionmaker: async_sessionmaker[AsyncSession], *, after: int, limit: int
) -> StreamingResponse:
    async def lines() -> AsyncIterator[str]:
        async for change in feed.stream_changes(sessionmaker, after=after, limit=limit):
            yield ChangePublic.of(change).model_dump_json() + "\n"

    return StreamingResponse(
        lines(), media_type=NDJSON, headers={"Cache-Control": "no-store"}
    )


_NDJSON_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {NDJSON: {}},
        "description": "One event (as in `events`) per line, in cursor order; "
        "the last line's `cursor` is the next `after`.",
    }
}


@router.get(
    "/changes",
    summary="The events after a cursor, in commit order (province platform)",
    description="Events in the order their changes committed: a client that "
    "passes each `next_cursor` back as `after` reads every event exactly once. "
    f"With `Accept: {NDJSON}` the same events stream one per line.",
    response_model=ChangesPage,
    responses={**problem_responses(401, 403, 422), **_NDJSON_RESPONSE},
)
async def list_changes(
    request: Request,
    principal: Authorized,
    session: SessionDep,
    after: After = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> ChangesPage | Response:
    if NDJSON in request.headers.get("accept", ""):
        return _stream(request.app.state.sessionmaker, after=after, limit=limit)
    changes = await feed.read_changes(session, after=after, limit=limit)
    return ChangesPage(
        events=[ChangePublic.of(c) for c in changes],
        next_cursor=changes[-1].cursor if changes else after,
        has_more=len(changes) == limit,
    )


@router.get(
    "/changes.ndjson",
    summary="Stream the events after a cursor as NDJSON (province platform)",
    description="Up to `limit` events, one JSON object per line, read from the "
    "database a page at a time: no connection is held while the client reads.",
    response_class=StreamingResponse,
    responses={**problem_responses(401, 403, 422), **_NDJSON_RESPONSE},
)
async def stream_changes(
    request: Request,
    principal: Authorized,
    after: After = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_STREAM)] = 10_000,
) -> StreamingResponse:
    return _stream(request.app.state.sessionmaker, after=after, limit=limit)
