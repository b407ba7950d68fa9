"""Objects of another community answer 404 by id, and filters cannot widen.

Two communities of 田心街道: community1 works in 田心社区, a colleague
created by the administrator in 东门社区. The street sees both.
"""

from __future__ import annotations

from typing import Any

from app.seed import DEMO_PASSWORD
from tests.support import FULL_MATERIALS, PDF_SCAN, Api, id_number

DONGMEN = "430204001002"


async def _dongmen_case(api: Api) -> dict[str, Any]:
    await api.ok(
        "POST",
        "/api/v1/admin/users",
        who="admin1",
        status=201,
        json={
            "username": "community2",
            "display_name": "东门社区 孙社工",
            "password": DEMO_PASSWORD,
            "role": "community_worker",
            "region_code": DONGMEN,
        },
    )
    body = {
        "region_code": DONGMEN,
        "address": "东门社区示例路 2 号",
        "category": "none",
        "bank_name": "中国建设银行株洲石峰支行",
        "bank_account_name": "周八",
        "bank_account_no": "6217002870099999999",
        "members": [
            {
                "name": "周八",
                "id_number": id_number("430204", "19700101", 77),
                "relation": "本人",
                "is_applicant": True,
            }
        ],
    }
    household = await api.ok(
        "POST", "/api/v1/households", who="community2", json=body, status=201
    )
    application = await api.ok(
        "POST",
        "/api/v1/applications",
        who="community2",
        status=201,
        json={
            "household_id": household["id"],
            "assistance_type": "emergency",
            "reason": "accident",
            "description": "火灾",
            "requested_amount": "500.00",
            "materials": FULL_MATERIALS,
        },
    )
    upload = await api.call(
        "POST",
        f"/api/v1/applications/{application['id']}/attachments",
        who="community2",
        data={"material": "other"},
        files={"file": ("证明.pdf", PDF_SCAN, "application/pdf")},
    )
    assert upload.status_code == 201, upload.text
    return {
        "household": household["id"],
        "application": application["id"],
        "attachment": upload.json()["id"],
    }


async def test_another_communitys_objects_answer_404_like_absent_ones(
    api: Api,
) -> None:
    theirs = await _dongmen_case(api)
    paths = {
        "application": f"/api/v1/applications/{theirs['application']}",
        "attachment": f"/api/v1/attachments/{theirs['attachment']}",
        "household": f"/api/v1/households/{theirs['household']}",
        "file": f"/api/v1/applications/{theirs['application']}/file",
        "attachments": f"/api/v1/applications/{theirs['application']}/attachments",
    }

    for name, path in paths.items():
        outside = await api.call("GET", path, who="community1")
        assert outside.status_code == 404, (name, outside.text)
        assert outside.json()["code"] == "not_found"
        seen_by_street = await api.call("GET", path, who="street1")
        assert seen_by_street.status_code == 200, (name, seen_by_street.text)

    absent = await api.call("GET", "/api/v1/applications/999999", who="community1")
    hidden = await api.call(
        "GET", f"/api/v1/applications/{theirs['application']}", who="community1"
    )
    assert absent.json()["detail"] == "申请 999999 不存在。"
    assert hidden.json()["detail"] == f"申请 {theirs['application']} 不存在。"


async def test_actions_on_another_communitys_case_answer_404(api: Api) -> None:
    theirs = await _dongmen_case(api)

    intake = await api.call(
        "POST",
        f"/api/v1/applications/{theirs['application']}/intake",
        who="community1",
        json={"decision": "accept"},
    )
    account = await api.call(
        "PUT",
        f"/api/v1/households/{theirs['household']}/bank-account",
        who="community1",
        json={},
    )

    assert intake.status_code == 404
    assert account.status_code == 404
    still = await api.ok(
        "GET", f"/api/v1/applications/{theirs['application']}", who="community2"
    )
    assert still["status"] == "submitted"


async def test_a_list_filter_naming_another_region_cannot_widen_the_scope(
    api: Api,
) -> None:
    theirs = await _dongmen_case(api)

    filtered = await api.ok(
        "GET", f"/api/v1/applications?region_code={DONGMEN}", who="community1"
    )
    by_household = await api.ok(
        "GET",
        f"/api/v1/applications?household_id={theirs['household']}",
        who="community1",
    )
    district_wide = await api.ok(
        "GET", "/api/v1/applications?region_code=430204000000", who="community1"
    )
    street = await api.ok(
        "GET", f"/api/v1/applications?region_code={DONGMEN}", who="street1"
    )

    assert filtered["items"] == []
    assert by_household["items"] == []
    assert district_wide["items"] == []
    assert [a["id"] for a in street["items"]] == [theirs["application"]]
    households = await api.ok("GET", "/api/v1/households", who="community1")
    assert theirs["household"] not in [h["id"] for h in households["items"]]


async def test_the_bank_cannot_read_cases_and_the_province_cannot_fetch_files(
    api: Api,
) -> None:
    theirs = await _dongmen_case(api)

    bank_reads = await api.call(
        "GET", f"/api/v1/applications/{theirs['application']}", who="bank-demo"
    )
    bank_lists = await api.call("GET", "/api/v1/applications", who="bank-demo")
    bank_households = await api.call("GET", "/api/v1/households", who="bank-demo")
    province_file = await api.call(
        "GET", "/api/v1/payout-batches/1/file", who="province-demo"
    )
    province_batches = await api.call(
        "GET", "/api/v1/payout-batches", who="province-demo"
    )
    province_case = await api.call(
        "GET", f"/api/v1/applications/{theirs['application']}", who="province-demo"
    )
    bank_batches = await api.call("GET", "/api/v1/payout-batches", who="bank-demo")
    province_regions = await api.call("GET", "/api/v1/regions", who="province-demo")

    for refused in (
        bank_reads,
        bank_lists,
        bank_households,
        province_file,
        province_batches,
        province_case,
    ):
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "forbidden"
    assert bank_batches.status_code == 200
    assert province_regions.status_code == 200
