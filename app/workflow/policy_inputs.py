"""Assembling the inputs of the pure policy functions from the database."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.caps import PriorGrant
from app.domain.money import Money
from app.domain.parameters import (
    ParameterName,
    ParameterVersion,
    resolve,
    standard_parameter_name,
)
from app.domain.regions import lineage
from app.errors import Conflict
from app.persistence.tables import DibaoStandard, Grant, PolicyParameter, pk


class ParameterMissing(Conflict):
    code = "policy_parameter_missing"
    title = "Policy parameter not configured"

    def __init__(self, name: str, on: dt.date) -> None:
        super().__init__(
            f"未配置 {on.isoformat()} 适用的政策参数「{name}」，请联系系统管理员。",
            parameter=name,
        )


async def parameter_versions(
    session: AsyncSession, region_code: str
) -> list[ParameterVersion]:
    """Every version that could apply to ``region_code``, standards included."""
    chain = lineage(region_code)
    params = await session.scalars(
        select(PolicyParameter).where(col(PolicyParameter.region_code).in_(chain))
    )
    versions = [
        ParameterVersion(
            id=pk(p),
            name=p.name,
            region_code=p.region_code,
            valid_from=p.valid_from,
            value=p.value,
        )
        for p in params
    ]
    standards = await session.scalars(
        select(DibaoStandard).where(col(DibaoStandard.region_code).in_(chain))
    )
    versions.extend(
        ParameterVersion(
            id=pk(s),
            name=standard_parameter_name(s.area_type),
            region_code=s.region_code,
            valid_from=s.valid_from,
            value=str(Money(s.monthly_fen)),
        )
        for s in standards
    )
    return versions


class ParameterBook:
    """The versions in force for one region on one date."""

    def __init__(
        self, versions: list[ParameterVersion], *, region_code: str, on: dt.date
    ) -> None:
        self._versions = versions
        self.region_code = region_code
        self.on = on

    def require(self, name: str) -> ParameterVersion:
        found = resolve(
            self._versions, name=name, region_code=self.region_code, on=self.on
        )
        if found is None:
            raise ParameterMissing(name, self.on)
        return found

    def integer(self, name: ParameterName) -> int:
        return self.require(name).as_int()


async def parameter_book(
    session: AsyncSession, region_code: str, on: dt.date
) -> ParameterBook:
    return ParameterBook(
        await parameter_versions(session, region_code), region_code=region_code, on=on
    )


async def prior_grants(
    session: AsyncSession, household_id: int, *, exclude_application_id: int | None
) -> list[PriorGrant]:
    rows = await session.scalars(
        select(Grant).where(Grant.household_id == household_id, col(Grant.active))
    )
    return [
        PriorGrant(
            decided_on=g.decided_on,
            amount=Money(g.amount_fen),
            household_size=g.household_size,
            reason=g.reason,
            pool=g.pool,
        )
        for g in rows
        if g.application_id != exclude_application_id
    ]
