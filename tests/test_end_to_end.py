"""Real cases through the HTTP API, from application to the bank's results."""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Any

from app.clock import OffsetClock
from tests.support import Api, id_number

FULL_MATERIALS = [
    "application_form",
    "id_card_copy",
    "household_register_copy",
    "hardship_evidence",
]


async def _family_of_three(api: Api, *, surname: str, seq: int, **kw: Any) -> Any:
    return await api.household(
        members=[
            (
                f"{surname}建国",
                id_number("430204", "19800101", seq),
                "本人",
                "1980-01-01",
            ),
            (
                f"{surname}丽",
                id_number("430204", "19820202", seq),
                "配偶",
                "1982-02-02",
            ),
            (
                f"{surname}小明",
                id_number("430204", "20140303", seq),
                "子女",
                "2014-03-03",
            ),
        ],
        **kw,
    )


async def _investigate(api: Api, app_id: int) -> None:
    await api.ok(
        "POST",
        f"/api/v1/applications/{app_id}/investigation",
        who="community1",
        json={
            "home_visit_done": True,
            "home_visit_note": "入户查看，情况属实",
            "neighbour_interviews": 2,
            "monthly_income_per_capita": "300.00",
            "findings": "家庭困难情况属实",
        },
    )


async def _publicise(api: Api, clock: OffsetClock, app_id: int) -> dict[str, Any]:
    from datetime import timedelta

    await api.ok(
        "POST", f"/api/v1/applications/{app_id}/publicity/start", who="street1"
    )
    early = await api.call(
        "POST", f"/api/v1/applications/{app_id}/publicity/close", who="street1"
    )
    assert early.status_code == 409
    assert early.json()["code"] == "invalid_transition"
    clock.advance(timedelta(days=7))
    closed: dict[str, Any] = await api.ok(
        "POST", f"/api/v1/applications/{app_id}/publicity/close", who="street1"
    )
    return closed


async def test_three_cases_run_from_application_to_bank_payout(
    api: Api, clock: OffsetClock
) -> None:
    # Case 1: a family of three whose home burned down.
    fire = await _family_of_three(api, surname="张", seq=11)
    assert fire["size"] == 3
    assert fire["members"][0]["id_number_masked"].startswith("430204")
    assert "*" in fire["members"][0]["id_number_masked"]
    app1 = await api.ok(
        "POST",
        "/api/v1/applications",
        who="community1",
        status=201,
        json={
            "household_id": fire["id"],
            "assistance_type": "emergency",
            "reason": "accident",
            "description": "住房火灾，家中财物损毁",
            "requested_amount": "6000.00",
            "materials": FULL_MATERIALS,
        },
    )
    a1 = app1["id"]
    assert app1["status"] == "submitted"
    assert [a["action"] for a in app1["allowed_actions"]] == [
        "accept",
        "return",
        "intake_refuse",
    ]
    await api.ok(
        "POST",
        f"/api/v1/applications/{a1}/intake",
        who="community1",
        json={"decision": "accept"},
    )
    await _investigate(api, a1)
    proposed = await api.ok(
        "POST",
        f"/api/v1/applications/{a1}/street-opinion",
        who="street1",
        json={
            "decision": "eligible",
            "proposed_amount": "5000.00",
            "opinion": "拟救助",
        },
    )
    assert proposed["status"] == "street_reviewed"
    assert proposed["proposed_amount"] == "5000.00"
    approved = await api.ok(
        "POST",
        f"/api/v1/applications/{a1}/district-decision",
        who="officer1",
        json={"decision": "approve", "amount": "5000.00"},
    )
    assert approved["status"] == "approved"
    assert approved["approved_amount"] == "5000.00"
    explanation = approved["decisions"][-1]["explanation"]
    assert explanation["allowed_max"] == "12960.00"  # 6 × 720 × 3
    assert {p["name"] for p in explanation["parameters"]} == {
        "dibao_standard.urban",
        "per_case_multiple",
        "annual_multiple",
        "max_same_reason_per_year",
        "year_window",
        "street_approval_limit",
    }
    assert [r["rule"] for r in explanation["rules"]] == [
        "R1.1a",
        "R2.1",
        "R2.2",
        "R2.3",
        "R2.4",
        "R3.5",
    ]
    assert approved["decisions"][-1]["approval_level"] == "district"
    closed = await _publicise(api, clock, a1)
    assert closed["status"] == "awaiting_payment"

    # Case 2: a 低保 household with a child's school costs.
    school = await _family_of_three(
        api, surname="李", seq=21, category="dibao", account="0062170028700123"
    )
    app2 = await api.ok(
        "POST",
        "/api/v1/applications",
        who="community1",
        status=201,
        json={
            "household_id": school["id"],
            "assistance_type": "expenditure",
            "reason": "education",
            "description": "子女上学费用骤增",
            "requested_amount": "15000.00",
            "materials": FULL_MATERIALS,
        },
    )
    a2 = app2["id"]
    await api.ok(
        "POST",
        f"/api/v1/applications/{a2}/intake",
        who="community1",
        json={"decision": "accept"},
    )
    await _investigate(api, a2)
    await api.ok(
        "POST",
        f"/api/v1/applications/{a2}/street-opinion",
        who="streetlead1",
        json={"decision": "eligible", "proposed_amount": "12000.00"},
    )
    over = await api.call(
        "POST",
        f"/api/v1/applications/{a2}/district-decision",
        who="officer1",
        json={"decision": "approve", "amount": "12960.01"},
    )
    assert over.status_code == 422
    assert over.headers["content-type"].startswith("application/problem+json")
    problem = over.json()
    assert problem["code"] == "cap_exceeded"
    assert problem["allowed_max"] == "12960.00"
    assert problem["failed_rules"] == ["R2.2"]
    assert "6×720.00×3 = 12,960.00" in problem["detail"]
    still = await api.ok("GET", f"/api/v1/applications/{a2}", who="officer1")
    assert still["status"] == "street_reviewed"
    assert still["approved_amount"] is None
    at_limit = await api.ok(
        "POST",
        f"/api/v1/applications/{a2}/district-decision",
        who="assistlead1",
        json={"decision": "approve", "amount": "12960.00"},
    )
    assert at_limit["approved_amount"] == "12960.00"
    await _publicise(api, clock, a2)

    # Case 3: returned at intake for a missing household-register copy.
    single = await api.household(
        members=[("王芳", id_number("430204", "19700505", 31), "本人", "1970-05-05")],
        account="6222021234567890123",
    )
    app3 = await api.ok(
        "POST",
        "/api/v1/applications",
        who="community1",
        status=201,
        json={
            "household_id": single["id"],
            "assistance_type": "emergency",
            "reason": "accident",
            "description": "交通事故致伤，生活困难",
            "requested_amount": "800.00",
            "materials": ["application_form", "id_card_copy", "hardship_evidence"],
        },
    )
    a3 = app3["id"]
    refused = await api.call(
        "POST",
        f"/api/v1/applications/{a3}/intake",
        who="community1",
        json={"decision": "accept"},
    )
    assert refused.status_code == 422
    assert refused.json()["missing_materials"] == ["household_register_copy"]
    assert "户口簿复印件" in refused.json()["detail"]
    returned = await api.ok(
        "POST",
        f"/api/v1/applications/{a3}/intake",
        who="community1",
        json={"decision": "return", "missing_materials": ["household_register_copy"]},
    )
    assert returned["status"] == "returned"
    assert returned["missing_materials"] == ["household_register_copy"]
    back = await api.ok(
        "POST",
        f"/api/v1/applications/{a3}/resubmission",
        who="community1",
        json={"materials": ["household_register_copy"]},
    )
    assert back["status"] == "submitted"
    assert back["missing_materials"] == []
    await api.ok(
        "POST",
        f"/api/v1/applications/{a3}/intake",
        who="community1",
        json={"decision": "accept"},
    )
    await _investigate(api, a3)
    await api.ok(
        "POST",
        f"/api/v1/applications/{a3}/street-opinion",
        who="street1",
        json={"decision": "eligible", "proposed_amount": "800.00"},
    )
    # 800 yuan is the street's to approve for the district (R3.5).
    delegated = await api.ok(
        "POST",
        f"/api/v1/applications/{a3}/street-approval",
        who="streetlead1",
        json={},
    )
    assert delegated["decisions"][-1]["stage"] == "street_approval"
    await _publicise(api, clock, a3)

    # What the street approved it also pays, from its own account (R3.5).
    not_on_form = await api.call(
        "POST",
        "/api/v1/disbursement-forms",
        who="officer1",
        json={"application_ids": [a1, a2, a3]},
    )
    assert not_on_form.status_code == 409
    assert not_on_form.json()["code"] == "paid_by_street"
    by_street = await api.ok(
        "POST",
        f"/api/v1/applications/{a3}/street-payment",
        who="street1",
        json={"voucher_no": "TX-2026-0031"},
    )
    assert by_street["status"] == "paid"
    assert [
        (p["payer"], p["amount"], p["voucher_no"], p["form_id"])
        for p in by_street["payments"]
    ] == [("street", "800.00", "TX-2026-0031", None)]
    paid_twice = await api.call(
        "POST",
        f"/api/v1/applications/{a3}/street-payment",
        who="street1",
        json={"voucher_no": "TX-2026-0032"},
    )
    assert paid_twice.status_code == 409
    assert paid_twice.json()["current_status"] == "paid"

    # The disbursement form, signed by three different people in three roles.
    form = await api.ok(
        "POST",
        "/api/v1/disbursement-forms",
        who="officer1",
        status=201,
        json={"application_ids": [a1, a2]},
    )
    assert form["total"] == "17960.00"
    assert form["missing_roles"] == [
        "district_officer",
        "district_assistance_leader",
        "district_finance_leader",
    ]
    digest = form["payload_sha256"]
    await api.ok(
        "POST",
        f"/api/v1/disbursement-forms/{form['id']}/signatures",
        who="officer1",
        status=201,
        json={"payload_sha256": digest},
    )
    twice = await api.call(
        "POST",
        f"/api/v1/disbursement-forms/{form['id']}/signatures",
        who="officer1",
        json={"payload_sha256": digest},
    )
    assert twice.status_code == 409
    wrong = await api.call(
        "POST",
        f"/api/v1/disbursement-forms/{form['id']}/signatures",
        who="assistlead1",
        json={"payload_sha256": "0" * 64},
    )
    assert wrong.status_code == 409
    assert wrong.json()["code"] == "payload_changed"
    await api.ok(
        "POST",
        f"/api/v1/disbursement-forms/{form['id']}/signatures",
        who="assistlead1",
        status=201,
        json={"payload_sha256": digest},
    )
    early_batch = await api.call(
        "POST", "/api/v1/payout-batches", who="officer1", json={}
    )
    assert early_batch.status_code == 409
    signed = await api.ok(
        "POST",
        f"/api/v1/disbursement-forms/{form['id']}/signatures",
        who="financelead1",
        status=201,
        json={"payload_sha256": digest},
    )
    assert signed["status"] == "signed"
    assert signed["missing_roles"] == []
    assert len({s["signer"] for s in signed["signatures"]}) == 3

    # The payout batch and its bank file.
    batch = await api.ok(
        "POST", "/api/v1/payout-batches", who="officer1", status=201, json={}
    )
    assert batch["line_count"] == 2
    assert batch["total"] == "17960.00"
    listed = await api.ok("GET", "/api/v1/payout-batches?status=ready", who="bank-demo")
    assert [b["id"] for b in listed] == [batch["id"]]
    file = await api.call(
        "GET", f"/api/v1/payout-batches/{batch['id']}/file", who="bank-demo"
    )
    assert file.status_code == 200
    assert hashlib.sha256(file.content).hexdigest() == batch["file_sha256"]
    rows = list(csv.reader(io.StringIO(file.content.decode("utf-8-sig"))))
    assert rows[0][0] == "序号"
    assert [r[5] for r in rows[1:]] == ["5000.00", "12960.00"]
    assert rows[2][4] == "0062170028700123"  # leading zeros survive
    await api.ok(
        "POST", f"/api/v1/payout-batches/{batch['id']}/acknowledgement", who="bank-demo"
    )

    results = {
        "lines": [
            {
                "line_no": int(r[0]),
                "reference": r[1],
                "amount": r[5],
                "result": "success",
            }
            for r in rows[1:]
        ]
    }
    summary = await api.ok(
        "POST",
        f"/api/v1/payout-batches/{batch['id']}/results",
        who="bank-demo",
        json=results,
    )
    assert summary["applied"] == 2
    assert summary["paid_total"] == "17960.00"
    assert summary["batch"]["status"] == "reconciled"
    again = await api.ok(
        "POST",
        f"/api/v1/payout-batches/{batch['id']}/results",
        who="bank-demo",
        json=results,
    )
    assert again["applied"] == 0
    assert again["unchanged"] == 2

    for app_id in (a1, a2, a3):
        final = await api.ok("GET", f"/api/v1/applications/{app_id}", who="officer1")
        assert final["status"] == "paid"
        assert final["payments"][0]["status"] == "paid"
        actions = [e["action"] for e in final["timeline"]]
        assert actions[0] == "application.create"
        assert actions[-1] == (
            "application.street_pay" if app_id == a3 else "application.mark_paid"
        )
        # Open now: closing once the file is complete, or a recovery.
        assert [a["action"] for a in final["allowed_actions"]] == ["record_recovery"]
