"""The state machine's own guarantees, below the HTTP layer."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlmodel import select

from app.auth.principal import Principal
from app.clock import OffsetClock
from app.domain.catalog import Material
from app.domain.roles import Role
from app.errors import ConcurrentUpdate
from app.persistence.db import make_sessionmaker
from app.persistence.tables import Application, AuditEntry
from app.workflow import applications as flow
from app.workflow.states import ApplicationStatus
from app.workflow.transitions import EDGES, Action
from tests.support import Api, awaiting_payment, id_number

COMMUNITY_WORKER = Principal(
    subject="user:1",
    role=Role.COMMUNITY_WORKER,
    region_code="430204001001",
    display_name="测试社工",
)


async def _submitted(api: Api) -> int:
    household = await api.household(
        members=[("周八", id_number("430204", "19880808", 41), "本人", "1988-08-08")]
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
            "requested_amount": "500.00",
            "materials": [
                "application_form",
                "id_card_copy",
                "household_register_copy",
                "hardship_evidence",
            ],
        },
    )
    return int(created["id"])


async def test_a_stale_copy_cannot_move_an_application_twice(
    app: FastAPI, api: Api, clock: OffsetClock
) -> None:
    app_id = await _submitted(api)
    sessionmaker = make_sessionmaker(app.state.engine)

    # Two clerks opened the same application at version 1.
    async with sessionmaker() as first_view, first_view.begin():
        first = await first_view.get(Application, app_id)
    async with sessionmaker() as second_view, second_view.begin():
        second = await second_view.get(Application, app_id)
    assert first is not None
    assert second is not None
    assert first.version == second.version == 1

    async with sessionmaker() as session, session.begin():
        session.add(first)
        await flow.accept(session, first, actor=COMMUNITY_WORKER, now=clock.now())

    async with sessionmaker() as session:
        session.add(second)
        with pytest.raises(ConcurrentUpdate):
            await flow.return_for_materials(
                session,
                second,
                actor=COMMUNITY_WORKER,
                now=clock.now(),
                missing=[Material.HARDSHIP_EVIDENCE],
                note="",
            )
        await session.rollback()

    detail = await api.ok("GET", f"/api/v1/applications/{app_id}", who="community1")
    assert detail["status"] == "accepted"
    assert detail["version"] == 2
    async with sessionmaker() as session:
        entries = await session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.entity_type == "application", AuditEntry.entity_id == app_id
            )
        )
        # The loser left no trace.
        assert list(entries) == ["application.create", "application.accept"]


def test_every_status_but_the_terminal_ones_has_a_way_out() -> None:
    sources = {edge.source for edge in EDGES if edge.target is not edge.source}

    assert sources == set(ApplicationStatus) - {
        ApplicationStatus.CLOSED,
        ApplicationStatus.REFUSED,
        ApplicationStatus.REFERRED,
    }
    assert len({(e.source, e.action) for e in EDGES}) == len(EDGES)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("community1", ["accept", "return", "intake_refuse"]),
        ("street1", ["accept", "return", "intake_refuse"]),
        ("streetlead1", []),
        ("officer1", []),
        ("auditor1", []),
    ],
)
async def test_the_detail_lists_exactly_the_callers_actions(
    api: Api, who: str, expected: list[str]
) -> None:
    app_id = await _submitted(api)

    detail = await api.ok("GET", f"/api/v1/applications/{app_id}", who=who)

    assert [a["action"] for a in detail["allowed_actions"]] == expected
    if expected:
        assert detail["allowed_actions"][0]["title"] == "受理"


def test_mark_paid_is_for_the_bank_alone() -> None:
    edge = next(e for e in EDGES if e.action is Action.MARK_PAID)

    assert edge.roles == frozenset({Role.BANK})


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        # No reserve fund in this street yet: no advance is offered.
        ("streetlead1", ["street_approve", "street_refuse"]),
        # 800 yuan is the street's to approve; the district, the principal,
        # may still refuse it.
        ("officer1", ["district_refuse"]),
        ("assistlead1", ["district_refuse"]),
        ("street1", []),
        ("community1", []),
        ("financelead1", []),
        ("auditor1", []),
    ],
)
async def test_a_small_proposal_offers_each_role_exactly_its_actions(
    api: Api, who: str, expected: list[str]
) -> None:
    app_id = await _submitted(api)
    base = f"/api/v1/applications/{app_id}"
    await api.ok(
        "POST", base + "/intake", who="community1", json={"decision": "accept"}
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
        json={"decision": "eligible", "proposed_amount": "800.00"},
    )

    detail = await api.ok("GET", base, who=who)

    assert [a["action"] for a in detail["allowed_actions"]] == expected


@pytest.mark.parametrize(
    ("amount", "who", "expected"),
    [
        # R3.5: the street approved 800 yuan, so the street pays it ...
        ("800.00", "street1", ["street_pay"]),
        ("800.00", "streetlead1", ["street_pay"]),
        ("800.00", "officer1", []),
        ("800.00", "community1", []),
        # ... and 1,500 yuan, approved by the district, goes on its form and
        # is marked paid by the bank's results, not by a button.
        ("1500.00", "street1", []),
        ("1500.00", "streetlead1", []),
        ("1500.00", "officer1", []),
    ],
)
async def test_after_publicity_the_street_pays_only_what_it_approved(
    api: Api, clock: OffsetClock, amount: str, who: str, expected: list[str]
) -> None:
    app_id = await awaiting_payment(
        api, clock, seq=43, amount=amount, account="6217000000004300"
    )

    detail = await api.ok("GET", f"/api/v1/applications/{app_id}", who=who)

    assert detail["status"] == "awaiting_payment"
    assert [a["action"] for a in detail["allowed_actions"]] == expected


async def test_accept_is_offered_only_with_every_material(api: Api) -> None:
    household = await api.household(
        members=[("周九", id_number("430204", "19890909", 44), "本人", "1989-09-09")]
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
            "requested_amount": "500.00",
            "materials": ["application_form", "id_card_copy"],
        },
    )
    base = f"/api/v1/applications/{created['id']}"
    offered = [a["action"] for a in created["allowed_actions"]]

    refused = await api.call(
        "POST", base + "/intake", who="community1", json={"decision": "accept"}
    )
    complete = await api.ok(
        "POST",
        base + "/intake",
        who="community1",
        json={
            "decision": "return",
            "missing_materials": ["household_register_copy", "hardship_evidence"],
        },
    )
    back = await api.ok(
        "POST",
        base + "/resubmission",
        who="community1",
        json={"materials": ["household_register_copy", "hardship_evidence"]},
    )

    assert offered == ["return", "intake_refuse"]
    assert refused.status_code == 422
    assert refused.json()["code"] == "materials_incomplete"
    assert refused.json()["missing_materials"] == [
        "household_register_copy",
        "hardship_evidence",
    ]
    assert complete["status"] == "returned"
    assert [a["action"] for a in back["allowed_actions"]] == [
        "accept",
        "return",
        "intake_refuse",
    ]
