"""Tokens for people (password grant) and machine clients (client credentials)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form
from sqlmodel import select

from app.api_types import OutputModel
from app.auth.passwords import verify_secret
from app.auth.principal import Principal
from app.auth.tokens import issue_access_token
from app.deps import CurrentPrincipal, SessionDep, SettingsDep
from app.domain.roles import ROLE_TITLES_ZH, Role
from app.errors import InvalidCredentials, InvalidInput, problem_responses
from app.persistence.tables import MachineClient, User, pk

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class TokenResponse(OutputModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int
    role: Role
    region_code: str


class Me(OutputModel):
    subject: str
    display_name: str
    role: Role
    role_title: str
    region_code: str


@router.post(
    "/token",
    summary="Obtain an access token",
    responses=problem_responses(401, 422),
)
async def issue_token(
    session: SessionDep,
    settings: SettingsDep,
    grant_type: Annotated[str, Form()] = "password",
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
) -> TokenResponse:
    """OAuth2 token endpoint: ``password`` for people, ``client_credentials``
    for the bank and the provincial platform."""
    fields = (grant_type, username, password, client_id, client_secret)
    if any(value and "\x00" in value for value in fields):
        raise InvalidInput("登录信息含有无效字符。", field="username")
    if grant_type == "password":
        if not username or not password:
            raise InvalidInput("请输入用户名和密码。", field="username")
        user = await session.scalar(select(User).where(User.username == username))
        valid = verify_secret(password, user.password_hash if user else None)
        if user is None or not valid:
            raise InvalidCredentials("用户名或密码错误。")
        if not user.active:
            raise InvalidCredentials("该账号已停用，请联系系统管理员。")
        principal = Principal(
            subject=f"user:{pk(user)}",
            role=Role(user.role),
            region_code=user.region_code,
            display_name=user.display_name,
        )
    elif grant_type == "client_credentials":
        if not client_id or not client_secret:
            raise InvalidInput("请提供 client_id 和 client_secret。", field="client_id")
        client = await session.scalar(
            select(MachineClient).where(MachineClient.client_id == client_id)
        )
        valid = verify_secret(client_secret, client.secret_hash if client else None)
        if client is None or not valid:
            raise InvalidCredentials("客户端凭据错误。")
        if not client.active:
            raise InvalidCredentials("该客户端已停用。")
        principal = Principal(
            subject=f"client:{pk(client)}",
            role=Role(client.role),
            region_code=client.region_code,
            display_name=client.display_name,
        )
    else:
        raise InvalidInput(
            "grant_type 须为 password 或 client_credentials。", field="grant_type"
        )

    token, lifetime = issue_access_token(principal, settings=settings)
    return TokenResponse(
        access_token=token,
        expires_in=lifetime,
        role=principal.role,
        region_code=principal.region_code,
    )


@router.get("/me", summary="Who the token belongs to", responses=problem_responses(401))
async def me(principal: CurrentPrincipal) -> Me:
    return Me(
        subject=principal.subject,
        display_name=principal.display_name,
        role=principal.role,
        role_title=ROLE_TITLES_ZH[principal.role],
        region_code=principal.region_code,
    )
