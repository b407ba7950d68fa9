"""The what-if endpoint and the approval give the same answer on the same facts."""

from __future__ import annotations

from typing import Any

from app.clock import OffsetClock
from tests.support import FULL_MATERIALS, Api, id_number


async def _reviewed(api: Api, household_id: int, proposed: str, **facts: Any) -> int:
    body = {
        "household_id": household_id,
        "assistance_type": "emergency",
        "reason": "accident",
        "description": "突发事件",
        "requested_amount": proposed,
        "materials": FULL_MATERIALS,
    }
    created = await api.ok(
        "POST", "/api/v1/applications", who="community1", status=201, json=body | facts
    )
    app_id = int(created["id"])
    base = f"/api/v1/applications/{app_id}"
    await api.ok(
        "POST", base + "/intake", who="community1", json={"decision": "accept"}
    )
    await api.ok(
        "POST",
        base + "/investigation",
        who="community1",
        json={"home_visit_done": True, "monthly_income_per_capita": "200.00"},
    )
    await api.ok(
        "POST",
        base + "/street-opinion",
        who="street1",
        json={"decision": "eligible", "proposed_amount": proposed},
    )
    return app_id


async def test_what_if_and_approval_agree_to_the_fen_and_in_words(api: Api) -> None:
    household = await api.household(
        members=[
            ("褚一", id_number("430204", "19800101", 91), "本人", "1980-01-01"),
            ("褚二", id_number("430204", "19810101", 91), "配偶", "1981-01-01"),
        ]
    )
    app_id = await _reviewed(api, household["id"], "1500.00")

    limits = await api.ok(
        "POST",
        "/api/v1/eligibility/evaluate",
        who="officer1",
        json={"application_id": app_id},
    )
    assert limits["eligible"] is True
    assert limits["allowed_max"] == "8640.00"  # 6 × 720 × 2
    assert limits["approval_level"] == "district"
    assert any("6×720.00×2 = 8,640.00" in s for s in limits["sentences"])

    over = await api.call(
        "POST",
        f"/api/v1/applications/{app_id}/district-decision",
        who="officer1",
        json={"decision": "approve", "amount": "8640.01"},
    )
    assert over.status_code == 422
    assert over.json()["allowed_max"] == limits["allowed_max"]

    trial = await api.ok(
        "POST",
        "/api/v1/eligibility/evaluate",
        who="officer1",
        json={"application_id": app_id, "amount": "8640.00"},
    )
    approved = await api.ok(
        "POST",
        f"/api/v1/applications/{app_id}/district-decision",
        who="officer1",
        json={"decision": "approve", "amount": "8640.00"},
    )
    assert approved["decisions"][-1]["explanation"] == trial["explanation"]


async def test_what_if_changes_nothing(api: Api) -> None:
    household = await api.household(
        members=[("卫三", id_number("430204", "19820303", 92), "本人", "1982-03-03")]
    )
    app_id = await _reviewed(api, household["id"], "500.00")
    before = await api.ok("GET", f"/api/v1/applications/{app_id}", who="officer1")

    await api.ok(
        "POST",
        "/api/v1/eligibility/evaluate",
        who="officer1",
        json={"application_id": app_id, "amount": "400.00"},
    )

    after = await api.ok("GET", f"/api/v1/applications/{app_id}", who="officer1")
    assert after == before


async def test_expenditure_help_needs_one_of_the_four_groups(api: Api) -> None:
    household = await api.household(
        members=[("蒋四", id_number("430204", "19830404", 93), "本人", "1983-04-04")]
    )

    verdict = await api.ok(
        "POST",
        "/api/v1/eligibility/evaluate",
        who="street1",
        json={
            "household_id": household["id"],
            "case": {"assistance_type": "expenditure", "reason": "medical"},
        },
    )

    assert verdict["eligible"] is False
    assert verdict["failed_rules"] == ["R1.2"]
    assert verdict["allowed_max"] == "0.00"


async def test_a_child_illness_counts_until_the_eighteenth_birthday(
    api: Api, clock: OffsetClock
) -> None:
    # The test clock's day is 2026-03-02.
    household = await api.household(
        members=[
            ("沈五", id_number("430204", "19800505", 94), "本人", "1980-05-05"),
            ("沈小", id_number("430204", "20080302", 94), "子女", "2008-03-02"),
        ]
    )
    child = household["members"][1]["id"]
    case = {
        "assistance_type": "emergency",
        "reason": "major_illness",
        "disease": "child_leukaemia",
        "patient_member_id": child,
    }

    day_before = await api.ok(
        "POST",
        "/api/v1/eligibility/evaluate",
        who="street1",
        json={
            "household_id": household["id"],
            "case": {**case, "diagnosed_on": "2026-03-01"},
        },
    )
    birthday = await api.ok(
        "POST",
        "/api/v1/eligibility/evaluate",
        who="street1",
        json={
            "household_id": household["id"],
            "case": {**case, "diagnosed_on": "2026-03-02"},
        },
    )

    assert day_before["eligible"] is True
    assert birthday["eligible"] is False
    assert birthday["failed_rules"] == ["R1.1b"]


async def test_a_jijinan_case_is_refused_while_the_ordinary_pool_has_room(
    api: Api,
) -> None:
    household = await api.household(
        members=[("杨六", id_number("430204", "19840606", 95), "本人", "1984-06-06")]
    )
    verdict = await api.ok(
        "POST",
        "/api/v1/eligibility/evaluate",
        who="street1",
        json={
            "household_id": household["id"],
            "case": {
                "assistance_type": "emergency",
                "reason": "accident",
                "pool": "jijinan",
                "special_programme": "medical",
            },
            "amount": "1000.00",
        },
    )

    assert verdict["eligible"] is False
    assert verdict["failed_rules"] == ["R2.5"]
    assert any("应先按普通临时救助办理" in s for s in verdict["sentences"])


async def test_a_jijinan_grant_after_the_ordinary_limit_records_the_shares(
    api: Api,
) -> None:
    household = await api.household(
        members=[("朱七", id_number("430204", "19850707", 96), "本人", "1985-07-07")]
    )
    for reason_seq in range(2):  # two ordinary grants of 4,320 use the year's 8,640
        ordinary = await _reviewed(
            api,
            household["id"],
            "4320.00",
            reason="accident" if reason_seq == 0 else "other_hardship",
            district_recognition="石民救认〔2026〕2号",
        )
        await api.ok(
            "POST",
            f"/api/v1/applications/{ordinary}/district-decision",
            who="officer1",
            json={"decision": "approve"},
        )
    pooled = await _reviewed(
        api, household["id"], "3000.00", pool="jijinan", special_programme="medical"
    )

    without_shares = await api.call(
        "POST",
        f"/api/v1/applications/{pooled}/district-decision",
        who="assistlead1",
        json={"decision": "approve"},
    )
    assert without_shares.status_code == 422
    assert "未记录出资部门及其份额" in without_shares.json()["detail"]

    approved = await api.ok(
        "POST",
        f"/api/v1/applications/{pooled}/district-decision",
        who="assistlead1",
        json={
            "decision": "approve",
            "departments": [
                {"department": "区民政局", "amount": "1800.00"},
                {"department": "区医保局", "amount": "1200.00"},
            ],
        },
    )
    assert approved["approved_amount"] == "3000.00"
    explanation = approved["decisions"][-1]["explanation"]
    assert explanation["pool"] == "jijinan"
    assert explanation["departments"] == [
        {"department": "区民政局", "amount": "1800.00"},
        {"department": "区医保局", "amount": "1200.00"},
    ]
