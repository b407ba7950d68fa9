"""Listing applications, and the caps as the district meets them."""

from __future__ import annotations

from typing import Any

from tests.support import Api, id_number

FULL_MATERIALS = [
    "application_form",
    "id_card_copy",
    "household_register_copy",
    "hardship_evidence",
]


async def _apply(api: Api, household_id: int, amount: str, reason: str) -> int:
    created = await api.ok(
        "POST",
        "/api/v1/applications",
        who="community1",
        status=201,
        json={
            "household_id": household_id,
            "assistance_type": "emergency",
            "reason": reason,
            "district_recognition": "石民救认〔2026〕1号"
            if reason == "other_hardship"
            else None,
            "description": "突发困难",
            "requested_amount": amount,
            "materials": FULL_MATERIALS,
        },
    )
    return int(created["id"])


async def _to_district(api: Api, app_id: int, proposed: str) -> None:
    await api.ok(
        "POST",
        f"/api/v1/applications/{app_id}/intake",
        who="community1",
        json={"decision": "accept"},
    )
    await api.ok(
        "POST",
        f"/api/v1/applications/{app_id}/investigation",
        who="community1",
        json={"home_visit_done": True, "monthly_income_per_capita": "0.00"},
    )
    await api.ok(
        "POST",
        f"/api/v1/applications/{app_id}/street-opinion",
        who="street1",
        json={"decision": "eligible", "proposed_amount": proposed},
    )


async def _approve(api: Api, app_id: int, amount: str) -> Any:
    return await api.call(
        "POST",
        f"/api/v1/applications/{app_id}/district-decision",
        who="officer1",
        json={"decision": "approve", "amount": amount},
    )


async def test_pages_follow_the_cursor_newest_first_without_gaps(api: Api) -> None:
    household = await api.household(
        members=[("吴九", id_number("430204", "19790909", 51), "本人", "1979-09-09")]
    )
    ids = [await _apply(api, household["id"], "100.00", "accident") for _ in range(5)]

    first = await api.ok("GET", "/api/v1/applications?limit=2", who="community1")
    second = await api.ok(
        "GET",
        f"/api/v1/applications?limit=2&cursor={first['next_cursor']}",
        who="community1",
    )
    third = await api.ok(
        "GET",
        f"/api/v1/applications?limit=2&cursor={second['next_cursor']}",
        who="community1",
    )

    seen = [a["id"] for page in (first, second, third) for a in page["items"]]
    assert seen == sorted(ids, reverse=True)
    assert third["next_cursor"] is None


async def test_a_malformed_cursor_is_a_clear_422(api: Api) -> None:
    response = await api.call(
        "GET", "/api/v1/applications?cursor=not-a-cursor", who="community1"
    )

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


async def test_filters_narrow_the_list(api: Api) -> None:
    household = await api.household(
        members=[("郑十", id_number("430204", "19810101", 52), "本人", "1981-01-01")]
    )
    accepted = await _apply(api, household["id"], "100.00", "accident")
    await _apply(api, household["id"], "100.00", "accident")
    await api.ok(
        "POST",
        f"/api/v1/applications/{accepted}/intake",
        who="community1",
        json={"decision": "accept"},
    )

    listed = await api.ok("GET", "/api/v1/applications?status=accepted", who="street1")

    assert [a["id"] for a in listed["items"]] == [accepted]


async def test_the_annual_per_capita_cap_counts_earlier_grants_of_the_year(
    api: Api,
) -> None:
    # One person, S = 720: per case ≤ 4,320, per year ≤ 8,640 per capita.
    household = await api.household(
        members=[("钱一", id_number("430204", "19660606", 53), "本人", "1966-06-06")]
    )
    first = await _apply(api, household["id"], "4320.00", "accident")
    await _to_district(api, first, "4320.00")
    assert (await _approve(api, first, "4320.00")).status_code == 200
    second = await _apply(api, household["id"], "4320.00", "other_hardship")
    await _to_district(api, second, "4320.00")
    assert (await _approve(api, second, "4320.00")).status_code == 200
    third = await _apply(api, household["id"], "0.01", "accident")
    await api.ok(
        "POST",
        f"/api/v1/applications/{third}/intake",
        who="community1",
        json={"decision": "accept"},
    )
    await api.ok(
        "POST",
        f"/api/v1/applications/{third}/investigation",
        who="community1",
        json={"home_visit_done": True, "monthly_income_per_capita": "0.00"},
    )

    refused = await api.call(
        "POST",
        f"/api/v1/applications/{third}/street-opinion",
        who="street1",
        json={"decision": "eligible", "proposed_amount": "0.01"},
    )

    assert refused.status_code == 422
    problem = refused.json()
    assert problem["failed_rules"] == ["R2.3"]
    assert problem["allowed_max"] == "0.00"
    assert "人均累计 8,640.00 元" in problem["detail"]
