"""Policy parameters and minimum-living-guarantee standards, by version."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field
from sqlmodel import col, select

from app.api_types import InputModel, LocalDateTime, MoneyStr, OutputModel
from app.auth.principal import Principal
from app.deps import Authorized, NowDep, SessionDep
from app.domain.catalog import AreaType
from app.domain.money import Money
from app.domain.parameters import (
    SPECS,
    InvalidParameterValue,
    ParameterName,
    validate_value,
)
from app.domain.regions import lineage
from app.errors import InvalidInput, NotFound, PermissionDenied, problem_responses
from app.persistence.tables import DibaoStandard, PolicyParameter, Region, pk
from app.workflow import audit

router = APIRouter(prefix="/api/v1/policy", tags=["policy"])


class ParameterPublic(OutputModel):
    id: int
    name: str
    title: str
    rule: str
    region_code: str
    valid_from: dt.date
    value: str
    note: str
    created_by: str
    created_at: LocalDateTime


class ParameterCreate(InputModel):
    name: ParameterName
    region_code: str = Field(pattern=r"^[0-9]{12}$")
    valid_from: dt.date
    value: str = Field(min_length=1, max_length=64)
    note: str = Field(default="", max_length=255)


def _parameter_public(p: PolicyParameter) -> ParameterPublic:
    known = {n.value for n in ParameterName}
    spec = SPECS[ParameterName(p.name)] if p.name in known else None
    return ParameterPublic(
        id=pk(p),
        name=p.name,
        title=spec.title_zh if spec else p.name,
        rule=spec.rule if spec else "",
        region_code=p.region_code,
        valid_from=p.valid_from,
        value=p.value,
        note=p.note,
        created_by=p.created_by,
        created_at=p.created_at,
    )


def _require_own_region(principal: Principal, region_code: str) -> None:
    # A district administrator sets district values; the province's defaults
    # belong to the province.
    if not principal.can_see(region_code):
        raise PermissionDenied("只能为本辖区设置政策参数。")


def _visible_codes(region_code: str | None) -> list[str] | None:
    """Parameters apply down the tree: a district sees its own and its ancestors'."""
    if region_code is None:
        return None
    return lineage(region_code)


@router.get(
    "/parameters",
    summary="List parameter versions (all, or those that apply to a region)",
    responses=problem_responses(401),
)
async def list_parameters(
    principal: Authorized,
    session: SessionDep,
    name: ParameterName | None = None,
    region_code: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
) -> list[ParameterPublic]:
    query = select(PolicyParameter)
    codes = _visible_codes(region_code)
    if codes is not None:
        query = query.where(col(PolicyParameter.region_code).in_(codes))
    if name is not None:
        query = query.where(PolicyParameter.name == name.value)
    rows = await session.scalars(
        query.order_by(
            col(PolicyParameter.name),
            col(PolicyParameter.region_code),
            col(PolicyParameter.valid_from),
            col(PolicyParameter.id),
        )
    )
    return [_parameter_public(p) for p in rows]


@router.post(
    "/parameters",
    status_code=201,
    summary="Add a new version of a parameter (versions are never edited)",
    responses=problem_responses(401, 403, 404, 422),
)
async def create_parameter(
    body: ParameterCreate, principal: Authorized, session: SessionDep, at: NowDep
) -> ParameterPublic:
    if await session.get(Region, body.region_code) is None:
        raise NotFound(f"行政区划 {body.region_code} 不存在。")
    _require_own_region(principal, body.region_code)
    try:
        value = validate_value(body.name, body.value)
    except InvalidParameterValue as exc:
        raise InvalidInput(
            f"参数「{SPECS[body.name].title_zh}」的取值 {body.value} 不合法。",
            field="value",
        ) from exc
    row = PolicyParameter(
        name=body.name.value,
        region_code=body.region_code,
        valid_from=body.valid_from,
        value=value,
        note=body.note,
        created_by=principal.subject,
        created_at=at,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        at=at,
        action="policy_parameter.create",
        entity_type="policy_parameter",
        entity_id=pk(row),
        details={
            "name": row.name,
            "region_code": row.region_code,
            "valid_from": row.valid_from.isoformat(),
            "value": row.value,
        },
    )
    return _parameter_public(row)


class StandardPublic(OutputModel):
    id: int
    region_code: str
    area_type: AreaType
    valid_from: dt.date
    monthly_amount: MoneyStr
    is_sample: bool
    note: str
    created_by: str
    created_at: LocalDateTime


class StandardCreate(InputModel):
    region_code: str = Field(pattern=r"^[0-9]{12}$")
    area_type: AreaType
    valid_from: dt.date
    monthly_amount: MoneyStr
    note: str = Field(default="", max_length=255)


def _standard_public(s: DibaoStandard) -> StandardPublic:
    return StandardPublic(
        id=pk(s),
        region_code=s.region_code,
        area_type=AreaType(s.area_type),
        valid_from=s.valid_from,
        monthly_amount=Money(s.monthly_fen),
        is_sample=s.is_sample,
        note=s.note,
        created_by=s.created_by,
        created_at=s.created_at,
    )


@router.get(
    "/dibao-standards",
    summary="List minimum-living-guarantee standards",
    responses=problem_responses(401),
)
async def list_standards(
    principal: Authorized,
    session: SessionDep,
    region_code: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
) -> list[StandardPublic]:
    query = select(DibaoStandard)
    codes = _visible_codes(region_code)
    if codes is not None:
        query = query.where(col(DibaoStandard.region_code).in_(codes))
    rows = await session.scalars(
        query.order_by(
            col(DibaoStandard.region_code),
            col(DibaoStandard.area_type),
            col(DibaoStandard.valid_from),
            col(DibaoStandard.id),
        )
    )
    return [_standard_public(s) for s in rows]


@router.post(
    "/dibao-standards",
    status_code=201,
    summary="Enter a standard from a date (back-dated values allowed)",
    responses=problem_responses(401, 403, 404, 422),
)
async def create_standard(
    body: StandardCreate, principal: Authorized, session: SessionDep, at: NowDep
) -> StandardPublic:
    if await session.get(Region, body.region_code) is None:
        raise NotFound(f"行政区划 {body.region_code} 不存在。")
    _require_own_region(principal, body.region_code)
    if body.monthly_amount.fen <= 0:
        raise InvalidInput("低保标准须大于 0。", field="monthly_amount")
    row = DibaoStandard(
        region_code=body.region_code,
        area_type=body.area_type.value,
        valid_from=body.valid_from,
        monthly_fen=body.monthly_amount.fen,
        note=body.note,
        created_by=principal.subject,
        created_at=at,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        at=at,
        action="dibao_standard.create",
        entity_type="dibao_standard",
        entity_id=pk(row),
        details={
            "region_code": row.region_code,
            "area_type": row.area_type,
            "valid_from": row.valid_from.isoformat(),
            "monthly": str(body.monthly_amount),
        },
    )
    return _standard_public(row)
