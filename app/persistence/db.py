"""Engine creation and the per-request unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def make_engine(url: str) -> AsyncEngine:
    """The engine; SQL parameters never appear in errors or logs.

    Parameters carry ID numbers, account numbers and names, and SQLAlchemy
    would otherwise print them in every database error.
    """
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, connect_args={"timeout": 30}, hide_parameters=True
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Foreign keys on, and every transaction takes the write lock at BEGIN.

    SQLite allows one writer; a transaction that read first and writes later
    would fail instead of waiting. ``BEGIN IMMEDIATE`` makes concurrent
    requests queue (up to the busy timeout), which is what a zero-setup,
    single-machine default needs.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to the "begin" hook below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Objects stay readable after the commit: responses are shaped from them.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One transaction for one request: commit once at the end, or roll back."""
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()
