"""R3.3 deadlines through the API: computed at intake, listed when overdue."""

from __future__ import annotations

import datetime as dt

from app.clock import OffsetClock
from tests.support import Api, id_number

FULL_MATERIALS = [
    "application_form",
    "id_card_copy",
    "household_register_copy",
    "hardship_evidence",
]


async def _accepted(api: Api, seq: int) -> dict[str, object]:
    household = await api.household(
        members=[("冯七", id_number("430204", "19770707", seq), "本人", "1977-07-07")]
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
            "materials": FULL_MATERIALS,
        },
    )
    accepted: dict[str, object] = await api.ok(
        "POST",
        f"/api/v1/applications/{created['id']}/intake",
        who="community1",
        json={"decision": "accept"},
    )
    return accepted


async def test_intake_on_monday_is_due_on_thursday_and_overdue_after(
    api: Api, clock: OffsetClock
) -> None:
    accepted = await _accepted(api, 61)  # the test clock starts Monday 2026-03-02

    assert accepted["investigation_due_on"] == "2026-03-05"
    assert str(accepted["accepted_at"]).endswith("+08:00")
    on_time = await api.ok("GET", "/api/v1/applications?overdue=true", who="street1")
    assert on_time["items"] == []

    clock.advance(dt.timedelta(days=4))  # Friday 2026-03-06
    late = await api.ok("GET", "/api/v1/applications?overdue=true", who="street1")
    assert [a["id"] for a in late["items"]] == [accepted["id"]]
    district = await api.ok("GET", "/api/v1/applications?overdue=true", who="officer1")
    assert [a["id"] for a in district["items"]] == [accepted["id"]]


async def test_an_unpublished_year_leaves_the_date_open_until_it_is_loaded(
    api: Api, clock: OffsetClock
) -> None:
    clock.advance(dt.datetime(2026, 12, 30, 2, tzinfo=dt.UTC) - clock.now())

    before = await _accepted(api, 62)
    assert before["investigation_due_on"] is None
    unknown = await api.ok("GET", "/api/v1/calendar/2027", who="street1")
    assert unknown["source"] == "unknown"

    loaded = await api.ok(
        "PUT",
        "/api/v1/calendar/2027",
        who="admin1",
        json={"holidays": ["2027-01-01"], "workdays": ["2027-01-02"]},
    )
    assert loaded["source"] == "loaded"
    assert loaded["holidays"] == ["2027-01-01"]

    after = await _accepted(api, 63)
    assert after["investigation_due_on"] == "2027-01-04"
    # The case that waited for the calendar got its date when it was loaded.
    waited = await api.ok("GET", f"/api/v1/applications/{before['id']}", who="street1")
    assert waited["investigation_due_on"] == "2027-01-04"


async def test_only_an_administrator_loads_a_calendar_and_dates_must_fit_the_year(
    api: Api,
) -> None:
    body = {"holidays": ["2027-01-01"]}
    refused = await api.call("PUT", "/api/v1/calendar/2027", who="officer1", json=body)
    assert refused.status_code == 403

    wrong_year = await api.call(
        "PUT", "/api/v1/calendar/2027", who="admin1", json={"holidays": ["2026-10-01"]}
    )
    assert wrong_year.status_code == 422
    assert "不属于 2027 年" in wrong_year.json()["detail"]
    library = await api.ok("GET", "/api/v1/calendar/2026", who="street1")
    assert library["source"] == "library"
