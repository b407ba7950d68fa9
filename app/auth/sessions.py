"""Login sessions, rotating refresh tokens, and the check of every request.

A login opens an ``auth_sessions`` row; its access tokens name it in ``sid``
and each request checks that it is still open, so revoking it (logout, a
refresh token used twice, an account disabled) ends its access tokens at
once, not when they expire.

A person's login also gets a refresh token: 256 random bits, stored only as
SHA-256. ``rotate`` exchanges it for a new access token and a new refresh
token of the same session and marks the old one used. A refresh token used a
second time means two parties hold it (one of them stole it), so the whole
session is revoked: the newest refresh token and every access token of the
session stop working. Machine clients get no refresh token: they hold their
secret and simply log in again.

All instants here are on the real clock (``real_now``), like token lifetimes.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from jose import JWTError, jwt
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.auth import idp
from app.auth.principal import Principal
from app.auth.tokens import AccessClaims, decode_access_token, issue_access_token
from app.domain.roles import Role
from app.errors import AuthenticationFailed
from app.persistence.tables import (
    AuthSession,
    MachineClient,
    RefreshToken,
    Region,
    User,
    pk,
)
from app.settings import Settings
from app.workflow.audit import record

# The actor of audit entries about logins nobody is known for (a name that
# is no account, a locked address). ``record`` needs a role; the login
# service acts on the administrator's policy, so it records as admin.
LOGIN_SERVICE = Principal(
    subject="system:login",
    role=Role.ADMIN,
    region_code="000000000000",
    display_name="登录服务",
)

_MAX_ID = 2**31 - 1


def real_now() -> dt.datetime:
    """The real time, for sessions, refresh tokens and login throttling.

    A FastAPI dependency, so that a test can move it with
    ``app.dependency_overrides[real_now]`` without touching the business
    clock (and vice versa).
    """
    return dt.datetime.now(dt.UTC)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    principal: Principal
    session_id: int
    access_token: str
    expires_in: int
    refresh_token: str | None
    refresh_expires_in: int | None


async def audit(
    db: AsyncSession,
    *,
    actor: Principal,
    action: str,
    entity_type: str,
    entity_id: int,
    at: dt.datetime,
    details: dict[str, Any] | None = None,
) -> None:
    """An audit entry of an authentication event; ``details`` never holds a
    password, a token or a typed user name."""
    await record(
        db,
        actor=actor,
        at=at,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        details=details,
    )


# --- accounts -------------------------------------------------------------


def principal_of(account: User | MachineClient) -> Principal:
    kind = "user" if isinstance(account, User) else "client"
    return Principal(
        subject=f"{kind}:{pk(account)}",
        role=Role(account.role),
        region_code=account.region_code,
        display_name=account.display_name,
    )


async def account_of(db: AsyncSession, subject: str) -> User | MachineClient | None:
    """The user or machine client behind ``user:12`` / ``client:3``."""
    kind, _, key = subject.partition(":")
    if not key.isdigit() or int(key) > _MAX_ID:
        return None
    if kind == "user":
        return await db.get(User, int(key))
    if kind == "client":
        return await db.get(MachineClient, int(key))
    return None


# --- opening, rotating, revoking -----------------------------------------


async def _new_refresh_token(
    db: AsyncSession,
    auth_session: AuthSession,
    *,
    settings: Settings,
    now: dt.datetime,
) -> tuple[str, int]:
    """A new refresh token of the session, and its lifetime in seconds."""
    token = secrets.token_urlsafe(32)
    idle = now + dt.timedelta(minutes=settings.refresh_idle_minutes)
    expires_at = min(idle, auth_session.expires_at)
    db.add(
        RefreshToken(
            session_id=pk(auth_session),
            token_hash=hash_refresh_token(token),
            issued_at=now,
            expires_at=expires_at,
        )
    )
    await db.flush()
    return token, int((expires_at - now).total_seconds())


async def open_session(
    db: AsyncSession,
    principal: Principal,
    *,
    grant_type: str,
    settings: Settings,
    now: dt.datetime,
    with_refresh_token: bool,
) -> IssuedTokens:
    auth_session = AuthSession(
        subject=principal.subject,
        grant_type=grant_type,
        created_at=now,
        expires_at=now + dt.timedelta(hours=settings.session_hours),
    )
    db.add(auth_session)
    await db.flush()
    refresh = None
    if with_refresh_token:
        refresh = await _new_refresh_token(db, auth_session, settings=settings, now=now)
    return _issue(principal, auth_session, refresh, settings=settings, now=now)


def _issue(
    principal: Principal,
    auth_session: AuthSession,
    refresh: tuple[str, int] | None,
    *,
    settings: Settings,
    now: dt.datetime,
) -> IssuedTokens:
    access, lifetime = issue_access_token(
        principal,
        settings=settings,
        session_id=pk(auth_session),
        now=now,
        not_after=auth_session.expires_at,
    )
    return IssuedTokens(
        principal=principal,
        session_id=pk(auth_session),
        access_token=access,
        expires_in=lifetime,
        refresh_token=refresh[0] if refresh else None,
        refresh_expires_in=refresh[1] if refresh else None,
    )


class Refusal(enum.StrEnum):
    UNKNOWN = "unknown"  # no such refresh token
    REUSED = "refresh_reuse"  # used before: the session is revoked now
    REVOKED = "revoked"  # its session was revoked earlier
    EXPIRED = "expired"
    ACCOUNT_DISABLED = "account_disabled"


@dataclass(frozen=True, slots=True)
class Rotation:
    tokens: IssuedTokens | None
    refusal: Refusal | None
    session_id: int | None
    actor: Principal | None  # the session's account, when it still exists


async def rotate(
    db: AsyncSession, token: str, *, settings: Settings, now: dt.datetime
) -> Rotation:
    """Exchange a refresh token for a new pair, or say why not.

    Refusals are returned, not raised: revoking a session on reuse must be
    committed even though the caller answers 401. Everything is audited.
    """
    row = await db.scalar(
        select(RefreshToken)
        .where(RefreshToken.token_hash == hash_refresh_token(token))
        .with_for_update()
    )
    if row is None:
        return Rotation(None, Refusal.UNKNOWN, None, None)
    auth_session = await db.scalar(
        select(AuthSession).where(AuthSession.id == row.session_id).with_for_update()
    )
    if auth_session is None:  # pragma: no cover - a foreign key holds it
        return Rotation(None, Refusal.UNKNOWN, None, None)
    sid = pk(auth_session)
    account = await account_of(db, auth_session.subject)
    actor = principal_of(account) if account is not None else None

    async def refuse(refusal: Refusal, *, revoke: bool) -> Rotation:
        if revoke and auth_session.revoked_at is None:
            auth_session.revoked_at = now
            auth_session.revoked_reason = refusal.value
        action = (
            "refresh_token_reused" if refusal is Refusal.REUSED else "refresh_refused"
        )
        await audit(
            db,
            actor=actor or LOGIN_SERVICE,
            action=action,
            entity_type="auth_session",
            entity_id=sid,
            at=now,
            details={"reason": refusal.value, "session_revoked": revoke},
        )
        return Rotation(None, refusal, sid, actor)

    if row.used_at is not None:
        # Checked before revocation: a reused token is reported as reuse
        # even when its session has already ended.
        return await refuse(Refusal.REUSED, revoke=True)
    if auth_session.revoked_at is not None:
        return await refuse(Refusal.REVOKED, revoke=False)
    if row.expires_at <= now or auth_session.expires_at <= now:
        return await refuse(Refusal.EXPIRED, revoke=True)
    if account is None or not account.active or actor is None:
        return await refuse(Refusal.ACCOUNT_DISABLED, revoke=True)

    row.used_at = now
    auth_session.refreshed_at = now
    # Role and region are read again: a change takes effect at the refresh.
    refresh = await _new_refresh_token(db, auth_session, settings=settings, now=now)
    tokens = _issue(actor, auth_session, refresh, settings=settings, now=now)
    await audit(
        db,
        actor=actor,
        action="token_refreshed",
        entity_type="auth_session",
        entity_id=sid,
        at=now,
    )
    return Rotation(tokens, None, sid, actor)


async def revoke_session(
    db: AsyncSession, session_id: int, *, reason: str, now: dt.datetime
) -> bool:
    """Revoke one session; ``False`` if it was not open."""
    result = await db.execute(
        update(AuthSession)
        .where(col(AuthSession.id) == session_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    return bool(getattr(result, "rowcount", 0))


async def revoke_subject_sessions(
    db: AsyncSession, subject: str, *, reason: str, now: dt.datetime | None = None
) -> int:
    result = await db.execute(
        update(AuthSession)
        .where(
            col(AuthSession.subject) == subject, col(AuthSession.revoked_at).is_(None)
        )
        .values(revoked_at=now or real_now(), revoked_reason=reason)
    )
    return int(getattr(result, "rowcount", 0))


async def revoke_sessions_of(
    db: AsyncSession,
    user_id: int,
    *,
    reason: str = "account_disabled",
    now: dt.datetime | None = None,
) -> int:
    """Revoke every open session of a user, in the caller's transaction.

    For the user administration: call it when an account is disabled, its
    password reset, or its role or region changed. Its access tokens and
    refresh tokens stop working at once. Returns how many sessions were open
    (for the caller's audit entry; this function audits nothing itself).
    """
    return await revoke_subject_sessions(db, f"user:{user_id}", reason=reason, now=now)


async def revoke_client_sessions_of(
    db: AsyncSession,
    machine_client_id: int,
    *,
    reason: str = "account_disabled",
    now: dt.datetime | None = None,
) -> int:
    """As ``revoke_sessions_of``, for a machine client (``machine_clients.id``)."""
    return await revoke_subject_sessions(
        db, f"client:{machine_client_id}", reason=reason, now=now
    )


# --- every request ---------------------------------------------------------


async def authenticate(
    db: AsyncSession,
    token: str,
    *,
    settings: Settings,
    verifier: idp.IdpVerifier | None,
) -> AccessClaims:
    """The caller behind a bearer token, or ``AuthenticationFailed``.

    The ``alg`` header only picks the verifier; each pins its algorithm.
    """
    try:
        alg = jwt.get_unverified_header(token).get("alg")
    except JWTError as exc:
        raise AuthenticationFailed() from exc
    if alg in idp.ALGORITHMS:
        if verifier is None:
            raise AuthenticationFailed()  # no IdP configured
        claims = await verifier.verify(token)
        if await db.get(Region, claims.principal.region_code) is None:
            raise AuthenticationFailed()
        return claims

    claims = decode_access_token(token, settings=settings)
    principal = claims.principal
    auth_session = (
        await db.get(AuthSession, claims.session_id)
        if claims.session_id is not None
        else None
    )
    if (
        auth_session is None
        or auth_session.revoked_at is not None
        or auth_session.subject != principal.subject
    ):
        raise AuthenticationFailed()
    # A disabled account loses access at once, not when its token expires;
    # a changed role or region takes effect at once too.
    account = await account_of(db, principal.subject)
    if (
        account is None
        or not account.active
        or account.role != principal.role
        or account.region_code != principal.region_code
    ):
        raise AuthenticationFailed()
    return claims
