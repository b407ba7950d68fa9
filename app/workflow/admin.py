"""Administration: accounts, machine clients, communities; and the duties
that keep a person away from cases that are not theirs to handle.

Administrators manage who may sign in and where, never a case: no edge of
the transition table and no signature admits their role. Every change is
audited; a password or secret never reaches the audit log.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.auth.access import SeparationOfDuties, person_key
from app.auth.passwords import hash_secret
from app.auth.principal import Principal
from app.auth.sessions import revoke_client_sessions_of, revoke_sessions_of
from app.domain.idnumber import InvalidIdNumber, normalise_id_number
from app.domain.regions import RegionLevel, level_of
from app.domain.roles import DISTRICT_ROLES, MACHINE_ROLES, Role
from app.errors import Conflict, InvalidInput, NotFound
from app.persistence.tables import (
    Application,
    Decision,
    HouseholdMember,
    MachineClient,
    Region,
    User,
    pk,
)
from app.workflow import audit
from app.workflow.transitions import Action

MIN_PASSWORD_LENGTH = 10

# The level of region each role works at: a role's scope is its region's
# subtree, so a street worker placed on a community would see too little
# and a community worker placed on a district far too much.
ROLE_LEVEL: dict[Role, RegionLevel] = {
    Role.COMMUNITY_WORKER: RegionLevel.COMMUNITY,
    Role.STREET_WORKER: RegionLevel.STREET,
    Role.STREET_LEADER: RegionLevel.STREET,
    **{role: RegionLevel.DISTRICT for role in DISTRICT_ROLES},
    Role.AUDITOR: RegionLevel.DISTRICT,
    Role.ADMIN: RegionLevel.DISTRICT,
    Role.BANK: RegionLevel.DISTRICT,
    Role.PROVINCE_PLATFORM: RegionLevel.PROVINCE,
}


_WRONG_LEVEL = "该角色须设在与其职责相应的行政区划层级。"


class UsernameTaken(Conflict):
    code = "username_taken"
    title = "Username taken"


class OwnAccount(Conflict):
    code = "own_account"
    title = "Not on one's own account"


# --- Separation of duties ------------------------------------------------


async def staff_person_key(session: AsyncSession, actor: Principal) -> str | None:
    kind, _, key = actor.subject.partition(":")
    if kind != "user" or not key.isdigit():
        # TODO: people signed in through the province's identity provider
        # have no local ID number; take it from an IdP claim once offered.
        return None
    user = await session.get(User, int(key))
    return None if user is None else user.id_number


async def member_of_household(
    session: AsyncSession, actor: Principal, household_id: int
) -> bool:
    """Whether the acting person is a member of the household, by ID number
    (both sides compared through the blind index)."""
    key = await staff_person_key(session, actor)
    if key is None:
        return False
    found = await session.scalar(
        select(HouseholdMember.id).where(
            col(HouseholdMember.household_id) == household_id,
            col(HouseholdMember.id_number_index) == key,
        )
    )
    return found is not None


async def refuse_own_household(
    session: AsyncSession, actor: Principal, application: Application
) -> None:
    if await member_of_household(session, actor, application.household_id):
        raise SeparationOfDuties("您是该申请家庭的成员，须回避，不能办理本案。")


async def proposed_by(
    session: AsyncSession, actor: Principal, application: Application
) -> bool:
    proposer = await session.scalar(
        select(Decision.decided_by)
        .where(
            col(Decision.application_id) == pk(application),
            col(Decision.stage) == "street_opinion",
            col(Decision.outcome) == "eligible",
        )
        .order_by(col(Decision.id).desc())
        .limit(1)
    )
    return proposer is not None and proposer == actor.subject


async def refuse_own_proposal(
    session: AsyncSession, actor: Principal, application: Application
) -> None:
    """Whoever proposed the amount does not approve it (the street leader
    may propose, and approves small cases; never both on one case)."""
    if await proposed_by(session, actor, application):
        raise SeparationOfDuties("拟救助意见由您提出，不能由您审批，请由他人审批。")


async def within_duties(
    session: AsyncSession,
    actor: Principal,
    application: Application,
    actions: Sequence[Action],
) -> list[Action]:
    """The actions the rules of separation leave this person, so that a
    screen offers no button the server would refuse."""
    if await member_of_household(session, actor, application.household_id):
        return []
    if await proposed_by(session, actor, application):
        return [a for a in actions if a not in _APPROVALS]
    return list(actions)


_APPROVALS = frozenset({Action.STREET_APPROVE, Action.APPROVE})


# --- Accounts --------------------------------------------------------------


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH or not password.strip():
        raise InvalidInput(f"密码至少 {MIN_PASSWORD_LENGTH} 个字符。", field="password")


def _person_key_of(id_number: str | None) -> str | None:
    if id_number is None:
        return None
    try:
        return person_key(normalise_id_number(id_number))
    except InvalidIdNumber as exc:
        raise InvalidInput("身份证号码无效。", field="id_number") from exc


async def _placed(
    session: AsyncSession, actor: Principal, role: Role, region_code: str
) -> None:
    """The role exists for people and the region is the admin's and fits it."""
    region = await session.get(Region, region_code)
    if region is None or not actor.can_see(region_code):
        raise NotFound(f"行政区划 {region_code} 不存在或不在您的管辖范围内。")
    if level_of(region_code) is not ROLE_LEVEL[role]:
        raise InvalidInput(
            "该角色须设在与其职责相应的行政区划层级。", field="region_code"
        )


async def _audit(
    session: AsyncSession,
    actor: Principal,
    now: dt.datetime,
    action: str,
    entity_type: str,
    entity_id: int,
    details: dict[str, Any],
) -> None:
    await audit.record(
        session,
        actor=actor,
        at=now,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        details=details,
    )


async def users_in_scope(session: AsyncSession, actor: Principal) -> Sequence[User]:
    rows = await session.scalars(
        select(User)
        .where(col(User.region_code).startswith(actor.scope_prefix))
        .order_by(col(User.id))
    )
    return list(rows)


async def load_user(session: AsyncSession, actor: Principal, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None or not actor.can_see(user.region_code):
        raise NotFound(f"用户 {user_id} 不存在。")
    return user


async def create_user(
    session: AsyncSession,
    actor: Principal,
    now: dt.datetime,
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role,
    region_code: str,
    id_number: str | None = None,
) -> User:
    if role in MACHINE_ROLES:
        raise InvalidInput("银行和平台请登记为接入客户端。", field="role")
    _check_password(password)
    await _placed(session, actor, role, region_code)
    if await session.scalar(select(User.id).where(col(User.username) == username)):
        raise UsernameTaken(f"用户名 {username} 已被使用。")
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_secret(password),
        role=role.value,
        region_code=region_code,
        id_number=_person_key_of(id_number),
        created_at=now,
    )
    session.add(user)
    await session.flush()
    await _audit(
        session,
        actor,
        now,
        "user.create",
        "user",
        pk(user),
        {"username": username, "role": role.value, "region_code": region_code},
    )
    return user


def _not_self(actor: Principal, user: User, what: str) -> None:
    # An administrator who disables or demotes themselves locks the district
    # out of its own administration; another administrator does it.
    if actor.subject == f"user:{pk(user)}":
        raise OwnAccount(f"不能{what}自己的账号，请由其他管理员办理。")


async def update_user(
    session: AsyncSession,
    actor: Principal,
    now: dt.datetime,
    user: User,
    *,
    display_name: str | None = None,
    role: Role | None = None,
    region_code: str | None = None,
    id_number: str | None = None,
    clear_id_number: bool = False,
) -> User:
    """``None`` leaves a field as it is; ``clear_id_number`` removes the ID
    number (one entered by mistake)."""
    changes: dict[str, Any] = {}
    new_role = role or Role(user.role)
    new_region = region_code or user.region_code
    if role is not None or region_code is not None:
        if new_role in MACHINE_ROLES:
            raise InvalidInput("银行和平台请登记为接入客户端。", field="role")
        if (new_role.value, new_region) != (user.role, user.region_code):
            _not_self(actor, user, "更改")
        await _placed(session, actor, new_role, new_region)
    if new_role.value != user.role:
        changes["role"] = [user.role, new_role.value]
        user.role = new_role.value
    if new_region != user.region_code:
        changes["region_code"] = [user.region_code, new_region]
        user.region_code = new_region
    if display_name is not None and display_name != user.display_name:
        changes["display_name"] = [user.display_name, display_name]
        user.display_name = display_name
    if id_number is not None:
        user.id_number = _person_key_of(id_number)
        changes["id_number"] = "changed"  # never the number itself
    elif clear_id_number and user.id_number is not None:
        user.id_number = None
        changes["id_number"] = "removed"
    if changes:
        session.add(user)
        await session.flush()
        await _audit(session, actor, now, "user.update", "user", pk(user), changes)
        if "role" in changes or "region_code" in changes:
            await _end_sessions(session, pk(user), "role_changed")
    return user


async def set_user_active(
    session: AsyncSession, actor: Principal, now: dt.datetime, user: User, active: bool
) -> User:
    if not active:
        _not_self(actor, user, "停用")
    if user.active != active:
        user.active = active
        session.add(user)
        await session.flush()
        action = "user.enable" if active else "user.disable"
        await _audit(session, actor, now, action, "user", pk(user), {})
        if not active:
            await _end_sessions(session, pk(user), "account_disabled")
    return user


async def reset_password(
    session: AsyncSession, actor: Principal, now: dt.datetime, user: User, password: str
) -> User:
    _check_password(password)
    user.password_hash = hash_secret(password)
    session.add(user)
    await session.flush()
    await _audit(session, actor, now, "user.reset_password", "user", pk(user), {})
    await _end_sessions(session, pk(user), "password_reset")
    return user


async def _end_sessions(session: AsyncSession, user_id: int, reason: str) -> None:
    """Tokens already issued stop working at once: the session store revokes
    them, and ``get_access`` re-reads the account (active, role, region) on
    every request besides. Sessions run on the real clock, never the
    business clock, so the store picks the time."""
    await revoke_sessions_of(session, user_id, reason=reason)


# --- Machine clients -------------------------------------------------------


def new_secret() -> str:
    return secrets.token_urlsafe(32)


async def clients_in_scope(
    session: AsyncSession, actor: Principal
) -> Sequence[MachineClient]:
    rows = await session.scalars(
        select(MachineClient)
        .where(col(MachineClient.region_code).startswith(actor.scope_prefix))
        .order_by(col(MachineClient.id))
    )
    return list(rows)


async def load_client(
    session: AsyncSession, actor: Principal, client_pk: int
) -> MachineClient:
    client = await session.get(MachineClient, client_pk)
    if client is None or not actor.can_see(client.region_code):
        raise NotFound(f"客户端 {client_pk} 不存在。")
    return client


async def create_client(
    session: AsyncSession,
    actor: Principal,
    now: dt.datetime,
    *,
    client_id: str,
    display_name: str,
    role: Role,
    region_code: str,
) -> tuple[MachineClient, str]:
    """The client and its secret, which is shown this once and kept hashed."""
    if role not in MACHINE_ROLES:
        raise InvalidInput("接入客户端只能是代发银行或省级平台。", field="role")
    region = await session.get(Region, region_code)
    # The province platform sits above the district: an administrator
    # registers it for the province the district belongs to.
    if region is None or not (
        actor.can_see(region_code) or region_code == _province_of(actor.region_code)
    ):
        raise NotFound(f"行政区划 {region_code} 不存在或不在您的管辖范围内。")
    if level_of(region_code) is not ROLE_LEVEL[role]:
        raise InvalidInput(
            "该角色须设在与其职责相应的行政区划层级。", field="region_code"
        )
    taken = await session.scalar(
        select(MachineClient.id).where(col(MachineClient.client_id) == client_id)
    )
    if taken:
        raise UsernameTaken(f"客户端标识 {client_id} 已被使用。")
    secret = new_secret()
    client = MachineClient(
        client_id=client_id,
        display_name=display_name,
        secret_hash=hash_secret(secret),
        role=role.value,
        region_code=region_code,
        created_at=now,
    )
    session.add(client)
    await session.flush()
    await _audit(
        session,
        actor,
        now,
        "client.create",
        "machine_client",
        pk(client),
        {"client_id": client_id, "role": role.value, "region_code": region_code},
    )
    return client, secret


def _province_of(code: str) -> str:
    return code[:2] + "0" * 10


async def rotate_secret(
    session: AsyncSession, actor: Principal, now: dt.datetime, client: MachineClient
) -> str:
    secret = new_secret()
    client.secret_hash = hash_secret(secret)
    session.add(client)
    await session.flush()
    # Tokens got with the old secret end with it (a leaked secret is the
    # usual reason to rotate).
    await revoke_client_sessions_of(session, pk(client), reason="secret_rotated")
    await _audit(
        session, actor, now, "client.rotate_secret", "machine_client", pk(client), {}
    )
    return secret


async def disable_client(
    session: AsyncSession, actor: Principal, now: dt.datetime, client: MachineClient
) -> MachineClient:
    if client.active:
        client.active = False
        session.add(client)
        await session.flush()
        await revoke_client_sessions_of(session, pk(client), reason="client_disabled")
        await _audit(
            session, actor, now, "client.disable", "machine_client", pk(client), {}
        )
    return client


# --- Regions ---------------------------------------------------------------


async def regions_in_scope(
    session: AsyncSession, actor: Principal, parent_code: str | None
) -> Sequence[Region]:
    query = select(Region).where(col(Region.code).startswith(actor.scope_prefix))
    if parent_code is not None:
        query = query.where(col(Region.parent_code) == parent_code)
    return list(await session.scalars(query.order_by(col(Region.code))))


async def create_community(
    session: AsyncSession,
    actor: Principal,
    now: dt.datetime,
    *,
    code: str,
    name: str,
) -> Region:
    """A community or village under one of the district's streets."""
    if level_of(code) is not RegionLevel.COMMUNITY:
        raise InvalidInput(
            "只能新增社区或村（12 位代码，末三位不为 000）。", field="code"
        )
    street = code[:9] + "000"
    parent = await session.get(Region, street)
    if parent is None or parent.level != "street" or not actor.can_see(street):
        raise NotFound(f"街道 {street} 不存在或不在您的管辖范围内。")
    if await session.get(Region, code) is not None:
        raise Conflict(f"行政区划 {code} 已存在。")
    region = Region(code=code, name=name, level="community", parent_code=street)
    session.add(region)
    await session.flush()
    # Audit rows key on an integer; a region's key is its code, kept in details.
    await _audit(
        session, actor, now, "region.create", "region", 0, {"code": code, "name": name}
    )
    return region
