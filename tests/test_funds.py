"""Street reserve funds (R5.1) and recoveries (R5.2), through the HTTP API."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel import select

from app.auth.passwords import hash_secret
from app.auth.principal import Principal
from app.clock import OffsetClock
from app.domain.money import Money
from app.domain.roles import Role
from app.persistence.db import make_sessionmaker
from app.persistence.tables import Application, AuditEntry, OutboxEvent, User
from app.seed import DEMO_PASSWORD
from app.workflow import funds
from tests.support import FULL_MATERIALS, Api, awaiting_payment, id_number, paid

STREET = "430204001000"  # 田心街道, street1's street
OTHER_STREET = "430204002000"  # 响石岭街道
FUND = f"/api/v1/reserve-funds/{STREET}"


async def _set_up(api: Api, spending: str, *, street: str = STREET) -> Any:
    return await api.ok(
        "POST",
        "/api/v1/reserve-funds",
        who="officer1",
        status=201,
        json={"street_code": street, "year": 2026, "last_year_spending": spending},
    )


async def _submitted(api: Api, *, seq: int) -> int:
    household = await api.household(
        members=[("林七", id_number("430204", "19800808", seq), "本人", "1980-08-08")]
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
            "description": "火灾，急需先行救助",
            "requested_amount": "800.00",
            "materials": FULL_MATERIALS,
        },
    )
    return int(created["id"])


async def _street_worker_of(app: FastAPI, street: str) -> str:
    """A street worker of ``street``, who can log in with the demo password."""
    sessionmaker = make_sessionmaker(app.state.engine)
    async with sessionmaker() as session, session.begin():
        session.add(
            User(
                username="street2",
                display_name="响石岭街道 孙经办",
                password_hash=hash_secret(DEMO_PASSWORD),
                role=Role.STREET_WORKER.value,
                region_code=street,
                created_at=app.state.clock.now(),
            )
        )
    return "street2"


async def test_the_cap_is_a_tenth_of_last_years_spending_and_at_most_20000(
    api: Api,
) -> None:
    capped = await _set_up(api, "300000.00")
    reset = await _set_up(api, "50000.00")

    assert capped["cap"] == "20000.00"
    assert capped["balance"] == "0.00"
    assert capped["year"] == 2026
    assert "超过街道备用金上限 20,000.00 元" in capped["explanation"]
    assert reset["cap"] == "5000.00"
    assert reset["room"] == "5000.00"
    assert "50,000.00" in reset["explanation"]
    assert [m["kind"] for m in reset["movements"]] == ["set_cap", "set_cap"]


async def test_replenishing_to_exactly_the_cap_passes_and_one_fen_more_is_refused(
    api: Api,
) -> None:
    await _set_up(api, "300000.00")

    first = await api.ok(
        "POST",
        FUND + "/replenishments",
        who="financelead1",
        status=201,
        json={"amount": "15000.00", "note": "区财政拨付"},
    )
    full = await api.ok(
        "POST",
        FUND + "/replenishments",
        who="officer1",
        status=201,
        json={"amount": "5000.00"},
    )
    over = await api.call(
        "POST", FUND + "/replenishments", who="officer1", json={"amount": "0.01"}
    )
    after = await api.ok("GET", FUND, who="officer1")

    assert first["balance"] == "15000.00"
    assert full["balance"] == "20000.00"
    assert full["room"] == "0.00"
    assert over.status_code == 409
    assert over.json()["code"] == "reserve_over_cap"
    assert "最多还能补充 0.00 元" in over.json()["detail"]
    assert after["balance"] == "20000.00"
    assert after["version"] == full["version"]
    assert [(m["kind"], m["direction"], m["amount"]) for m in after["movements"]] == [
        ("set_cap", "none", "0.00"),
        ("replenish", "in", "15000.00"),
        ("replenish", "in", "5000.00"),
    ]


async def test_a_lower_cap_for_a_new_year_returns_the_excess(api: Api) -> None:
    await _set_up(api, "300000.00")
    await api.ok(
        "POST",
        FUND + "/replenishments",
        who="officer1",
        status=201,
        json={"amount": "8000.00"},
    )

    reset = await api.ok(
        "POST",
        "/api/v1/reserve-funds",
        who="officer1",
        status=201,
        json={"street_code": STREET, "year": 2027, "last_year_spending": "50000.00"},
    )
    back = await api.call(
        "POST",
        "/api/v1/reserve-funds",
        who="officer1",
        json={"street_code": STREET, "year": 2026, "last_year_spending": "1.00"},
    )

    assert (reset["year"], reset["cap"], reset["balance"]) == (
        2027,
        "5000.00",
        "5000.00",
    )
    adjust = reset["movements"][-2]
    assert (adjust["kind"], adjust["direction"], adjust["amount"]) == (
        "adjust",
        "out",
        "3000.00",
    )
    assert back.status_code == 409
    assert back.json()["code"] == "reserve_year_passed"


async def test_a_draw_may_empty_the_fund_but_never_overdraw_it(
    app: FastAPI, api: Api, clock: OffsetClock
) -> None:
    await _set_up(api, "50000.00")
    await api.ok(
        "POST",
        FUND + "/replenishments",
        who="officer1",
        status=201,
        json={"amount": "1000.00"},
    )
    app_id = await _submitted(api, seq=601)
    street1 = Principal(
        subject="user:2",
        role=Role.STREET_WORKER,
        region_code=STREET,
        display_name="田心街道 李经办",
    )
    sessionmaker = make_sessionmaker(app.state.engine)

    async with sessionmaker() as session, session.begin():
        await funds.draw(
            session,
            actor=street1,
            now=clock.now(),
            street_code=STREET,
            amount=Money.parse("600.00"),
            application_id=app_id,
            note="火灾先行救助",
        )
    with pytest.raises(funds.ReserveInsufficient) as refused:
        async with sessionmaker() as session, session.begin():
            await funds.draw(
                session,
                actor=street1,
                now=clock.now(),
                street_code=STREET,
                amount=Money.parse("400.01"),
                application_id=app_id,
                note="",
            )
    async with sessionmaker() as session, session.begin():
        await funds.draw(
            session,
            actor=street1,
            now=clock.now(),
            street_code=STREET,
            amount=Money.parse("400.00"),
            application_id=app_id,
            note="",
        )
    after = await api.ok("GET", FUND, who="street1")

    assert refused.value.status == 409
    assert refused.value.code == "reserve_insufficient"
    assert "余额为 400.00 元" in refused.value.detail
    assert after["balance"] == "0.00"
    advances = [m for m in after["movements"] if m["kind"] == "advance"]
    assert [(m["amount"], m["balance_after"]) for m in advances] == [
        ("600.00", "400.00"),
        ("400.00", "0.00"),
    ]
    assert {m["application_id"] for m in advances} == {app_id}


async def test_only_the_district_manages_funds_and_a_street_sees_only_its_own(
    app: FastAPI, api: Api
) -> None:
    await _set_up(api, "50000.00")
    await _set_up(api, "80000.00", street=OTHER_STREET)
    other_worker = await _street_worker_of(app, OTHER_STREET)

    own = await api.call("GET", FUND, who="street1")
    foreign = await api.call("GET", FUND, who=other_worker)
    theirs = await api.call(
        "GET", f"/api/v1/reserve-funds/{OTHER_STREET}", who=other_worker
    )
    audited = await api.call("GET", FUND, who="auditor1")
    by_street = await api.call(
        "POST", FUND + "/replenishments", who="street1", json={"amount": "1.00"}
    )
    set_by_street = await api.call(
        "POST",
        "/api/v1/reserve-funds",
        who="street1",
        json={"street_code": STREET, "year": 2026, "last_year_spending": "1.00"},
    )
    by_bank = await api.call("GET", FUND, who="bank-demo")

    assert own.status_code == 200
    assert foreign.status_code == 404
    assert theirs.json()["cap"] == "8000.00"
    assert audited.status_code == 200
    assert by_street.status_code == 403
    assert set_by_street.status_code == 403
    assert by_bank.status_code == 403


async def test_a_recovery_is_repaid_in_parts_and_then_settled(
    api: Api, clock: OffsetClock
) -> None:
    app_id = await paid(api, clock, seq=611, amount="2000.00")
    base = f"/api/v1/applications/{app_id}"

    opened = await api.ok(
        "POST",
        base + "/recoveries",
        who="officer1",
        status=201,
        json={"amount": "500.00", "reason": "fraud", "note": "隐瞒家庭收入骗取救助金"},
    )
    path = f"/api/v1/recoveries/{opened['id']}/repayments"
    first = await api.ok(
        "POST",
        path,
        who="financelead1",
        status=201,
        json={"amount": "200.00", "paid_on": "2026-03-09", "receipt_no": "R-001"},
    )
    too_much = await api.call(
        "POST",
        path,
        who="financelead1",
        json={"amount": "300.01", "paid_on": "2026-03-09", "receipt_no": "R-002"},
    )
    settled = await api.ok(
        "POST",
        path,
        who="officer1",
        status=201,
        json={"amount": "300.00", "paid_on": "2026-03-09", "receipt_no": "R-002"},
    )
    further = await api.call(
        "POST",
        path,
        who="financelead1",
        json={"amount": "0.01", "paid_on": "2026-03-09", "receipt_no": "R-003"},
    )
    listed = await api.ok("GET", base + "/recoveries", who="auditor1")
    case = await api.ok("GET", base, who="officer1")

    assert (opened["status"], opened["amount"], opened["outstanding"]) == (
        "open",
        "500.00",
        "500.00",
    )
    assert (first["recovered"], first["outstanding"]) == ("200.00", "300.00")
    assert too_much.status_code == 409
    assert too_much.json()["code"] == "repayment_above_outstanding"
    assert (settled["status"], settled["recovered"], settled["outstanding"]) == (
        "settled",
        "500.00",
        "0.00",
    )
    assert [r["receipt_no"] for r in settled["repayments"]] == ["R-001", "R-002"]
    assert further.status_code == 409
    assert further.json()["code"] == "recovery_closed"
    assert listed == [settled]
    assert case["status"] == "paid"
    assert case["timeline"][-1]["action"] == "application.record_recovery"


async def test_repayments_are_refused_from_the_wrong_role_twice_or_in_the_future(
    api: Api, clock: OffsetClock
) -> None:
    app_id = await paid(api, clock, seq=612, amount="800.00")
    opened = await api.ok(
        "POST",
        f"/api/v1/applications/{app_id}/recoveries",
        who="assistlead1",
        status=201,
        json={"amount": "800.00", "reason": "spot_check", "note": "抽查不符合条件"},
    )
    path = f"/api/v1/recoveries/{opened['id']}/repayments"
    body = {"amount": "100.00", "paid_on": "2026-03-09", "receipt_no": "R-9"}

    by_assistance_leader = await api.call("POST", path, who="assistlead1", json=body)
    await api.ok("POST", path, who="financelead1", status=201, json=body)
    twice = await api.call("POST", path, who="financelead1", json=body)
    future = await api.call(
        "POST",
        path,
        who="financelead1",
        json=body | {"receipt_no": "R-10", "paid_on": "2026-12-31"},
    )
    float_amount = await api.call(
        "POST", path, who="financelead1", json=body | {"amount": 100.0}
    )

    assert by_assistance_leader.status_code == 403
    assert twice.status_code == 409
    assert twice.json()["code"] == "receipt_already_recorded"
    assert future.status_code == 422
    assert float_amount.status_code == 422


async def test_no_recovery_on_an_unpaid_case_nor_beyond_the_grant(
    api: Api, clock: OffsetClock
) -> None:
    unpaid = await awaiting_payment(
        api, clock, seq=621, amount="900.00", account="6217000000000621"
    )
    paid_id = await paid(api, clock, seq=622, amount="2000.00")
    body = {"amount": "500.00", "reason": "fraud", "note": "骗取"}

    on_unpaid = await api.call(
        "POST", f"/api/v1/applications/{unpaid}/recoveries", who="officer1", json=body
    )
    by_street = await api.call(
        "POST", f"/api/v1/applications/{paid_id}/recoveries", who="street1", json=body
    )
    await api.ok(
        "POST",
        f"/api/v1/applications/{paid_id}/recoveries",
        who="officer1",
        status=201,
        json=body | {"amount": "1500.00"},
    )
    beyond = await api.call(
        "POST",
        f"/api/v1/applications/{paid_id}/recoveries",
        who="officer1",
        json=body | {"amount": "500.01"},
    )
    unpaid_case = await api.ok("GET", f"/api/v1/applications/{unpaid}", who="officer1")

    assert on_unpaid.status_code == 409
    assert on_unpaid.json()["code"] == "invalid_transition"
    assert on_unpaid.json()["current_status"] == "awaiting_payment"
    assert unpaid_case["status"] == "awaiting_payment"
    assert by_street.status_code == 403
    assert beyond.status_code == 409
    assert beyond.json()["code"] == "recovery_above_grant"
    assert beyond.json()["room"] == "500.00"


async def test_an_advance_above_the_grant_can_be_recovered_in_full(
    app: FastAPI, api: Api, clock: OffsetClock
) -> None:
    app_id = await paid(api, clock, seq=623, amount="300.00")
    sessionmaker = make_sessionmaker(app.state.engine)
    async with sessionmaker() as session, session.begin():
        # As the advance procedure (R3.9) leaves a case whose advance of
        # 1,000.00 was settled against a final grant of 300.00.
        application = await session.get(Application, app_id)
        assert application is not None
        application.advance_fen = 100000

    excess = await api.ok(
        "POST",
        f"/api/v1/applications/{app_id}/recoveries",
        who="officer1",
        status=201,
        json={"amount": "700.00", "reason": "fraud", "note": "骗取"},
    )
    beyond = await api.call(
        "POST",
        f"/api/v1/applications/{app_id}/recoveries",
        who="officer1",
        json={"amount": "300.01", "reason": "fraud", "note": "骗取"},
    )

    assert excess["amount"] == "700.00"
    assert beyond.status_code == 409
    assert beyond.json()["room"] == "300.00"


async def test_the_report_adds_up_to_the_fen_per_street(
    app: FastAPI, api: Api, clock: OffsetClock
) -> None:
    first = await paid(api, clock, seq=631, amount="2000.00")
    second = await paid(api, clock, seq=632, amount="999.99")
    one = await api.ok(
        "POST",
        f"/api/v1/applications/{first}/recoveries",
        who="officer1",
        status=201,
        json={"amount": "500.00", "reason": "fraud", "note": "骗取"},
    )
    await api.ok(
        "POST",
        f"/api/v1/applications/{second}/recoveries",
        who="officer1",
        status=201,
        json={"amount": "333.33", "reason": "spot_check", "note": "抽查不合格"},
    )
    await api.ok(
        "POST",
        f"/api/v1/recoveries/{one['id']}/repayments",
        who="financelead1",
        status=201,
        json={"amount": "123.45", "paid_on": "2026-03-10", "receipt_no": "R-1"},
    )
    other_worker = await _street_worker_of(app, OTHER_STREET)

    report = await api.ok("GET", "/api/v1/recoveries/report?year=2026", who="auditor1")
    last_year = await api.ok(
        "GET", "/api/v1/recoveries/report?year=2025", who="officer1"
    )
    own = await api.ok("GET", "/api/v1/recoveries/report", who="street1")
    foreign = await api.ok("GET", "/api/v1/recoveries/report", who=other_worker)
    community = await api.call("GET", "/api/v1/recoveries/report", who="community1")

    figures = {
        "recoveries": 2,
        "due": "833.33",
        "recovered": "123.45",
        "outstanding": "709.88",
        "written_off": "0.00",
    }
    tianxin = next(s for s in report["streets"] if s["street_code"] == STREET)
    assert tianxin == {"street_code": STREET, "street_name": "田心街道", **figures}
    assert report["totals"] == figures
    assert len(report["streets"]) == 8
    assert all(
        s["recoveries"] == 0 for s in report["streets"] if s["street_code"] != STREET
    )
    assert last_year["totals"]["recoveries"] == 0
    assert last_year["totals"]["due"] == "0.00"
    assert [s["street_code"] for s in own["streets"]] == [STREET]
    assert own["totals"] == figures
    assert foreign["totals"]["recoveries"] == 0
    assert community.status_code == 403


async def test_every_change_is_audited(app: FastAPI, api: Api) -> None:
    await _set_up(api, "50000.00")
    await api.ok(
        "POST",
        FUND + "/replenishments",
        who="officer1",
        status=201,
        json={"amount": "10.00"},
    )
    sessionmaker = make_sessionmaker(app.state.engine)

    async with sessionmaker() as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.entity_type == "reserve_fund"
                )
            )
        )
        events = list(
            await session.scalars(
                select(OutboxEvent.event_type).where(
                    OutboxEvent.entity_type == "reserve_fund"
                )
            )
        )

    assert actions == ["reserve_fund.set_up", "reserve_fund.replenish"]
    assert events == actions
