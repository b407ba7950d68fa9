"""The street reserve fund (临时救助备用金, R5.1): its size and its balance.

Each street keeps a reserve for urgent cases. Its cap for a year is a share
of the street's temporary-assistance spending of the year before, and never
more than the district's cap (``street_reserve_cap``). Advances draw on the
balance, replenishments add to it; the balance stays between zero and the
cap, both included. Everything is integer fen; the share is an exact
fraction, and a product that falls between two fen is floored, so the cap
is never a fen larger than the notice allows.

Pure functions: no I/O, no clock. A refusal is a ``ReserveError`` whose
message a clerk can read; the workflow turns it into an HTTP answer.
"""

from __future__ import annotations

import math
from fractions import Fraction

from app.domain.caps import ratio_text
from app.domain.money import Money


class ReserveError(ValueError):
    """A balance change or a sizing the R5.1 rules refuse; ``str`` is Chinese."""


class BalanceBelowZero(ReserveError):
    """A draw larger than the balance."""

    def __init__(self, *, balance: Money, amount: Money) -> None:
        super().__init__(
            f"备用金余额为 {balance.grouped()} 元，不足以支出 {amount.grouped()} 元。"
        )
        self.balance = balance
        self.amount = amount


class BalanceAboveCap(ReserveError):
    """A replenishment that would lift the balance above the cap."""

    def __init__(self, *, balance: Money, amount: Money, cap: Money) -> None:
        room = cap - balance
        super().__init__(
            f"备用金余额为 {balance.grouped()} 元，上限为 {cap.grouped()} 元，"
            f"最多还能补充 {room.grouped()} 元，不能补充 {amount.grouped()} 元。"
        )
        self.balance = balance
        self.amount = amount
        self.cap = cap


class NonPositiveAmount(ReserveError):
    """A draw or replenishment of zero or less: it would record nothing."""

    def __init__(self, amount: Money) -> None:
        super().__init__(f"金额须大于 0，收到 {amount.grouped()} 元。")
        self.amount = amount


class InvalidSizing(ReserveError):
    """Inputs to the sizing that cannot be meant (negative money, share > 1)."""


def reserve_cap(
    *, last_year_spending: Money, share: Fraction, cap: Money
) -> tuple[Money, str]:
    """The fund's cap for the year and the sentence that explains it.

    min(⌊share × last_year_spending⌋, cap), in fen. ``share`` is a fraction
    between 0 and 1; ``cap`` is the parameter ``street_reserve_cap``.
    """
    if last_year_spending.fen < 0:
        raise InvalidSizing("上年度临时救助支出不能为负数。")
    if not 0 <= share <= 1:
        raise InvalidSizing(f"备用金比例须在 0 到 1 之间，收到 {ratio_text(share)}。")
    if cap.fen < 0:
        raise InvalidSizing("街道备用金上限不能为负数。")

    exact = share * last_year_spending.fen
    by_share = Money(math.floor(exact))
    floored = "（不足一分的部分舍去）" if exact != by_share.fen else ""
    basis = (
        f"上年度临时救助支出 {last_year_spending.grouped()} 元 × "
        f"{ratio_text(share)} = {by_share.grouped()} 元{floored}"
    )
    if by_share > cap:
        return cap, (
            f"{basis}，超过街道备用金上限 {cap.grouped()} 元，"
            f"备用金规模核定为上限 {cap.grouped()} 元。"
        )
    return by_share, (
        f"{basis}，未超过街道备用金上限 {cap.grouped()} 元，"
        f"备用金规模核定为 {by_share.grouped()} 元。"
    )


def after_draw(balance: Money, amount: Money) -> Money:
    """The balance after paying ``amount`` out; exactly zero is allowed."""
    if amount.fen <= 0:
        raise NonPositiveAmount(amount)
    if amount > balance:
        raise BalanceBelowZero(balance=balance, amount=amount)
    return balance - amount


def after_replenish(balance: Money, amount: Money, cap: Money) -> Money:
    """The balance after adding ``amount``; exactly the cap is allowed."""
    if amount.fen <= 0:
        raise NonPositiveAmount(amount)
    if balance + amount > cap:
        raise BalanceAboveCap(balance=balance, amount=amount, cap=cap)
    return balance + amount


def carry_over(balance: Money, new_cap: Money) -> tuple[Money, Money]:
    """The balance kept under a new cap and the excess that goes back.

    A new year's cap may be lower than what the street still holds; the
    money above it is returned to the district rather than left above the
    cap. Returns ``(kept, returned)``; ``kept + returned == balance``.
    """
    if balance.fen < 0 or new_cap.fen < 0:
        raise InvalidSizing("备用金余额和上限都不能为负数。")
    kept = min(balance, new_cap)
    return kept, balance - kept
