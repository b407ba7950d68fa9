"""R2.4: at most two grants for the same reason within a year."""

from __future__ import annotations

import datetime as dt

import pytest

from app.domain.catalog import Disease, Reason
from app.domain.eligibility import Pool
from app.domain.money import Money
from app.domain.rules.facts import YearWindow
from app.domain.rules.limits import window_bounds
from tests.domain.builders import application, grant, parameters_on, rule, run

TWO_ACCIDENTS_2024 = [
    grant(dt.date(2024, 2, 1), "1000.00", reason=Reason.ACCIDENT),
    grant(dt.date(2024, 3, 1), "1000.00", reason=Reason.ACCIDENT),
]


@pytest.mark.parametrize(
    ("on", "window", "passed", "counted"),
    [
        pytest.param(dt.date(2024, 11, 20), "calendar", False, 2, id="third-in-2024"),
        pytest.param(dt.date(2025, 1, 2), "calendar", True, 0, id="next-january"),
        pytest.param(dt.date(2025, 1, 2), "rolling_365", False, 2, id="rolling-jan"),
        pytest.param(
            dt.date(2025, 1, 30), "rolling_365", False, 2, id="rolling-364-days-on"
        ),
        pytest.param(
            dt.date(2025, 1, 31), "rolling_365", True, 1, id="rolling-365-days-on"
        ),
    ],
)
def test_third_grant_for_the_same_reason_within_the_year_is_refused(
    on: dt.date, window: str, passed: bool, counted: int
) -> None:
    # 2024 is a leap year: 2025-01-30 is 364 days after 2024-02-01, so that
    # grant is still inside the rolling window; on 2025-01-31 it has left.
    params = parameters_on(on, year_window=window)

    evaluation = run(
        application(on=on, amount="500.00"),
        grants=TWO_ACCIDENTS_2024,
        parameters=params,
    )

    result = rule(evaluation, "R2.4")
    assert result.passed is passed
    assert result.inputs["grants_counted"] == str(counted)
    assert result.inputs["year_window"] == window
    assert evaluation.eligible is passed
    assert evaluation.allowed_max == (Money.parse("11700.00") if passed else Money(0))


def test_rolling_window_is_the_decision_day_and_the_364_days_before() -> None:
    first, last = window_bounds(window=YearWindow.ROLLING_365, on=dt.date(2025, 3, 1))

    assert (first, last) == (dt.date(2024, 3, 2), dt.date(2025, 3, 1))
    assert (last - first).days + 1 == 365


def test_calendar_window_is_the_decision_year() -> None:
    assert window_bounds(window=YearWindow.CALENDAR, on=dt.date(2024, 5, 10)) == (
        dt.date(2024, 1, 1),
        dt.date(2024, 12, 31),
    )


def test_all_illnesses_are_one_reason() -> None:
    earlier = [
        grant(dt.date(2024, 1, 5), "2000.00", reason=Reason.MAJOR_ILLNESS),
        grant(dt.date(2024, 3, 5), "2000.00", reason=Reason.MAJOR_ILLNESS),
    ]
    app = application(
        reason=Reason.MAJOR_ILLNESS, disease=Disease.KIDNEY_TRANSPLANT, amount="100.00"
    )

    result = rule(run(app, grants=earlier), "R2.4")

    assert not result.passed
    assert "同一事由（重特大疾病）本年度（2024 年）已救助 2 次" in result.message_zh
    assert result.inputs["grant_dates"] == "2024-01-05,2024-03-05"


def test_other_reasons_do_not_count() -> None:
    earlier = [
        grant(dt.date(2024, 1, 5), "2000.00", reason=Reason.MEDICAL),
        grant(dt.date(2024, 2, 5), "2000.00", reason=Reason.EDUCATION),
        grant(dt.date(2024, 3, 5), "2000.00", reason=Reason.MAJOR_ILLNESS),
        grant(dt.date(2024, 4, 5), "2000.00", reason=Reason.ACCIDENT),
    ]

    result = rule(run(application(amount="100.00"), grants=earlier), "R2.4")

    assert result.passed
    assert result.inputs["grants_counted"] == "1"
    assert "本次为第 2 次" in result.message_zh


def test_jijinan_grants_do_not_count_as_grants_for_the_reason() -> None:
    earlier = [
        *TWO_ACCIDENTS_2024[:1],
        grant(
            dt.date(2024, 4, 5), "9000.00", reason=Reason.ACCIDENT, pool=Pool.JIJINAN
        ),
    ]

    assert rule(run(application(amount="100.00"), grants=earlier), "R2.4").passed


@pytest.mark.parametrize(("limit", "passed"), [("3", True), ("1", False)])
def test_same_reason_limit_is_a_parameter(limit: str, passed: bool) -> None:
    params = parameters_on(dt.date(2024, 5, 10), max_same_reason_per_year=limit)

    evaluation = run(
        application(amount="100.00"), grants=TWO_ACCIDENTS_2024[:1], parameters=params
    )

    assert rule(evaluation, "R2.4").passed is passed
    assert [p.name for p in rule(evaluation, "R2.4").parameters] == [
        "max_same_reason_per_year",
        "year_window",
    ]
