"""The working-day calendar as loaded by administrators, and its upkeep."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.auth.principal import Principal
from app.domain.calendar import LoadedYear, WorkingCalendar
from app.errors import InvalidInput
from app.persistence.tables import CalendarDay
from app.workflow import audit


async def working_calendar(session: AsyncSession) -> WorkingCalendar:
    holidays: dict[int, set[dt.date]] = defaultdict(set)
    workdays: dict[int, set[dt.date]] = defaultdict(set)
    for row in await session.scalars(select(CalendarDay)):
        (holidays if row.kind == "holiday" else workdays)[row.year].add(row.day)
    years = set(holidays) | set(workdays)
    return WorkingCalendar(
        {
            year: LoadedYear(
                year=year,
                holidays=frozenset(holidays[year]),
                workdays=frozenset(workdays[year]),
            )
            for year in years
        }
    )


async def load_year(
    session: AsyncSession,
    *,
    actor: Principal,
    now: dt.datetime,
    year: int,
    holidays: Collection[dt.date],
    workdays: Collection[dt.date],
    note: str,
) -> None:
    """Replace the loaded list of ``year`` with the official one."""
    outside = sorted(d for d in (*holidays, *workdays) if d.year != year)
    if outside:
        raise InvalidInput(
            f"日期 {outside[0].isoformat()} 不属于 {year} 年。", field="holidays"
        )
    both = sorted(set(holidays) & set(workdays))
    if both:
        raise InvalidInput(
            f"{both[0].isoformat()} 不能既是假日又是调休上班日。", field="workdays"
        )
    if not holidays:
        raise InvalidInput("请至少填写一个法定节假日。", field="holidays")

    await session.execute(delete(CalendarDay).where(col(CalendarDay.year) == year))
    session.add_all(
        CalendarDay(
            year=year,
            day=day,
            kind=kind,
            note=note,
            created_by=actor.subject,
            created_at=now,
        )
        for kind, days in (("holiday", holidays), ("workday", workdays))
        for day in sorted(set(days))
    )
    await session.flush()
    # Imported here: the applications workflow reads this module's calendar.
    from app.workflow.applications import fill_open_deadlines

    filled = await fill_open_deadlines(session)
    await audit.record(
        session,
        actor=actor,
        at=now,
        action="calendar.load",
        entity_type="calendar_year",
        entity_id=year,
        details={
            "holidays": len(set(holidays)),
            "workdays": len(set(workdays)),
            "deadlines_filled": filled,
        },
    )
