"""Test harness: a migrated database per run, emptied and re-seeded per test.

SQLite by default; ``TEST_DATABASE_URL=postgresql+asyncpg://…`` runs the same
suite on PostgreSQL. The schema always comes from the Alembic migrations.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth import passwords
from app.clock import OffsetClock
from app.main import create_app
from app.persistence.db import make_engine, make_sessionmaker
from app.persistence.migrate import upgrade_head
from app.persistence.tables import metadata
from app.seed import seed_demo_users, seed_reference
from app.settings import Environment, Settings
from tests.adapters.stub_server import StubControl, running_stub
from tests.support import Api

# Argon2 at the service's cost takes ~0.2 s a verification, and the suite
# logs in thousands of times. Hashes made in tests (the demo accounts, users
# created through the admin API) use argon2's cheapest parameters; a
# verification reads its parameters from the hash, so it is cheap too. The
# service's own cost is unchanged (app/auth/passwords.py).
passwords._hasher = PasswordHash(
    (Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),)
)

# Tests run on a fixed day so that calendar years and standards are stable.
TEST_START = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 in Beijing


async def _drop_everything(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url:
        asyncio.run(_drop_everything(url))
    else:
        path: Path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
    upgrade_head(url)
    return url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


async def _reset(engine: AsyncEngine) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            )
        else:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608


@pytest.fixture
def clock() -> OffsetClock:
    return OffsetClock(start=TEST_START)


@pytest.fixture
async def app(
    engine: AsyncEngine, database_url: str, clock: OffsetClock
) -> AsyncIterator[FastAPI]:
    await _reset(engine)
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session, session.begin():
        await seed_reference(session, now=clock.now())
        await seed_demo_users(session, now=clock.now())

    settings = Settings(
        APP_ENV=Environment.TEST,
        DATABASE_URL=database_url,
        JWT_SECRET="test-secret-" + "x" * 32,
    )
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def api(client: AsyncClient) -> Api:
    return Api(client)


# The stub verification platform in a real server, started for the modules
# that ask for it (tests/adapters/stub_server.py).
@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    with running_stub() as url:
        yield url


@pytest.fixture
async def stub(stub_url: str) -> AsyncIterator[StubControl]:
    async with httpx.AsyncClient(base_url=stub_url) as client:
        control = StubControl(client)
        await control.reset()
        yield control
