"""Every role against every route, in and out of its region, as the table says.

One dataset serves the whole module: every kind of object a path names
(application, household, attachment, form, batch, objection, spot check,
recovery, street code, user, client) exists twice, once in 石峰区 where the
demo accounts work and once in another district. The second copy is built
through the API like the first and then moved to the other district, so
both are real cases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from app.auth import access
from app.auth.access import ROUTES, Rule, Who
from app.clock import OffsetClock
from app.deps import authorize
from app.domain import regions
from app.domain.roles import Role
from app.main import create_app
from app.persistence.db import make_sessionmaker
from app.persistence.tables import (
    Application,
    DisbursementForm,
    Household,
    MachineClient,
    PayoutBatch,
    Region,
    ReserveFund,
    SpotCheck,
    SpotCheckDraw,
    User,
    metadata,
    pk,
)
from app.seed import DEMO_ACCOUNTS, DEMO_CLIENTS, seed_demo_users, seed_reference
from app.settings import PROJECT_ROOT, Environment, Settings
from app.workflow import funds as fund_flow
from app.workflow import payouts, spot_checks
from app.workflow.transitions import EDGES
from tests.conftest import TEST_START
from tests.support import (
    FULL_MATERIALS,
    PDF_SCAN,
    Api,
    id_number,
    paid,
)

HOME_STREET = "430204001000"
AWAY_DISTRICT = "430211000000"  # 天元区, outside every demo account's region
AWAY_STREET = "430211001000"
AWAY_COMMUNITY = "430211001001"


def app_routes() -> list[tuple[str, str, APIRoute]]:
    found = []
    for context in iter_route_contexts(create_app().routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            for method in sorted(context.methods or ()):
                found.append((method, str(context.path), route))
    return found


# --- The table covers the app, the routers read the table -----------------


def test_every_route_of_the_app_has_a_rule_and_no_rule_is_stale() -> None:
    served = {(method, path) for method, path, _ in app_routes()}

    assert served - set(ROUTES) == set(), "routes without a rule in app/auth/access"
    assert set(ROUTES) - served == set(), "rules for routes the app does not serve"


def _depends_on_authorize(route: APIRoute) -> bool:
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if dependant.call is authorize:
            return True
        pending.extend(dependant.dependencies)
    return False


def test_every_route_but_the_public_ones_checks_the_table() -> None:
    for method, path, route in app_routes():
        rule = ROUTES[(method, path)]
        assert _depends_on_authorize(route) == (rule.who is not Who.PUBLIC), (
            method,
            path,
        )


def test_every_path_parameter_has_a_region_or_is_declared_unscoped() -> None:
    known = (
        set(access.RESOLVERS) | access.REGION_PARAMETERS | access.UNSCOPED_PARAMETERS
    )
    for _, path, route in app_routes():
        for name in route.param_convertors:
            assert name in known, (path, name)


def test_docs_access_md_is_the_rendering_of_the_table() -> None:
    committed = (PROJECT_ROOT / "docs" / "access.md").read_text(encoding="utf-8")

    assert committed == access.render_markdown() + "\n", (
        "docs/access.md is stale: run `linshi export-access` and commit it"
    )


def test_the_table_agrees_with_the_workflow_checks() -> None:
    # The workflows refuse on their own too (defence in depth); both lists
    # must name the same people.
    sign = ROUTES[("POST", "/api/v1/disbursement-forms/{form_id}/signatures")]
    assert sign.roles == frozenset(payouts.SIGNER_ROLES)
    draw = ROUTES[("POST", "/api/v1/spot-checks/draws")]
    assert draw.roles == spot_checks.SPOT_CHECKERS
    assert ROUTES[("POST", "/api/v1/reserve-funds")].roles == fund_flow.MANAGERS
    fund = ROUTES[("GET", "/api/v1/reserve-funds/{street_code}")]
    assert fund.roles == fund_flow.READERS


def test_case_actions_take_their_roles_from_the_transition_table() -> None:
    intake = ROUTES[("POST", "/api/v1/applications/{application_id}/intake")]
    decision = ROUTES[
        ("POST", "/api/v1/applications/{application_id}/district-decision")
    ]

    assert intake.who is Who.CASE_ACTION
    assert intake.roles == {Role.COMMUNITY_WORKER, Role.STREET_WORKER}
    assert decision.roles == {
        Role.DISTRICT_OFFICER,
        Role.DISTRICT_ASSISTANCE_LEADER,
    }
    for rule in ROUTES.values():
        for action in rule.actions:
            for edge in EDGES:
                if edge.action is action:
                    assert edge.roles <= rule.roles


def test_machine_clients_reach_only_their_own_endpoints() -> None:
    signed_in = {k for k, rule in ROUTES.items() if rule.who is Who.AUTHENTICATED}
    bank = set(access.endpoints_of(Role.BANK)) - signed_in
    province = set(access.endpoints_of(Role.PROVINCE_PLATFORM)) - signed_in

    assert signed_in == {("GET", "/api/v1/auth/me"), ("POST", "/api/v1/auth/logout")}
    assert bank == {
        ("GET", "/api/v1/payout-batches"),
        ("GET", "/api/v1/payout-batches/templates"),
        ("GET", "/api/v1/payout-batches/{batch_id}"),
        ("GET", "/api/v1/payout-batches/{batch_id}/file"),
        ("POST", "/api/v1/payout-batches/{batch_id}/acknowledgement"),
        ("POST", "/api/v1/payout-batches/{batch_id}/results"),
        ("POST", "/api/v1/payout-batches/{batch_id}/results/file"),
    }
    assert province == {
        ("GET", "/api/v1/regions"),
        ("GET", "/api/v1/policy/parameters"),
        ("GET", "/api/v1/policy/dibao-standards"),
        ("GET", "/api/v1/calendar/{year}"),
        ("GET", "/api/v1/sync/changes"),
        ("GET", "/api/v1/sync/changes.ndjson"),
    }


# --- The dataset -----------------------------------------------------------


@dataclass
class World:
    api: Api
    home: dict[str, str]
    away: dict[str, str]
    users: dict[str, str]  # username or client id -> region code


async def _reset(engine: AsyncEngine) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            )
        else:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608


async def _in_publicity(api: Api, seq: int) -> int:
    household = await api.household(
        members=[("钱七", id_number("430204", "19800101", seq), "本人", "1980-01-01")],
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
            "requested_amount": "600.00",
            "materials": FULL_MATERIALS,
        },
    )
    base = f"/api/v1/applications/{created['id']}"
    for who, path, body in [
        ("community1", "/intake", {"decision": "accept"}),
        (
            "community1",
            "/investigation",
            {"home_visit_done": True, "monthly_income_per_capita": "0.00"},
        ),
        (
            "street1",
            "/street-opinion",
            {"decision": "eligible", "proposed_amount": "600.00"},
        ),
        ("streetlead1", "/street-approval", {}),
        ("street1", "/publicity/start", None),
    ]:
        await api.ok("POST", base + path, who=who, json=body)
    return int(created["id"])


async def _objects(api: Api, clock: OffsetClock, seq: int) -> dict[str, Any]:
    """One of everything a path can name, in 田心街道."""
    by_bank = await paid(api, clock, seq=seq, amount="1500.00")
    by_street = await paid(api, clock, seq=seq + 1, amount="800.00")
    in_publicity = await _in_publicity(api, seq + 2)
    objection = await api.ok(
        "POST",
        f"/api/v1/applications/{in_publicity}/objections",
        who="community1",
        status=201,
        json={"content": "申请人隐瞒了收入"},
    )
    recovery = await api.ok(
        "POST",
        f"/api/v1/applications/{by_bank}/recoveries",
        who="officer1",
        status=201,
        json={"amount": "100.00", "reason": "fraud", "note": "隐瞒收入"},
    )
    attachment = await api.call(
        "POST",
        f"/api/v1/applications/{by_bank}/attachments",
        who="community1",
        data={"material": "other"},
        files={"file": ("证明.pdf", PDF_SCAN, "application/pdf")},
    )
    assert attachment.status_code == 201, attachment.text
    await api.ok(
        "POST",
        "/api/v1/reserve-funds",
        who="officer1",
        status=201,
        json={
            "street_code": HOME_STREET,
            "year": 2026,
            "last_year_spending": "300000.00",
        },
    )
    return {
        "application_id": by_bank,
        "street_paid": by_street,
        "objection_id": objection["objections"][0]["id"],
        "recovery_id": recovery["id"],
        "attachment_id": attachment.json()["id"],
    }


@pytest.fixture(scope="module")
async def world(engine: AsyncEngine, database_url: str) -> AsyncIterator[World]:
    await _reset(engine)
    clock = OffsetClock(start=TEST_START)
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session, session.begin():
        await seed_reference(session, now=clock.now())
        await seed_demo_users(session, now=clock.now())
        for code, name, level, parent in [
            (AWAY_DISTRICT, "天元区", "district", "430200000000"),
            (AWAY_STREET, "嵩山路街道", "street", AWAY_DISTRICT),
            (AWAY_COMMUNITY, "泰山社区（示例）", "community", AWAY_STREET),
        ]:
            session.add(Region(code=code, name=name, level=level, parent_code=parent))

    settings = Settings(
        APP_ENV=Environment.TEST,
        DATABASE_URL=database_url,
        JWT_SECRET="test-secret-" + "x" * 32,
    )
    application: FastAPI = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        transport = ASGITransport(app=application)
        async with AsyncClient(transport=transport, base_url="http://t") as client:
            api = Api(client)
            away = await _objects(api, clock, seq=900)
            away_ids = await _move_away(sessionmaker, away)
            home = await _objects(api, clock, seq=950)
            home_ids = await _spot_check(sessionmaker, home, HOME_STREET)
            victims = await _victims(sessionmaker, clock.now())
            users = {a.username: a.region_code for a in DEMO_ACCOUNTS}
            users |= {c.client_id: c.region_code for c in DEMO_CLIENTS}
            yield World(
                api,
                home={**_ids(home), **home_ids, **victims["home"]},
                away={**_ids(away), **away_ids, **victims["away"]},
                users=users,
            )


def _ids(objects: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in objects.items() if k != "street_paid"}


async def _move_away(sessionmaker: Any, objects: dict[str, Any]) -> dict[str, str]:
    """Relocate the first copy, with its form, batch, fund and a spot check, to
    天元区 (the database's region columns are all scope reads)."""
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(Household)
            .where(col(Household.region_code).startswith("430204"))
            .values(region_code=AWAY_COMMUNITY)
        )
        await session.execute(
            update(Application)
            .where(col(Application.region_code).startswith("430204"))
            .values(region_code=AWAY_COMMUNITY)
        )
        for table in (DisbursementForm, PayoutBatch):
            await session.execute(update(table).values(district_code=AWAY_DISTRICT))
        await session.execute(update(ReserveFund).values(street_code=AWAY_STREET))
    return await _spot_check(sessionmaker, objects, AWAY_STREET)


async def _spot_check(
    sessionmaker: Any, objects: dict[str, Any], street: str
) -> dict[str, str]:
    """A drawn check of the street's delegated approval, and the street's
    form, batch and fund: the newest of each is this copy's."""
    from app.persistence.tables import Decision

    async with sessionmaker() as session, session.begin():
        decision = await session.scalar(
            select(Decision.id).where(
                col(Decision.application_id) == objects["street_paid"],
                col(Decision.outcome) == "approved",
            )
        )
        draw = SpotCheckDraw(
            street_code=street,
            month="2026-02",
            seed=1,
            seed_source="given",
            ratio="0.30",
            population_count=1,
            population_ids=[objects["street_paid"]],
            drawn_count=1,
            drawn_by="user:4",
            drawn_at=TEST_START,
        )
        session.add(draw)
        await session.flush()
        check = SpotCheck(
            draw_id=pk(draw),
            application_id=objects["street_paid"],
            decision_id=int(decision or 0),
        )
        session.add(check)
        await session.flush()
        form = await session.scalar(
            select(DisbursementForm.id).order_by(col(DisbursementForm.id).desc())
        )
        batch = await session.scalar(
            select(PayoutBatch.id).order_by(col(PayoutBatch.id).desc())
        )
        household = await session.scalar(
            select(Application.household_id).where(
                col(Application.id) == objects["application_id"]
            )
        )
        return {
            "check_id": str(pk(check)),
            "form_id": str(form),
            "batch_id": str(batch),
            "household_id": str(household),
            "street_code": street,
            "year": "2026",
        }


async def _victims(sessionmaker: Any, now: dt.datetime) -> dict[str, dict[str, str]]:
    """Accounts the admin routes may disable or rotate without harming the
    demo accounts the matrix signs in with."""
    found: dict[str, dict[str, str]] = {}
    async with sessionmaker() as session, session.begin():
        for place, community, district in [
            ("home", "430204001001", "430204000000"),
            ("away", AWAY_COMMUNITY, AWAY_DISTRICT),
        ]:
            user = User(
                username=f"victim-{place}",
                display_name="矩阵测试",
                password_hash="x",
                role=Role.COMMUNITY_WORKER.value,
                region_code=community,
                created_at=now,
            )
            client = MachineClient(
                client_id=f"victim-{place}",
                display_name="矩阵测试",
                secret_hash="x",
                role=Role.BANK.value,
                region_code=district,
                created_at=now,
            )
            session.add_all([user, client])
            await session.flush()
            found[place] = {"user_id": str(pk(user)), "client_id": str(pk(client))}
    return found


# --- The matrix --------------------------------------------------------------

CALLERS = [a.username for a in DEMO_ACCOUNTS] + [c.client_id for c in DEMO_CLIENTS]
ROLE_OF = {a.username: a.role for a in DEMO_ACCOUNTS} | {
    c.client_id: c.role for c in DEMO_CLIENTS
}
AWAY_REGION = {
    "street_code": AWAY_STREET,
    "form_id": AWAY_DISTRICT,
    "batch_id": AWAY_DISTRICT,
    "client_id": AWAY_DISTRICT,
}


def _fill(path: str, values: dict[str, str]) -> tuple[str, str | None]:
    """The path with its parameter filled in, and that parameter's name."""
    named = None
    for name, value in values.items():
        if "{" + name + "}" in path:
            path = path.replace("{" + name + "}", value)
            named = name
    return path, named


def _body(method: str) -> dict[str, Any] | None:
    # An empty body: an admitted caller gets past the rule and is stopped by
    # validation (422) or the case's state (409), never by the rule.
    return None if method == "GET" else {}


@pytest.mark.parametrize(("path", "method"), sorted((p, m) for m, p in ROUTES))
async def test_every_caller_in_and_out_of_region(
    world: World, path: str, method: str
) -> None:
    rule: Rule = ROUTES[(method, path)]
    if rule.who is Who.PUBLIC:
        return
    for caller in CALLERS:
        role = ROLE_OF[caller]
        home, named = _fill(path, world.home)
        response = await world.api.call(method, home, who=caller, json=_body(method))
        if path == "/api/v1/auth/logout":
            world.api._tokens.pop(caller)  # it ended that login: sign in again
        if not rule.admits(role):
            assert response.status_code == 403, (caller, method, home, response.text)
            assert response.json()["detail"] == rule.refusal()
            continue
        assert response.status_code not in (401, 404), (caller, home, response.text)
        if response.status_code == 403:
            # A workflow may refine by the case's state; the rule let them in.
            assert response.json()["detail"] != rule.refusal(), (caller, home)
        if named is None or not rule.scoped or named == "year":
            continue
        away, _ = _fill(path, world.away)
        region = AWAY_REGION.get(named, AWAY_COMMUNITY)
        if regions.contains(world.users[caller], region):
            continue  # the province sees every district of Hunan
        outside = await world.api.call(method, away, who=caller, json=_body(method))
        assert outside.status_code == 404, (caller, method, away, outside.text)
        assert outside.json()["code"] == "not_found"
        assert outside.json()["detail"] == access.absent(named, world.away[named])
