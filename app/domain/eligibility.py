"""The whole temporary-assistance policy for one case: R1, R2 and R3.5.

``evaluate`` is the single entry point. The what-if endpoint, the street's
opinion and the district's approval all call it with the same facts, so
their answers cannot drift apart; the ``Evaluation`` it returns is what a
decision stores (``to_dict``) and what a clerk reads out (``sentences``).

The function is pure: the caller resolves the parameter versions in force
on the decision date (``policy_parameters`` does it from a list of
versions) and passes every earlier grant of the household; which of them
count is decided here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.domain.caps import PriorGrant, RuleResult, check_amount
from app.domain.catalog import AssistanceType, Disease, Reason
from app.domain.money import Money
from app.domain.parameters import ParameterVersion
from app.domain.rules.approval import ApprovalLevel, approval_level
from app.domain.rules.facts import (
    ApplicationFacts,
    DepartmentShare,
    HouseholdFacts,
    InconsistentFactsError,
    Member,
    MissingParameterError,
    PolicyParameters,
    Pool,
    SpecialProgramme,
    YearWindow,
    policy_parameters,
)
from app.domain.rules.limits import jijinan, one_off, same_reason
from app.domain.rules.who import check_who

__all__ = [
    "ApplicationFacts",
    "ApprovalLevel",
    "DepartmentShare",
    "Evaluation",
    "HouseholdFacts",
    "InconsistentFactsError",
    "Member",
    "MissingParameterError",
    "PolicyParameters",
    "Pool",
    "PriorGrant",
    "RuleResult",
    "SpecialProgramme",
    "YearWindow",
    "evaluate",
    "policy_parameters",
]

# Rules whose failure another amount may cure; any other failed rule means
# nothing at all can be granted now. R2.5 is listed because its own room
# already reads zero when the pool is closed to the household.
_CURABLE_BY_AMOUNT: dict[Pool, frozenset[str]] = {
    Pool.ORDINARY: frozenset({"R2.1", "R2.2", "R2.3"}),
    Pool.JIJINAN: frozenset({"R2.1", "R2.5"}),
}


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The verdict on one case and why.

    ``allowed_max`` is the largest amount that would pass now: zero when a
    rule fails that no smaller amount can cure. ``approval_level`` is the
    level for ``amount`` or, without one, for ``allowed_max``.
    """

    decision_date: dt.date
    region_code: str
    assistance_type: AssistanceType
    reason: Reason
    disease: Disease | None
    pool: Pool
    household_size: int
    amount: Money | None
    allowed_max: Money
    approval_level: ApprovalLevel
    departments: tuple[DepartmentShare, ...]
    results: tuple[RuleResult, ...]
    parameters: tuple[ParameterVersion, ...]

    @property
    def eligible(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def failed_rules(self) -> list[str]:
        return [result.rule for result in self.results if not result.passed]

    def sentences(self) -> list[str]:
        return [result.message_zh for result in self.results]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record; amounts as two-decimal strings, never numbers."""
        return {
            "eligible": self.eligible,
            "decision_date": self.decision_date.isoformat(),
            "region_code": self.region_code,
            "assistance_type": self.assistance_type.value,
            "reason": self.reason.value,
            "disease": None if self.disease is None else self.disease.value,
            "pool": self.pool.value,
            "household_size": self.household_size,
            "amount": None if self.amount is None else str(self.amount),
            "allowed_max": str(self.allowed_max),
            "approval_level": self.approval_level.value,
            "departments": [
                {"department": d.department, "amount": str(d.amount)}
                for d in self.departments
            ],
            "failed_rules": self.failed_rules,
            "rules": [result.to_dict() for result in self.results],
            "parameters": [p.reference() for p in self.parameters],
        }


def evaluate(
    *,
    household: HouseholdFacts,
    application: ApplicationFacts,
    prior_grants: Sequence[PriorGrant],
    parameters: PolicyParameters,
) -> Evaluation:
    """Apply R1, R2 and R3.5 to one case on its decision date.

    ``prior_grants`` are the household's other grants, of both pools, without
    this case's own. Raises ``InconsistentFactsError`` when a parameter
    version does not apply to the case's region or date.
    """
    on = application.decision_date
    parameters.check_applies(region_code=application.region_code, on=on)

    who = check_who(household=household, application=application, parameters=parameters)
    ordinary = check_amount(
        amount=application.amount if application.pool is Pool.ORDINARY else None,
        household_size=application.household_size,
        decision_date=on,
        standard=parameters.standard,
        per_case_multiple=parameters.per_case_multiple,
        annual_multiple=parameters.annual_multiple,
        prior_grants=prior_grants,
    )

    how_much: tuple[RuleResult, ...]
    if application.pool is Pool.ORDINARY:
        how_much = (
            one_off(application=application),
            *ordinary.results,
            same_reason(
                application=application,
                prior_grants=prior_grants,
                parameters=parameters,
            ),
        )
        pool_max = ordinary.allowed_max
    else:
        pool_result, pool_max = jijinan(
            application=application,
            ordinary=ordinary,
            prior_grants=prior_grants,
            parameters=parameters,
        )
        how_much = (one_off(application=application), pool_result)

    results = (*who, *how_much)
    curable = _CURABLE_BY_AMOUNT[application.pool]
    blocked = any(not r.passed and r.rule not in curable for r in results)
    allowed_max = Money(0) if blocked else pool_max

    routed = application.amount if application.amount is not None else allowed_max
    level, routing = approval_level(
        amount=routed,
        pool=application.pool,
        amount_is_proposed=application.amount is not None,
        parameters=parameters,
    )
    results = (*results, routing)

    return Evaluation(
        decision_date=on,
        region_code=application.region_code,
        assistance_type=application.assistance_type,
        reason=application.reason,
        disease=application.disease,
        pool=application.pool,
        household_size=application.household_size,
        amount=application.amount,
        allowed_max=allowed_max,
        approval_level=level,
        departments=application.departments,
        results=results,
        parameters=_used_versions(results),
    )


def _used_versions(results: Sequence[RuleResult]) -> tuple[ParameterVersion, ...]:
    """Every version some result depended on, once, in order of first use."""
    seen: dict[tuple[str, int], ParameterVersion] = {}
    for result in results:
        for version in result.parameters:
            seen.setdefault((version.name, version.id), version)
    return tuple(seen.values())
