"""Refusals at the edge: no token, wrong role, other region, bad input."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from jose import jwt

from tests.support import Api, id_number


async def test_every_api_route_but_login_and_health_requires_a_token(
    client: AsyncClient,
) -> None:
    for path in (
        "/api/v1/applications",
        "/api/v1/households",
        "/api/v1/regions",
        "/api/v1/payout-batches",
        "/api/v1/disbursement-forms",
        "/api/v1/policy/parameters",
    ):
        response = await client.get(path)
        assert response.status_code == 401, path
        assert response.json()["code"] == "not_authenticated"
        assert response.headers["www-authenticate"] == "Bearer"

    assert (await client.get("/healthz")).status_code == 200


async def test_a_forged_token_is_refused(client: AsyncClient) -> None:
    forged = jwt.encode(
        {"sub": "user:1", "role": "admin", "region": "430000000000"},
        "not-the-key",
        algorithm="HS256",
    )

    response = await client.get(
        "/api/v1/applications", headers={"Authorization": f"Bearer {forged}"}
    )

    assert response.status_code == 401


async def test_wrong_password_is_refused_with_a_clear_message(
    client: AsyncClient,
) -> None:
    response = await client.post(
        "/api/v1/auth/token", data={"username": "officer1", "password": "wrong"}
    )

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert response.json()["detail"] == "用户名或密码错误。"


async def test_token_carries_role_and_region(api: Api) -> None:
    me = await api.ok("GET", "/api/v1/auth/me", who="street1")

    assert me["role"] == "street_worker"
    assert me["region_code"] == "430204001000"


async def _household_in(api: Api, region: str, seq: int, who: str) -> int:
    body = {
        "region_code": region,
        "address": "示例地址",
        "bank_name": "示例银行",
        "bank_account_name": "赵一",
        "bank_account_no": "6217000000001234",
        "members": [
            {
                "name": "赵一",
                "id_number": id_number("430204", "19900101", seq),
                "relation": "本人",
                "birth_date": "1990-01-01",
                "is_applicant": True,
            }
        ],
    }
    created = await api.ok("POST", "/api/v1/households", who=who, json=body, status=201)
    return int(created["id"])


async def test_a_community_worker_cannot_see_another_streets_household(
    api: Api,
) -> None:
    # street1 works for 田心街道; the household lives in 响石岭街道 — outside it.
    outside = await api.call(
        "POST",
        "/api/v1/households",
        who="street1",
        json={
            "region_code": "430204002001",
            "address": "示例地址",
            "bank_name": "示例银行",
            "bank_account_name": "钱二",
            "bank_account_no": "6217000000005678",
            "members": [
                {
                    "name": "钱二",
                    "id_number": id_number("430204", "19900202", 7),
                    "relation": "本人",
                    "birth_date": "1990-02-02",
                    "is_applicant": True,
                }
            ],
        },
    )
    assert outside.status_code == 404

    inside = await _household_in(api, "430204001002", 8, "street1")
    # community1 works for 田心社区 (…001001); …001002 is a neighbouring community.
    hidden = await api.call("GET", f"/api/v1/households/{inside}", who="community1")
    assert hidden.status_code == 404
    listed = await api.ok("GET", "/api/v1/households", who="community1")
    assert listed["items"] == []
    seen = await api.ok("GET", f"/api/v1/households/{inside}", who="officer1")
    assert seen["id"] == inside


async def test_a_region_filter_cannot_widen_the_callers_scope(api: Api) -> None:
    await _household_in(api, "430204001002", 9, "street1")

    listed = await api.ok(
        "GET", "/api/v1/applications?region_code=430204000000", who="community1"
    )

    assert listed["items"] == []


@pytest.mark.parametrize(
    "amount",
    [1000, 1000.5, "1e3", "12.345", "-5.00", "NaN", "１２", " ", "0x10"],
)
async def test_an_amount_that_is_not_two_decimal_yuan_is_refused(
    api: Api, amount: object
) -> None:
    household = await _household_in(api, "430204001001", 10, "community1")

    response = await api.call(
        "POST",
        "/api/v1/applications",
        who="community1",
        json={
            "household_id": household,
            "assistance_type": "emergency",
            "reason": "accident",
            "description": "火灾",
            "requested_amount": amount,
        },
    )

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert problem["errors"][0]["field"] == "requested_amount"
    listed = await api.ok("GET", "/api/v1/applications", who="community1")
    assert listed["items"] == []


async def test_unknown_fields_cannot_set_status_through_a_side_door(api: Api) -> None:
    household = await _household_in(api, "430204001001", 11, "community1")

    response = await api.call(
        "POST",
        "/api/v1/applications",
        who="community1",
        json={
            "household_id": household,
            "assistance_type": "emergency",
            "reason": "accident",
            "description": "火灾",
            "requested_amount": "100.00",
            "status": "approved",
        },
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"


async def test_an_id_number_with_a_wrong_check_digit_is_refused(api: Api) -> None:
    good = id_number("430204", "19900303", 12)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")

    response = await api.call(
        "POST",
        "/api/v1/households",
        who="community1",
        json={
            "region_code": "430204001001",
            "address": "示例地址",
            "bank_name": "示例银行",
            "bank_account_name": "孙三",
            "bank_account_no": "6217000000009999",
            "members": [
                {
                    "name": "孙三",
                    "id_number": bad,
                    "relation": "本人",
                    "birth_date": "1990-03-03",
                    "is_applicant": True,
                }
            ],
        },
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "members.0.id_number"
    assert bad not in response.text


async def test_a_person_cannot_be_registered_in_two_households(api: Api) -> None:
    await _household_in(api, "430204001001", 13, "community1")

    again = await api.call(
        "POST",
        "/api/v1/households",
        who="community1",
        json={
            "region_code": "430204001001",
            "address": "另一地址",
            "bank_name": "示例银行",
            "bank_account_name": "赵一",
            "bank_account_no": "6217000000001234",
            "members": [
                {
                    "name": "赵一",
                    "id_number": id_number("430204", "19900101", 13),
                    "relation": "本人",
                    "birth_date": "1990-01-01",
                    "is_applicant": True,
                }
            ],
        },
    )

    assert again.status_code == 409
    assert again.json()["code"] == "member_in_other_household"


async def test_the_wrong_role_gets_a_403_naming_the_action(api: Api) -> None:
    household = await _household_in(api, "430204001001", 14, "community1")
    created = await api.ok(
        "POST",
        "/api/v1/applications",
        who="community1",
        status=201,
        json={
            "household_id": household,
            "assistance_type": "emergency",
            "reason": "accident",
            "description": "火灾",
            "requested_amount": "100.00",
            "materials": [
                "application_form",
                "id_card_copy",
                "household_register_copy",
                "hardship_evidence",
            ],
        },
    )

    response = await api.call(
        "POST",
        f"/api/v1/applications/{created['id']}/intake",
        who="officer1",
        json={"decision": "accept"},
    )
    assert response.status_code == 403
    assert "受理" in response.json()["detail"]

    skipped = await api.call(
        "POST",
        f"/api/v1/applications/{created['id']}/district-decision",
        who="officer1",
        json={"decision": "approve", "amount": "100.00"},
    )
    assert skipped.status_code == 409
    assert skipped.json()["current_status"] == "submitted"
    assert skipped.json()["allowed_actions"] == []
