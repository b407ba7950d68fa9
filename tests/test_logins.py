"""Logins, refresh-token rotation, logout, and throttling of failed logins."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import update
from sqlmodel import col, select

from app.auth.sessions import real_now, revoke_sessions_of
from app.main import create_app
from app.persistence.db import make_sessionmaker
from app.persistence.tables import AuditEntry, AuthSession, LoginThrottle, User
from app.seed import DEMO_CLIENTS, DEMO_PASSWORD
from app.settings import Settings

BANK = next(c for c in DEMO_CLIENTS if c.client_id == "bank-demo")


@contextlib.asynccontextmanager
async def serve(
    app: FastAPI, settings: Settings | None = None, *, address: str = "127.0.0.1"
) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    """Another instance of the service on the same database (a restart, or a
    second replica), seen from ``address``."""
    other = create_app(settings or app.state.settings, clock=app.state.clock)
    async with other.router.lifespan_context(other):
        transport = ASGITransport(app=other, client=(address, 40000))
        async with AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield other, c


async def login(
    client: AsyncClient, who: str = "street1", password: str = DEMO_PASSWORD
) -> Response:
    return await client.post(
        "/api/v1/auth/token", data={"username": who, "password": password}
    )


async def tokens(client: AsyncClient, who: str = "street1") -> dict[str, Any]:
    response = await login(client, who)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def refresh(client: AsyncClient, token: str) -> Response:
    return await client.post("/api/v1/auth/refresh", data={"refresh_token": token})


async def me(client: AsyncClient, access: str) -> int:
    response = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {access}"}
    )
    return response.status_code


async def subject_of(app: FastAPI, username: str) -> str:
    async with make_sessionmaker(app.state.engine)() as session:
        user_id = await session.scalar(select(User.id).where(User.username == username))
    return f"user:{user_id}"


async def audit_actions(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    async with make_sessionmaker(app.state.engine)() as session:
        rows = await session.scalars(
            select(AuditEntry)
            .where(
                col(AuditEntry.entity_type).in_(
                    ["auth_session", "login_throttle", "user", "client"]
                )
            )
            .order_by(col(AuditEntry.id))
        )
        return [(row.action, row.actor, row.details) for row in rows]


# --- login and refresh -----------------------------------------------------


async def test_a_login_returns_an_access_and_a_refresh_token(
    client: AsyncClient,
) -> None:
    body = await tokens(client)

    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1800
    assert body["refresh_expires_in"] == 7200
    assert body["role"] == "street_worker"
    assert body["region_code"] == "430204001000"
    assert len(body["refresh_token"]) >= 43  # 256 random bits
    assert await me(client, body["access_token"]) == 200


async def test_a_machine_client_gets_no_refresh_token(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": BANK.client_id,
            "client_secret": BANK.secret,
        },
    )

    assert response.status_code == 200, response.text
    assert response.json()["refresh_token"] is None
    assert response.json()["role"] == "bank"


async def test_a_refresh_token_is_exchanged_once_for_a_new_pair(
    app: FastAPI, client: AsyncClient
) -> None:
    first = await tokens(client)

    second = await refresh(client, first["refresh_token"])

    assert second.status_code == 200, second.text
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    assert pair["access_token"] != first["access_token"]
    assert await me(client, pair["access_token"]) == 200
    third = await refresh(client, pair["refresh_token"])
    assert third.status_code == 200
    actions = [a for a, _, _ in await audit_actions(app)]
    assert actions == ["login", "token_refreshed", "token_refreshed"]


async def test_a_reused_refresh_token_revokes_the_whole_session(
    app: FastAPI, client: AsyncClient
) -> None:
    stolen = await tokens(client)
    newest = (await refresh(client, stolen["refresh_token"])).json()
    other_login = await tokens(client)  # another session of the same person

    reuse = await refresh(client, stolen["refresh_token"])

    assert reuse.status_code == 401
    assert reuse.json()["code"] == "not_authenticated"
    # The newest refresh token of the family and its access token end too …
    assert (await refresh(client, newest["refresh_token"])).status_code == 401
    assert await me(client, newest["access_token"]) == 401
    assert await me(client, stolen["access_token"]) == 401
    # … but not the person's other login.
    assert await me(client, other_login["access_token"]) == 200
    async with make_sessionmaker(app.state.engine)() as session:
        revoked = await session.scalars(
            select(AuthSession.revoked_reason).order_by(col(AuthSession.id))
        )
        assert list(revoked) == ["refresh_reuse", None]
    reused = [e for e in await audit_actions(app) if e[0] == "refresh_token_reused"]
    assert reused == [
        (
            "refresh_token_reused",
            await subject_of(app, "street1"),
            {"reason": "refresh_reuse", "session_revoked": True},
        )
    ]


async def test_an_unknown_refresh_token_is_refused(client: AsyncClient) -> None:
    response = await refresh(client, "not-a-token")

    assert response.status_code == 401
    assert response.json()["detail"] == "登录已失效，请重新登录。"


async def test_a_refresh_token_lapses_after_its_idle_time(
    app: FastAPI, client: AsyncClient
) -> None:
    body = await tokens(client)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=121)
    app.dependency_overrides[real_now] = lambda: later

    response = await refresh(client, body["refresh_token"])

    assert response.status_code == 401


async def test_a_refresh_picks_up_a_changed_region(
    app: FastAPI, client: AsyncClient
) -> None:
    body = await tokens(client)
    async with make_sessionmaker(app.state.engine)() as session, session.begin():
        await session.execute(
            update(User)
            .where(col(User.username) == "street1")
            .values(region_code="430204002000")
        )
    assert await me(client, body["access_token"]) == 401

    pair = await refresh(client, body["refresh_token"])

    assert pair.status_code == 200
    assert pair.json()["region_code"] == "430204002000"
    assert await me(client, pair.json()["access_token"]) == 200


# --- logout and disabled accounts -----------------------------------------


async def test_logout_ends_the_access_and_refresh_token_at_once(
    app: FastAPI, client: AsyncClient
) -> None:
    body = await tokens(client)
    headers = {"Authorization": f"Bearer {body['access_token']}"}

    response = await client.post("/api/v1/auth/logout", headers=headers)

    assert response.status_code == 204
    assert await me(client, body["access_token"]) == 401
    assert (await refresh(client, body["refresh_token"])).status_code == 401
    assert (
        await client.post("/api/v1/auth/logout", headers=headers)
    ).status_code == 401
    actions = [a for a, _, _ in await audit_actions(app)]
    assert actions == ["login", "logout", "refresh_refused"]


async def test_a_disabled_user_loses_access_at_once(
    app: FastAPI, client: AsyncClient
) -> None:
    body = await tokens(client)
    maker = make_sessionmaker(app.state.engine)
    async with maker() as session, session.begin():
        user = await session.scalar(select(User).where(User.username == "street1"))
        assert user is not None
        assert user.id is not None
        user.active = False
        revoked = await revoke_sessions_of(session, user.id)
    assert revoked == 1

    assert await me(client, body["access_token"]) == 401
    assert (await refresh(client, body["refresh_token"])).status_code == 401
    refused = await login(client)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "该账号已停用，请联系系统管理员。"

    # Enabled again, the old session stays ended: only a new login works.
    async with maker() as session, session.begin():
        await session.execute(
            update(User).where(col(User.username) == "street1").values(active=True)
        )
    assert await me(client, body["access_token"]) == 401
    assert (await refresh(client, body["refresh_token"])).status_code == 401
    assert await me(client, (await tokens(client))["access_token"]) == 200


async def test_disabling_alone_ends_the_access_token_too(
    app: FastAPI, client: AsyncClient
) -> None:
    body = await tokens(client)
    async with make_sessionmaker(app.state.engine)() as session, session.begin():
        await session.execute(
            update(User).where(col(User.username) == "street1").values(active=False)
        )

    assert await me(client, body["access_token"]) == 401
    assert (await refresh(client, body["refresh_token"])).status_code == 401


# --- throttling --------------------------------------------------------------


async def test_an_account_is_locked_after_five_failures_even_for_the_right_password(
    app: FastAPI, client: AsyncClient
) -> None:
    for _ in range(4):
        assert (await login(client, password="wrong")).status_code == 401

    fifth = await login(client, password="wrong")
    right = await login(client)

    assert fifth.status_code == 429
    assert right.status_code == 429
    assert right.json()["code"] == "login_locked"
    assert right.json()["detail"] == (
        "登录失败次数过多，已暂时锁定，请 15 分钟后再试；"
        "如需立即解锁，请联系系统管理员。"
    )
    assert 890 <= int(right.headers["retry-after"]) <= 900
    # Another person at the same address is not affected by one account.
    assert (await login(client, "officer1")).status_code == 200


async def test_a_lock_survives_a_restart_and_holds_on_another_replica(
    app: FastAPI, client: AsyncClient
) -> None:
    for _ in range(5):
        await login(client, password="wrong")

    async with serve(app, address="10.1.2.3") as (_, other):
        response = await login(other)

    assert response.status_code == 429


async def test_a_lock_ends_after_the_lock_time(
    app: FastAPI, client: AsyncClient
) -> None:
    for _ in range(5):
        await login(client, password="wrong")
    start = dt.datetime.now(dt.UTC)

    app.dependency_overrides[real_now] = lambda: start + dt.timedelta(minutes=14)
    assert (await login(client)).status_code == 429
    app.dependency_overrides[real_now] = lambda: (
        start + dt.timedelta(minutes=15, seconds=1)
    )
    assert (await login(client)).status_code == 200

    # Success cleared the account's count.
    async with make_sessionmaker(app.state.engine)() as session:
        keys = list(await session.scalars(select(LoginThrottle.key)))
    assert await subject_of(app, "street1") not in keys


async def test_success_clears_the_accounts_failures(client: AsyncClient) -> None:
    for _ in range(4):
        await login(client, password="wrong")
    assert (await login(client)).status_code == 200

    for _ in range(4):
        assert (await login(client, password="wrong")).status_code == 401
    assert (await login(client)).status_code == 200


async def test_failures_outside_the_window_do_not_add_up(
    app: FastAPI, client: AsyncClient
) -> None:
    start = dt.datetime.now(dt.UTC)
    for _ in range(4):
        await login(client, password="wrong")
    app.dependency_overrides[real_now] = lambda: start + dt.timedelta(minutes=16)

    assert (await login(client, password="wrong")).status_code == 401
    assert (await login(client)).status_code == 200


async def test_unknown_names_are_locked_like_real_ones(client: AsyncClient) -> None:
    for _ in range(4):
        assert (await login(client, "nobody", "guess")).status_code == 401

    assert (await login(client, "nobody", "guess")).status_code == 429


async def test_an_address_is_locked_after_its_own_larger_limit(app: FastAPI) -> None:
    settings = app.state.settings.model_copy(update={"login_address_max_failures": 8})
    async with serve(app, settings, address="192.0.2.7") as (_, client):
        # Four accounts, two failures each: no account reaches its limit.
        for who in ("street1", "streetlead1", "officer1", "auditor1"):
            for _ in range(2):
                response = await login(client, who, "wrong")
        last = response
        blocked = await login(client, "assistlead1")

    assert last.status_code == 429  # the eighth failure locks the address
    assert blocked.status_code == 429
    assert blocked.headers["retry-after"]
    async with serve(app, settings, address="192.0.2.8") as (_, elsewhere):
        assert (await login(elsewhere, "assistlead1")).status_code == 200


async def test_machine_client_credentials_are_throttled_too(
    client: AsyncClient,
) -> None:
    form = {"grant_type": "client_credentials", "client_id": BANK.client_id}
    for _ in range(5):
        await client.post("/api/v1/auth/token", data={**form, "client_secret": "wrong"})

    right = await client.post(
        "/api/v1/auth/token", data={**form, "client_secret": BANK.secret}
    )

    assert right.status_code == 429
    assert right.json()["code"] == "login_locked"


async def test_logins_are_audited_without_passwords_tokens_or_typed_names(
    app: FastAPI, client: AsyncClient
) -> None:
    for _ in range(5):
        await login(client, "street1", "hunter2-secret")
    await login(client, "hunter2-typed-as-name", "x")
    body = await tokens(client, "officer1")
    await refresh(client, body["refresh_token"])

    entries = await audit_actions(app)

    street1 = await subject_of(app, "street1")
    officer1 = await subject_of(app, "officer1")
    assert [(a, actor) for a, actor, _ in entries] == [
        *[("login_failed", street1)] * 5,
        ("login_locked", street1),
        ("login_failed", "system:login"),
        ("login", officer1),
        ("token_refreshed", officer1),
    ]
    assert entries[5][2]["scope"] == "account"
    assert entries[5][2]["failures"] == 5
    assert entries[6][2]["account_known"] is False
    everything = json.dumps([e[2] for e in entries], ensure_ascii=False)
    for secret in (
        "hunter2",
        DEMO_PASSWORD,
        body["access_token"],
        body["refresh_token"],
        "127.0.0.1",
    ):
        assert secret not in everything
    async with make_sessionmaker(app.state.engine)() as session:
        keys = " ".join(await session.scalars(select(LoginThrottle.key)))
    assert "hunter2" not in keys
    assert "127.0.0.1" not in keys


async def test_two_refreshes_of_one_token_at_once_have_one_winner_and_end_it(
    client: AsyncClient,
) -> None:
    body = await tokens(client)

    first, second = await asyncio.gather(
        refresh(client, body["refresh_token"]), refresh(client, body["refresh_token"])
    )

    assert sorted([first.status_code, second.status_code]) == [200, 401]
    winner = first if first.status_code == 200 else second
    # The loser was a second use: the session is revoked, the winner's too.
    assert await me(client, winner.json()["access_token"]) == 401


async def test_no_token_outlives_its_session(app: FastAPI) -> None:
    settings = app.state.settings.model_copy(update={"session_hours": 1})
    async with serve(app, settings) as (other, client):
        body = await tokens(client)
        assert body["refresh_expires_in"] == 3600  # the session's end, not 2 h
        near_end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=50)
        other.dependency_overrides[real_now] = lambda: near_end

        pair = (await refresh(client, body["refresh_token"])).json()

    assert 599 <= pair["expires_in"] <= 600
    assert 599 <= pair["refresh_expires_in"] <= 600
