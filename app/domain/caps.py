"""The amount caps: R2.2 (per case) and R2.3 (per capita within a year).

Per-capita sums are exact fractions of a fen: a grant of 1,000 yuan to a
household of three is 100000/3 fen per person, and adding three such thirds
gives exactly 1,000 yuan, never 999.99. The largest amount allowed is the
largest whole number of fen that keeps both caps.

The year of R2.3 is the calendar year of the decision date (the reading in
``docs/policy.md``); only grants of the ordinary pool count against it, the
救急难 pool has its own cap (R2.5).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from app.domain.money import Money, format_per_capita
from app.domain.parameters import ParameterVersion

ORDINARY_POOL = "ordinary"
JIJINAN_POOL = "jijinan"


@dataclass(frozen=True, slots=True)
class PriorGrant:
    """An earlier grant of the household, as it counts against the caps."""

    decided_on: dt.date
    amount: Money
    household_size: int
    reason: str
    pool: str = ORDINARY_POOL

    @property
    def per_capita_fen(self) -> Fraction:
        return Fraction(self.amount.fen, self.household_size)


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule's verdict with what it looked at, for the decision's record.

    ``inputs`` holds strings only so that the record reads the same in JSON
    as in Python; ``parameters`` are the versions the verdict depended on.
    """

    rule: str
    passed: bool
    message_zh: str
    inputs: dict[str, str] = field(default_factory=dict)
    parameters: tuple[ParameterVersion, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "passed": self.passed,
            "message": self.message_zh,
            "inputs": dict(self.inputs),
            "parameters": [p.reference() for p in self.parameters],
        }


@dataclass(frozen=True, slots=True)
class AmountCheck:
    """The caps for one household on one decision date, and an amount's fate."""

    decision_date: dt.date
    household_size: int
    per_case_limit: Money
    annual_remaining_fen: Fraction
    allowed_max: Money
    results: tuple[RuleResult, ...]
    parameters: tuple[ParameterVersion, ...]
    amount: Money | None = None

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def failed_rules(self) -> list[str]:
        return [result.rule for result in self.results if not result.passed]

    @property
    def annual_room(self) -> Money:
        """The most the ordinary pool can still grant this year at this size."""
        return Money(math.floor(self.annual_remaining_fen * self.household_size))

    def sentences(self) -> list[str]:
        return [result.message_zh for result in self.results]

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision_date": self.decision_date.isoformat(),
            "household_size": self.household_size,
            "amount": None if self.amount is None else str(self.amount),
            "allowed_max": str(self.allowed_max),
            "per_case_limit": str(self.per_case_limit),
            "annual_remaining_per_capita": format_per_capita(self.annual_remaining_fen),
            "passed": self.passed,
            "rules": [r.to_dict() for r in self.results],
            "parameters": [p.reference() for p in self.parameters],
        }


def ratio_text(value: Fraction) -> str:
    """A multiple as people write it (``6``, ``1.5``), exact, never via float.

    Parameters of kind ratio are decimals, so a finite decimal always exists
    for them; any other fraction is shown as ``p/q`` rather than rounded.
    """
    if value.denominator == 1:
        return str(value.numerator)

    places = 0
    scaled = abs(value)
    while scaled.denominator != 1 and places < 30:
        scaled *= 10
        places += 1
    if scaled.denominator != 1:
        return f"{value.numerator}/{value.denominator}"

    digits = str(scaled.numerator).rjust(places + 1, "0")
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def per_capita_text(per_capita_fen: Fraction) -> str:
    """A non-negative per-capita amount for sentences: grouped, half-up to the fen.

    The rounding is ``format_per_capita``'s, the service's one display rule;
    a figure that is not a whole number of fen says so ("约"), so that a
    reader never takes the rounded figure for the one compared.
    """
    shown = Money.parse(format_per_capita(per_capita_fen)).grouped()
    return shown if per_capita_fen.denominator == 1 else f"约 {shown}"


def hidden_by_rounding(value_fen: Fraction, limit_fen: Fraction) -> str:
    """A note for a value over its limit that rounds to the limit itself."""
    if value_fen > limit_fen and format_per_capita(value_fen) == format_per_capita(
        limit_fen
    ):
        return "（精确值略高于上限）"
    return ""


def fraction_text(value: Fraction) -> str:
    """The exact value for a record's inputs: ``100000/3`` or ``65000``."""
    return str(value)


def per_capita_sum(
    grants: Iterable[PriorGrant], *, pool: str, year: int
) -> tuple[Fraction, int]:
    """Σ amount_i ÷ N_i and the number of grants of ``pool`` decided in ``year``."""
    counted = [g for g in grants if g.pool == pool and g.decided_on.year == year]
    return sum((g.per_capita_fen for g in counted), Fraction(0)), len(counted)


def check_amount(
    *,
    amount: Money | None,
    household_size: int,
    decision_date: dt.date,
    standard: ParameterVersion,
    per_case_multiple: ParameterVersion,
    annual_multiple: ParameterVersion,
    prior_grants: Sequence[PriorGrant],
) -> AmountCheck:
    """Apply R2.2 and R2.3 to ``amount`` (or, with ``None``, only compute limits).

    ``prior_grants`` may hold any grants of the household; only ordinary
    grants decided in the same calendar year as ``decision_date`` count.
    Without an amount, R2.3 fails when not one fen is left for the year, so
    that a what-if answer never promises room that does not exist.
    """
    if household_size < 1:
        raise ValueError("a household has at least one member")

    s = standard.as_money()
    case_multiple = per_case_multiple.as_fraction()
    year_multiple = annual_multiple.as_fraction()
    n = household_size

    # Both limits are exact fractions of a fen; an amount is whole fen, so the
    # largest amount that keeps a limit is the floor of that limit.
    per_case_limit_fen = math.floor(case_multiple * s.fen * n)
    used, count = per_capita_sum(
        prior_grants, pool=ORDINARY_POOL, year=decision_date.year
    )
    annual_limit = year_multiple * s.fen
    remaining = max(annual_limit - used, Fraction(0))
    annual_max_fen = math.floor(remaining * n)
    allowed_max = Money(max(0, min(per_case_limit_fen, annual_max_fen)))

    case_text = (
        f"本月低保标准 {s.grouped()} 元，家庭 {n} 人，单次救助上限 "
        f"{ratio_text(case_multiple)}×{s}×{n} = "
        f"{Money(per_case_limit_fen).grouped()} 元"
    )
    year_text = (
        f"本年度（{decision_date.year} 年）已救助 {count} 次，人均累计 "
        f"{per_capita_text(used)} 元，年度人均上限 "
        f"{ratio_text(year_multiple)}×{s} = {per_capita_text(annual_limit)} 元，"
        f"尚余人均 {per_capita_text(remaining)} 元"
    )
    case_inputs = {
        "standard": str(s),
        "household_size": str(n),
        "per_case_multiple": per_case_multiple.value,
        "per_case_limit": str(Money(per_case_limit_fen)),
    }
    year_inputs = {
        "year": str(decision_date.year),
        "grants_counted": str(count),
        "used_per_capita": format_per_capita(used),
        "used_per_capita_fen_exact": fraction_text(used),
        "limit_per_capita": format_per_capita(annual_limit),
        "limit_per_capita_fen_exact": fraction_text(annual_limit),
        "remaining_per_capita": format_per_capita(remaining),
        "annual_room": str(Money(annual_max_fen)),
    }
    case_parameters = (standard, per_case_multiple)
    year_parameters = (standard, annual_multiple)

    if amount is None:
        room_left = annual_max_fen > 0
        results = (
            RuleResult("R2.2", True, case_text + "。", case_inputs, case_parameters),
            RuleResult(
                "R2.3",
                room_left,
                year_text
                + f"，按 {n} 人计本年度尚可救助 {Money(annual_max_fen).grouped()} 元"
                + ("。" if room_left else "，本年度已无救助余额。"),
                year_inputs,
                year_parameters,
            ),
        )
    else:
        per_capita_now = Fraction(amount.fen, n)
        case_ok = amount.fen <= per_case_limit_fen
        year_ok = used + per_capita_now <= annual_limit
        results = (
            RuleResult(
                "R2.2",
                case_ok,
                f"{case_text}；本次 {amount.grouped()} 元"
                + ("，未超过上限。" if case_ok else "，超过上限，不予批准。"),
                {
                    "amount": str(amount),
                    **case_inputs,
                    "limit": case_inputs["per_case_limit"],
                },
                case_parameters,
            ),
            RuleResult(
                "R2.3",
                year_ok,
                f"{year_text}；本次人均 {per_capita_text(per_capita_now)} 元"
                + (
                    "，未超过年度上限。"
                    if year_ok
                    else "，超过年度上限"
                    + hidden_by_rounding(used + per_capita_now, annual_limit)
                    + "，不予批准。"
                ),
                {
                    "amount": str(amount),
                    "amount_per_capita": format_per_capita(per_capita_now),
                    **year_inputs,
                },
                year_parameters,
            ),
        )

    return AmountCheck(
        decision_date=decision_date,
        household_size=n,
        per_case_limit=Money(per_case_limit_fen),
        annual_remaining_fen=remaining,
        allowed_max=allowed_max,
        results=results,
        parameters=(standard, per_case_multiple, annual_multiple),
        amount=amount,
    )
