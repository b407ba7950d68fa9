"""Advance assistance (R3.9): paid at once from the reserve, topped up later."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.clock import OffsetClock
from tests.support import FULL_MATERIALS, Api, approval, fund_the_street, id_number

STREET = "430204001000"


async def _accepted(api: Api, *, seq: int, kind: str = "emergency") -> int:
    household = await api.household(
        members=[("尤一", id_number("430204", "19690909", seq), "本人", "")]
    )
    created = await api.ok(
        "POST",
        "/api/v1/applications",
        who="community1",
        status=201,
        json={
            "household_id": household["id"],
            "assistance_type": kind,
            "reason": "accident" if kind == "emergency" else "education",
            "description": "住房失火，急需救助",
            "requested_amount": "3000.00",
            "materials": FULL_MATERIALS,
        },
    )
    app_id = int(created["id"])
    await api.ok(
        "POST",
        f"/api/v1/applications/{app_id}/intake",
        who="community1",
        json={"decision": "accept"},
    )
    return app_id


async def _through_publicity(
    api: Api, clock: OffsetClock, app_id: int, amount: str
) -> dict[str, Any]:
    base = f"/api/v1/applications/{app_id}"
    await api.ok(
        "POST",
        base + "/investigation",
        who="community1",
        json={"home_visit_done": True, "monthly_income_per_capita": "0.00"},
    )
    await api.ok(
        "POST",
        base + "/street-opinion",
        who="street1",
        json={"decision": "eligible", "proposed_amount": amount},
    )
    who, path, body = approval(amount)
    await api.ok("POST", base + path, who=who, json=body)
    await api.ok("POST", base + "/publicity/start", who="street1")
    clock.advance(dt.timedelta(days=7))
    closed: dict[str, Any] = await api.ok(
        "POST", base + "/publicity/close", who="street1"
    )
    return closed


async def test_an_advance_comes_from_the_reserve_and_the_top_up_from_the_bank(
    api: Api, clock: OffsetClock
) -> None:
    await fund_the_street(api)
    app_id = await _accepted(api, seq=701)

    advanced = await api.ok(
        "POST",
        f"/api/v1/applications/{app_id}/advance",
        who="streetlead1",
        json={"amount": "1000.00", "note": "火灾当日先行救助"},
    )
    fund = await api.ok("GET", f"/api/v1/reserve-funds/{STREET}", who="officer1")

    assert advanced["advance"] == "1000.00"
    assert advanced["status"] == "accepted"
    assert fund["balance"] == "19000.00"
    assert fund["movements"][-1]["application_id"] == app_id
    again = await api.call(
        "POST",
        f"/api/v1/applications/{app_id}/advance",
        who="streetlead1",
        json={"amount": "100.00"},
    )
    assert again.status_code == 409

    await _through_publicity(api, clock, app_id, "3000.00")
    form = await api.ok(
        "POST",
        "/api/v1/disbursement-forms",
        who="officer1",
        status=201,
        json={"application_ids": [app_id]},
    )
    assert form["total"] == "2000.00"  # 3,000 approved less the 1,000 advance
    assert form["payments"][0]["amount"] == "2000.00"


async def test_an_advance_above_the_final_amount_is_settled_and_recovered(
    api: Api, clock: OffsetClock
) -> None:
    await fund_the_street(api)
    app_id = await _accepted(api, seq=702)
    await api.ok(
        "POST",
        f"/api/v1/applications/{app_id}/advance",
        who="officer1",
        json={"amount": "1500.00"},
    )
    await _through_publicity(api, clock, app_id, "900.00")

    on_form = await api.call(
        "POST",
        "/api/v1/disbursement-forms",
        who="officer1",
        json={"application_ids": [app_id]},
    )
    settled = await api.ok(
        "POST", f"/api/v1/applications/{app_id}/advance/settlement", who="officer1"
    )
    recoveries = await api.ok(
        "GET", f"/api/v1/applications/{app_id}/recoveries", who="officer1"
    )

    assert on_form.status_code == 409
    assert settled["status"] == "paid"
    assert [(r["reason"], r["amount"]) for r in recoveries] == [
        ("advance_excess", "600.00")
    ]


async def test_an_advance_needs_an_emergency_a_fund_and_room_under_the_caps(
    api: Api,
) -> None:
    expenditure = await _accepted(api, seq=703, kind="expenditure")
    refused = await api.call(
        "POST",
        f"/api/v1/applications/{expenditure}/advance",
        who="streetlead1",
        json={"amount": "100.00"},
    )
    assert refused.status_code == 409
    assert "急难型" in refused.json()["detail"]

    app_id = await _accepted(api, seq=704)
    no_fund = await api.call(
        "POST",
        f"/api/v1/applications/{app_id}/advance",
        who="streetlead1",
        json={"amount": "100.00"},
    )
    assert no_fund.status_code == 409
    assert no_fund.json()["detail"] == "本街道备用金未设立或余额为 0，不能先行救助。"

    await fund_the_street(api)
    over_cap = await api.call(
        "POST",
        f"/api/v1/applications/{app_id}/advance",
        who="streetlead1",
        json={"amount": "4320.01"},  # one person: 6 × 720 = 4,320.00
    )
    assert over_cap.status_code == 422
    assert over_cap.json()["code"] == "cap_exceeded"
    fund = await api.ok("GET", f"/api/v1/reserve-funds/{STREET}", who="officer1")
    assert fund["balance"] == "20000.00"


async def test_an_advance_on_a_refused_case_is_recovered_in_full(api: Api) -> None:
    await fund_the_street(api)
    app_id = await _accepted(api, seq=705)
    base = f"/api/v1/applications/{app_id}"
    await api.ok(
        "POST", base + "/advance", who="streetlead1", json={"amount": "1500.00"}
    )
    await api.ok(
        "POST",
        base + "/investigation",
        who="community1",
        json={"home_visit_done": True, "monthly_income_per_capita": "0.00"},
    )

    refused = await api.ok(
        "POST",
        base + "/street-opinion",
        who="street1",
        json={"decision": "refused", "opinion": "经调查，火灾损失已由保险赔付"},
    )
    recoveries = await api.ok("GET", base + "/recoveries", who="officer1")

    assert refused["status"] == "refused"
    assert [(r["reason"], r["amount"], r["status"]) for r in recoveries] == [
        ("advance_excess", "1500.00", "open")
    ]


async def test_an_advance_counts_against_the_caps_from_the_day_it_is_paid(
    api: Api,
) -> None:
    # One person, S = 720: 4,320.00 per case, 8,640.00 a year.
    await fund_the_street(api)
    household = await api.household(
        members=[("尤二", id_number("430204", "19680808", 706), "本人", "")]
    )
    first = await _accepted_for(api, household["id"], "accident")
    await api.ok(
        "POST",
        f"/api/v1/applications/{first}/advance",
        who="streetlead1",
        json={"amount": "4320.00"},
    )
    second = await _accepted_for(api, household["id"], "other_hardship")

    limits = await api.ok(
        "POST",
        "/api/v1/eligibility/evaluate",
        who="officer1",
        json={"application_id": second, "amount": "4320.01"},
    )

    assert limits["eligible"] is False
    assert limits["allowed_max"] == "4320.00"  # the year's other half
    advance_left = await api.ok(
        "POST",
        "/api/v1/eligibility/evaluate",
        who="officer1",
        json={"application_id": first},
    )
    assert advance_left["allowed_max"] == "4320.00"  # its own advance not twice


async def test_goods_in_kind_cannot_follow_a_cash_advance(api: Api) -> None:
    await fund_the_street(api)
    app_id = await _accepted(api, seq=707)
    base = f"/api/v1/applications/{app_id}"
    await api.ok(
        "POST", base + "/advance", who="streetlead1", json={"amount": "500.00"}
    )
    await api.ok(
        "POST",
        base + "/investigation",
        who="community1",
        json={"home_visit_done": True, "monthly_income_per_capita": "0.00"},
    )

    response = await api.call(
        "POST",
        base + "/street-opinion",
        who="street1",
        json={
            "decision": "eligible",
            "proposed_amount": "800.00",
            "form_of_help": "in_kind",
            "items": [{"name": "棉被", "quantity": 4, "unit_value": "200.00"}],
        },
    )

    assert response.status_code == 422
    assert "已先行支付现金救助" in response.json()["detail"]


async def _accepted_for(api: Api, household_id: int, reason: str) -> int:
    created = await api.ok(
        "POST",
        "/api/v1/applications",
        who="community1",
        status=201,
        json={
            "household_id": household_id,
            "assistance_type": "emergency",
            "reason": reason,
            "district_recognition": "石民救认〔2026〕9号"
            if reason == "other_hardship"
            else None,
            "description": "突发困难",
            "requested_amount": "4320.00",
            "materials": FULL_MATERIALS,
        },
    )
    app_id = int(created["id"])
    await api.ok(
        "POST",
        f"/api/v1/applications/{app_id}/intake",
        who="community1",
        json={"decision": "accept"},
    )
    return app_id


async def test_an_advance_may_take_the_whole_balance(api: Api) -> None:
    await api.ok(
        "POST",
        "/api/v1/reserve-funds",
        who="officer1",
        status=201,
        json={"street_code": STREET, "year": 2026, "last_year_spending": "15000.00"},
    )
    await api.ok(
        "POST",
        f"/api/v1/reserve-funds/{STREET}/replenishments",
        who="officer1",
        status=201,
        json={"amount": "1500.00", "note": "年初拨付"},
    )
    first = await _accepted(api, seq=711)
    second = await _accepted(api, seq=712)

    advanced = await api.ok(
        "POST",
        f"/api/v1/applications/{first}/advance",
        who="streetlead1",
        json={"amount": "1500.00"},
    )
    fund = await api.ok("GET", f"/api/v1/reserve-funds/{STREET}", who="officer1")
    other = await api.ok("GET", f"/api/v1/applications/{second}", who="streetlead1")

    assert advanced["advance"] == "1500.00"
    assert fund["balance"] == "0.00"
    assert "pay_advance" not in [a["action"] for a in other["allowed_actions"]]


async def test_the_street_leader_settles_an_advance_above_the_street_approval(
    api: Api, clock: OffsetClock
) -> None:
    await fund_the_street(api)
    app_id = await _accepted(api, seq=713)
    await api.ok(
        "POST",
        f"/api/v1/applications/{app_id}/advance",
        who="streetlead1",
        json={"amount": "900.00"},
    )
    await _through_publicity(api, clock, app_id, "500.00")
    offered = await api.ok("GET", f"/api/v1/applications/{app_id}", who="streetlead1")

    settled = await api.ok(
        "POST", f"/api/v1/applications/{app_id}/advance/settlement", who="streetlead1"
    )
    recoveries = await api.ok(
        "GET", f"/api/v1/applications/{app_id}/recoveries", who="officer1"
    )

    assert [a["action"] for a in offered["allowed_actions"]] == ["settle_advance"]
    assert settled["status"] == "paid"
    assert [(r["reason"], r["amount"]) for r in recoveries] == [
        ("advance_excess", "400.00")
    ]
    # Everything paid out beyond the grant is claimed: a recovery for fraud
    # may still take the 500.00 granted, and nothing more.
    offered_now = await api.ok("GET", f"/api/v1/applications/{app_id}", who="officer1")
    assert "record_recovery" in [a["action"] for a in offered_now["allowed_actions"]]


async def test_no_recovery_is_offered_once_everything_paid_is_claimed(
    api: Api,
) -> None:
    await fund_the_street(api)
    app_id = await _accepted(api, seq=714)
    base = f"/api/v1/applications/{app_id}"
    await api.ok(
        "POST", base + "/advance", who="streetlead1", json={"amount": "200.00"}
    )
    await api.ok(
        "POST",
        base + "/investigation",
        who="community1",
        json={"home_visit_done": True, "monthly_income_per_capita": "0.00"},
    )
    await api.ok(
        "POST",
        base + "/street-opinion",
        who="street1",
        json={"decision": "refused", "opinion": "家庭收入超过标准"},
    )

    detail = await api.ok("GET", base, who="officer1")
    by_hand = await api.call(
        "POST",
        base + "/recoveries",
        who="officer1",
        json={"amount": "1.00", "reason": "fraud", "note": "骗取"},
    )
    excess = await api.call(
        "POST",
        base + "/recoveries",
        who="officer1",
        json={"amount": "1.00", "reason": "advance_excess", "note": "手工"},
    )

    assert detail["status"] == "refused"
    assert [a["action"] for a in detail["allowed_actions"]] == []
    assert by_hand.status_code == 409
    assert "已全部登记追回" in by_hand.json()["detail"]
    assert excess.status_code == 422  # opened by the service itself only
