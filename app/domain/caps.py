"""The amount caps: R2.2 (per case) and R2.3 (per capita within a year).

Per-capita sums are exact fractions of a fen: a grant of 1,000 yuan to a
household of three is 100000/3 fen per person, and adding three such thirds
gives exactly 1,000 yuan, never 999.99. The largest amount allowed is the
largest whole number of fen that keeps both caps.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from app.domain.money import Money, format_per_capita
from app.domain.parameters import ParameterVersion


@dataclass(frozen=True, slots=True)
class PriorGrant:
    """An earlier grant of the household, as it counts against the caps."""

    decided_on: dt.date
    amount: Money
    household_size: int
    reason: str
    pool: str = "ordinary"

    @property
    def per_capita_fen(self) -> Fraction:
        return Fraction(self.amount.fen, self.household_size)


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: str
    passed: bool
    message_zh: str
    inputs: dict[str, str] = field(default_factory=dict)


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
            "rules": [
                {
                    "rule": r.rule,
                    "passed": r.passed,
                    "message": r.message_zh,
                    "inputs": r.inputs,
                }
                for r in self.results
            ],
            "parameters": [p.reference() for p in self.parameters],
        }


def _multiple_text(multiple: Fraction) -> str:
    return (
        str(multiple.numerator) if multiple.denominator == 1 else str(float(multiple))
    )


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
    """
    if household_size < 1:
        raise ValueError("a household has at least one member")

    s = standard.as_money()
    case_multiple = per_case_multiple.as_fraction()
    year_multiple = annual_multiple.as_fraction()
    n = household_size

    per_case_limit_fen = math.floor(case_multiple * s.fen * n)
    counted = [
        g
        for g in prior_grants
        if g.decided_on.year == decision_date.year and g.pool == "ordinary"
    ]
    used = sum((g.per_capita_fen for g in counted), Fraction(0))
    annual_limit = year_multiple * s.fen
    remaining = max(annual_limit - used, Fraction(0))
    annual_max_fen = math.floor(remaining * n)
    allowed_max = Money(max(0, min(per_case_limit_fen, annual_max_fen)))

    standard_text = f"本月低保标准 {s.grouped()} 元"
    case_text = (
        f"{standard_text}，家庭 {n} 人，单次救助上限 "
        f"{_multiple_text(case_multiple)}×{s}×{n} = "
        f"{Money(per_case_limit_fen).grouped()} 元"
    )
    year_text = (
        f"本年度（{decision_date.year} 年）已救助 {len(counted)} 次，人均累计 "
        f"{format_per_capita(used)} 元，年度人均上限 "
        f"{_multiple_text(year_multiple)}×{s} = {Money(math.floor(annual_limit)).grouped()}"
        f" 元，尚余人均 {format_per_capita(remaining)} 元"
    )

    if amount is None:
        results = (
            RuleResult("R2.2", True, case_text + "。"),
            RuleResult(
                "R2.3",
                True,
                year_text
                + f"，按 {n} 人计本次最多 {Money(annual_max_fen).grouped()} 元。",
            ),
        )
    else:
        case_ok = amount.fen <= per_case_limit_fen
        year_ok = used + Fraction(amount.fen, n) <= annual_limit
        results = (
            RuleResult(
                "R2.2",
                case_ok,
                f"{case_text}；本次 {amount.grouped()} 元"
                + ("，未超过上限。" if case_ok else "，超过上限，不予批准。"),
                {"amount": str(amount), "limit": str(Money(per_case_limit_fen))},
            ),
            RuleResult(
                "R2.3",
                year_ok,
                f"{year_text}；本次人均 {format_per_capita(Fraction(amount.fen, n))} 元"
                + ("，未超过年度上限。" if year_ok else "，超过年度上限，不予批准。"),
                {
                    "used_per_capita": format_per_capita(used),
                    "limit_per_capita": str(Money(math.floor(annual_limit))),
                },
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
