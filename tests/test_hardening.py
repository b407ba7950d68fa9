"""Hostile or unlucky input gets a 4xx and changes nothing; races have one winner."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel import select

from app.auth.principal import Principal
from app.auth.tokens import issue_access_token
from app.domain.roles import Role
from app.persistence.db import make_engine, make_sessionmaker
from app.persistence.tables import User
from app.settings import Environment, Settings, UnsafeSettings
from tests.support import COMMUNITY, Api, id_number


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/applications/99999999999999999999",
        "/api/v1/applications/3000000000",
        "/api/v1/households/3000000000",
        "/api/v1/disbursement-forms/3000000000",
        "/api/v1/payout-batches/3000000000",
        "/api/v1/applications?household_id=3000000000",
        "/api/v1/applications?cursor=aWQ6OTk5OTk5OTk5OTk5OTk5OTk5",  # id:9999…
    ],
)
async def test_ids_beyond_any_row_are_a_422_not_a_500(api: Api, path: str) -> None:
    who = "officer1"

    response = await api.call("GET", path, who=who)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_nul_character_is_refused_as_input(api: Api) -> None:
    household = await api.household(
        members=[("陈一", id_number("430204", "19710101", 71), "本人", "1971-01-01")]
    )

    response = await api.call(
        "POST",
        "/api/v1/applications",
        who="community1",
        json={
            "household_id": household["id"],
            "assistance_type": "emergency",
            "reason": "accident",
            "description": "a\u0000b",
            "requested_amount": "1.00",
        },
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "description"
    login = await api.client.post(
        "/api/v1/auth/token", data={"username": "a\x00b", "password": "x"}
    )
    assert login.status_code == 422


async def test_malformed_json_says_so(api: Api) -> None:
    response = await api.client.post(
        "/api/v1/applications",
        content=b'{"household_id": ',
        headers={
            "Authorization": f"Bearer {await api.token('community1')}",
            "Content-Type": "application/json",
        },
    )

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_json"


def test_sql_parameters_never_reach_errors_or_logs() -> None:
    engine = make_engine("sqlite+aiosqlite:///:memory:")

    assert engine.sync_engine.hide_parameters is True


def _person(seq: int, birth: str = "19720202") -> dict[str, Any]:
    return {
        "name": "蒋二",
        "id_number": id_number("430204", birth, seq),
        "relation": "本人",
        "is_applicant": True,
    }


def _household(member: dict[str, Any]) -> dict[str, Any]:
    return {
        "region_code": COMMUNITY,
        "address": "示例地址",
        "bank_name": "示例银行",
        "bank_account_name": "蒋二",
        "bank_account_no": "6217000000004321",
        "members": [member],
    }


async def test_one_person_registered_three_times_at_once_gets_one_household(
    api: Api,
) -> None:
    body = _household(_person(72))

    responses = await asyncio.gather(
        *(
            api.call("POST", "/api/v1/households", who="community1", json=body)
            for _ in range(3)
        )
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409]
    listed = await api.ok("GET", "/api/v1/households", who="community1")
    assert len(listed["items"]) == 1


async def test_a_birth_date_that_contradicts_the_id_number_is_refused(
    api: Api,
) -> None:
    member = {**_person(73), "birth_date": "1999-09-09"}

    response = await api.call(
        "POST", "/api/v1/households", who="community1", json=_household(member)
    )

    assert response.status_code == 422
    assert "出生日期" in response.json()["errors"][0]["message"]


async def test_a_birth_date_in_the_future_is_refused(api: Api) -> None:
    response = await api.call(
        "POST",
        "/api/v1/households",
        who="community1",
        json=_household(_person(74, birth="21000101")),
    )

    assert response.status_code == 422
    assert response.json()["detail"] == "身份证号码中的出生日期晚于今天，请核对。"


@pytest.mark.parametrize("machine", ["bank-demo", "province-demo"])
async def test_machine_clients_cannot_read_case_files(api: Api, machine: str) -> None:
    for path in ("/api/v1/households", "/api/v1/applications"):
        response = await api.call("GET", path, who=machine)

        assert response.status_code == 403, path


async def test_a_district_administrator_cannot_change_province_defaults(
    api: Api,
) -> None:
    response = await api.call(
        "POST",
        "/api/v1/policy/parameters",
        who="admin1",
        json={
            "name": "publicity_days",
            "region_code": "430000000000",
            "valid_from": "2026-01-01",
            "value": "5",
        },
    )

    assert response.status_code == 403
    own = await api.ok(
        "POST",
        "/api/v1/policy/parameters",
        who="admin1",
        status=201,
        json={
            "name": "publicity_days",
            "region_code": "430204000000",
            "valid_from": "2026-01-01",
            "value": "10",
        },
    )
    assert own["value"] == "10"


def test_production_refuses_the_demo_secret_and_a_short_one() -> None:
    for secret in ("demo-only-secret-change-me", "short"):
        settings = Settings(
            APP_ENV=Environment.PRODUCTION,
            DATABASE_URL="postgresql+asyncpg://db/prod",
            JWT_SECRET=secret,
        )
        with pytest.raises(UnsafeSettings):
            settings.check_production()

    Settings(
        APP_ENV=Environment.PRODUCTION,
        DATABASE_URL="postgresql+asyncpg://db/prod",
        JWT_SECRET="x" * 40,
        VERIFICATION_BASE_URL="https://verification.example/",
        PII_KEYS="p1:" + base64.b64encode(b"k" * 32).decode(),
        PII_CURRENT_KEY="p1",
        PII_INDEX_KEY=base64.b64encode(b"i" * 32).decode(),
    ).check_production()


async def test_a_token_stops_working_when_the_users_region_changes(
    app: FastAPI, api: Api
) -> None:
    await api.ok("GET", "/api/v1/households", who="street1")

    sessionmaker = make_sessionmaker(app.state.engine)
    async with sessionmaker() as session, session.begin():
        user = await session.scalar(select(User).where(User.username == "street1"))
        assert user is not None
        user.region_code = "430204002000"

    response = await api.call("GET", "/api/v1/households", who="street1")
    assert response.status_code == 401


async def test_a_forged_region_claim_signed_with_the_real_key_is_refused(
    app: FastAPI, api: Api
) -> None:
    me = await api.ok("GET", "/api/v1/auth/me", who="community1")
    forged, _ = issue_access_token(
        Principal(
            subject=me["subject"],
            role=Role.COMMUNITY_WORKER,
            region_code="430204000000",
            display_name="x",
        ),
        settings=app.state.settings,
        now=dt.datetime.now(dt.UTC),
    )

    response = await api.client.get(
        "/api/v1/households", headers={"Authorization": f"Bearer {forged}"}
    )

    assert response.status_code == 401
