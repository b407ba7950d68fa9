"""What the rules read: the household, the application and the parameters.

The workflow assembles these from the database; a what-if request builds
them from its body. They are plain values: a rule never fetches anything.
Contradictions that no investigation can resolve (a reason of the wrong
assistance type, a department share on an ordinary grant) are refused here
with ``InconsistentFactsError``; missing evidence is a failed rule instead,
because a clerk can still supply it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, fields
from enum import StrEnum

from app.domain.caps import JIJINAN_POOL, ORDINARY_POOL
from app.domain.catalog import (
    REASONS_BY_TYPE,
    AssistanceType,
    Disease,
    HouseholdCategory,
    Reason,
)
from app.domain.money import Money
from app.domain.parameters import (
    ParameterName,
    ParameterVersion,
    resolve,
    standard_parameter_name,
)
from app.domain.regions import lineage


class InconsistentFactsError(ValueError):
    """The facts contradict each other; no rule can be applied to them."""


class MissingParameterError(LookupError):
    """No version of a parameter is in force for the region on the date."""

    def __init__(self, name: str, on: dt.date) -> None:
        super().__init__(f"{name} on {on.isoformat()}")
        self.name = name
        self.on = on


class Pool(StrEnum):
    """Which money a grant comes from; R2.3 counts one, R2.5 the other."""

    ORDINARY = ORDINARY_POOL  # 临时救助资金
    JIJINAN = JIJINAN_POOL  # 救急难, several departments' funds pooled


class SpecialProgramme(StrEnum):
    """The special programmes of R2.5 whose conditions a 救急难 case must meet."""

    MEDICAL = "medical"  # 医疗救助
    EDUCATION = "education"  # 教育救助
    HOUSING = "housing"  # 住房救助
    LEGAL_AID = "legal_aid"  # 司法援助


class YearWindow(StrEnum):
    CALENDAR = "calendar"
    ROLLING_365 = "rolling_365"


@dataclass(frozen=True, slots=True)
class Member:
    """A household member; ``key`` is the caller's identifier for the person."""

    key: str
    birth_date: dt.date


@dataclass(frozen=True, slots=True)
class HouseholdFacts:
    """The household as the investigation found it.

    ``monthly_income_per_capita`` is ``None`` until an investigation (or the
    economic-status check) has recorded it. Open validity ends are ``None``.
    """

    members: tuple[Member, ...]
    category: HouseholdCategory = HouseholdCategory.NONE
    category_valid_from: dt.date | None = None
    category_valid_until: dt.date | None = None
    monthly_income_per_capita: Money | None = None

    def __post_init__(self) -> None:
        keys = [m.key for m in self.members]
        if len(set(keys)) != len(keys):
            raise InconsistentFactsError("member keys must be unique")

    def member(self, key: str) -> Member | None:
        return next((m for m in self.members if m.key == key), None)


@dataclass(frozen=True, slots=True)
class DepartmentShare:
    """One department's part of a 救急难 grant (R2.5)."""

    department: str
    amount: Money


@dataclass(frozen=True, slots=True)
class ApplicationFacts:
    """The case to decide.

    ``household_size`` is N, the members counted on the application (the
    divisor of every per-capita amount). ``amount`` is the amount proposed or
    to be approved; ``None`` asks only for the limits (what-if).
    ``district_recognition`` is the reference of the district's recognition
    decision for R1.1c, ``None`` when none is recorded. ``patient`` is the
    ``Member.key`` of the ill member and ``diagnosed_on`` the diagnosis date;
    both are needed for the two child diseases of R1.1b.
    """

    assistance_type: AssistanceType
    reason: Reason
    decision_date: dt.date
    region_code: str
    household_size: int
    amount: Money | None = None
    disease: Disease | None = None
    patient: str | None = None
    diagnosed_on: dt.date | None = None
    district_recognition: str | None = None
    pool: Pool = Pool.ORDINARY
    special_programme: SpecialProgramme | None = None
    departments: tuple[DepartmentShare, ...] = ()
    # The shares are the district's to record when it approves; the street's
    # proposal and a what-if without shares are judged on everything else.
    shares_due: bool = True

    def __post_init__(self) -> None:
        if self.household_size < 1:
            raise InconsistentFactsError("a household has at least one member")
        if self.reason not in REASONS_BY_TYPE[self.assistance_type]:
            raise InconsistentFactsError(
                f"reason {self.reason} is not of type {self.assistance_type}"
            )
        if self.disease is not None and self.reason is not Reason.MAJOR_ILLNESS:
            raise InconsistentFactsError("a disease belongs to a major-illness case")
        if self.amount is not None and self.amount.fen < 0:
            raise InconsistentFactsError("an amount is not negative")
        if self.departments and self.pool is not Pool.JIJINAN:
            raise InconsistentFactsError("department shares belong to 救急难 cases")


@dataclass(frozen=True, slots=True)
class PolicyParameters:
    """The versions in force for one decision, S (低保标准) included.

    Every field must hold a version of the parameter it is named after, so
    that a swapped argument fails here and not as a wrong amount.
    """

    standard: ParameterVersion
    child_age_limit: ParameterVersion
    income_multiple: ParameterVersion
    per_case_multiple: ParameterVersion
    annual_multiple: ParameterVersion
    max_same_reason_per_year: ParameterVersion
    year_window: ParameterVersion
    jijinan_annual_cap: ParameterVersion
    street_approval_limit: ParameterVersion

    def __post_init__(self) -> None:
        if not self.standard.name.startswith(standard_parameter_name("")):
            raise InconsistentFactsError(f"{self.standard.name} is not a standard")
        for item in fields(self):
            if item.name == "standard":
                continue
            version: ParameterVersion = getattr(self, item.name)
            if version.name != item.name:
                raise InconsistentFactsError(f"{version.name} given for {item.name}")
        if self.year_window.value not in set(YearWindow):
            raise InconsistentFactsError(f"year_window {self.year_window.value}")

    def versions(self) -> tuple[ParameterVersion, ...]:
        return tuple(getattr(self, item.name) for item in fields(self))

    def check_applies(self, *, region_code: str, on: dt.date) -> None:
        """Refuse versions of another region or not yet in force on ``on``."""
        chain = set(lineage(region_code))
        for version in self.versions():
            if version.region_code not in chain or version.valid_from > on:
                raise InconsistentFactsError(
                    f"{version.name} version {version.id} does not apply to "
                    f"{region_code} on {on.isoformat()}"
                )


def policy_parameters(
    versions: Iterable[ParameterVersion],
    *,
    region_code: str,
    area_type: str,
    on: dt.date,
) -> PolicyParameters:
    """Resolve every parameter the rules need, as in force on ``on``.

    ``area_type`` (urban or rural) selects the 低保标准. Raises
    ``MissingParameterError`` for the first parameter without a version.
    """
    pool = list(versions)

    def pick(name: str) -> ParameterVersion:
        found = resolve(pool, name=name, region_code=region_code, on=on)
        if found is None:
            raise MissingParameterError(name, on)
        return found

    return PolicyParameters(
        standard=pick(standard_parameter_name(area_type)),
        child_age_limit=pick(ParameterName.CHILD_AGE_LIMIT),
        income_multiple=pick(ParameterName.INCOME_MULTIPLE),
        per_case_multiple=pick(ParameterName.PER_CASE_MULTIPLE),
        annual_multiple=pick(ParameterName.ANNUAL_MULTIPLE),
        max_same_reason_per_year=pick(ParameterName.MAX_SAME_REASON_PER_YEAR),
        year_window=pick(ParameterName.YEAR_WINDOW),
        jijinan_annual_cap=pick(ParameterName.JIJINAN_ANNUAL_CAP),
        street_approval_limit=pick(ParameterName.STREET_APPROVAL_LIMIT),
    )
