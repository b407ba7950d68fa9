"""The administration API: accounts, machine clients, communities, roles."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlmodel import col, select

from app.persistence.tables import AuditEntry, Region
from app.seed import DEMO_PASSWORD
from tests.support import Api, id_number

NEW_PASSWORD = "another-pass-2026"


async def _login(client: AsyncClient, username: str, password: str) -> int:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )
    return response.status_code


async def _create(api: Api, **overrides: Any) -> dict[str, Any]:
    body = {
        "username": "street9",
        "display_name": "田心街道 新经办",
        "password": DEMO_PASSWORD,
        "role": "street_worker",
        "region_code": "430204001000",
        **overrides,
    }
    created: dict[str, Any] = await api.ok(
        "POST", "/api/v1/admin/users", who="admin1", status=201, json=body
    )
    return created


async def _audit_actions(app: FastAPI, entity_type: str) -> list[str]:
    async with app.state.sessionmaker() as session:
        rows = await session.scalars(
            select(AuditEntry.action)
            .where(col(AuditEntry.entity_type) == entity_type)
            .order_by(col(AuditEntry.id))
        )
        # Sign-in entries are the session store's, not the administrator's.
        return [a for a in rows if a.startswith(("user.", "client.", "region."))]


async def test_an_account_is_created_listed_changed_and_audited(
    api: Api, client: AsyncClient, app: FastAPI
) -> None:
    created = await _create(api, id_number=id_number("430204", "19700101", 77))

    assert created["role"] == "street_worker"
    assert created["has_id_number"] is True
    assert "password" not in created
    assert "id_number" not in created
    assert await _login(client, "street9", DEMO_PASSWORD) == 200
    listed = await api.ok("GET", "/api/v1/admin/users", who="admin1")
    assert "street9" in [u["username"] for u in listed]
    changed = await api.ok(
        "PATCH",
        f"/api/v1/admin/users/{created['id']}",
        who="admin1",
        json={"display_name": "田心街道 改名"},
    )
    assert changed["display_name"] == "田心街道 改名"
    assert await _audit_actions(app, "user") == ["user.create", "user.update"]


async def test_a_role_or_region_change_ends_the_old_tokens_at_once(
    api: Api,
) -> None:
    created = await _create(api)
    before = await api.call("GET", "/api/v1/applications", who="street9")
    assert before.status_code == 200

    await api.ok(
        "PATCH",
        f"/api/v1/admin/users/{created['id']}",
        who="admin1",
        json={"region_code": "430204002000"},
    )
    after = await api.call("GET", "/api/v1/applications", who="street9")

    assert after.status_code == 401


async def test_a_disabled_account_loses_access_and_cannot_sign_in(
    api: Api, client: AsyncClient, app: FastAPI
) -> None:
    created = await _create(api)
    assert (await api.call("GET", "/api/v1/auth/me", who="street9")).status_code == 200
    path = f"/api/v1/admin/users/{created['id']}"

    disabled = await api.ok("POST", path + "/disable", who="admin1")

    assert disabled["active"] is False
    assert (await api.call("GET", "/api/v1/auth/me", who="street9")).status_code == 401
    assert await _login(client, "street9", DEMO_PASSWORD) == 401
    enabled = await api.ok("POST", path + "/enable", who="admin1")
    assert enabled["active"] is True
    assert await _login(client, "street9", DEMO_PASSWORD) == 200
    assert await _audit_actions(app, "user") == [
        "user.create",
        "user.disable",
        "user.enable",
    ]


async def test_a_password_reset_replaces_the_old_password(
    api: Api, client: AsyncClient
) -> None:
    created = await _create(api)

    await api.ok(
        "POST",
        f"/api/v1/admin/users/{created['id']}/password",
        who="admin1",
        json={"password": NEW_PASSWORD},
    )

    assert await _login(client, "street9", DEMO_PASSWORD) == 401
    assert await _login(client, "street9", NEW_PASSWORD) == 200


async def test_accounts_are_refused_where_they_do_not_fit(api: Api) -> None:
    wrong_level = await api.call(
        "POST",
        "/api/v1/admin/users",
        who="admin1",
        json={
            "username": "x-community",
            "display_name": "错配",
            "password": DEMO_PASSWORD,
            "role": "community_worker",
            "region_code": "430204001000",
        },
    )
    other_district = await api.call(
        "POST",
        "/api/v1/admin/users",
        who="admin1",
        json={
            "username": "x-other",
            "display_name": "外区",
            "password": DEMO_PASSWORD,
            "role": "district_officer",
            "region_code": "430203000000",
        },
    )
    machine = await api.call(
        "POST",
        "/api/v1/admin/users",
        who="admin1",
        json={
            "username": "x-bank",
            "display_name": "银行",
            "password": DEMO_PASSWORD,
            "role": "bank",
            "region_code": "430204000000",
        },
    )
    await _create(api)
    taken = await api.call(
        "POST",
        "/api/v1/admin/users",
        who="admin1",
        json={
            "username": "street9",
            "display_name": "重名",
            "password": DEMO_PASSWORD,
            "role": "street_worker",
            "region_code": "430204001000",
        },
    )
    users = await api.ok("GET", "/api/v1/admin/users", who="admin1")
    me = next(u for u in users if u["username"] == "admin1")
    self_disable = await api.call(
        "POST", f"/api/v1/admin/users/{me['id']}/disable", who="admin1"
    )

    assert wrong_level.status_code == 422
    assert other_district.status_code == 404
    assert machine.status_code == 422
    assert taken.status_code == 409
    assert taken.json()["code"] == "username_taken"
    assert self_disable.status_code == 409
    assert self_disable.json()["code"] == "own_account"


async def test_only_administrators_reach_the_admin_api(api: Api) -> None:
    for who in ("officer1", "assistlead1", "auditor1", "street1", "bank-demo"):
        response = await api.call("GET", "/api/v1/admin/users", who=who)
        assert response.status_code == 403, who


async def test_a_machine_client_secret_is_shown_once_rotated_and_disabled(
    api: Api, client: AsyncClient, app: FastAPI
) -> None:
    created = await api.ok(
        "POST",
        "/api/v1/admin/clients",
        who="admin1",
        status=201,
        json={
            "client_id": "bank-two",
            "display_name": "第二代发银行",
            "role": "bank",
            "region_code": "430204000000",
        },
    )
    secret = created["client_secret"]

    async def token(with_secret: str) -> Any:
        return await client.post(
            "/api/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "bank-two",
                "client_secret": with_secret,
            },
        )

    first = await token(secret)
    assert first.status_code == 200
    bearer = {"Authorization": f"Bearer {first.json()['access_token']}"}
    listed = await api.ok("GET", "/api/v1/admin/clients", who="admin1")
    assert "client_secret" not in listed[0]
    assert "bank-two" in [c["client_id"] for c in listed]

    rotated = await api.ok(
        "POST", f"/api/v1/admin/clients/{created['client']['id']}/secret", who="admin1"
    )
    assert rotated["client_secret"] != secret
    assert (await token(secret)).status_code == 401
    assert (await token(rotated["client_secret"])).status_code == 200

    await api.ok(
        "POST",
        f"/api/v1/admin/clients/{created['client']['id']}/disable",
        who="admin1",
    )
    after = await client.get("/api/v1/payout-batches", headers=bearer)
    assert after.status_code == 401
    assert (await token(rotated["client_secret"])).status_code == 401
    assert await _audit_actions(app, "machine_client") == [
        "client.create",
        "client.rotate_secret",
        "client.disable",
    ]


async def test_a_community_is_added_under_a_street(api: Api, app: FastAPI) -> None:
    created = await api.ok(
        "POST",
        "/api/v1/admin/regions",
        who="admin1",
        status=201,
        json={"code": "430204001009", "name": "新建社区"},
    )
    under_other_district = await api.call(
        "POST",
        "/api/v1/admin/regions",
        who="admin1",
        json={"code": "430203001009", "name": "外区社区"},
    )
    a_street = await api.call(
        "POST",
        "/api/v1/admin/regions",
        who="admin1",
        json={"code": "430204099000", "name": "新街道"},
    )
    listed = await api.ok(
        "GET", "/api/v1/admin/regions?parent_code=430204001000", who="admin1"
    )

    assert created == {
        "code": "430204001009",
        "name": "新建社区",
        "level": "community",
        "parent_code": "430204001000",
    }
    assert under_other_district.status_code == 404
    assert a_street.status_code == 422
    assert "430204001009" in [r["code"] for r in listed]
    async with app.state.sessionmaker() as session:
        assert await session.get(Region, "430204001009") is not None
    assert await _audit_actions(app, "region") == ["region.create"]


async def test_the_roles_are_listed_with_their_titles_and_levels(api: Api) -> None:
    listed = await api.ok("GET", "/api/v1/admin/roles", who="admin1")

    by_role = {r["role"]: r for r in listed}
    assert by_role["community_worker"] == {
        "role": "community_worker",
        "title": "社区/村工作人员",
        "machine": False,
        "region_level": "community",
    }
    assert by_role["bank"]["machine"] is True
    assert len(listed) == 10
