"""Registering households and their members."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from app.auth.access import SeparationOfDuties
from app.auth.principal import Principal
from app.clock import local_date
from app.domain.catalog import AreaType, HouseholdCategory
from app.domain.idnumber import mask_account
from app.domain.regions import RegionLevel
from app.errors import Conflict, InvalidInput, NotFound
from app.persistence.crypto import blind_index
from app.persistence.tables import Household, HouseholdMember, Region, pk
from app.workflow import audit
from app.workflow.admin import staff_person_key
from app.workflow.versioning import compare_and_set


class MemberInOtherHousehold(Conflict):
    code = "member_in_other_household"

    def __init__(self) -> None:
        super().__init__("有家庭成员已登记在其他家庭中，请先核实户籍信息。")


@dataclass(frozen=True, slots=True)
class MemberInput:
    name: str
    id_number: str  # already normalised and checksum-valid
    relation: str
    birth_date: dt.date
    is_applicant: bool


async def create_household(
    session: AsyncSession,
    *,
    actor: Principal,
    now: dt.datetime,
    region_code: str,
    address: str,
    area_type: AreaType,
    category: HouseholdCategory,
    category_valid_from: dt.date | None,
    category_valid_until: dt.date | None,
    bank_name: str,
    bank_account_name: str,
    bank_account_no: str,
    members: list[MemberInput],
) -> tuple[Household, list[HouseholdMember]]:
    region = await session.get(Region, region_code)
    if region is None or not actor.can_see(region_code):
        raise NotFound(f"行政区划 {region_code} 不存在或不在您的管辖范围内。")
    if region.level != RegionLevel.COMMUNITY:
        raise InvalidInput("家庭须登记到社区或村一级。", field="region_code")
    if sum(m.is_applicant for m in members) != 1:
        raise InvalidInput("家庭成员中须有且仅有一名申请人。", field="members")
    today = local_date(now)
    if any(m.birth_date > today for m in members):
        raise InvalidInput("身份证号码中的出生日期晚于今天，请核对。", field="members")
    ids = [m.id_number for m in members]
    if len(set(ids)) != len(ids):
        raise InvalidInput("家庭成员身份证号码重复。", field="members")

    # ID numbers are encrypted with a random nonce: equal numbers are found
    # through their blind index, which the unique constraint also guards.
    indexes = {m.id_number: blind_index(m.id_number) for m in members}
    if await staff_person_key(session, actor) in indexes.values():
        raise SeparationOfDuties("您是该家庭的成员，须回避，不能为其登记家庭信息。")
    taken = await session.scalar(
        select(func.count())
        .select_from(HouseholdMember)
        .where(col(HouseholdMember.id_number_index).in_(list(indexes.values())))
    )
    if taken:
        raise MemberInOtherHousehold()

    household = Household(
        region_code=region_code,
        address=address,
        area_type=area_type.value,
        category=category.value,
        category_valid_from=category_valid_from,
        category_valid_until=category_valid_until,
        bank_name=bank_name,
        bank_account_name=bank_account_name,
        bank_account_no=bank_account_no,
        created_by=actor.subject,
        created_at=now,
    )
    session.add(household)
    await session.flush()
    rows = [
        HouseholdMember(
            household_id=pk(household),
            name=m.name,
            id_number=m.id_number,
            id_number_index=indexes[m.id_number],
            relation=m.relation,
            birth_date=m.birth_date,
            is_applicant=m.is_applicant,
        )
        for m in members
    ]
    session.add_all(rows)
    try:
        await session.flush()
    except IntegrityError as exc:
        # A concurrent registration of the same person won the race.
        raise MemberInOtherHousehold() from exc
    await audit.record(
        session,
        actor=actor,
        at=now,
        action="household.create",
        entity_type="household",
        entity_id=pk(household),
        details={"members": len(rows)},
        event_type="household.created",
        entity_version=household.version,
        payload={
            "id": pk(household),
            "region_code": region_code,
            "category": category.value,
            "members": len(rows),
        },
    )
    return household, rows


async def load_household(
    session: AsyncSession, actor: Principal, household_id: int
) -> Household:
    household = await session.get(Household, household_id)
    if household is None or not actor.can_see(household.region_code):
        # Out of scope looks exactly like absent, so nothing leaks.
        raise NotFound(f"家庭 {household_id} 不存在。")
    return household


async def lock_household(
    session: AsyncSession, actor: Principal, household_id: int
) -> Household:
    """The household, locked for the rest of the transaction.

    Every decision that grants money to a household takes this lock first,
    so two grants are counted one after the other against the caps, never
    both against the same remaining room.
    """
    household = await session.scalar(
        select(Household).where(col(Household.id) == household_id).with_for_update()
    )
    if household is None or not actor.can_see(household.region_code):
        raise NotFound(f"家庭 {household_id} 不存在。")
    return household


async def members_of(session: AsyncSession, household_id: int) -> list[HouseholdMember]:
    rows = await session.scalars(
        select(HouseholdMember)
        .where(HouseholdMember.household_id == household_id)
        .order_by(col(HouseholdMember.id))
    )
    return list(rows)


async def correct_bank_account(
    session: AsyncSession,
    actor: Principal,
    now: dt.datetime,
    household_id: int,
    *,
    bank_name: str,
    account_name: str,
    account_no: str,
    reason: str,
) -> Household:
    """Correct where the household is paid, e.g. after the bank failed a line.

    Payments already on a form keep the account they were signed with; the
    correction counts for the next form. The audit entry keeps only the
    masked numbers.
    """
    household = await lock_household(session, actor, household_id)
    before = mask_account(household.bank_account_no)

    await compare_and_set(
        session,
        household,
        bank_name=bank_name,
        bank_account_name=account_name,
        bank_account_no=account_no,
    )

    await audit.record(
        session,
        actor=actor,
        at=now,
        action="household.correct_bank_account",
        entity_type="household",
        entity_id=pk(household),
        details={
            "bank_name": bank_name,
            "account_before": before,
            "account_after": mask_account(account_no),
            "reason": reason,
        },
    )
    return household
