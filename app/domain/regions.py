"""Administrative divisions and the scope they give a user.

Statistical division codes have 12 digits: province (2), city (2), district
(2), street or town (3), community or village (3). A region's subtree is
every code that starts with its significant prefix, so scope checks need no
tree walk.
"""

from __future__ import annotations

from enum import StrEnum


class RegionLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"


_PREFIX_LENGTH = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.DISTRICT: 6,
    RegionLevel.STREET: 9,
    RegionLevel.COMMUNITY: 12,
}


def level_of(code: str) -> RegionLevel:
    """Infer the level from the trailing zeros of a 12-digit code."""
    if code[2:] == "0" * 10:
        return RegionLevel.PROVINCE
    if code[4:] == "0" * 8:
        return RegionLevel.CITY
    if code[6:] == "0" * 6:
        return RegionLevel.DISTRICT
    if code[9:] == "000":
        return RegionLevel.STREET
    return RegionLevel.COMMUNITY


def scope_prefix(code: str) -> str:
    """The prefix shared by every code in the region's subtree."""
    return code[: _PREFIX_LENGTH[level_of(code)]]


def contains(scope_code: str, code: str) -> bool:
    return code.startswith(scope_prefix(scope_code))


def ancestor_at(code: str, level: RegionLevel) -> str:
    """The code of the region at ``level`` that contains ``code``."""
    length = _PREFIX_LENGTH[level]
    return code[:length] + "0" * (12 - length)


def lineage(code: str) -> list[str]:
    """The region and its ancestors, most specific first (for parameter lookup)."""
    chain = [code]
    for level in (
        RegionLevel.STREET,
        RegionLevel.DISTRICT,
        RegionLevel.CITY,
        RegionLevel.PROVINCE,
    ):
        parent = ancestor_at(code, level)
        if parent != chain[-1]:
            chain.append(parent)
    return chain
