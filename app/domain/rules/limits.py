"""R2.1, R2.4 and R2.5: one-off grants, how often, and the 救急难 pool.

The amount caps of the ordinary pool (R2.2, R2.3) are in ``app.domain.caps``;
R2.5 reads their outcome because the pool opens only once they are spent.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from fractions import Fraction

from app.domain.caps import (
    AmountCheck,
    PriorGrant,
    RuleResult,
    fraction_text,
    hidden_by_rounding,
    per_capita_sum,
    per_capita_text,
)
from app.domain.catalog import REASON_TITLES_ZH
from app.domain.money import Money, format_per_capita
from app.domain.rules.facts import (
    ApplicationFacts,
    PolicyParameters,
    Pool,
    SpecialProgramme,
    YearWindow,
)

SPECIAL_PROGRAMME_TITLES_ZH: dict[SpecialProgramme, str] = {
    SpecialProgramme.MEDICAL: "医疗救助",
    SpecialProgramme.EDUCATION: "教育救助",
    SpecialProgramme.HOUSING: "住房救助",
    SpecialProgramme.LEGAL_AID: "司法援助",
}

ROLLING_DAYS = 365


def one_off(*, application: ApplicationFacts) -> RuleResult:
    """R2.1: a case is one grant of a positive amount."""
    amount = application.amount
    if amount is None:
        return RuleResult(
            "R2.1",
            True,
            "临时救助按件一次性发放；本次未填写金额，以下给出可批准的最高金额。",
        )
    passed = amount.fen > 0
    return RuleResult(
        "R2.1",
        passed,
        f"临时救助按件一次性发放，本次金额 {amount.grouped()} 元"
        + ("。" if passed else "，金额须大于 0。"),
        {"amount": str(amount)},
    )


def window_bounds(*, window: YearWindow, on: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day, both inclusive, of the year that R2.4 counts in.

    The rolling window is the decision date and the 364 days before it,
    365 days in all; a grant exactly 365 days earlier has left it.
    """
    if window is YearWindow.CALENDAR:
        return dt.date(on.year, 1, 1), dt.date(on.year, 12, 31)
    return on - dt.timedelta(days=ROLLING_DAYS - 1), on


def same_reason(
    *,
    application: ApplicationFacts,
    prior_grants: Sequence[PriorGrant],
    parameters: PolicyParameters,
) -> RuleResult:
    """R2.4: fewer than ``max_same_reason_per_year`` earlier grants for the reason.

    Only ordinary grants count: a 救急难 case is decided one by one under
    R2.5 and is not a temporary-assistance grant of the reason.
    """
    window = YearWindow(parameters.year_window.value)
    first, last = window_bounds(window=window, on=application.decision_date)
    limit = parameters.max_same_reason_per_year.as_int()
    reason = application.reason
    counted = [
        g
        for g in prior_grants
        if g.pool == Pool.ORDINARY
        and g.reason == reason
        and first <= g.decided_on <= last
    ]
    passed = len(counted) < limit
    span = (
        f"本年度（{application.decision_date.year} 年）"
        if window is YearWindow.CALENDAR
        else f"最近 365 天（{first.isoformat()} 至 {last.isoformat()}）"
    )
    verdict = (
        f"本次为第 {len(counted) + 1} 次，未超过。"
        if passed
        else f"本次将是第 {len(counted) + 1} 次，超过上限，不予救助。"
    )
    return RuleResult(
        "R2.4",
        passed,
        f"同一事由（{REASON_TITLES_ZH[reason]}）{span}已救助 {len(counted)} 次，"
        f"每年最多 {limit} 次；{verdict}",
        {
            "reason": reason.value,
            "year_window": window.value,
            "window_first_day": first.isoformat(),
            "window_last_day": last.isoformat(),
            "grants_counted": str(len(counted)),
            "max_same_reason_per_year": str(limit),
            "grant_dates": ",".join(g.decided_on.isoformat() for g in counted),
        },
        (parameters.max_same_reason_per_year, parameters.year_window),
    )


def jijinan(
    *,
    application: ApplicationFacts,
    ordinary: AmountCheck,
    prior_grants: Sequence[PriorGrant],
    parameters: PolicyParameters,
) -> tuple[RuleResult, Money]:
    """R2.5: the 救急难 pool, and the most it can grant now.

    The pool opens only when the ordinary pool cannot grant a single fen
    more this year at the household size on the case (``ordinary`` is the
    R2.3 check without an amount). Its grants add up, per capita and per
    calendar year, to at most ``jijinan_annual_cap``; the departments' shares
    must add up exactly to the amount.
    """
    n = application.household_size
    year = application.decision_date.year
    cap_version = parameters.jijinan_annual_cap
    cap = Fraction(cap_version.as_money().fen)
    used, count = per_capita_sum(prior_grants, pool=Pool.JIJINAN, year=year)
    remaining = max(cap - used, Fraction(0))
    room = Money(math.floor(remaining * n))
    ordinary_used, _ = per_capita_sum(prior_grants, pool=Pool.ORDINARY, year=year)

    failed: list[str] = []
    ordinary_spent = ordinary.annual_room.fen == 0
    ordinary_text = (
        f"本年度（{year} 年）普通临时救助人均累计 "
        f"{per_capita_text(ordinary_used)} 元，"
        + (
            "已达到年度上限"
            if ordinary_spent
            else f"尚未达到年度上限，按 {n} 人计本年度尚可救助 "
            f"{ordinary.annual_room.grouped()} 元，应先按普通临时救助办理"
        )
    )
    if not ordinary_spent:
        failed.append("ordinary_limit_not_reached")

    programme = application.special_programme
    if programme is None:
        failed.append("no_special_programme")
        programme_text = "未认定符合医疗、教育、住房、司法援助等专项救助条件"
    else:
        programme_text = f"符合{SPECIAL_PROGRAMME_TITLES_ZH[programme]}条件"

    cap_text = (
        f"本年度救急难已救助 {count} 次，人均累计 {per_capita_text(used)} 元，"
        f"年度人均上限 {cap_version.as_money().grouped()} 元，"
        f"按 {n} 人计本次最多 {room.grouped()} 元"
    )
    amount = application.amount
    amount_text = ""
    if amount is None:
        if room.fen == 0:
            failed.append("jijinan_cap_reached")
    else:
        within_cap = Fraction(amount.fen, n) <= remaining
        if not within_cap:
            failed.append("jijinan_cap_exceeded")
        share_problem = _shares_problem(application=application, amount=amount)
        if share_problem:
            failed.append("department_shares")
        amount_text = (
            f"；本次 {amount.grouped()} 元，人均 "
            f"{per_capita_text(Fraction(amount.fen, n))} 元，"
            + (
                "未超过上限"
                if within_cap
                else "超过救急难年度人均上限"
                + hidden_by_rounding(used + Fraction(amount.fen, n), cap)
            )
            + f"，{share_problem or _shares_text(application=application)}"
        )

    passed = not failed
    verdict = "可由区帮扶救助中心一事一议。" if passed else "不予按救急难办理。"
    message = f"{ordinary_text}；{programme_text}；{cap_text}{amount_text}；{verdict}"
    inputs = {
        "ordinary_used_per_capita": format_per_capita(ordinary_used),
        "ordinary_annual_room": str(ordinary.annual_room),
        "special_programme": "" if programme is None else programme.value,
        "jijinan_used_per_capita": format_per_capita(used),
        "jijinan_used_per_capita_fen_exact": fraction_text(used),
        "jijinan_room": str(room),
        "amount": "" if amount is None else str(amount),
        "departments": ";".join(
            f"{d.department}:{d.amount}" for d in application.departments
        ),
        "failed_conditions": ",".join(failed),
    }
    used_versions = (parameters.standard, parameters.annual_multiple, cap_version)
    allowed = room if ordinary_spent and programme is not None else Money(0)
    return RuleResult("R2.5", passed, message, inputs, used_versions), allowed


def _shares_problem(*, application: ApplicationFacts, amount: Money) -> str:
    shares = application.departments
    if not shares:
        return "未记录出资部门及其份额" if application.shares_due else ""
    names = [d.department.strip() for d in shares]
    if any(not name for name in names) or len(set(names)) != len(names):
        return "出资部门须逐一写明且不得重复"
    if any(d.amount.fen <= 0 for d in shares):
        return "各部门出资份额须大于 0"
    total = sum((d.amount for d in shares), Money(0))
    if total != amount:
        return (
            f"各部门出资合计 {total.grouped()} 元，与本次金额 {amount.grouped()} 元不符"
        )
    return ""


def _shares_text(*, application: ApplicationFacts) -> str:
    if not application.departments:
        return "出资部门及其份额待区级审批时记录"
    parts = "、".join(
        f"{d.department.strip()} {d.amount.grouped()} 元"
        for d in application.departments
    )
    return f"由{parts}分担，合计与本次金额相符"
