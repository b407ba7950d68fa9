from __future__ import annotations

import datetime as dt

import pytest

from app.domain.calendar import CalendarUnknown, LoadedYear, WorkingCalendar

D = dt.date


@pytest.mark.parametrize(
    ("intake", "due"),
    [
        (D(2026, 3, 2), D(2026, 3, 5)),  # Monday → Thursday
        (D(2026, 3, 6), D(2026, 3, 11)),  # Friday → Wednesday, the weekend skipped
        # National Day week: 1–7 October off, Saturday 10 October worked (调休).
        (D(2026, 9, 30), D(2026, 10, 10)),
        (D(2026, 9, 29), D(2026, 10, 9)),
    ],
)
def test_three_working_days_follow_the_official_calendar(intake: D, due: D) -> None:
    assert WorkingCalendar().add_working_days(intake, 3) == due


def test_a_year_nobody_published_is_an_error_not_a_guess() -> None:
    calendar = WorkingCalendar()

    with pytest.raises(CalendarUnknown) as raised:
        calendar.add_working_days(D(2026, 12, 30), 3)

    assert raised.value.year == 2027
    assert not calendar.knows(2027)
    assert calendar.knows(2026)


def test_a_loaded_year_answers_with_its_holidays_and_adjusted_workdays() -> None:
    loaded = LoadedYear(
        year=2027,
        holidays=frozenset({D(2027, 1, 1)}),
        workdays=frozenset({D(2027, 1, 2)}),  # a Saturday worked
    )
    calendar = WorkingCalendar({2027: loaded})

    # Wed 30 Dec, Thu 31 Dec work; Fri 1 Jan off; Sat 2 Jan worked.
    assert calendar.add_working_days(D(2026, 12, 30), 3) == D(2027, 1, 4)
    assert calendar.is_working_day(D(2027, 1, 2))
    assert not calendar.is_working_day(D(2027, 1, 3))
    assert calendar.knows(2027)


def test_a_loaded_year_overrides_the_library() -> None:
    correction = LoadedYear(
        year=2026, holidays=frozenset({D(2026, 3, 3)}), workdays=frozenset()
    )

    calendar = WorkingCalendar({2026: correction})

    assert not calendar.is_working_day(D(2026, 3, 3))
    assert calendar.add_working_days(D(2026, 3, 2), 3) == D(2026, 3, 6)
