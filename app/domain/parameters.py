"""Effective-dated, region-scoped policy parameters.

A parameter has versions; each is valid from its date until the next version
of the same region starts. A district's versions override its city's and the
province's. Among versions of one region with the same start date the one
entered last wins, so a correction is a new version, never an edit. A value
published late with back-dated effect is simply a version whose ``valid_from``
lies in the past: decisions taken before it was entered keep the versions
they recorded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Any

from app.domain.money import Money
from app.domain.regions import lineage


class ParameterName(StrEnum):
    CHILD_AGE_LIMIT = "child_age_limit"
    INCOME_MULTIPLE = "income_multiple"
    PER_CASE_MULTIPLE = "per_case_multiple"
    ANNUAL_MULTIPLE = "annual_multiple"
    MAX_SAME_REASON_PER_YEAR = "max_same_reason_per_year"
    YEAR_WINDOW = "year_window"
    JIJINAN_ANNUAL_CAP = "jijinan_annual_cap"
    INVESTIGATION_WORKING_DAYS = "investigation_working_days"
    STREET_APPROVAL_LIMIT = "street_approval_limit"
    SPOT_CHECK_RATIO = "spot_check_ratio"
    PUBLICITY_DAYS = "publicity_days"
    STREET_RESERVE_CAP = "street_reserve_cap"
    STREET_RESERVE_SHARE = "street_reserve_share"
    SMALL_FAST_RELIEF = "small_fast_relief"
    SMALL_FAST_RELIEF_MULTIPLE = "small_fast_relief_multiple"


class ValueKind(StrEnum):
    INTEGER = "integer"
    RATIO = "ratio"  # an exact decimal such as 6 or 0.30
    MONEY = "money"  # yuan with two decimals
    CHOICE = "choice"


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    name: ParameterName
    kind: ValueKind
    default: str
    title_zh: str
    rule: str
    choices: tuple[str, ...] = ()
    # The largest sensible value: a typo such as 99999999 publicity days is
    # refused when entered, not discovered as a failure in a later case.
    maximum: str = ""


SPECS: dict[ParameterName, ParameterSpec] = {
    spec.name: spec
    for spec in (
        ParameterSpec(
            ParameterName.CHILD_AGE_LIMIT,
            ValueKind.INTEGER,
            "18",
            "儿童年龄上限（周岁）",
            "R1.1b",
            maximum="30",
        ),
        ParameterSpec(
            ParameterName.INCOME_MULTIPLE,
            ValueKind.RATIO,
            "2",
            "收入上限倍数（×低保标准）",
            "R1.3",
            maximum="20",
        ),
        ParameterSpec(
            ParameterName.PER_CASE_MULTIPLE,
            ValueKind.RATIO,
            "6",
            "单次人均救助上限倍数（×低保标准）",
            "R2.2",
            maximum="100",
        ),
        ParameterSpec(
            ParameterName.ANNUAL_MULTIPLE,
            ValueKind.RATIO,
            "12",
            "年度人均累计救助上限倍数（×低保标准）",
            "R2.3",
            maximum="200",
        ),
        ParameterSpec(
            ParameterName.MAX_SAME_REASON_PER_YEAR,
            ValueKind.INTEGER,
            "2",
            "同一事由年度救助次数上限",
            "R2.4",
            maximum="12",
        ),
        ParameterSpec(
            ParameterName.YEAR_WINDOW,
            ValueKind.CHOICE,
            "calendar",
            "年度口径（自然年或滚动365天）",
            "R2.4",
            choices=("calendar", "rolling_365"),
        ),
        ParameterSpec(
            ParameterName.JIJINAN_ANNUAL_CAP,
            ValueKind.MONEY,
            "10000.00",
            "救急难年度人均上限（元）",
            "R2.5",
            maximum="1000000.00",
        ),
        ParameterSpec(
            ParameterName.INVESTIGATION_WORKING_DAYS,
            ValueKind.INTEGER,
            "3",
            "调查核实时限（工作日）",
            "R3.3",
            maximum="30",
        ),
        ParameterSpec(
            ParameterName.STREET_APPROVAL_LIMIT,
            ValueKind.MONEY,
            "1000.00",
            "街道审批限额（元，含）",
            "R3.5",
            maximum="1000000.00",
        ),
        ParameterSpec(
            ParameterName.SPOT_CHECK_RATIO,
            ValueKind.RATIO,
            "0.30",
            "区级抽查比例",
            "R3.6",
            maximum="1",
        ),
        ParameterSpec(
            ParameterName.PUBLICITY_DAYS,
            ValueKind.INTEGER,
            "7",
            "公示天数",
            "R3.7",
            maximum="60",
        ),
        ParameterSpec(
            ParameterName.STREET_RESERVE_CAP,
            ValueKind.MONEY,
            "20000.00",
            "街道备用金上限（元）",
            "R5.1",
            maximum="10000000.00",
        ),
        # R5.1 sizes the fund as "a share of last year's spending" without
        # naming the share; 0.10 is the service's reading (docs/policy.md).
        ParameterSpec(
            ParameterName.STREET_RESERVE_SHARE,
            ValueKind.RATIO,
            "0.10",
            "街道备用金占上年度临时救助支出的比例",
            "R5.1",
            maximum="1",
        ),
        # 小额快救 (national opinion of January 2026): an optional procedure a
        # district switches on; off until its own notice adopts it.
        ParameterSpec(
            ParameterName.SMALL_FAST_RELIEF,
            ValueKind.CHOICE,
            "off",
            "小额快救程序（启用/停用）",
            "小额快救",
            choices=("on", "off"),
        ),
        ParameterSpec(
            ParameterName.SMALL_FAST_RELIEF_MULTIPLE,
            ValueKind.RATIO,
            "1",
            "小额快救金额上限倍数（×低保标准，每案）",
            "小额快救",
            maximum="3",
        ),
    )
}


class InvalidParameterValue(ValueError):
    pass


_INTEGER = re.compile(r"^(0|[1-9][0-9]{0,5})$")
_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,5})(\.[0-9]{1,4})?$")


def validate_value(name: ParameterName, value: str) -> str:
    """Check a value against its kind and bounds; return it in canonical form.

    Ratios are plain decimals (``6``, ``0.30``): no exponent, no fraction
    bar, so that what an explanation quotes is what a clerk would write.
    """
    spec = SPECS[name]
    text = value.strip()
    if spec.kind is ValueKind.CHOICE:
        if text not in spec.choices:
            raise InvalidParameterValue(value)
        return text
    try:
        if spec.kind is ValueKind.INTEGER:
            if not _INTEGER.fullmatch(text):
                raise ValueError(value)
            canonical, size = text, Fraction(text)
        elif spec.kind is ValueKind.RATIO:
            if not _DECIMAL.fullmatch(text):
                raise ValueError(value)
            canonical, size = text, Fraction(text)
        else:
            money = Money.parse(text)
            canonical, size = str(money), Fraction(money.fen, 100)
    except ValueError as exc:
        raise InvalidParameterValue(value) from exc
    if spec.maximum and size > Fraction(spec.maximum):
        raise InvalidParameterValue(value)
    return canonical


@dataclass(frozen=True, slots=True)
class ParameterVersion:
    """One stored version, as the policy functions consume it."""

    id: int
    name: str
    region_code: str
    valid_from: dt.date
    value: str

    def as_int(self) -> int:
        return int(self.value)

    def as_fraction(self) -> Fraction:
        return Fraction(self.value)

    def as_money(self) -> Money:
        return Money.parse(self.value)

    def reference(self) -> dict[str, Any]:
        """What a decision records so that it can be explained years later."""
        return {
            "name": self.name,
            "version_id": self.id,
            "region_code": self.region_code,
            "valid_from": self.valid_from.isoformat(),
            "value": self.value,
        }


def standard_parameter_name(area_type: str) -> str:
    """Minimum-living-guarantee standards resolve like parameters by this name."""
    return f"dibao_standard.{area_type}"


def resolve(
    versions: Iterable[ParameterVersion], *, name: str, region_code: str, on: dt.date
) -> ParameterVersion | None:
    """The version in force for ``region_code`` on ``on``, or ``None``."""
    candidates = [v for v in versions if v.name == name and v.valid_from <= on]
    for code in lineage(region_code):
        own = [v for v in candidates if v.region_code == code]
        if own:
            return max(own, key=lambda v: (v.valid_from, v.id))
    return None
