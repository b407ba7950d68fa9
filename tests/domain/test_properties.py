"""Properties over any history of approvals and standard changes.

Each history is a sequence of days on which either a new 低保标准 version
is entered (possibly back-dated) or the household applies; every
application is approved at an amount at or below what ``evaluate`` allows.
The checks recompute the caps from the grants themselves, not through the
code under test.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass
from fractions import Fraction

from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.domain.caps import PriorGrant
from app.domain.catalog import Disease, HouseholdCategory, Reason
from app.domain.eligibility import (
    ApplicationFacts,
    DepartmentShare,
    Pool,
    SpecialProgramme,
    evaluate,
    policy_parameters,
)
from app.domain.money import Money
from app.domain.parameters import ParameterVersion, standard_parameter_name
from tests.domain.builders import (
    COMMUNITY,
    DISTRICT,
    application,
    household,
    notice_versions,
    standard,
)

# Half a year either side of New Year: every history can cross a year
# boundary, and enough requests fall into one year to spend its cap.
FIRST_DAY = dt.date(2024, 10, 1)
DAYS = 182
FACTS = household(category=HouseholdCategory.DIBAO)
ANNUAL_MULTIPLE = 12
JIJINAN_CAP_FEN = 1_000_000


@dataclass(frozen=True)
class StandardChange:
    day: int
    back_days: int
    value_fen: int


@dataclass(frozen=True)
class Request:
    day: int
    size: int
    reason: Reason
    share: Fraction  # of the allowed maximum
    pool: Pool


@dataclass(frozen=True)
class Approved:
    grant: PriorGrant
    standard_fen: int
    ordinary_used_before: Fraction


standard_changes = st.builds(
    StandardChange,
    day=st.integers(0, DAYS - 1),
    back_days=st.integers(0, 120),
    value_fen=st.integers(30_000, 150_000),
)
requests = st.builds(
    Request,
    day=st.integers(0, DAYS - 1),
    size=st.integers(1, 6),
    reason=st.sampled_from(list(Reason)),
    # Whole shares spend the ordinary pool, so that 救急难 cases arise.
    share=st.one_of(
        st.just(Fraction(1)), st.fractions(min_value=Fraction(1, 100), max_value=1)
    ),
    pool=st.sampled_from(list(Pool)),
)
# Standard changes are rarer than requests: a raise reopens the ordinary
# pool, and too many of them would rarely let a year's cap be spent.
histories = st.lists(
    st.one_of(standard_changes, requests, requests, requests), min_size=4, max_size=40
).map(lambda steps: sorted(steps, key=lambda step: step.day))


# Spent by two whole grants, then 救急难; a back-dated raise of S reopens the
# ordinary pool, so the next 救急难 request becomes an ordinary grant.
SPENT_THEN_RAISED: list[StandardChange | Request] = [
    Request(0, 3, Reason.ACCIDENT, Fraction(1), Pool.ORDINARY),
    Request(1, 2, Reason.MEDICAL, Fraction(1), Pool.ORDINARY),
    Request(2, 3, Reason.EDUCATION, Fraction(1, 2), Pool.JIJINAN),
    StandardChange(3, 30, 80_000),
    Request(4, 4, Reason.EDUCATION, Fraction(1), Pool.JIJINAN),
    Request(5, 4, Reason.OTHER_EXPENSE, Fraction(1), Pool.JIJINAN),
]


def _facts_for(request: Request, on: dt.date, amount: Money | None) -> ApplicationFacts:
    extra: dict[str, object] = {}
    if request.reason is Reason.MAJOR_ILLNESS:
        extra["disease"] = Disease.MALIGNANT_TUMOUR
    if request.reason is Reason.OTHER_HARDSHIP:
        extra["district_recognition"] = "石民认〔2024〕1号"
    if request.pool is Pool.JIJINAN:
        extra["special_programme"] = SpecialProgramme.MEDICAL
        if amount is not None:
            extra["departments"] = (DepartmentShare("区民政局", amount),)
    return application(
        on=on,
        reason=request.reason,
        household_size=request.size,
        amount=None if amount is None else str(amount),
        pool=request.pool,
        **extra,
    )


def _ordinary_used(approved: list[Approved], year: int) -> Fraction:
    return sum(
        (
            a.grant.per_capita_fen
            for a in approved
            if a.grant.pool == Pool.ORDINARY and a.grant.decided_on.year == year
        ),
        Fraction(0),
    )


def _replay(
    history: list[StandardChange | Request],
) -> tuple[list[Approved], list[ParameterVersion]]:
    """Approve every request that can be, at its share of the maximum.

    Returns the approvals and the parameter versions entered by the end.
    """
    versions: list[ParameterVersion] = [
        *notice_versions(),
        standard("650.00", valid_from=dt.date(2019, 1, 1), version_id=100),
    ]
    approved: list[Approved] = []

    for step in history:
        on = FIRST_DAY + dt.timedelta(days=step.day)
        if isinstance(step, StandardChange):
            versions.append(
                ParameterVersion(
                    id=len(versions) + 100,
                    name=standard_parameter_name("urban"),
                    region_code=DISTRICT,
                    valid_from=on - dt.timedelta(days=step.back_days),
                    value=str(Money(step.value_fen)),
                )
            )
            continue

        params = policy_parameters(
            versions, region_code=COMMUNITY, area_type="urban", on=on
        )
        prior = [a.grant for a in approved]
        what_if = evaluate(
            household=FACTS,
            application=_facts_for(step, on, None),
            prior_grants=prior,
            parameters=params,
        )
        if what_if.allowed_max.fen == 0 and step.pool is Pool.JIJINAN:
            # A clerk turned away from 救急难 applies for ordinary assistance.
            step = dataclasses.replace(step, pool=Pool.ORDINARY)
            what_if = evaluate(
                household=FACTS,
                application=_facts_for(step, on, None),
                prior_grants=prior,
                parameters=params,
            )
        if what_if.allowed_max.fen == 0:
            assert not what_if.eligible
            continue

        amount = Money(max(1, math.floor(what_if.allowed_max.fen * step.share)))
        decision = evaluate(
            household=FACTS,
            application=_facts_for(step, on, amount),
            prior_grants=prior,
            parameters=params,
        )
        assert decision.eligible, decision.failed_rules
        approved.append(
            Approved(
                grant=PriorGrant(
                    decided_on=on,
                    amount=amount,
                    household_size=step.size,
                    reason=step.reason.value,
                    pool=step.pool.value,
                ),
                standard_fen=params.standard.as_money().fen,
                ordinary_used_before=_ordinary_used(approved, on.year),
            )
        )
    return approved, versions


@settings(max_examples=300, deadline=None)
@given(histories)
@example(SPENT_THEN_RAISED)
def test_annual_per_capita_sum_never_exceeds_twelve_standards_of_each_decision(
    history: list[StandardChange | Request],
) -> None:
    approved, _ = _replay(history)

    for index, entry in enumerate(approved):
        if entry.grant.pool != Pool.ORDINARY:
            continue
        year = entry.grant.decided_on.year
        used = _ordinary_used(approved[: index + 1], year)
        assert used <= ANNUAL_MULTIPLE * entry.standard_fen


def test_the_spent_then_raised_history_uses_both_pools() -> None:
    # S 650: 3,900 + 3,900 per capita spends 7,800; 救急难 takes half of
    # 3 × 10,000. S 800 from 2024-09-04: 9,600 − 7,800 = 1,800 × 4 reopens
    # the ordinary pool; then 救急难 has 10,000 − 5,000 = 5,000 × 4 left.
    approved, _ = _replay(SPENT_THEN_RAISED)

    assert [(a.grant.pool, str(a.grant.amount)) for a in approved] == [
        ("ordinary", "11700.00"),
        ("ordinary", "7800.00"),
        ("jijinan", "15000.00"),
        ("ordinary", "7200.00"),
        ("jijinan", "20000.00"),
    ]


@settings(max_examples=300, deadline=None)
@given(histories)
@example(SPENT_THEN_RAISED)
def test_jijinan_pool_is_never_used_before_the_ordinary_limit_is_reached(
    history: list[StandardChange | Request],
) -> None:
    approved, _ = _replay(history)

    for index, entry in enumerate(approved):
        if entry.grant.pool != Pool.JIJINAN:
            continue
        room = ANNUAL_MULTIPLE * entry.standard_fen - entry.ordinary_used_before
        assert math.floor(room * entry.grant.household_size) <= 0
        year = entry.grant.decided_on.year
        pooled = sum(
            (
                a.grant.per_capita_fen
                for a in approved[: index + 1]
                if a.grant.pool == Pool.JIJINAN and a.grant.decided_on.year == year
            ),
            Fraction(0),
        )
        assert pooled <= JIJINAN_CAP_FEN


@settings(max_examples=200, deadline=None)
@given(histories)
def test_no_reason_is_granted_more_than_twice_in_a_calendar_year(
    history: list[StandardChange | Request],
) -> None:
    approved, _ = _replay(history)

    seen: dict[tuple[int, str], int] = {}
    for entry in approved:
        if entry.grant.pool == Pool.ORDINARY:
            key = (entry.grant.decided_on.year, entry.grant.reason)
            seen[key] = seen.get(key, 0) + 1
    assert all(count <= 2 for count in seen.values())


@settings(max_examples=300, deadline=None)
@given(histories, st.integers(0, DAYS - 1), st.integers(1, 6))
def test_the_allowed_maximum_passes_and_one_fen_more_is_refused(
    history: list[StandardChange | Request], day: int, size: int
) -> None:
    approved, versions = _replay([s for s in history if s.day <= day])
    on = FIRST_DAY + dt.timedelta(days=day)
    params = policy_parameters(
        versions, region_code=COMMUNITY, area_type="urban", on=on
    )
    ask = Request(day, size, Reason.OTHER_EXPENSE, Fraction(1), Pool.ORDINARY)

    def decide(amount: Money | None) -> bool:
        return evaluate(
            household=FACTS,
            application=_facts_for(ask, on, amount),
            prior_grants=[a.grant for a in approved],
            parameters=params,
        ).eligible

    allowed = evaluate(
        household=FACTS,
        application=_facts_for(ask, on, None),
        prior_grants=[a.grant for a in approved],
        parameters=params,
    ).allowed_max
    if allowed.fen > 0:
        assert decide(allowed)
    assert not decide(allowed + Money(1))
