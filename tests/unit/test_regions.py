from __future__ import annotations

import pytest

from app.domain.regions import (
    RegionLevel,
    ancestor_at,
    contains,
    level_of,
    lineage,
    scope_prefix,
)


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("430000000000", RegionLevel.PROVINCE),
        ("430200000000", RegionLevel.CITY),
        ("430204000000", RegionLevel.DISTRICT),
        ("430204001000", RegionLevel.STREET),
        ("430204001001", RegionLevel.COMMUNITY),
        ("430204102201", RegionLevel.COMMUNITY),
    ],
)
def test_the_level_is_read_from_the_code(code: str, level: RegionLevel) -> None:
    assert level_of(code) is level


def test_a_street_contains_its_communities_and_nothing_else() -> None:
    street = "430204001000"

    assert scope_prefix(street) == "430204001"
    assert contains(street, "430204001002")
    assert not contains(street, "430204002001")
    assert not contains("430204001001", "430204001002")
    assert contains("430204000000", "430204102201")


def test_lineage_runs_from_the_community_up_to_the_province() -> None:
    assert lineage("430204001001") == [
        "430204001001",
        "430204001000",
        "430204000000",
        "430200000000",
        "430000000000",
    ]
    assert lineage("430204000000") == ["430204000000", "430200000000", "430000000000"]
    assert ancestor_at("430204001001", RegionLevel.DISTRICT) == "430204000000"
