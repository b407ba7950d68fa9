"""R3.5's filing list and R3.6's spot checks, through the HTTP API.

Every test builds the same March 2026 in 田心街道: seven street approvals in
force, one revoked by an objection and one district approval; then April
comes and the district draws.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from app.clock import OffsetClock
from app.domain.sampling import draw
from tests.support import FULL_MATERIALS, Api, awaiting_payment, id_number, paid

TIANXIN = "430204001000"  # 田心街道, where the demo's street staff work
XIANGSHILING = "430204002000"  # 响石岭街道, no cases
MARCH = "2026-03"
THIRTY_PERCENT = Fraction(3, 10)


async def _case(api: Api, *, household_id: int, amount: str) -> int:
    created = await api.ok(
        "POST",
        "/api/v1/applications",
        who="community1",
        status=201,
        json={
            "household_id": household_id,
            "assistance_type": "emergency",
            "reason": "accident",
            "description": "意外事故",
            "requested_amount": amount,
            "materials": FULL_MATERIALS,
        },
    )
    app_id = int(created["id"])
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
    return app_id


async def _household(api: Api, *, seq: int) -> int:
    household = await api.household(
        members=[("韩六", id_number("430204", "19750505", seq), "本人", "1975-05-05")],
        account=f"62170000{seq:08d}",
    )
    return int(household["id"])


async def _approved(
    api: Api, *, household_id: int, amount: str = "800.00", by_street: bool = True
) -> int:
    """A case approved by the street leader (R3.5) or, above 1,000, the district."""
    app_id = await _case(api, household_id=household_id, amount=amount)
    base = f"/api/v1/applications/{app_id}"
    await api.ok(
        "POST",
        base + "/street-opinion",
        who="street1",
        json={"decision": "eligible", "proposed_amount": amount},
    )
    if by_street:
        await api.ok("POST", base + "/street-approval", who="streetlead1", json={})
    else:
        await api.ok(
            "POST",
            base + "/district-decision",
            who="officer1",
            json={"decision": "approve"},
        )
    return app_id


@dataclass(frozen=True)
class March:
    paid: int  # street-approved and paid
    waiting: int  # street-approved, publicity over, not yet paid by the street
    first: int  # street-approved, household H
    second: int  # street-approved, household H
    later: int  # household H, investigated: two grants for the reason already
    others: tuple[int, ...]  # street-approved, approved status
    revoked: int  # street-approved, objection upheld during publicity
    district: int  # approved by the district (3,000): not filed

    @property
    def population(self) -> list[int]:
        return sorted([self.paid, self.waiting, self.first, self.second, *self.others])


async def _march(api: Api, clock: OffsetClock) -> March:
    # Approved 2 March, paid 9 March.
    paid_id = await paid(api, clock, seq=1, amount="800.00")
    # Approved 9 March, publicity over 16 March, then put on a form.
    waiting = await awaiting_payment(
        api, clock, seq=2, amount="900.00", account="6217000000000002"
    )

    household = await _household(api, seq=3)
    first = await _approved(api, household_id=household)
    second = await _approved(api, household_id=household)
    later = await _case(api, household_id=household, amount="500.00")
    others = tuple(
        [
            await _approved(api, household_id=await _household(api, seq=s))
            for s in (4, 5, 6)
        ]
    )

    revoked = await _approved(api, household_id=await _household(api, seq=7))
    base = f"/api/v1/applications/{revoked}"
    await api.ok("POST", base + "/publicity/start", who="street1")
    raised = await api.ok(
        "POST",
        base + "/objections",
        who="community1",
        status=201,
        json={"content": "申请人隐瞒了收入"},
    )
    await api.ok(
        "POST",
        f"/api/v1/objections/{raised['objections'][0]['id']}/decision",
        who="streetlead1",
        json={"decision": "uphold", "note": "经核实，异议成立"},
    )

    district = await _approved(
        api,
        household_id=await _household(api, seq=8),
        amount="3000.00",
        by_street=False,
    )
    return March(paid_id, waiting, first, second, later, others, revoked, district)


def _seed_drawing(population: list[int], wanted: list[int]) -> int:
    """A seed whose draw is exactly ``wanted`` (the draw is a pure function)."""
    return next(
        seed
        for seed in range(100_000)
        if draw(population, ratio=THIRTY_PERCENT, seed=seed) == sorted(wanted)
    )


async def _draw(api: Api, *, seed: int | None, street: str = TIANXIN) -> Any:
    body: dict[str, Any] = {"street_code": street, "month": MARCH}
    if seed is not None:
        body["seed"] = seed
    return await api.ok(
        "POST", "/api/v1/spot-checks/draws", who="officer1", status=201, json=body
    )


def _check_of(drawn: Any, application_id: int) -> int:
    return int(
        next(c["id"] for c in drawn["checks"] if c["application_id"] == application_id)
    )


async def _result(
    api: Api, check_id: int, result: str, findings: str = "", who: str = "officer1"
) -> Any:
    return await api.call(
        "POST",
        f"/api/v1/spot-checks/{check_id}/result",
        who=who,
        json={"result": result, "findings": findings},
    )


async def test_the_filing_list_holds_the_street_approvals_of_the_month(
    api: Api, clock: OffsetClock
) -> None:
    march = await _march(api, clock)

    filed = await api.ok("GET", f"/api/v1/filings?month={MARCH}", who="officer1")
    own = await api.ok("GET", f"/api/v1/filings?month={MARCH}", who="street1")
    april = await api.ok("GET", "/api/v1/filings?month=2026-04", who="auditor1")
    community = await api.call(
        "GET", f"/api/v1/filings?month={MARCH}", who="community1"
    )
    malformed = await api.call("GET", "/api/v1/filings?month=2026-3", who="officer1")

    entries = {e["application_id"]: e for e in filed["entries"]}
    assert sorted(entries) == sorted([*march.population, march.revoked])
    assert march.district not in entries
    assert {e["application_id"]: e["in_force"] for e in filed["entries"]} == {
        **dict.fromkeys(march.population, True),
        march.revoked: False,
    }
    paid_entry = entries[march.paid]
    assert paid_entry["street_code"] == TIANXIN
    assert paid_entry["region_code"] == "430204001001"
    assert paid_entry["amount"] == "800.00"
    assert paid_entry["approved_on"] == "2026-03-02"
    assert paid_entry["approver_name"] == "田心街道 赵主任"
    assert paid_entry["application_status"] == "paid"
    assert entries[march.waiting]["approved_on"] == "2026-03-09"
    assert filed["count"] == 8
    assert filed["total"] == "5700.00"  # six of 800.00 and one of 900.00
    assert own == filed
    assert april["entries"] == []
    assert community.status_code == 403
    assert malformed.status_code == 422


async def test_a_draw_takes_at_least_thirty_percent_reproducibly_and_once(
    api: Api, clock: OffsetClock
) -> None:
    march = await _march(api, clock)
    early = await api.call(
        "POST",
        "/api/v1/spot-checks/draws",
        who="officer1",
        json={"street_code": TIANXIN, "month": MARCH, "seed": 1},
    )
    clock.advance(dt.timedelta(days=20))  # 5 April

    drawn = await _draw(api, seed=20260405)
    again = await api.call(
        "POST",
        "/api/v1/spot-checks/draws",
        who="assistlead1",
        json={"street_code": TIANXIN, "month": MARCH},
    )
    empty = await _draw(api, seed=None, street=XIANGSHILING)

    assert early.status_code == 409
    assert early.json()["code"] == "month_not_over"
    assert drawn["population_ids"] == march.population
    assert drawn["population_count"] == 7
    assert drawn["ratio"] == "0.30"
    assert drawn["drawn_count"] == 3  # ceil(0.30 × 7)
    assert drawn["seed"] == 20260405
    assert drawn["seed_source"] == "given"
    # The same population, ratio and seed give the same cases anywhere.
    assert [c["application_id"] for c in drawn["checks"]] == draw(
        march.population, ratio=THIRTY_PERCENT, seed=20260405
    )
    assert {c["status"] for c in drawn["checks"]} == {"pending"}
    assert again.status_code == 409
    assert again.json()["code"] == "spot_check_already_drawn"
    assert empty["population_count"] == 0
    assert empty["checks"] == []
    assert empty["seed_source"] == "generated"
    assert 0 <= empty["seed"] < 2**32
    draws = await api.ok(
        "GET", f"/api/v1/spot-checks/draws?month={MARCH}", who="auditor1"
    )
    assert [d["street_code"] for d in draws] == [TIANXIN, XIANGSHILING]
    assert draws[0] == drawn


async def test_a_draw_is_for_a_street_of_the_district_by_the_district(
    api: Api, clock: OffsetClock
) -> None:
    clock.advance(dt.timedelta(days=31))

    unknown = await api.call(
        "POST",
        "/api/v1/spot-checks/draws",
        who="officer1",
        json={"street_code": "430204099000", "month": MARCH},
    )
    community = await api.call(
        "POST",
        "/api/v1/spot-checks/draws",
        who="officer1",
        json={"street_code": "430204001001", "month": MARCH},
    )
    by_street = await api.call(
        "POST",
        "/api/v1/spot-checks/draws",
        who="streetlead1",
        json={"street_code": TIANXIN, "month": MARCH},
    )
    seen_by_street = await api.call(
        "GET", f"/api/v1/spot-checks?month={MARCH}", who="street1"
    )

    assert unknown.status_code == 404
    assert community.status_code == 422
    assert by_street.status_code == 403
    assert seen_by_street.status_code == 403


async def test_a_failed_check_reopens_an_unpaid_case_and_frees_its_room(
    api: Api, clock: OffsetClock
) -> None:
    march = await _march(api, clock)
    clock.advance(dt.timedelta(days=20))
    seed = _seed_drawing(march.population, [march.first, march.paid, march.waiting])
    drawn = await _draw(api, seed=seed)
    before = await api.ok(
        "POST",
        "/api/v1/eligibility/evaluate",
        who="street1",
        json={"application_id": march.later},
    )

    by_street = await _result(
        api, _check_of(drawn, march.first), "failed", "x", who="street1"
    )
    bare = await _result(api, _check_of(drawn, march.first), "failed")
    failed = await _result(
        api, _check_of(drawn, march.first), "failed", "家庭收入核实有误，须重新调查"
    )
    twice = await _result(api, _check_of(drawn, march.first), "passed")
    after = await api.ok(
        "POST",
        "/api/v1/eligibility/evaluate",
        who="street1",
        json={"application_id": march.later},
    )
    case = await api.ok("GET", f"/api/v1/applications/{march.first}", who="street1")

    assert by_street.status_code == 403
    assert bare.status_code == 422
    assert failed.status_code == 200, failed.text
    assert failed.json()["status"] == "failed"
    assert failed.json()["recovery_required"] is False
    assert failed.json()["application_status"] == "investigated"
    assert twice.status_code == 409
    assert twice.json()["code"] == "spot_check_recorded"
    # Two grants for the same reason this year (R2.4) before; one after.
    assert before["eligible"] is False
    assert "R2.4" in before["failed_rules"]
    assert after["eligible"] is True
    assert case["status"] == "investigated"
    assert case["approved_amount"] is None
    actions = [e["action"] for e in case["timeline"]]
    assert actions[-2:] == ["spot_check.failed", "application.reopen"]
    filed = await api.ok("GET", f"/api/v1/filings?month={MARCH}", who="officer1")
    in_force = {e["application_id"]: e["in_force"] for e in filed["entries"]}
    assert in_force[march.first] is False


async def test_a_failed_check_before_the_street_pays_reopens_the_case_unpaid(
    api: Api, clock: OffsetClock
) -> None:
    march = await _march(api, clock)
    clock.advance(dt.timedelta(days=20))
    seed = _seed_drawing(march.population, [march.first, march.paid, march.waiting])
    drawn = await _draw(api, seed=seed)

    failed = await _result(
        api, _check_of(drawn, march.waiting), "failed", "救助金额计算有误"
    )
    payment = await api.call(
        "POST",
        f"/api/v1/applications/{march.waiting}/street-payment",
        who="street1",
        json={"voucher_no": "TX-0002"},
    )

    assert failed.status_code == 200, failed.text
    assert failed.json()["application_status"] == "investigated"
    assert failed.json()["recovery_required"] is False
    assert payment.status_code == 409
    assert payment.json()["current_status"] == "investigated"
    case = await api.ok("GET", f"/api/v1/applications/{march.waiting}", who="officer1")
    assert case["payments"] == []
    assert case["approved_amount"] is None


async def test_a_failed_check_on_a_paid_case_calls_for_a_recovery(
    api: Api, clock: OffsetClock
) -> None:
    march = await _march(api, clock)
    clock.advance(dt.timedelta(days=20))
    seed = _seed_drawing(march.population, [march.first, march.paid, march.waiting])
    drawn = await _draw(api, seed=seed)

    failed = await _result(
        api, _check_of(drawn, march.paid), "failed", "隐瞒家庭财产，骗取救助"
    )
    case = await api.ok("GET", f"/api/v1/applications/{march.paid}", who="officer1")

    assert failed.status_code == 200, failed.text
    assert failed.json()["recovery_required"] is True
    assert failed.json()["application_status"] == "paid"
    assert case["status"] == "paid"
    recovery = case["timeline"][-1]
    assert recovery["action"] == "spot_check.recovery_required"
    assert recovery["details"]["spot_check_id"] == _check_of(drawn, march.paid)
    assert recovery["details"]["amount"] == "800.00"


async def test_coverage_per_street_and_month_is_exact(
    api: Api, clock: OffsetClock
) -> None:
    march = await _march(api, clock)
    clock.advance(dt.timedelta(days=20))
    undrawn = await api.ok(
        "GET", f"/api/v1/spot-checks/coverage?month={MARCH}", who="auditor1"
    )
    seed = _seed_drawing(march.population, [march.first, march.paid, march.waiting])
    drawn = await _draw(api, seed=seed)
    await _result(api, _check_of(drawn, march.first), "failed", "收入核实有误")
    await _result(api, _check_of(drawn, march.paid), "failed", "隐瞒财产")
    half = await api.ok(
        "GET", f"/api/v1/spot-checks/coverage?month={MARCH}", who="officer1"
    )
    await _result(api, _check_of(drawn, march.waiting), "passed", "核查无误")

    final = await api.ok(
        "GET", f"/api/v1/spot-checks/coverage?month={MARCH}", who="officer1"
    )
    checks = await api.ok(
        "GET",
        f"/api/v1/spot-checks?month={MARCH}&street_code={TIANXIN}",
        who="auditor1",
    )
    elsewhere = await api.ok(
        "GET",
        f"/api/v1/spot-checks?month={MARCH}&street_code={XIANGSHILING}",
        who="auditor1",
    )

    def tianxin(report: Any) -> dict[str, Any]:
        row: dict[str, Any] = next(
            s for s in report["streets"] if s["street_code"] == TIANXIN
        )
        return row

    assert len(final["streets"]) == 8  # every street and town of the district
    assert {k: tianxin(undrawn)[k] for k in ("population", "drawn", "ratio")} == {
        "population": 7,
        "drawn": 0,
        "ratio": "0.00",
    }
    assert tianxin(undrawn)["meets_ratio"] is False
    assert tianxin(half)["checked"] == 2
    assert tianxin(final) == {
        "street_code": TIANXIN,
        "street_name": "田心街道",
        # Recorded by the draw: the reopened case still counts as checked.
        "population": 7,
        "drawn": 3,
        "checked": 3,
        "failed": 2,
        "ratio": "0.42",  # 3/7, truncated
        "required_ratio": "0.30",
        "meets_ratio": True,
        "draw_id": drawn["id"],
    }
    other = next(s for s in final["streets"] if s["street_code"] == XIANGSHILING)
    assert other["population"] == 0
    assert other["ratio"] is None
    assert other["meets_ratio"] is True
    assert [(c["application_id"], c["status"]) for c in checks] == sorted(
        [
            (march.paid, "failed"),
            (march.waiting, "passed"),
            (march.first, "failed"),
        ]
    )
    assert elsewhere == []


async def test_a_month_is_a_month_in_china(api: Api, clock: OffsetClock) -> None:
    household = await _household(api, seq=9)
    last_evening = await _case(api, household_id=household, amount="300.00")
    first_morning = await _case(
        api, household_id=await _household(api, seq=10), amount="300.00"
    )
    for app_id, instant in (
        (last_evening, dt.datetime(2026, 3, 31, 15, 30, tzinfo=dt.UTC)),
        (first_morning, dt.datetime(2026, 3, 31, 16, 30, tzinfo=dt.UTC)),
    ):
        clock.advance(instant - clock.now())
        base = f"/api/v1/applications/{app_id}"
        await api.ok(
            "POST",
            base + "/street-opinion",
            who="street1",
            json={"decision": "eligible", "proposed_amount": "300.00"},
        )
        await api.ok("POST", base + "/street-approval", who="streetlead1", json={})

    march = await api.ok("GET", f"/api/v1/filings?month={MARCH}", who="officer1")
    april = await api.ok("GET", "/api/v1/filings?month=2026-04", who="officer1")

    # 23:30 and 00:30 in Beijing, on either side of midnight.
    assert [e["application_id"] for e in march["entries"]] == [last_evening]
    assert march["entries"][0]["approved_on"] == "2026-03-31"
    assert [e["application_id"] for e in april["entries"]] == [first_morning]
    assert april["entries"][0]["approved_on"] == "2026-04-01"


async def test_a_failed_check_during_publicity_ends_it_and_reopens_the_case(
    api: Api, clock: OffsetClock
) -> None:
    app_id = await _approved(api, household_id=await _household(api, seq=51))
    base = f"/api/v1/applications/{app_id}"
    await api.ok("POST", base + "/publicity/start", who="street1")
    clock.advance(dt.timedelta(days=31))  # April: March can be drawn

    drawn = await _draw(api, seed=7)
    failed = await _result(
        api, _check_of(drawn, app_id), "failed", "调查记录与实际不符"
    )
    case = await api.ok("GET", base, who="officer1")

    assert failed.status_code == 200, failed.text
    assert failed.json()["application_status"] == "investigated"
    assert case["status"] == "investigated"
    assert case["publicity_ends_at"] is None
    assert case["approved_amount"] is None
    assert case["timeline"][-1]["action"] == "application.reopen"
