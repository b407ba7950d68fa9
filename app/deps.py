"""Request dependencies: the unit of work, the clock, the caller."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.adapters.verification import VerificationPlatform
from app.auth import access, idp
from app.auth.principal import Principal
from app.auth.sessions import authenticate
from app.auth.tokens import AccessClaims
from app.clock import Clock
from app.errors import AuthenticationFailed, NotFound, PermissionDenied
from app.persistence.db import unit_of_work
from app.settings import Settings
from app.workflow.admin import member_of_household

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


async def get_access(
    request: Request,
    token: Annotated[str | None, Depends(_bearer)],
    session: SessionDep,
    settings: SettingsDep,
) -> AccessClaims:
    """The bearer token, verified (app/auth/sessions.py ``authenticate``): our
    HS256 token with its session still open and its account still active with
    the same role and region, or an RS256 token of the province's IdP."""
    if not token:
        raise AuthenticationFailed()
    return await authenticate(
        session,
        token,
        settings=settings,
        verifier=idp.verifier_for(request.app.state, settings),
    )


CurrentAccess = Annotated[AccessClaims, Depends(get_access)]


async def get_principal(access: CurrentAccess) -> Principal:
    return access.principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def authorize(
    request: Request, principal: CurrentPrincipal, session: SessionDep
) -> Principal:
    """The caller, once the route's rule in ``app.auth.access`` admits them.

    The role is checked before anything is read, so a role outside the
    route gets 403 whatever the path names. Then every object the path
    names must lie in the caller's region: one outside answers 404 with the
    words an absent one gets, so ids cannot be probed. Whoever belongs to a
    household (by ID number) changes nothing of its case.
    """
    route = request.scope.get("route")
    rule = access.rule_for(request.method, getattr(route, "path_format", ""))
    if not rule.admits(principal.role):
        raise PermissionDenied(rule.refusal())
    if not rule.scoped:
        return principal
    for name, value in request.path_params.items():
        if not access.names_object(name, str(value)):
            continue
        target = await access.target_of(session, name, str(value))
        if target is None or not principal.can_see(target.region_code):
            raise NotFound(access.absent(name, str(value)))
        if (
            request.method != "GET"
            and target.household_id is not None
            and await member_of_household(session, principal, target.household_id)
        ):
            raise access.SeparationOfDuties(
                "您是该申请家庭的成员，须回避，不能办理本案。"
            )
    return principal


# The caller admitted by the route's rule: the one dependency every route
# that needs a token declares (``tests/test_access_matrix.py`` checks it).
Authorized = Annotated[Principal, Depends(authorize)]
