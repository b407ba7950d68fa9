"""Administration: accounts, machine clients, communities and roles.

Only administrators reach these routes (``app.auth.access``), and only for
accounts and regions of their own district. Nothing here touches a case.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from app.api_types import InputModel, LocalDateTime, OutputModel, PathId
from app.deps import Authorized, NowDep, SessionDep
from app.domain.roles import MACHINE_ROLES, ROLE_TITLES_ZH, Role
from app.errors import problem_responses
from app.persistence.tables import MachineClient, User, pk
from app.workflow import admin as flow

router = APIRouter(prefix="/api/v1/admin", tags=["administration"])

ERRORS = problem_responses(401, 403, 404, 409, 422)
RegionCode = Annotated[str, Field(pattern=r"^[0-9]{12}$")]


class RolePublic(OutputModel):
    role: Role
    title: str
    machine: bool = Field(description="Held by a machine client, not a person.")
    region_level: str


class UserPublic(OutputModel):
    id: int
    username: str
    display_name: str
    role: Role
    region_code: str
    active: bool
    # Whether an ID number is on file; the number itself never leaves.
    has_id_number: bool
    created_at: LocalDateTime


class UserCreate(InputModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    display_name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=flow.MIN_PASSWORD_LENGTH, max_length=128)
    role: Role
    region_code: RegionCode
    id_number: str | None = Field(
        default=None,
        max_length=18,
        description="The staff member's own ID number: kept away from their "
        "household's cases.",
    )


class UserUpdate(InputModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=64)
    role: Role | None = None
    region_code: RegionCode | None = None
    id_number: str | None = Field(default=None, max_length=18)


class PasswordReset(InputModel):
    password: str = Field(min_length=flow.MIN_PASSWORD_LENGTH, max_length=128)


class ClientPublic(OutputModel):
    id: int
    client_id: str
    display_name: str
    role: Role
    region_code: str
    active: bool
    created_at: LocalDateTime


class ClientCreate(InputModel):
    client_id: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    display_name: str = Field(min_length=1, max_length=64)
    role: Role
    region_code: RegionCode


class ClientSecret(OutputModel):
    client: ClientPublic
    client_secret: str = Field(
        description="Shown this once; only its hash is kept. Rotate if lost."
    )


class RegionPublic(OutputModel):
    code: str
    name: str
    level: str
    parent_code: str | None


class CommunityCreate(InputModel):
    code: RegionCode
    name: str = Field(min_length=1, max_length=64)


def _user(user: User) -> UserPublic:
    return UserPublic(
        id=pk(user),
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        region_code=user.region_code,
        active=user.active,
        has_id_number=user.id_number is not None,
        created_at=user.created_at,
    )


def _client(client: MachineClient) -> ClientPublic:
    return ClientPublic(
        id=pk(client),
        client_id=client.client_id,
        display_name=client.display_name,
        role=Role(client.role),
        region_code=client.region_code,
        active=client.active,
        created_at=client.created_at,
    )


@router.get("/roles", summary="The roles and their titles", responses=ERRORS)
async def list_roles(principal: Authorized) -> list[RolePublic]:
    return [
        RolePublic(
            role=role,
            title=ROLE_TITLES_ZH[role],
            machine=role in MACHINE_ROLES,
            region_level=flow.ROLE_LEVEL[role].value,
        )
        for role in Role
    ]


@router.get("/users", summary="The accounts of the district", responses=ERRORS)
async def list_users(principal: Authorized, session: SessionDep) -> list[UserPublic]:
    return [_user(u) for u in await flow.users_in_scope(session, principal)]


@router.post("/users", status_code=201, summary="Create an account", responses=ERRORS)
async def create_user(
    body: UserCreate, principal: Authorized, session: SessionDep, at: NowDep
) -> UserPublic:
    user = await flow.create_user(
        session,
        principal,
        at,
        username=body.username,
        display_name=body.display_name,
        password=body.password,
        role=body.role,
        region_code=body.region_code,
        id_number=body.id_number,
    )
    return _user(user)


@router.get("/users/{user_id}", summary="One account", responses=ERRORS)
async def get_user(
    user_id: PathId, principal: Authorized, session: SessionDep
) -> UserPublic:
    return _user(await flow.load_user(session, principal, user_id))


@router.patch(
    "/users/{user_id}",
    summary="Change an account's display name, role, region or ID number",
    responses=ERRORS,
)
async def update_user(
    user_id: PathId,
    body: UserUpdate,
    principal: Authorized,
    session: SessionDep,
    at: NowDep,
) -> UserPublic:
    """A new role or region takes effect at once: tokens carrying the old
    one are refused from the next request."""
    user = await flow.load_user(session, principal, user_id)
    await flow.update_user(
        session,
        principal,
        at,
        user,
        display_name=body.display_name,
        role=body.role,
        region_code=body.region_code,
        id_number=body.id_number,
        # An explicit null removes the number; leaving the field out keeps it.
        clear_id_number="id_number" in body.model_fields_set and body.id_number is None,
    )
    return _user(user)


@router.post(
    "/users/{user_id}/disable",
    summary="Disable an account; its tokens stop working at once",
    responses=ERRORS,
)
async def disable_user(
    user_id: PathId, principal: Authorized, session: SessionDep, at: NowDep
) -> UserPublic:
    user = await flow.load_user(session, principal, user_id)
    return _user(await flow.set_user_active(session, principal, at, user, False))


@router.post("/users/{user_id}/enable", summary="Enable an account", responses=ERRORS)
async def enable_user(
    user_id: PathId, principal: Authorized, session: SessionDep, at: NowDep
) -> UserPublic:
    user = await flow.load_user(session, principal, user_id)
    return _user(await flow.set_user_active(session, principal, at, user, True))


@router.post(
    "/users/{user_id}/password",
    summary="Set a new password for an account",
    responses=ERRORS,
)
async def reset_password(
    user_id: PathId,
    body: PasswordReset,
    principal: Authorized,
    session: SessionDep,
    at: NowDep,
) -> UserPublic:
    user = await flow.load_user(session, principal, user_id)
    return _user(await flow.reset_password(session, principal, at, user, body.password))


@router.get("/clients", summary="The machine clients", responses=ERRORS)
async def list_clients(
    principal: Authorized, session: SessionDep
) -> list[ClientPublic]:
    return [_client(c) for c in await flow.clients_in_scope(session, principal)]


@router.post(
    "/clients",
    status_code=201,
    summary="Register a machine client; its secret is shown once",
    responses=ERRORS,
)
async def create_client(
    body: ClientCreate, principal: Authorized, session: SessionDep, at: NowDep
) -> ClientSecret:
    client, secret = await flow.create_client(
        session,
        principal,
        at,
        client_id=body.client_id,
        display_name=body.display_name,
        role=body.role,
        region_code=body.region_code,
    )
    return ClientSecret(client=_client(client), client_secret=secret)


@router.post(
    "/clients/{client_id}/secret",
    summary="Issue a new secret; the old one stops working",
    responses=ERRORS,
)
async def rotate_secret(
    client_id: PathId, principal: Authorized, session: SessionDep, at: NowDep
) -> ClientSecret:
    client = await flow.load_client(session, principal, client_id)
    secret = await flow.rotate_secret(session, principal, at, client)
    return ClientSecret(client=_client(client), client_secret=secret)


@router.post(
    "/clients/{client_id}/disable",
    summary="Disable a machine client; its tokens stop working at once",
    responses=ERRORS,
)
async def disable_client(
    client_id: PathId, principal: Authorized, session: SessionDep, at: NowDep
) -> ClientPublic:
    client = await flow.load_client(session, principal, client_id)
    return _client(await flow.disable_client(session, principal, at, client))


@router.get("/regions", summary="The district's regions", responses=ERRORS)
async def list_regions(
    principal: Authorized,
    session: SessionDep,
    parent_code: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
) -> list[RegionPublic]:
    rows = await flow.regions_in_scope(session, principal, parent_code)
    return [RegionPublic.model_validate(r) for r in rows]


@router.post(
    "/regions",
    status_code=201,
    summary="Add a community or village under a street",
    responses=ERRORS,
)
async def create_community(
    body: CommunityCreate, principal: Authorized, session: SessionDep, at: NowDep
) -> RegionPublic:
    region = await flow.create_community(
        session, principal, at, code=body.code, name=body.name
    )
    return RegionPublic.model_validate(region)
