"""Request dependencies: the unit of work, the clock, the caller."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.adapters.verification import VerificationPlatform
from app.auth.principal import Principal
from app.auth.tokens import decode_access_token
from app.clock import Clock
from app.domain.roles import MACHINE_ROLES, Role
from app.errors import AuthenticationFailed, PermissionDenied
from app.persistence.db import unit_of_work
from app.persistence.tables import MachineClient, User
from app.settings import Settings

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_platform(request: Request) -> VerificationPlatform:
    platform: VerificationPlatform = request.app.state.verification
    return platform


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async for session in unit_of_work(request.app.state.sessionmaker):
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ClockDep = Annotated[Clock, Depends(get_clock)]
PlatformDep = Annotated[VerificationPlatform, Depends(get_platform)]
# Ends before the response is sent, so a failed commit is an error response,
# never a success the database did not keep.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def now(clock: ClockDep) -> dt.datetime:
    return clock.now()


NowDep = Annotated[dt.datetime, Depends(now)]


async def get_principal(
    token: Annotated[str | None, Depends(_bearer)],
    session: SessionDep,
    settings: SettingsDep,
) -> Principal:
    if not token:
        raise AuthenticationFailed()
    principal = decode_access_token(token, settings=settings)

    # A disabled account loses access at once, not when its token expires;
    # a changed role or region takes effect at once too.
    kind, _, key = principal.subject.partition(":")
    account: User | MachineClient | None = None
    if key.isdigit() and int(key) <= 2**31 - 1:
        if kind == "user":
            account = await session.get(User, int(key))
        elif kind == "client":
            account = await session.get(MachineClient, int(key))
    if (
        account is None
        or not account.active
        or account.role != principal.role
        or account.region_code != principal.region_code
    ):
        raise AuthenticationFailed()
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_roles(
    *roles: Role,
) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    allowed = frozenset(roles)

    async def _check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise PermissionDenied("您的角色无权访问此功能。")
        return principal

    return _check


# People who handle cases; machine clients (the bank, the provincial
# platform) reach only their own endpoints, never case files.
STAFF_ROLES = tuple(role for role in Role if role not in MACHINE_ROLES)
Staff = Annotated[Principal, Depends(require_roles(*STAFF_ROLES))]
