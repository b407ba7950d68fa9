"""The provincial change feed: every event once, in commit order."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.principal import Principal
from app.domain.roles import Role
from app.persistence.db import make_sessionmaker
from app.workflow import audit
from app.workflow.change_feed import read_changes
from tests.support import Api, id_number

FEED = "/api/v1/sync/changes"
STREAM = "/api/v1/sync/changes.ndjson"
PROVINCE = "province-demo"

# 09:00 in Beijing; the feed shows it at +08:00.
AT = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)

OFFICER = Principal(
    subject="user:4",
    role=Role.DISTRICT_OFFICER,
    region_code="430204000000",
    display_name="石峰区 经办人",
)


def _sessions(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(app.state.engine)


async def _write(
    session: AsyncSession,
    *,
    entity_type: str,
    entity_id: int,
    version: int,
) -> None:
    await audit.record(
        session,
        actor=OFFICER,
        at=AT,
        action="test.change",
        entity_type=entity_type,
        entity_id=entity_id,
        event_type=f"{entity_type}.changed",
        entity_version=version,
        payload={"id": entity_id, "version": version},
    )


async def _read_all(api: Api, *, after: int = 0, limit: int = 100) -> list[Any]:
    """Every event after ``after``, by pages of ``limit``, as a client would."""
    events: list[Any] = []
    while True:
        page = await api.ok("GET", f"{FEED}?after={after}&limit={limit}", who=PROVINCE)
        events += page["events"]
        assert page["has_more"] == (len(page["events"]) == limit)
        after = page["next_cursor"]
        if not page["has_more"]:
            return events


async def test_250_events_of_one_transaction_are_read_by_pages_once_in_order(
    app: FastAPI, api: Api
) -> None:
    async with _sessions(app)() as session, session.begin():
        for n in range(1, 251):
            await _write(session, entity_type="application", entity_id=n, version=1)

    pages = []
    after = 0
    for _ in range(4):
        page = await api.ok("GET", f"{FEED}?after={after}&limit=100", who=PROVINCE)
        pages.append(page)
        after = page["next_cursor"]

    assert [len(p["events"]) for p in pages] == [100, 100, 50, 0]
    assert [p["has_more"] for p in pages] == [True, True, False, False]
    events = [e for p in pages for e in p["events"]]
    cursors = [e["cursor"] for e in events]
    # Consecutive positions, none twice, in the order the events were recorded.
    assert cursors == list(range(cursors[0], cursors[0] + 250))
    assert [e["entity_id"] for e in events] == list(range(1, 251))
    # Nothing new: the cursor stays where it was.
    assert pages[3]["next_cursor"] == pages[2]["next_cursor"] == cursors[-1]
    assert events[0] == {
        "cursor": cursors[0],
        "type": "application.changed",
        "entity_type": "application",
        "entity_id": 1,
        "entity_version": 1,
        "occurred_at": "2026-03-02T09:00:00+08:00",
        "payload": {"id": 1, "version": 1},
    }


async def test_omitting_after_reads_from_the_start_and_limit_defaults_to_100(
    app: FastAPI, api: Api
) -> None:
    async with _sessions(app)() as session, session.begin():
        for n in range(1, 121):
            await _write(session, entity_type="household", entity_id=n, version=1)

    page = await api.ok("GET", FEED, who=PROVINCE)

    assert len(page["events"]) == 100
    assert page["events"][0]["entity_id"] == 1
    assert page["next_cursor"] == page["events"][-1]["cursor"]


async def test_a_rolled_back_transaction_leaves_no_event_and_no_gap(
    app: FastAPI, api: Api
) -> None:
    sessions = _sessions(app)
    async with sessions() as session, session.begin():
        await _write(session, entity_type="application", entity_id=1, version=1)
    async with sessions() as session:
        await session.begin()
        await _write(session, entity_type="application", entity_id=2, version=1)
        await session.rollback()
    async with sessions() as session, session.begin():
        await _write(session, entity_type="application", entity_id=3, version=1)

    events = await _read_all(api)

    assert [e["entity_id"] for e in events] == [1, 3]
    assert events[1]["cursor"] == events[0]["cursor"] + 1


async def test_events_of_the_workflow_reach_the_feed(api: Api) -> None:
    household = await api.household(
        members=[("张三", id_number("430204", "19800101", 11), "self", "")]
    )

    events = await _read_all(api)

    assert [(e["type"], e["entity_id"]) for e in events] == [
        ("household.created", household["id"])
    ]
    assert events[0]["payload"]["region_code"] == "430204001001"


async def test_the_ndjson_stream_returns_the_events_of_the_pages(
    app: FastAPI, api: Api
) -> None:
    async with _sessions(app)() as session, session.begin():
        for n in range(1, 1201):
            await _write(session, entity_type="application", entity_id=n, version=1)
    paged = await _read_all(api, limit=1000)

    # More than one of the stream's internal pages (500 events each).
    response = await api.call("GET", f"{STREAM}?limit=100000", who=PROVINCE)
    streamed = [json.loads(line) for line in response.text.splitlines()]
    negotiated = await api.call(
        "GET",
        f"{FEED}?after={paged[99]['cursor']}&limit=1000",
        who=PROVINCE,
        headers={"Accept": "application/x-ndjson"},
    )
    resumed = await api.call(
        "GET", f"{STREAM}?after={paged[1099]['cursor']}&limit=60", who=PROVINCE
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert len(paged) == 1200
    assert streamed == paged
    assert negotiated.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(x) for x in negotiated.text.splitlines()] == paged[100:1100]
    assert [json.loads(x) for x in resumed.text.splitlines()] == paged[1100:1160]


@pytest.mark.parametrize(
    "who", ["community1", "street1", "officer1", "auditor1", "admin1", "bank-demo"]
)
@pytest.mark.parametrize("path", [FEED, STREAM])
async def test_only_the_province_platform_reads_the_feed(
    api: Api, who: str, path: str
) -> None:
    response = await api.call("GET", path, who=who)

    assert response.status_code == 403, response.text
    assert response.json()["code"] == "forbidden"


async def test_the_feed_needs_a_token(api: Api) -> None:
    response = await api.client.get(FEED)

    assert response.status_code == 401


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=1001", "after=-1", "after=x"],
)
async def test_bad_cursors_and_limits_are_refused(api: Api, query: str) -> None:
    response = await api.call("GET", f"{FEED}?{query}", who=PROVINCE)

    assert response.status_code == 422, response.text


async def test_the_stream_allows_larger_limits_but_not_unbounded(api: Api) -> None:
    over = await api.call("GET", f"{STREAM}?limit=100001", who=PROVINCE)
    empty = await api.call("GET", f"{STREAM}?limit=100000", who=PROVINCE)

    assert over.status_code == 422
    assert empty.status_code == 200
    assert empty.text == ""


# --- PostgreSQL: writers in parallel ---------------------------------------


def _postgres_only(app: FastAPI) -> None:
    if app.state.engine.dialect.name != "postgresql":
        pytest.skip(
            "SQLite runs one writer at a time (BEGIN IMMEDIATE), so commits "
            "cannot interleave; run with TEST_DATABASE_URL=postgresql+asyncpg://…"
        )


class _Reader:
    """A consumer polling the feed and remembering everything it read."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.cursor = 0
        self.read: list[tuple[int, str, int, int]] = []

    async def poll(self) -> int:
        async with self.sessions() as session:
            changes = await read_changes(session, after=self.cursor, limit=1000)
        for c in changes:
            self.read.append((c.cursor, c.entity_type, c.entity_id, c.entity_version))
        if changes:
            self.cursor = changes[-1].cursor
        return len(changes)


async def test_a_transaction_that_starts_first_and_commits_last_is_not_missed(
    app: FastAPI,
) -> None:
    _postgres_only(app)
    sessions = _sessions(app)
    reader = _Reader(sessions)

    slow = sessions()
    await slow.begin()
    # Inserted first: its row id is smaller than every other event's.
    await _write(slow, entity_type="application", entity_id=1, version=1)
    for version in (1, 2, 3):
        async with sessions() as session, session.begin():
            await _write(session, entity_type="household", entity_id=7, version=version)
        await reader.poll()
    assert [r[1:] for r in reader.read] == [
        ("household", 7, 1),
        ("household", 7, 2),
        ("household", 7, 3),
    ]
    await slow.commit()
    await slow.close()
    assert await reader.poll() == 1
    assert await reader.poll() == 0

    assert [r[1:] for r in reader.read][-1] == ("application", 1, 1)
    cursors = [r[0] for r in reader.read]
    assert cursors == sorted(set(cursors))


async def test_concurrent_writers_and_a_polling_reader_lose_nothing(
    app: FastAPI,
) -> None:
    _postgres_only(app)
    sessions = _sessions(app)
    reader = _Reader(sessions)
    writers, versions = 6, 15
    slow_entity = 99

    async def writer(entity: int) -> None:
        for version in range(1, versions + 1):
            async with sessions() as session, session.begin():
                await _write(
                    session,
                    entity_type="application",
                    entity_id=entity,
                    version=version,
                )
                # Two events in one transaction, and time for others to
                # interleave between the insert and the commit.
                await asyncio.sleep(0.001 * (entity % 3))
                await _write(
                    session, entity_type="funds", entity_id=entity, version=version
                )

    async def slow_writer(started: asyncio.Event, release: asyncio.Event) -> None:
        async with sessions() as session, session.begin():
            await _write(
                session, entity_type="application", entity_id=slow_entity, version=1
            )
            started.set()
            await release.wait()

    done = asyncio.Event()

    async def poller() -> None:
        while not done.is_set():
            await reader.poll()
            await asyncio.sleep(0)

    started, release = asyncio.Event(), asyncio.Event()
    slow = asyncio.create_task(slow_writer(started, release))
    await started.wait()
    polling = asyncio.create_task(poller())
    await asyncio.gather(*(writer(n) for n in range(1, writers + 1)))
    # Everything else is committed and may have been read; the first
    # transaction still holds its event.
    release.set()
    await slow
    done.set()
    await polling
    while await reader.poll():
        pass

    keys = [r[1:] for r in reader.read]
    expected = {
        (kind, n, v)
        for n in range(1, writers + 1)
        for v in range(1, versions + 1)
        for kind in ("application", "funds")
    } | {("application", slow_entity, 1)}
    assert len(keys) == len(expected) == 2 * writers * versions + 1
    assert set(keys) == expected
    assert keys[-1] == ("application", slow_entity, 1)
    cursors = [r[0] for r in reader.read]
    assert cursors == list(range(cursors[0], cursors[0] + len(cursors)))
    for kind in ("application", "funds"):
        for n in range(1, writers + 1):
            seen = [v for k, e, v in keys if (k, e) == (kind, n)]
            assert seen == list(range(1, versions + 1))
