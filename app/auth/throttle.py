"""Login throttling per account and per client address, kept in the database.

Failed logins are counted in ``login_throttles``, one row per key, within a
window (``LOGIN_WINDOW_MINUTES``). Reaching the limit locks the key for
``LOGIN_LOCK_MINUTES``: a login under a locked account name, or from a locked
address, answers 429 with ``Retry-After`` even with the right password, and
its password is not even checked. A successful login clears the account's
row, never the address's (an address is shared by a whole office).

Keys hold no raw input: an existing account is keyed by its subject
(``user:12``, ``client:3``), an unknown name and a client address by a keyed
hash. A name that was really a mistyped password therefore never lands in the
table, and unknown names lock exactly like real ones (no hint which exist).

The rows live in the database, so a lock holds across restarts and replicas;
every read-modify-write takes the row's lock (``FOR UPDATE`` on PostgreSQL;
SQLite takes the write lock at ``BEGIN``). Times are on the real clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.errors import AppError
from app.persistence.tables import LoginThrottle
from app.settings import Settings


class LoginLocked(AppError):
    status = 429
    code = "login_locked"
    title = "Too many failed logins"

    def __init__(self, *, retry_after: int, **extra: Any) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            f"登录失败次数过多，已暂时锁定，请 {minutes} 分钟后再试；"
            "如需立即解锁，请联系系统管理员。",
            **extra,
        )
        self.headers = {"Retry-After": str(retry_after)}


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    account_limit: int
    address_limit: int
    window: dt.timedelta
    lock: dt.timedelta
    key_secret: bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        # A key of its own, derived from the signing key, for the hashes.
        secret = hmac.new(
            settings.jwt_secret.encode(), b"login-throttle-keys", hashlib.sha256
        ).digest()
        return cls(
            account_limit=settings.login_max_failures,
            address_limit=settings.login_address_max_failures,
            window=dt.timedelta(minutes=settings.login_window_minutes),
            lock=dt.timedelta(minutes=settings.login_lock_minutes),
            key_secret=secret,
        )

    def _digest(self, label: str, value: str) -> str:
        message = f"{label}\x00{value}".encode()
        return hmac.new(self.key_secret, message, hashlib.sha256).hexdigest()[:40]

    def unknown_name_key(self, kind: str, name: str) -> str:
        return f"name:{self._digest(kind, name)}"

    def address_key(self, address: str) -> str:
        return f"addr:{self._digest('address', address)}"


def retry_after(until: dt.datetime, now: dt.datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


async def locked_until(
    session: AsyncSession, keys: list[str], *, now: dt.datetime
) -> dt.datetime | None:
    """The latest end of a lock in force on any of ``keys``, if any."""
    rows = await session.scalars(
        select(LoginThrottle).where(col(LoginThrottle.key).in_(keys))
    )
    ends = [
        row.locked_until
        for row in rows
        if row.locked_until is not None and row.locked_until > now
    ]
    return max(ends) if ends else None


@dataclass(frozen=True, slots=True)
class Failure:
    row_id: int
    failures: int
    locked_until: dt.datetime | None  # set when this failure started a lock


async def record_failure(
    session: AsyncSession,
    key: str,
    *,
    limit: int,
    policy: ThrottlePolicy,
    now: dt.datetime,
) -> Failure:
    """Count one failure under ``key``; lock the key when it reaches ``limit``."""
    # Create the row if absent without failing when a concurrent login
    # creates it first; then lock it and count.
    values = {"key": key, "failures": 0, "window_started_at": now}
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            pg_insert(LoginThrottle).values(**values).on_conflict_do_nothing()
        )
    else:
        await session.execute(
            sqlite_insert(LoginThrottle).values(**values).on_conflict_do_nothing()
        )
    row = await session.scalar(
        select(LoginThrottle)
        .where(LoginThrottle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None or row.id is None:  # pragma: no cover - inserted just above
        raise RuntimeError("login throttle row missing")
    lock_over = row.locked_until is not None and row.locked_until <= now
    if lock_over or row.window_started_at + policy.window <= now:
        row.failures = 0
        row.window_started_at = now
        row.locked_until = None
    row.failures += 1
    started: dt.datetime | None = None
    if row.failures >= limit and row.locked_until is None:
        started = row.locked_until = now + policy.lock
    await session.flush()
    return Failure(row_id=row.id, failures=row.failures, locked_until=started)


async def clear(session: AsyncSession, key: str) -> None:
    """Forget the failures under ``key`` (a successful login, an admin's unlock)."""
    await session.execute(delete(LoginThrottle).where(col(LoginThrottle.key) == key))


async def unlock_account(session: AsyncSession, subject: str) -> None:
    """For the administrator: lift the lock of ``user:12`` / ``client:3`` now.

    Runs in the caller's transaction; the caller audits its own action.
    """
    await clear(session, subject)
