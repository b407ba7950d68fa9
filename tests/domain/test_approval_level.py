"""R3.5: the street approves up to 1,000.00 inclusive, the district above."""

from __future__ import annotations

import datetime as dt

import pytest

from app.domain.catalog import Reason
from app.domain.eligibility import ApprovalLevel
from app.domain.money import Money
from tests.domain.builders import DAY, application, grant, parameters_on, rule, run


@pytest.mark.parametrize(
    ("amount", "level"),
    [
        pytest.param("0.01", ApprovalLevel.STREET, id="one-fen"),
        pytest.param("1000.00", ApprovalLevel.STREET, id="at-limit"),
        pytest.param("1000.01", ApprovalLevel.DISTRICT, id="fen-over"),
        pytest.param("11700.00", ApprovalLevel.DISTRICT, id="per-case-cap"),
    ],
)
def test_street_approves_up_to_one_thousand_inclusive(
    amount: str, level: ApprovalLevel
) -> None:
    evaluation = run(application(amount=amount))

    assert evaluation.approval_level is level
    result = rule(evaluation, "R3.5")
    assert result.passed
    assert result.inputs == {
        "amount": amount,
        "amount_is_proposed": "true",
        "street_approval_limit": "1000.00",
        "pool": "ordinary",
    }
    assert [p.name for p in result.parameters] == ["street_approval_limit"]


def test_what_if_routes_by_the_largest_amount_allowed() -> None:
    # 7,800.00 − 7,500.00 = 300.00 per capita left, 900.00 for three.
    grants = [
        grant(dt.date(2024, 1, 8), "11700.00"),
        grant(dt.date(2024, 2, 8), "10800.00", reason=Reason.EDUCATION),
    ]

    evaluation = run(application(), grants=grants)

    assert evaluation.allowed_max == Money.parse("900.00")
    assert evaluation.approval_level is ApprovalLevel.STREET
    assert "可批准的最高金额 900.00 元" in rule(evaluation, "R3.5").message_zh


def test_street_limit_is_a_parameter() -> None:
    params = parameters_on(DAY, street_approval_limit="2000.00")

    evaluation = run(application(amount="1500.00"), parameters=params)

    assert evaluation.approval_level is ApprovalLevel.STREET
    assert "街道审批限额 2,000.00 元（含）" in rule(evaluation, "R3.5").message_zh
