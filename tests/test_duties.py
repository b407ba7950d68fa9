"""Separation of duties: three signers, proposer ≠ approver, no own household,
administrators neither approve nor sign."""

from __future__ import annotations

from typing import Any

from app.auth.access import ROUTES, SIGNERS
from app.clock import OffsetClock
from app.domain.roles import Role
from app.seed import DEMO_PASSWORD
from app.workflow.payouts import SIGNER_ROLES
from app.workflow.transitions import EDGES
from tests.support import FULL_MATERIALS, Api, awaiting_payment, id_number


async def _staff(api: Api, username: str, role: str, region: str, **extra: Any) -> None:
    await api.ok(
        "POST",
        "/api/v1/admin/users",
        who="admin1",
        status=201,
        json={
            "username": username,
            "display_name": username,
            "password": DEMO_PASSWORD,
            "role": role,
            "region_code": region,
            **extra,
        },
    )


async def _investigated(api: Api, *, seq: int, amount: str = "600.00") -> int:
    number = id_number("430204", "19700101", seq)
    household = await api.household(
        members=[("冯九", number, "本人", "1970-01-01")],
        account=f"62170000{seq:08d}",
    )
    created = await api.ok(
        "POST",
        "/api/v1/applications",
        who="community1",
        status=201,
        json={
            "household_id": household["id"],
            "assistance_type": "emergency",
            "reason": "accident",
            "description": "意外事故",
            "requested_amount": amount,
            "materials": FULL_MATERIALS,
        },
    )
    base = f"/api/v1/applications/{created['id']}"
    await api.ok(
        "POST", base + "/intake", who="community1", json={"decision": "accept"}
    )
    await api.ok(
        "POST",
        base + "/investigation",
        who="community1",
        json={"home_visit_done": True, "monthly_income_per_capita": "0.00"},
    )
    return int(created["id"])


async def test_whoever_proposed_the_amount_cannot_approve_it(api: Api) -> None:
    app_id = await _investigated(api, seq=501)
    base = f"/api/v1/applications/{app_id}"
    await api.ok(
        "POST",
        base + "/street-opinion",
        who="streetlead1",
        json={"decision": "eligible", "proposed_amount": "600.00"},
    )

    offered = await api.ok("GET", base, who="streetlead1")
    own = await api.call("POST", base + "/street-approval", who="streetlead1", json={})

    assert "street_approve" not in [a["action"] for a in offered["allowed_actions"]]
    assert own.status_code == 403
    assert own.json()["code"] == "separation_of_duties"
    await _staff(api, "streetlead2", "street_leader", "430204001000")
    other = await api.ok("GET", base, who="streetlead2")
    assert "street_approve" in [a["action"] for a in other["allowed_actions"]]
    approved = await api.ok(
        "POST", base + "/street-approval", who="streetlead2", json={}
    )
    assert approved["status"] == "approved"


async def test_a_proposal_above_the_street_limit_is_not_approved_by_its_author(
    api: Api,
) -> None:
    # A street leader who proposed, then moved to the district, still may not
    # approve their own proposal.
    app_id = await _investigated(api, seq=502, amount="3000.00")
    base = f"/api/v1/applications/{app_id}"
    await _staff(api, "mover", "street_leader", "430204001000")
    await api.ok(
        "POST",
        base + "/street-opinion",
        who="mover",
        json={"decision": "eligible", "proposed_amount": "3000.00"},
    )
    users = await api.ok("GET", "/api/v1/admin/users", who="admin1")
    mover = next(u for u in users if u["username"] == "mover")
    await api.ok(
        "PATCH",
        f"/api/v1/admin/users/{mover['id']}",
        who="admin1",
        json={"role": "district_officer", "region_code": "430204000000"},
    )
    api._tokens.pop("mover")  # the old token carries the old role

    own = await api.call(
        "POST", base + "/district-decision", who="mover", json={"decision": "approve"}
    )

    assert own.status_code == 403
    assert own.json()["code"] == "separation_of_duties"
    other = await api.ok(
        "POST",
        base + "/district-decision",
        who="officer1",
        json={"decision": "approve"},
    )
    assert other["status"] == "approved"


async def test_nobody_handles_a_case_of_their_own_household(api: Api) -> None:
    app_id = await _investigated(api, seq=503)
    member_number = id_number("430204", "19700101", 503)
    await _staff(
        api, "relative", "street_worker", "430204001000", id_number=member_number
    )
    base = f"/api/v1/applications/{app_id}"

    opinion = await api.call(
        "POST",
        base + "/street-opinion",
        who="relative",
        json={"decision": "eligible", "proposed_amount": "600.00"},
    )
    upload = await api.call(
        "POST",
        base + "/attachments",
        who="relative",
        data={"material": "other"},
        files={"file": ("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
    )
    seen = await api.ok("GET", base, who="relative")
    assert seen["allowed_actions"] == []  # no button the server would refuse
    household_id = seen["household_id"]
    new_case = await api.call(
        "POST",
        "/api/v1/applications",
        who="relative",
        json={
            "household_id": household_id,
            "assistance_type": "emergency",
            "reason": "accident",
            "description": "再次申请",
            "requested_amount": "100.00",
            "materials": FULL_MATERIALS,
        },
    )

    for refused in (opinion, upload, new_case):
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "separation_of_duties"
    by_colleague = await api.ok(
        "POST",
        base + "/street-opinion",
        who="street1",
        json={"decision": "eligible", "proposed_amount": "600.00"},
    )
    assert by_colleague["status"] == "street_reviewed"


async def test_three_different_people_sign_a_disbursement_form(
    api: Api, clock: OffsetClock
) -> None:
    app_id = await awaiting_payment(
        api, clock, seq=504, amount="1500.00", account="6217000000000504"
    )
    form = await api.ok(
        "POST",
        "/api/v1/disbursement-forms",
        who="officer1",
        status=201,
        json={"application_ids": [app_id]},
    )
    path = f"/api/v1/disbursement-forms/{form['id']}/signatures"
    digest = {"payload_sha256": form["payload_sha256"]}
    await api.ok("POST", path, who="officer1", status=201, json=digest)
    await _staff(api, "officer2", "district_officer", "430204000000")

    twice = await api.call("POST", path, who="officer1", json=digest)
    same_role = await api.call("POST", path, who="officer2", json=digest)
    by_admin = await api.call("POST", path, who="admin1", json=digest)

    assert twice.status_code == 409
    assert "同一人只能" in twice.json()["detail"]
    assert same_role.status_code == 409
    assert by_admin.status_code == 403
    await api.ok("POST", path, who="assistlead1", status=201, json=digest)
    signed = await api.ok("POST", path, who="financelead1", status=201, json=digest)
    assert signed["status"] == "signed"
    assert len({s["signer"] for s in signed["signatures"]}) == 3


def test_administrators_neither_approve_nor_sign() -> None:
    for edge in EDGES:
        assert Role.ADMIN not in edge.roles, edge.action
    assert Role.ADMIN not in SIGNERS
    assert Role.ADMIN not in SIGNER_ROLES
    for (method, path), rule in ROUTES.items():
        if rule.actions or "signatures" in path or "disbursement" in path:
            assert not rule.admits(Role.ADMIN), (method, path)


async def test_an_administrator_is_refused_the_approval_and_the_signature(
    api: Api,
) -> None:
    app_id = await _investigated(api, seq=505)
    decision = await api.call(
        "POST",
        f"/api/v1/applications/{app_id}/district-decision",
        who="admin1",
        json={"decision": "approve"},
    )

    assert decision.status_code == 403
    assert decision.json()["code"] == "forbidden"


async def test_nobody_registers_a_household_they_belong_to(api: Api) -> None:
    number = id_number("430204", "19810728", 504)
    await _staff(api, "self", "street_worker", "430204001000", id_number=number)
    body = {
        "region_code": "430204001001",
        "address": "石峰区田心街道示例路 2 号",
        "bank_name": "中国建设银行株洲石峰支行",
        "bank_account_name": "许五",
        "bank_account_no": "6217000000050400",
        "members": [
            {
                "name": "许五",
                "id_number": number,
                "relation": "本人",
                "is_applicant": True,
            }
        ],
    }

    own = await api.call("POST", "/api/v1/households", who="self", json=body)
    by_colleague = await api.call(
        "POST", "/api/v1/households", who="street1", json=body
    )

    assert own.status_code == 403
    assert own.json()["code"] == "separation_of_duties"
    assert by_colleague.status_code == 201


async def test_an_id_number_entered_by_mistake_can_be_removed(api: Api) -> None:
    number = id_number("430204", "19810728", 505)
    await _staff(api, "typo", "street_worker", "430204001000", id_number=number)
    users = await api.ok("GET", "/api/v1/admin/users", who="admin1")
    user = next(u for u in users if u["username"] == "typo")
    url = f"/api/v1/admin/users/{user['id']}"

    kept = await api.ok("PATCH", url, who="admin1", json={"display_name": "改名"})
    removed = await api.ok("PATCH", url, who="admin1", json={"id_number": None})

    assert kept["has_id_number"] is True
    assert removed["has_id_number"] is False


async def test_a_name_a_spreadsheet_would_run_is_refused(api: Api) -> None:
    response = await api.call(
        "POST",
        "/api/v1/households",
        who="community1",
        json={
            "region_code": "430204001001",
            "address": "石峰区田心街道示例路 3 号",
            "bank_name": "中国建设银行株洲石峰支行",
            "bank_account_name": '=HYPERLINK("http://x","丁")',
            "bank_account_no": "6217000000050600",
            "members": [
                {
                    "name": "丁一",
                    "id_number": id_number("430204", "19810728", 506),
                    "relation": "本人",
                    "is_applicant": True,
                }
            ],
        },
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].endswith("bank_account_name")
