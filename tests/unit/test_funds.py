"""R5.1: the street reserve fund's size and the bounds of its balance."""

from __future__ import annotations

from fractions import Fraction

import pytest

from app.domain.funds import (
    BalanceAboveCap,
    BalanceBelowZero,
    InvalidSizing,
    NonPositiveAmount,
    after_draw,
    after_replenish,
    carry_over,
    reserve_cap,
)
from app.domain.money import Money

TENTH = Fraction(1, 10)
CAP = Money.parse("20000.00")


def test_a_share_above_the_cap_is_capped_at_exactly_twenty_thousand() -> None:
    cap, explanation = reserve_cap(
        last_year_spending=Money.parse("300000.00"), share=TENTH, cap=CAP
    )

    assert cap == Money.parse("20000.00")
    assert "30,000.00" in explanation
    assert "超过街道备用金上限 20,000.00 元" in explanation
    assert explanation.endswith("核定为上限 20,000.00 元。")


def test_a_share_exactly_at_the_cap_is_the_cap() -> None:
    cap, explanation = reserve_cap(
        last_year_spending=Money.parse("200000.00"), share=TENTH, cap=CAP
    )

    assert cap == CAP
    assert "未超过" in explanation


def test_a_share_below_the_cap_is_the_share() -> None:
    cap, explanation = reserve_cap(
        last_year_spending=Money.parse("50000.00"), share=TENTH, cap=CAP
    )

    assert cap == Money.parse("5000.00")
    assert explanation == (
        "上年度临时救助支出 50,000.00 元 × 0.1 = 5,000.00 元，"
        "未超过街道备用金上限 20,000.00 元，备用金规模核定为 5,000.00 元。"
    )


def test_no_spending_last_year_gives_no_reserve() -> None:
    cap, _ = reserve_cap(last_year_spending=Money(0), share=TENTH, cap=CAP)

    assert cap == Money(0)


def test_a_share_between_two_fen_is_floored_and_says_so() -> None:
    cap, explanation = reserve_cap(
        last_year_spending=Money.parse("123.45"), share=TENTH, cap=CAP
    )

    assert cap == Money.parse("12.34")
    assert "不足一分的部分舍去" in explanation


def test_inputs_that_cannot_be_meant_are_refused() -> None:
    with pytest.raises(InvalidSizing):
        reserve_cap(last_year_spending=Money(-1), share=TENTH, cap=CAP)
    with pytest.raises(InvalidSizing):
        reserve_cap(last_year_spending=Money(100), share=Fraction(11, 10), cap=CAP)


def test_a_draw_may_leave_exactly_zero_but_not_one_fen_less() -> None:
    balance = Money.parse("1000.00")

    assert after_draw(balance, Money.parse("1000.00")) == Money(0)
    with pytest.raises(BalanceBelowZero) as refused:
        after_draw(balance, Money.parse("1000.01"))
    assert "1,000.00" in str(refused.value)


def test_a_replenishment_may_reach_exactly_the_cap_but_not_one_fen_more() -> None:
    balance = Money.parse("5000.00")

    assert after_replenish(balance, Money.parse("15000.00"), CAP) == CAP
    with pytest.raises(BalanceAboveCap) as refused:
        after_replenish(balance, Money.parse("15000.01"), CAP)
    assert "最多还能补充 15,000.00 元" in str(refused.value)


@pytest.mark.parametrize("amount", [Money(0), Money(-1)])
def test_nothing_and_less_than_nothing_is_neither_drawn_nor_added(
    amount: Money,
) -> None:
    with pytest.raises(NonPositiveAmount):
        after_draw(Money(100), amount)
    with pytest.raises(NonPositiveAmount):
        after_replenish(Money(100), amount, CAP)


def test_a_lower_cap_returns_the_excess_and_keeps_the_rest() -> None:
    kept, returned = carry_over(Money.parse("8000.00"), Money.parse("5000.00"))
    same, nothing = carry_over(Money.parse("3000.00"), Money.parse("5000.00"))

    assert (kept, returned) == (Money.parse("5000.00"), Money.parse("3000.00"))
    assert (same, nothing) == (Money.parse("3000.00"), Money(0))
