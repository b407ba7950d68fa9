"""Health and, outside production, the movable demo clock."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import Field

from app.api_types import InputModel, LocalDateTime, OutputModel
from app.clock import OffsetClock
from app.deps import Authorized, ClockDep, SettingsDep
from app.errors import NotFound, problem_responses

router = APIRouter(tags=["system"])


class Health(OutputModel):
    status: str


@router.get("/healthz", summary="The process answers")
async def healthz() -> Health:
    return Health(status="ok")


class ClockAdvance(InputModel):
    days: int = Field(default=0, ge=0, le=400)
    hours: int = Field(default=0, ge=0, le=24 * 400)


class ClockPublic(OutputModel):
    now: LocalDateTime


@router.post(
    "/api/v1/demo/clock",
    summary="Move the service clock forward (demo and test runs only)",
    responses=problem_responses(401, 403, 404),
)
async def advance_clock(
    body: ClockAdvance,
    settings: SettingsDep,
    clock: ClockDep,
    _admin: Authorized,
) -> ClockPublic:
    if not settings.movable_clock or not isinstance(clock, OffsetClock):
        raise NotFound("生产环境不能调整时间。")
    clock.advance(dt.timedelta(days=body.days, hours=body.hours))
    return ClockPublic(now=clock.now())
