"""Households and their members."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field, model_validator
from sqlmodel import col, select

from app.api_types import (
    IdNumber,
    InputModel,
    LocalDateTime,
    OutputModel,
    PathId,
    PersonName,
)
from app.deps import Authorized, NowDep, SessionDep
from app.domain.catalog import AreaType, HouseholdCategory
from app.domain.idnumber import birth_date_of, mask_account, mask_id_number
from app.errors import problem_responses
from app.persistence.tables import Household, HouseholdMember, pk
from app.routers.pagination import Page, decode_cursor
from app.workflow import households as flow

router = APIRouter(prefix="/api/v1/households", tags=["households"])


class MemberCreate(InputModel):
    name: PersonName
    id_number: IdNumber = Field(description="18-character resident ID number.")
    relation: str = Field(
        min_length=1, max_length=16, examples=["本人", "配偶", "子女"]
    )
    birth_date: dt.date | None = Field(
        default=None, description="Optional; when given it must match the ID number."
    )
    is_applicant: bool = False

    @model_validator(mode="after")
    def _birth_date_matches_id(self) -> MemberCreate:
        if self.birth_date is not None and self.birth_date != birth_date_of(
            self.id_number
        ):
            raise ValueError("出生日期与身份证号码中的出生日期不一致")
        return self


class HouseholdCreate(InputModel):
    region_code: str = Field(pattern=r"^[0-9]{12}$", description="Community code.")
    address: str = Field(min_length=1, max_length=255)
    area_type: AreaType = AreaType.URBAN
    category: HouseholdCategory = HouseholdCategory.NONE
    category_valid_from: dt.date | None = None
    category_valid_until: dt.date | None = None
    bank_name: str = Field(min_length=1, max_length=64)
    bank_account_name: PersonName
    bank_account_no: str = Field(pattern=r"^[0-9]{8,32}$")
    members: list[MemberCreate] = Field(min_length=1, max_length=30)

    @model_validator(mode="after")
    def _validity_in_order(self) -> HouseholdCreate:
        start, end = self.category_valid_from, self.category_valid_until
        if start is not None and end is not None and start > end:
            raise ValueError("类别有效期的开始日期不能晚于结束日期")
        return self


class MemberPublic(OutputModel):
    id: int
    name: str
    id_number_masked: str
    relation: str
    birth_date: dt.date
    is_applicant: bool


class HouseholdPublic(OutputModel):
    id: int
    region_code: str
    address: str
    area_type: AreaType
    category: HouseholdCategory
    category_valid_from: dt.date | None
    category_valid_until: dt.date | None
    bank_name: str
    bank_account_name: str
    bank_account_masked: str
    size: int
    members: list[MemberPublic]
    created_at: LocalDateTime


def household_public(
    household: Household, members: list[HouseholdMember]
) -> HouseholdPublic:
    return HouseholdPublic(
        id=pk(household),
        region_code=household.region_code,
        address=household.address,
        area_type=AreaType(household.area_type),
        category=HouseholdCategory(household.category),
        category_valid_from=household.category_valid_from,
        category_valid_until=household.category_valid_until,
        bank_name=household.bank_name,
        bank_account_name=household.bank_account_name,
        bank_account_masked=mask_account(household.bank_account_no),
        size=len(members),
        members=[
            MemberPublic(
                id=pk(m),
                name=m.name,
                id_number_masked=mask_id_number(m.id_number),
                relation=m.relation,
                birth_date=m.birth_date,
                is_applicant=m.is_applicant,
            )
            for m in members
        ],
        created_at=household.created_at,
    )


@router.post(
    "",
    status_code=201,
    summary="Register a household with its members",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_household(
    body: HouseholdCreate, principal: Authorized, session: SessionDep, at: NowDep
) -> HouseholdPublic:
    household, members = await flow.create_household(
        session,
        actor=principal,
        now=at,
        region_code=body.region_code,
        address=body.address,
        area_type=body.area_type,
        category=body.category,
        category_valid_from=body.category_valid_from,
        category_valid_until=body.category_valid_until,
        bank_name=body.bank_name,
        bank_account_name=body.bank_account_name,
        bank_account_no=body.bank_account_no,
        members=[
            flow.MemberInput(
                name=m.name,
                id_number=m.id_number,
                relation=m.relation,
                birth_date=birth_date_of(m.id_number),
                is_applicant=m.is_applicant,
            )
            for m in body.members
        ],
    )
    return household_public(household, members)


@router.get(
    "",
    summary="List households in the caller's scope",
    responses=problem_responses(401, 422),
)
async def list_households(
    principal: Authorized,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[HouseholdPublic]:
    query = (
        select(Household)
        .where(col(Household.region_code).startswith(principal.scope_prefix))
        .order_by(col(Household.id).desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        query = query.where(col(Household.id) < decode_cursor(cursor))
    rows = list(await session.scalars(query))
    items = [
        household_public(h, await flow.members_of(session, pk(h))) for h in rows[:limit]
    ]
    return Page.of(items, limit=limit, has_more=len(rows) > limit)


@router.get(
    "/{household_id}",
    summary="One household with its members",
    responses=problem_responses(401, 404),
)
async def get_household(
    household_id: PathId, principal: Authorized, session: SessionDep
) -> HouseholdPublic:
    household = await flow.load_household(session, principal, household_id)
    return household_public(household, await flow.members_of(session, household_id))


class BankAccountCorrection(InputModel):
    bank_name: str = Field(min_length=1, max_length=64)
    bank_account_name: PersonName
    bank_account_no: str = Field(pattern=r"^[0-9]{8,32}$")
    reason: str = Field(
        min_length=1, max_length=500, examples=["银行回单：账号不存在，经核实更正"]
    )


@router.put(
    "/{household_id}/bank-account",
    summary="Correct the household's bank account (e.g. after a failed payment)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def correct_bank_account(
    household_id: PathId,
    body: BankAccountCorrection,
    principal: Authorized,
    session: SessionDep,
    at: NowDep,
) -> HouseholdPublic:
    """Payments already on a disbursement form keep the account they were
    signed with; the corrected account is used from the next form on."""
    household = await flow.correct_bank_account(
        session,
        principal,
        at,
        household_id,
        bank_name=body.bank_name,
        account_name=body.bank_account_name,
        account_no=body.bank_account_no,
        reason=body.reason,
    )
    return household_public(household, await flow.members_of(session, household_id))
