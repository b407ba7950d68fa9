"""R2.5: the 救急难 pool opens only once the ordinary annual cap is spent.

S = 650.00, N = 3: the ordinary pool allows 7,800.00 per capita a year
(23,400.00 for three); the 救急难 pool 10,000.00 per capita (30,000.00).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.domain.caps import PriorGrant
from app.domain.catalog import HouseholdCategory, Reason
from app.domain.eligibility import (
    ApplicationFacts,
    ApprovalLevel,
    DepartmentShare,
    InconsistentFactsError,
    Pool,
    SpecialProgramme,
)
from app.domain.money import Money
from tests.domain.builders import application, grant, household, rule, run

FEB = dt.date(2024, 2, 1)
APR = dt.date(2024, 4, 1)
JUN = dt.date(2024, 6, 3)
DIBAO = household(category=HouseholdCategory.DIBAO)

# 3,900.00 + 3,899.99 per capita: one fen per capita (0.03 for three) short.
ALMOST_SPENT = [
    grant(FEB, "11700.00", reason=Reason.MEDICAL),
    grant(APR, "11699.97", reason=Reason.EDUCATION),
]
SPENT = [*ALMOST_SPENT, grant(dt.date(2024, 5, 2), "0.03", reason=Reason.ACCIDENT)]


def shares(*parts: tuple[str, str]) -> tuple[DepartmentShare, ...]:
    return tuple(DepartmentShare(name, Money.parse(amount)) for name, amount in parts)


def split(amount: str) -> tuple[DepartmentShare, ...]:
    """1,000.00 from civil affairs, the rest from the medical-insurance bureau."""
    rest = Money.parse(amount) - Money.yuan(1000)
    return shares(("区民政局", "1000.00"), ("区医保局", str(rest)))


def jijinan_case(amount: str | None, **extra: Any) -> ApplicationFacts:
    fields: dict[str, Any] = {
        "special_programme": SpecialProgramme.MEDICAL,
        "departments": () if amount is None else split(amount),
    }
    fields |= extra
    return application(
        on=JUN, reason=Reason.MEDICAL, amount=amount, pool=Pool.JIJINAN, **fields
    )


@pytest.mark.parametrize(
    ("earlier", "passed", "allowed"),
    [
        pytest.param(ALMOST_SPENT, False, "0.00", id="one-fen-per-capita-left"),
        pytest.param(SPENT, True, "30000.00", id="ordinary-cap-spent"),
    ],
)
def test_jijinan_refused_before_the_ordinary_cap_is_reached_and_allowed_after(
    earlier: list[PriorGrant], passed: bool, allowed: str
) -> None:
    evaluation = run(jijinan_case("6000.00"), facts=DIBAO, grants=earlier)

    result = rule(evaluation, "R2.5")
    assert result.passed is passed
    assert evaluation.eligible is passed
    assert evaluation.allowed_max == Money.parse(allowed)
    assert evaluation.approval_level is ApprovalLevel.DISTRICT
    if passed:
        assert "普通临时救助人均累计 7,800.00 元，已达到年度上限" in result.message_zh
        assert result.inputs["ordinary_annual_room"] == "0.00"
    else:
        assert "按 3 人计本年度尚可救助 0.03 元" in result.message_zh
        assert result.inputs["failed_conditions"] == "ordinary_limit_not_reached"


def test_ordinary_application_is_still_possible_with_the_last_fen() -> None:
    evaluation = run(application(on=JUN), facts=DIBAO, grants=ALMOST_SPENT)

    assert evaluation.eligible
    assert evaluation.allowed_max == Money.parse("0.03")


# Earlier 救急难 grants of 2024 as (amount, size then), this case's amount and
# household size, whether it passes, and the room left.
CAP_CASES = [
    pytest.param([], "30000.00", 3, True, "30000.00", id="at-cap"),
    pytest.param([], "30000.01", 3, False, "30000.00", id="fen-over-cap"),
    pytest.param(
        [("15000.00", 3)], "15000.00", 3, True, "15000.00", id="half-used-at-cap"
    ),
    pytest.param(
        [("15000.00", 3)], "15000.01", 3, False, "15000.00", id="half-used-fen-over"
    ),
    pytest.param(
        [("10000.00", 4)], "15000.00", 2, True, "15000.00", id="size-4-then-2"
    ),
    pytest.param([("10000.00", 3)], "20000.00", 3, True, "20000.00", id="thirds-exact"),
]


@pytest.mark.parametrize(("earlier", "amount", "size", "passed", "allowed"), CAP_CASES)
def test_jijinan_grants_add_up_to_at_most_ten_thousand_per_capita_a_year(
    earlier: list[tuple[str, int]], amount: str, size: int, passed: bool, allowed: str
) -> None:
    pooled = [grant(FEB, a, size=n, pool=Pool.JIJINAN) for a, n in earlier]
    # The ordinary cap is spent whatever the size: 7,800 per capita is used.
    ordinary = [grant(FEB, "7800.00", size=1)]

    evaluation = run(
        jijinan_case(amount, household_size=size),
        facts=DIBAO,
        grants=[*ordinary, *pooled],
    )

    assert rule(evaluation, "R2.5").passed is passed
    assert evaluation.allowed_max == Money.parse(allowed)


def test_jijinan_grants_of_last_year_do_not_count() -> None:
    last_year = grant(dt.date(2023, 12, 31), "30000.00", pool=Pool.JIJINAN)

    evaluation = run(jijinan_case("30000.00"), facts=DIBAO, grants=[*SPENT, last_year])

    assert evaluation.eligible


@pytest.mark.parametrize(
    ("departments", "problem"),
    [
        pytest.param((), "未记录出资部门及其份额", id="none"),
        pytest.param(
            shares(("区民政局", "1000.00"), ("区医保局", "4999.99")),
            "各部门出资合计 5,999.99 元，与本次金额 6,000.00 元不符",
            id="one-fen-short",
        ),
        pytest.param(
            shares(("区民政局", "3000.00"), ("区民政局", "3000.00")),
            "出资部门须逐一写明且不得重复",
            id="duplicate",
        ),
        pytest.param(
            shares(("区民政局", "6000.00"), ("区医保局", "0.00")),
            "各部门出资份额须大于 0",
            id="zero-share",
        ),
    ],
)
def test_department_shares_must_add_up_exactly_to_the_amount(
    departments: tuple[DepartmentShare, ...], problem: str
) -> None:
    app = jijinan_case("6000.00", departments=departments)

    evaluation = run(app, facts=DIBAO, grants=SPENT)

    result = rule(evaluation, "R2.5")
    assert not result.passed
    assert problem in result.message_zh
    assert result.inputs["failed_conditions"] == "department_shares"
    assert evaluation.allowed_max == Money.parse("30000.00")


def test_shares_are_recorded_on_the_decision() -> None:
    evaluation = run(jijinan_case("6000.00"), facts=DIBAO, grants=SPENT)

    assert evaluation.eligible
    assert evaluation.to_dict()["departments"] == [
        {"department": "区民政局", "amount": "1000.00"},
        {"department": "区医保局", "amount": "5000.00"},
    ]
    assert "由区民政局 1,000.00 元、区医保局 5,000.00 元分担" in (
        rule(evaluation, "R2.5").message_zh
    )


def test_jijinan_needs_a_special_programme() -> None:
    evaluation = run(
        jijinan_case("6000.00", special_programme=None), facts=DIBAO, grants=SPENT
    )

    assert not evaluation.eligible
    assert (
        rule(evaluation, "R2.5").inputs["failed_conditions"] == "no_special_programme"
    )
    assert evaluation.allowed_max == Money(0)


def test_jijinan_what_if_gives_the_room_without_shares() -> None:
    evaluation = run(jijinan_case(None), facts=DIBAO, grants=SPENT)

    assert evaluation.eligible
    assert evaluation.allowed_max == Money.parse("30000.00")
    assert evaluation.approval_level is ApprovalLevel.DISTRICT


def test_jijinan_is_not_capped_per_case_and_skips_the_same_reason_count() -> None:
    evaluation = run(jijinan_case("12000.00"), facts=DIBAO, grants=SPENT)

    assert evaluation.eligible
    assert [r.rule for r in evaluation.results] == ["R1.2", "R2.1", "R2.5", "R3.5"]


def test_shares_on_an_ordinary_case_are_refused_as_inconsistent() -> None:
    with pytest.raises(InconsistentFactsError):
        application(amount="100.00", departments=split("1100.00"))


@pytest.mark.parametrize(
    ("shares_due", "passed"),
    [
        pytest.param(False, True, id="street-proposal"),
        pytest.param(True, False, id="district-approval"),
    ],
)
def test_missing_shares_fail_only_where_the_district_must_record_them(
    shares_due: bool, passed: bool
) -> None:
    app = jijinan_case("6000.00", departments=(), shares_due=shares_due)

    evaluation = run(app, facts=DIBAO, grants=SPENT)

    result = rule(evaluation, "R2.5")
    assert result.passed is passed
    expected = "待区级审批时记录" if passed else "未记录出资部门及其份额"
    assert expected in result.message_zh
