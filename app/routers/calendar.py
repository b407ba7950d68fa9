"""The official working-day calendar, year by year."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import Field
from sqlmodel import col, select

from app.api_types import InputModel, OutputModel
from app.deps import Authorized, NowDep, SessionDep
from app.errors import problem_responses
from app.persistence.tables import CalendarDay
from app.workflow import calendar as flow

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])

Year = Annotated[int, Path(ge=2000, le=2100)]


class CalendarYear(OutputModel):
    year: int
    source: Literal["loaded", "library", "unknown"] = Field(
        description="Loaded by an administrator, known to the library, or unknown."
    )
    holidays: list[dt.date]
    workdays: list[dt.date] = Field(description="Weekend days worked (调休).")


class CalendarLoad(InputModel):
    holidays: list[dt.date] = Field(min_length=1, max_length=60)
    workdays: list[dt.date] = Field(default_factory=list, max_length=30)
    note: str = Field(default="", max_length=255, examples=["国办发明电〔2026〕X号"])


async def _year(session: SessionDep, year: int) -> CalendarYear:
    rows = list(
        await session.scalars(
            select(CalendarDay)
            .where(CalendarDay.year == year)
            .order_by(col(CalendarDay.day))
        )
    )
    if rows:
        source: Literal["loaded", "library", "unknown"] = "loaded"
    elif (await flow.working_calendar(session)).knows(year):
        source = "library"
    else:
        source = "unknown"
    return CalendarYear(
        year=year,
        source=source,
        holidays=[r.day for r in rows if r.kind == "holiday"],
        workdays=[r.day for r in rows if r.kind == "workday"],
    )


@router.get(
    "/{year}",
    summary="Whether a year's official calendar is known, and its loaded days",
    responses=problem_responses(401, 422),
)
async def get_year(
    year: Year, _principal: Authorized, session: SessionDep
) -> CalendarYear:
    return await _year(session, year)


@router.put(
    "/{year}",
    summary="Load a year's official holidays and adjusted working days",
    responses=problem_responses(401, 403, 422),
)
async def load_year(
    year: Year,
    body: CalendarLoad,
    principal: Authorized,
    session: SessionDep,
    at: NowDep,
) -> CalendarYear:
    await flow.load_year(
        session,
        actor=principal,
        now=at,
        year=year,
        holidays=body.holidays,
        workdays=body.workdays,
        note=body.note,
    )
    await session.flush()
    return await _year(session, year)
