"""Logins (password grant for people, client credentials for machine
clients), refresh, logout, and who the token belongs to.

Login, refresh and logout run their own transactions on the app's
sessionmaker instead of the request's unit of work: a failed login and a
refresh token used twice must be recorded (the failure count, the revoked
session, their audit entries) although the request answers with an error,
which would roll the unit of work back. The password is checked outside any
transaction, so that a slow hash holds no database lock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import select

from app.api_types import OutputModel
from app.auth import sessions, throttle
from app.auth.passwords import verify_secret
from app.auth.principal import Principal
from app.auth.sessions import LOGIN_SERVICE, IssuedTokens, real_now
from app.deps import Authorized, CurrentAccess, SessionDep, SettingsDep
from app.domain.roles import ROLE_TITLES_ZH, Role
from app.errors import (
    AuthenticationFailed,
    InvalidCredentials,
    InvalidInput,
    problem_responses,
)
from app.persistence.tables import MachineClient, User

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

RealNow = Annotated[dt.datetime, Depends(real_now)]
_MAX_NAME = 64  # users.username, machine_clients.client_id


class TokenResponse(OutputModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int
    # A person's login: exchange it at ``/auth/refresh`` before it lapses
    # (``refresh_expires_in``); each works once. None for machine clients.
    refresh_token: str | None = None
    refresh_expires_in: int | None = None
    role: Role
    region_code: str


class Me(OutputModel):
    subject: str
    display_name: str
    role: Role
    role_title: str
    region_code: str


def _sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return maker


Sessionmaker = Annotated[async_sessionmaker[AsyncSession], Depends(_sessionmaker)]


def _response(tokens: IssuedTokens) -> TokenResponse:
    return TokenResponse(
        access_token=tokens.access_token,
        expires_in=tokens.expires_in,
        refresh_token=tokens.refresh_token,
        refresh_expires_in=tokens.refresh_expires_in,
        role=tokens.principal.role,
        region_code=tokens.principal.region_code,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class _Attempt:
    """What a login needs from the database, read before the password check."""

    principal: Principal | None  # None: no account of that name
    secret_hash: str | None
    active: bool
    account_key: str


@router.post(
    "/token",
    summary="Log in: obtain an access token (and a refresh token for people)",
    responses=problem_responses(401, 422, 429),
)
async def issue_token(
    request: Request,
    maker: Sessionmaker,
    settings: SettingsDep,
    now: RealNow,
    grant_type: Annotated[str, Form()] = "password",
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
) -> TokenResponse:
    """OAuth2 token endpoint: ``password`` for people, ``client_credentials``
    for the bank and the provincial platform.

    Failed logins are counted per account and per client address; past the
    limit the account (or address) is locked for a while and every login
    answers 429 with ``Retry-After``, even with the right password."""
    fields = (grant_type, username, password, client_id, client_secret)
    if any(value and "\x00" in value for value in fields):
        raise InvalidInput("登录信息含有无效字符。", field="username")
    if grant_type == "password":
        if not username or not password:
            raise InvalidInput("请输入用户名和密码。", field="username")
        kind, name, secret = "user", username, password
        wrong = "用户名或密码错误。"
        disabled = "该账号已停用，请联系系统管理员。"
    elif grant_type == "client_credentials":
        if not client_id or not client_secret:
            raise InvalidInput("请提供 client_id 和 client_secret。", field="client_id")
        kind, name, secret = "client", client_id, client_secret
        wrong = "客户端凭据错误。"
        disabled = "该客户端已停用。"
    else:
        raise InvalidInput(
            "grant_type 须为 password 或 client_credentials。", field="grant_type"
        )
    if len(name) > _MAX_NAME:
        # No account has such a name; nothing to count or to look up.
        raise InvalidCredentials(wrong)

    policy = throttle.ThrottlePolicy.from_settings(settings)
    address = request.client.host if request.client else "unknown"
    address_key = policy.address_key(address)

    async with maker() as db, db.begin():
        attempt = await _find(db, kind, name, policy)
        keys = [attempt.account_key, address_key]
        until = await throttle.locked_until(db, keys, now=now)
    if until is not None:
        raise throttle.LoginLocked(retry_after=throttle.retry_after(until, now))

    valid = verify_secret(secret, attempt.secret_hash)

    tokens: IssuedTokens | None = None
    async with maker() as db, db.begin():
        # Again: a parallel attempt may have locked it since.
        until = await throttle.locked_until(db, keys, now=now)
        if until is None:
            if not valid:
                until = await _count_failure(
                    db, attempt, address_key, policy, grant_type, now
                )
            elif attempt.principal is not None and attempt.active:
                await throttle.clear(db, attempt.account_key)
                tokens = await sessions.open_session(
                    db,
                    attempt.principal,
                    grant_type=grant_type,
                    settings=settings,
                    now=now,
                    with_refresh_token=kind == "user",
                )
                await sessions.audit(
                    db,
                    actor=attempt.principal,
                    action="login",
                    entity_type="auth_session",
                    entity_id=tokens.session_id,
                    at=now,
                    details={"grant_type": grant_type},
                )
            elif attempt.principal is not None:
                await sessions.audit(
                    db,
                    actor=attempt.principal,
                    action="login_refused",
                    entity_type=kind,
                    entity_id=_id_of(attempt.principal),
                    at=now,
                    details={"grant_type": grant_type, "reason": "account_disabled"},
                )
    if until is not None:
        raise throttle.LoginLocked(retry_after=throttle.retry_after(until, now))
    if not valid:
        raise InvalidCredentials(wrong)
    if tokens is None:
        raise InvalidCredentials(disabled)
    return _response(tokens)


async def _find(
    db: AsyncSession, kind: str, name: str, policy: throttle.ThrottlePolicy
) -> _Attempt:
    account: User | MachineClient | None
    if kind == "user":
        account = await db.scalar(select(User).where(User.username == name))
        secret_hash = account.password_hash if account else None
    else:
        account = await db.scalar(
            select(MachineClient).where(MachineClient.client_id == name)
        )
        secret_hash = account.secret_hash if account else None
    if account is None:
        return _Attempt(None, None, False, policy.unknown_name_key(kind, name))
    principal = sessions.principal_of(account)
    return _Attempt(principal, secret_hash, account.active, principal.subject)


def _id_of(principal: Principal) -> int:
    return int(principal.subject.partition(":")[2])


async def _count_failure(
    db: AsyncSession,
    attempt: _Attempt,
    address_key: str,
    policy: throttle.ThrottlePolicy,
    grant_type: str,
    now: dt.datetime,
) -> dt.datetime | None:
    """Count a wrong password on the account and the address; audit it, and
    any lock it starts. Returns the end of a lock it started."""
    actor = attempt.principal or LOGIN_SERVICE
    account = await throttle.record_failure(
        db, attempt.account_key, limit=policy.account_limit, policy=policy, now=now
    )
    by_address = await throttle.record_failure(
        db, address_key, limit=policy.address_limit, policy=policy, now=now
    )
    await sessions.audit(
        db,
        actor=actor,
        action="login_failed",
        entity_type="login_throttle",
        entity_id=account.row_id,
        at=now,
        details={
            "grant_type": grant_type,
            "account_known": attempt.principal is not None,
            "failures": account.failures,
            "address_failures": by_address.failures,
        },
    )
    for scope, failure in (("account", account), ("address", by_address)):
        if failure.locked_until is not None:
            await sessions.audit(
                db,
                actor=actor,
                action="login_locked",
                entity_type="login_throttle",
                entity_id=failure.row_id,
                at=now,
                details={
                    "scope": scope,
                    "failures": failure.failures,
                    "locked_until": failure.locked_until.isoformat(),
                },
            )
    ends = [f.locked_until for f in (account, by_address) if f.locked_until]
    return max(ends) if ends else None


@router.post(
    "/refresh",
    summary="Exchange a refresh token for a new access and refresh token",
    responses=problem_responses(401, 422),
)
async def refresh(
    maker: Sessionmaker,
    settings: SettingsDep,
    now: RealNow,
    refresh_token: Annotated[str, Form(max_length=256)],
) -> TokenResponse:
    """Each refresh token works once. Presenting one a second time revokes
    the whole login session (its newest refresh token and its access tokens
    too) and answers 401: the person logs in again."""
    async with maker() as db, db.begin():
        rotation = await sessions.rotate(db, refresh_token, settings=settings, now=now)
    if rotation.tokens is None:
        raise AuthenticationFailed("登录已失效，请重新登录。")
    return _response(rotation.tokens)


@router.post(
    "/logout",
    summary="Log out: end this login session at once",
    status_code=204,
    responses=problem_responses(401),
)
async def logout(
    access: CurrentAccess, _caller: Authorized, db: SessionDep, now: RealNow
) -> Response:
    """Revokes the session of the bearer token: its access tokens and refresh
    token stop working at once. A token of the province's IdP has no session
    here; logging out of the IdP is done at the IdP."""
    # The request's own unit of work: it already holds the transaction in
    # which the token was checked (on SQLite, the write lock too).
    if access.session_id is not None and await sessions.revoke_session(
        db, access.session_id, reason="logout", now=now
    ):
        await sessions.audit(
            db,
            actor=access.principal,
            action="logout",
            entity_type="auth_session",
            entity_id=access.session_id,
            at=now,
        )
    return Response(status_code=204)


@router.get("/me", summary="Who the token belongs to", responses=problem_responses(401))
async def me(principal: Authorized) -> Me:
    return Me(
        subject=principal.subject,
        display_name=principal.display_name,
        role=principal.role,
        role_title=ROLE_TITLES_ZH[principal.role],
        region_code=principal.region_code,
    )
