"""The administrative divisions the caller works in."""

from __future__ import annotations

from fastapi import APIRouter
from sqlmodel import col, select

from app.api_types import OutputModel
from app.deps import Authorized, SessionDep
from app.domain.regions import RegionLevel
from app.errors import problem_responses
from app.persistence.tables import Region

router = APIRouter(prefix="/api/v1/regions", tags=["regions"])


class RegionPublic(OutputModel):
    code: str
    name: str
    level: str
    parent_code: str | None
    is_sample: bool


@router.get(
    "",
    summary="List the regions in the caller's scope",
    responses=problem_responses(401),
)
async def list_regions(
    principal: Authorized, session: SessionDep, level: RegionLevel | None = None
) -> list[RegionPublic]:
    query = select(Region).where(col(Region.code).startswith(principal.scope_prefix))
    if level is not None:
        query = query.where(Region.level == level.value)
    rows = await session.scalars(query.order_by(col(Region.code)))
    return [RegionPublic.model_validate(r) for r in rows]
