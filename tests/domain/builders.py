"""Facts and parameter versions for the policy tests, with the notice's values.

Worked numbers used throughout: S = 650.00 yuan, N = 3, so one case may
grant at most 6 × 650 × 3 = 11,700.00 and a year 12 × 650 = 7,800.00 per
capita (23,400.00 for three people).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from app.domain.caps import PriorGrant, RuleResult
from app.domain.catalog import (
    REASONS_BY_TYPE,
    HouseholdCategory,
    Reason,
)
from app.domain.eligibility import (
    ApplicationFacts,
    Evaluation,
    HouseholdFacts,
    Member,
    PolicyParameters,
    Pool,
    evaluate,
    policy_parameters,
)
from app.domain.money import Money
from app.domain.parameters import SPECS, ParameterVersion, standard_parameter_name

PROVINCE = "430000000000"
DISTRICT = "430204000000"  # 石峰区
COMMUNITY = "430204001001"  # a community of 田心街道
NOTICE_DAY = dt.date(2019, 1, 1)
YEAR_START = dt.date(2024, 1, 1)
DAY = dt.date(2024, 5, 10)


def notice_versions(**overrides: str) -> list[ParameterVersion]:
    """One district version per parameter from the notice's day, ids 1, 2, …"""
    return [
        ParameterVersion(
            id=index,
            name=spec.name.value,
            region_code=DISTRICT,
            valid_from=NOTICE_DAY,
            value=overrides.get(spec.name.value, spec.default),
        )
        for index, spec in enumerate(SPECS.values(), start=1)
    ]


def standard(
    value: str, *, valid_from: dt.date = YEAR_START, version_id: int = 100
) -> ParameterVersion:
    return ParameterVersion(
        id=version_id,
        name=standard_parameter_name("urban"),
        region_code=DISTRICT,
        valid_from=valid_from,
        value=value,
    )


def parameters_on(
    on: dt.date,
    *,
    standards: Iterable[ParameterVersion] = (),
    **overrides: str,
) -> PolicyParameters:
    """The versions in force on ``on``; S = 650.00 throughout by default."""
    chosen = list(standards) or [standard("650.00", valid_from=NOTICE_DAY)]
    return policy_parameters(
        [*notice_versions(**overrides), *chosen],
        region_code=COMMUNITY,
        area_type="urban",
        on=on,
    )


def household(
    *,
    category: HouseholdCategory = HouseholdCategory.NONE,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    income: str | None = None,
    members: Sequence[Member] = (),
) -> HouseholdFacts:
    return HouseholdFacts(
        members=tuple(members) or (Member("parent", dt.date(1980, 3, 4)),),
        category=category,
        category_valid_from=valid_from,
        category_valid_until=valid_until,
        monthly_income_per_capita=None if income is None else Money.parse(income),
    )


def application(
    *,
    on: dt.date = DAY,
    amount: str | None = None,
    reason: Reason = Reason.ACCIDENT,
    household_size: int = 3,
    **extra: Any,
) -> ApplicationFacts:
    kind = next(t for t, reasons in REASONS_BY_TYPE.items() if reason in reasons)
    return ApplicationFacts(
        assistance_type=kind,
        reason=reason,
        decision_date=on,
        region_code=COMMUNITY,
        household_size=household_size,
        amount=None if amount is None else Money.parse(amount),
        **extra,
    )


def grant(
    on: dt.date,
    amount: str,
    *,
    size: int = 3,
    reason: Reason = Reason.MEDICAL,
    pool: Pool = Pool.ORDINARY,
) -> PriorGrant:
    """An earlier grant; its default reason differs from ``application``'s so
    that R2.4 stays out of tests about amounts."""
    return PriorGrant(
        decided_on=on,
        amount=Money.parse(amount),
        household_size=size,
        reason=reason.value,
        pool=pool.value,
    )


def run(
    app: ApplicationFacts,
    *,
    facts: HouseholdFacts | None = None,
    grants: Sequence[PriorGrant] = (),
    parameters: PolicyParameters | None = None,
) -> Evaluation:
    return evaluate(
        household=facts or household(),
        application=app,
        prior_grants=grants,
        parameters=parameters or parameters_on(app.decision_date),
    )


def rule(evaluation: Evaluation, rule_id: str) -> RuleResult:
    """The one result of ``rule_id``; fails the test if absent or repeated."""
    found = [r for r in evaluation.results if r.rule == rule_id]
    assert len(found) == 1, [r.rule for r in evaluation.results]
    return found[0]
