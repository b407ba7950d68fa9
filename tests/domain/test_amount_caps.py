"""R2.1–R2.3: a positive one-off amount under the per-case and annual caps.

S = 650.00 and N = 3 unless a test says otherwise: per case 11,700.00, per
year 7,800.00 per capita.
"""

from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction

import pytest

from app.domain.caps import check_amount, per_capita_text, ratio_text
from app.domain.catalog import Reason
from app.domain.eligibility import Pool
from app.domain.money import Money
from app.domain.parameters import ParameterVersion, resolve
from tests.domain.builders import (
    COMMUNITY,
    DAY,
    application,
    grant,
    parameters_on,
    rule,
    run,
    standard,
)

FEB = dt.date(2024, 2, 1)
MAR = dt.date(2024, 3, 1)
APR = dt.date(2024, 4, 1)


@pytest.mark.parametrize(
    ("size", "amount", "passed"),
    [
        pytest.param(3, "11700.00", True, id="N3-at-6x650x3"),
        pytest.param(3, "11700.01", False, id="N3-fen-over"),
        pytest.param(1, "3900.00", True, id="N1-at-6x650"),
        pytest.param(1, "3900.01", False, id="N1-fen-over"),
        pytest.param(5, "19500.00", True, id="N5-at-6x650x5"),
        pytest.param(5, "19500.01", False, id="N5-fen-over"),
    ],
)
def test_per_case_cap_is_six_standards_per_member(
    size: int, amount: str, passed: bool
) -> None:
    evaluation = run(application(amount=amount, household_size=size))

    assert rule(evaluation, "R2.2").passed is passed
    assert evaluation.failed_rules == ([] if passed else ["R2.2"])
    limit = Money.yuan(3900 * size)
    assert evaluation.allowed_max == limit
    assert (
        f"6×650.00×{size} = {limit.grouped()} 元" in rule(evaluation, "R2.2").message_zh
    )


# Each row: earlier grants of 2024 as (amount, household size then), the size
# on this case, the largest amount allowed, and the per-capita sum so far as
# the explanation shows it.
ANNUAL_CASES = [
    pytest.param(
        [("11700.00", 3), ("9000.00", 3)], 3, "2700.00", "6,900.00", id="same-size"
    ),
    pytest.param(
        [("11700.00", 3), ("10000.00", 4), ("1000.00", 3)],
        2,
        "2133.33",
        "约 6,733.33",
        id="size-3-4-3-then-2",
    ),
    pytest.param(
        [("1000.00", 3), ("1000.00", 3), ("1000.00", 3), ("11700.00", 3)],
        1,
        "2900.00",
        "4,900.00",
        id="thirds-add-up-exactly",
    ),
    pytest.param(
        [("11700.00", 3), ("11700.00", 3)], 3, "0.00", "7,800.00", id="limit-reached"
    ),
]


@pytest.mark.parametrize(("earlier", "size", "allowed", "used_text"), ANNUAL_CASES)
def test_annual_cap_is_an_exact_sum_of_amount_over_household_size(
    earlier: list[tuple[str, int]], size: int, allowed: str, used_text: str
) -> None:
    grants = [grant(FEB, amount, size=n) for amount, n in earlier]
    allowed_max = Money.parse(allowed)

    what_if = run(application(household_size=size), grants=grants)
    at_limit = run(application(amount=allowed, household_size=size), grants=grants)
    over = run(
        application(amount=str(allowed_max + Money(1)), household_size=size),
        grants=grants,
    )

    assert what_if.allowed_max == allowed_max
    assert f"人均累计 {used_text} 元" in rule(what_if, "R2.3").message_zh
    assert rule(at_limit, "R2.3").passed
    assert at_limit.eligible is (allowed_max.fen > 0)  # R2.1 refuses 0.00
    assert not rule(over, "R2.3").passed
    assert over.allowed_max == allowed_max


def test_thirds_are_not_rounded_before_they_are_added() -> None:
    # Rounded to the fen, three grants of 1,000.00 for three people would use
    # 999.99 per capita and leave room for 2,900.01; exactly they use 1,000.00.
    grants = [grant(FEB, "1000.00") for _ in range(3)] + [grant(MAR, "11700.00")]

    over = run(application(amount="2900.01", household_size=1), grants=grants)

    assert over.failed_rules == ["R2.3"]
    assert rule(over, "R2.3").inputs["used_per_capita_fen_exact"] == "490000"


def test_other_years_and_jijinan_grants_do_not_count_against_the_year() -> None:
    grants = [
        grant(dt.date(2023, 12, 31), "11700.00"),
        grant(FEB, "30000.00", pool=Pool.JIJINAN),
    ]

    evaluation = run(application(amount="11700.00"), grants=grants)

    assert evaluation.eligible
    assert rule(evaluation, "R2.3").inputs["grants_counted"] == "0"


def test_annual_cap_reached_is_refused_even_without_an_amount() -> None:
    grants = [
        grant(FEB, "11700.00"),
        grant(MAR, "11700.00", reason=Reason.OTHER_HARDSHIP),
    ]

    evaluation = run(application(), grants=grants)

    assert not evaluation.eligible
    assert evaluation.failed_rules == ["R2.3"]
    assert "本年度已无救助余额" in rule(evaluation, "R2.3").message_zh


@pytest.mark.parametrize(
    ("amount", "passed"), [("0.00", False), ("0.01", True)], ids=["zero", "one-fen"]
)
def test_a_grant_is_a_positive_one_off_amount(amount: str, passed: bool) -> None:
    evaluation = run(application(amount=amount))

    assert rule(evaluation, "R2.1").passed is passed
    assert evaluation.allowed_max == Money.parse("11700.00")


RAISED = [
    standard("650.00", valid_from=dt.date(2024, 1, 1), version_id=10),
    standard("720.00", valid_from=dt.date(2024, 7, 1), version_id=11),
]


@pytest.mark.parametrize(
    ("on", "version_id", "per_case", "allowed"),
    [
        pytest.param(dt.date(2024, 6, 30), 10, "11700.00", "0.00", id="day-before"),
        pytest.param(
            dt.date(2024, 7, 1), 11, "12960.00", "2520.00", id="effective-day"
        ),
        pytest.param(dt.date(2024, 12, 31), 11, "12960.00", "2520.00", id="year-end"),
    ],
)
def test_standard_raised_mid_year_applies_from_its_effective_date(
    on: dt.date, version_id: int, per_case: str, allowed: str
) -> None:
    # 7,800.00 per capita used under 650; 12 × 720 = 8,640 leaves 840 × 3.
    grants = [
        grant(FEB, "11700.00"),
        grant(APR, "11700.00", reason=Reason.OTHER_HARDSHIP),
    ]
    params = parameters_on(on, standards=RAISED)

    evaluation = run(application(on=on), grants=grants, parameters=params)

    assert params.standard.id == version_id
    assert rule(evaluation, "R2.2").inputs["per_case_limit"] == per_case
    assert evaluation.allowed_max == Money.parse(allowed)
    recorded = {p["name"]: p for p in evaluation.to_dict()["parameters"]}
    assert recorded["dibao_standard.urban"]["version_id"] == version_id


def test_back_dated_standard_governs_later_decisions_but_not_recorded_ones() -> None:
    first = standard("650.00", valid_from=dt.date(2024, 1, 1), version_id=10)
    decided = run(
        application(on=DAY, amount="11700.00"),
        parameters=parameters_on(DAY, standards=[first]),
    )
    stored = json.loads(json.dumps(decided.to_dict()))

    # Published in June, in force from April: a higher id, an earlier start.
    back_dated = standard("700.00", valid_from=dt.date(2024, 4, 1), version_id=11)
    versions = [first, back_dated]
    later_day = dt.date(2024, 6, 15)
    later = run(
        application(on=later_day, amount="12600.00"),
        parameters=parameters_on(later_day, standards=versions),
    )

    def in_force(on: dt.date) -> ParameterVersion | None:
        return resolve(
            versions, name="dibao_standard.urban", region_code=COMMUNITY, on=on
        )

    assert in_force(later_day) == back_dated
    assert in_force(DAY) == back_dated  # a re-evaluation today would use it
    assert in_force(dt.date(2024, 3, 31)) == first
    assert later.eligible
    assert rule(later, "R2.2").inputs["per_case_limit"] == "12600.00"
    recorded = {p["name"]: p for p in stored["parameters"]}
    assert recorded["dibao_standard.urban"] == {
        "name": "dibao_standard.urban",
        "version_id": 10,
        "region_code": "430204000000",
        "valid_from": "2024-01-01",
        "value": "650.00",
    }
    assert stored["rules"][2]["inputs"]["per_case_limit"] == "11700.00"


def test_a_correction_on_the_same_start_date_wins_by_its_higher_id() -> None:
    wrong = standard("650.00", valid_from=dt.date(2024, 1, 1), version_id=10)
    corrected = standard("655.00", valid_from=dt.date(2024, 1, 1), version_id=12)

    params = parameters_on(DAY, standards=[corrected, wrong])

    assert params.standard == corrected
    assert run(application(), parameters=params).allowed_max == Money.parse("11790.00")


def test_district_standard_overrides_the_province_default() -> None:
    province = ParameterVersion(
        id=5,
        name="dibao_standard.urban",
        region_code="430000000000",
        valid_from=dt.date(2024, 1, 1),
        value="600.00",
    )
    district = standard("650.00", valid_from=dt.date(2024, 3, 1), version_id=6)

    assert parameters_on(
        dt.date(2024, 2, 1), standards=[province, district]
    ).standard == (province)
    assert parameters_on(DAY, standards=[province, district]).standard == district


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(6), "6"),
        (Fraction("1.5"), "1.5"),
        (Fraction("0.30"), "0.3"),
        (Fraction("12.25"), "12.25"),
        (Fraction(1, 3), "1/3"),
    ],
)
def test_multiples_are_written_exactly_without_float(
    value: Fraction, text: str
) -> None:
    assert ratio_text(value) == text


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (Fraction(100000, 3), "约 333.33"),
        (Fraction(200000, 3), "约 666.67"),
        (Fraction(1, 2), "约 0.01"),
        (Fraction(123456789), "1,234,567.89"),
    ],
)
def test_per_capita_amounts_are_shown_half_up_to_the_fen(
    fen: Fraction, text: str
) -> None:
    assert per_capita_text(fen) == text


def test_fractional_multiple_caps_at_the_floor_of_the_exact_limit() -> None:
    params = parameters_on(DAY, per_case_multiple="5.5")

    evaluation = run(application(amount="10725.00"), parameters=params)
    over = run(application(amount="10725.01"), parameters=params)

    assert evaluation.eligible
    assert "5.5×650.00×3 = 10,725.00 元" in rule(evaluation, "R2.2").message_zh
    assert over.failed_rules == ["R2.2"]


def test_check_amount_keeps_its_signature_for_the_workflow() -> None:
    params = parameters_on(DAY)

    check = check_amount(
        amount=Money.parse("12000.00"),
        household_size=3,
        decision_date=DAY,
        standard=params.standard,
        per_case_multiple=params.per_case_multiple,
        annual_multiple=params.annual_multiple,
        prior_grants=[grant(FEB, "3000.00")],
    )

    assert not check.passed
    assert check.failed_rules == ["R2.2"]
    assert check.allowed_max == Money.parse("11700.00")
    assert check.annual_room == Money.parse("20400.00")
    assert check.results[1].passed
    assert "已救助 1 次，人均累计 1,000.00 元" in check.results[1].message_zh
    assert {p["name"] for p in check.to_dict()["parameters"]} == {
        "dibao_standard.urban",
        "per_case_multiple",
        "annual_multiple",
    }
