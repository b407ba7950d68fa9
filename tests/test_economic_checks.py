"""The economic-status check through the service's HTTP API, against the stub
platform in a real uvicorn server.

The service under test points at the stub (``VERIFICATION_BASE_URL``); its
background dispatcher is off (the test environment's default), so each test
runs ``dispatch_verification`` itself, one step at a time, with the test
clock. The stub decides a household's behaviour by the applicant's 17th
ID-number digit (``app.stubs.verification_platform``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from typer.testing import CliRunner

from app.adapters.verification import VerificationPlatform
from app.adapters.verification_http import HttpPlatformConfig, HttpVerificationPlatform
from app.cli import cli
from app.clock import OffsetClock
from app.main import create_app
from app.settings import Environment, Settings, UnsafeSettings, get_settings
from app.workflow.verification_dispatch import DispatchSummary, dispatch_verification
from tests.adapters.stub_server import StubControl, free_port
from tests.support import FULL_MATERIALS, Api, authorise_check, id_number

# The household: applicant first; the stub reads the applicant's number.
MEMBERS = (
    ("郑建国", "本人", "1980-05-17"),
    ("吴秀英", "配偶", "1982-03-08"),
    ("郑小明", "子女", "2010-09-01"),
)
NO_HOME_VISIT = {
    "home_visit_done": False,
    "monthly_income_per_capita": "100.00",
    "findings": "申请人外出务工，未能入户",
}
UNREACHABLE = "无法连接家庭经济状况核对平台，请稍后重试。"
DISPATCHER = "system:verification-dispatcher"

_bases = itertools.count(10)


def _settings(database_url: str, stub_url: str, **changes: Any) -> Settings:
    settings = Settings(
        APP_ENV=Environment.TEST,
        DATABASE_URL=database_url,
        JWT_SECRET="test-secret-" + "x" * 32,
        VERIFICATION_BASE_URL=stub_url,
        VERIFICATION_ATTEMPTS=2,
        VERIFICATION_CONNECT_TIMEOUT=1.0,
        VERIFICATION_READ_TIMEOUT=2.0,
        VERIFICATION_DEADLINE=5.0,
        VERIFICATION_MAX_FAILURES=3,
    )
    return settings.model_copy(update=changes)


@pytest.fixture
async def app(
    app: FastAPI,
    database_url: str,
    clock: OffsetClock,
    stub_url: str,
    stub: StubControl,
) -> AsyncIterator[FastAPI]:
    """The service pointed at the stub; the database as the suite's ``app``
    fixture leaves it (emptied and seeded)."""
    service = create_app(_settings(database_url, stub_url), clock=clock)
    async with service.router.lifespan_context(service):
        yield service


def _unreachable() -> HttpVerificationPlatform:
    return HttpVerificationPlatform(
        HttpPlatformConfig(
            base_url=f"http://127.0.0.1:{free_port()}",
            connect_timeout=1.0,
            attempts=1,
        )
    )


async def _dispatch(
    app: FastAPI, clock: OffsetClock, platform: VerificationPlatform | None = None
) -> DispatchSummary:
    return await dispatch_verification(
        app.state.sessionmaker,
        platform or app.state.verification,
        clock.now(),
        policy=app.state.dispatch_policy,
    )


def _numbers(digit: int) -> list[str]:
    """ID numbers for ``MEMBERS``, new in each call; the applicant's selects
    the stub's behaviour ``digit``."""
    base = next(_bases)
    return [
        id_number("430204", birth.replace("-", ""), base * 10 + digit)
        for _, _, birth in MEMBERS
    ]


async def _accepted(
    api: Api, *, digit: int, numbers: list[str] | None = None, **application: Any
) -> int:
    """An accepted application of a three-person household."""
    numbers = numbers or _numbers(digit)
    household = await api.household(
        members=[
            (name, number, relation, birth)
            for (name, relation, birth), number in zip(MEMBERS, numbers, strict=True)
        ],
        category=application.pop("category", "none"),
    )
    body = {
        "household_id": household["id"],
        "assistance_type": "emergency",
        "reason": "accident",
        "description": "房屋失火",
        "requested_amount": "800.00",
        "materials": FULL_MATERIALS,
    }
    created = await api.ok(
        "POST",
        "/api/v1/applications",
        who="community1",
        status=201,
        json=body | application,
    )
    app_id = int(created["id"])
    await api.ok(
        "POST",
        f"/api/v1/applications/{app_id}/intake",
        who="community1",
        json={"decision": "accept"},
    )
    return app_id


async def _awaiting_check(api: Api, *, digit: int, **application: Any) -> int:
    app_id = await _accepted(api, digit=digit, **application)
    await authorise_check(api, app_id, signed_by="郑建国")
    waiting = await api.ok(
        "POST",
        f"/api/v1/applications/{app_id}/investigation",
        who="community1",
        json=NO_HOME_VISIT,
    )
    assert waiting["status"] == "awaiting_check"
    return app_id


async def _detail(api: Api, app_id: int) -> dict[str, Any]:
    detail: dict[str, Any] = await api.ok(
        "GET", f"/api/v1/applications/{app_id}", who="street1"
    )
    return detail


def _latest(detail: dict[str, Any]) -> dict[str, Any]:
    check: dict[str, Any] = detail["economic_checks"][-1]
    return check


def _seconds(shown: str, since: dt.datetime) -> float:
    """Seconds from ``since`` to a time as the API shows it (+08:00)."""
    return (dt.datetime.fromisoformat(shown) - since).total_seconds()


def _actions(detail: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["action"], e["actor"]) for e in detail["timeline"]]


# -- the whole way, an ordinary household -------------------------------------


async def test_an_ordinary_household_from_request_to_report_to_opinion(
    app: FastAPI,
    api: Api,
    clock: OffsetClock,
    stub: StubControl,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The service's own loggers (a database driver's debug log is not ours).
    caplog.set_level(logging.DEBUG, logger="app")
    numbers = _numbers(0)
    app_id = await _accepted(api, digit=0, numbers=numbers)
    base = f"/api/v1/applications/{app_id}"

    unauthorised = await api.call(
        "POST", base + "/investigation", who="community1", json=NO_HOME_VISIT
    )
    authorised = await authorise_check(api, app_id, signed_by="郑建国")
    requested = await api.ok(
        "POST", base + "/investigation", who="community1", json=NO_HOME_VISIT
    )
    stats_after_request = await stub.stats()
    early_opinion = await api.call(
        "POST",
        base + "/street-opinion",
        who="street1",
        json={"decision": "eligible", "proposed_amount": "800.00"},
    )
    first = await _dispatch(app, clock)
    processing = await _detail(api, app_id)
    second = await _dispatch(app, clock)
    done = await _detail(api, app_id)
    opinion = await api.ok(
        "POST",
        base + "/street-opinion",
        who="street1",
        json={"decision": "eligible", "proposed_amount": "800.00"},
    )

    # No check without the signed letter, and nothing written by the refusal.
    assert unauthorised.status_code == 422
    assert unauthorised.json()["code"] == "authorisation_missing"
    assert "授权书" in unauthorised.json()["detail"]
    letter = authorised["check_authorisation"]
    assert (letter["signed_by"], letter["signed_on"]) == ("郑建国", "2026-03-01")
    assert authorised["status"] == "accepted"
    assert authorised["investigation"] is None
    # Requesting queues the check; the platform is not called in the request.
    assert requested["status"] == "awaiting_check"
    queued = _latest(requested)
    assert (queued["status"], queued["reason"]) == ("pending", "")
    assert queued["delivery"]["attempts"] == 0
    assert stats_after_request["submit_requests"] == 0
    assert early_opinion.status_code == 409
    # The dispatcher sends it (processing on the first poll), then reads it.
    assert (first.handled, first.waiting) == (1, 1)
    assert processing["status"] == "awaiting_check"
    assert _latest(processing)["status"] == "processing"
    assert _latest(processing)["delivery"]["attempts"] == 1
    assert (second.handled, second.completed) == (1, 1)
    assert done["status"] == "investigated"
    check = _latest(done)
    assert check["status"] == "completed"
    assert check["request_id"] == queued["request_id"]
    assert check["monthly_income_per_capita"] == "800.00"
    assert check["delivery"]["next_attempt_at"] is None
    household = check["household"]
    assert household["size"] == 3
    assert household["monthly_income_total"] == "2400.00"
    assert household["monthly_income_per_capita"] == "800.00"
    assert household["street_monthly_income_per_capita"] == "100.00"
    assert (household["real_estate"], household["vehicles"]) == (0, 0)
    assert household["deposits"] == "0.00"
    assert [(m["name"], m["relation"]) for m in check["members"]] == [
        (name, relation) for name, relation, _ in MEMBERS
    ]
    assert check["members"][0]["monthly_income"] == {
        "wages": "600.00",
        "business": "0.00",
        "property_income": "0.00",
        "transfers": "200.00",
        "total": "800.00",
    }
    assert ("application.record_check_result", DISPATCHER) in _actions(done)
    assert opinion["status"] == "street_reviewed"
    assert (await stub.stats())["checks_created"] == 1
    # ID numbers and names stay out of the logs; request ids are there.
    secrets = set(numbers) | {name for name, _, _ in MEMBERS}
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("app.")]
    assert any(queued["request_id"] in line for line in lines)
    assert not [line for line in lines if any(s in line for s in secrets)]


async def test_the_letter_is_filed_with_the_case_and_refused_when_wrong(
    app: FastAPI, api: Api
) -> None:
    app_id = await _accepted(api, digit=0)
    base = f"/api/v1/applications/{app_id}"
    await api.ok(
        "POST",
        base + "/investigation",
        who="community1",
        json={"home_visit_done": True, "monthly_income_per_capita": "100.00"},
    )

    without = await api.call(
        "POST", base + "/economic-check", who="street1", json={"why": "结果存疑"}
    )
    future = await api.call(
        "POST",
        base + "/economic-check/authorisation",
        who="community1",
        data={"signed_by": "郑建国", "signed_on": "2026-03-03"},
        files={"file": ("授权书.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
    )
    by_district = await api.call(
        "POST",
        base + "/economic-check/authorisation",
        who="officer1",
        data={"signed_by": "郑建国", "signed_on": "2026-03-01"},
        files={"file": ("授权书.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
    )
    await authorise_check(api, app_id, signed_by="郑建国", who="street1")
    requested = await api.ok(
        "POST", base + "/economic-check", who="street1", json={"why": "结果存疑"}
    )
    files = await api.ok("GET", base + "/attachments", who="street1")

    assert without.status_code == 422
    assert without.json()["code"] == "authorisation_missing"
    assert without.json()["missing_material"] == "authorisation_letter"
    assert future.status_code == 422
    assert by_district.status_code == 403
    assert requested["status"] == "awaiting_check"
    assert [c["status"] for c in requested["economic_checks"]] == ["pending"]
    letters = [
        a for a in files["attachments"] if a["material"] == "authorisation_letter"
    ]
    assert len(letters) == 1
    assert letters[0]["id"] == requested["check_authorisation"]["attachment_id"]
    assert letters[0]["material_title"] == "家庭经济状况核对授权书"
    # Not a material every case file needs.
    assert "authorisation_letter" not in [
        m["material"] for m in files["required_materials"]
    ]


# -- households that take their time or fail ----------------------------------


async def test_a_slow_household_stays_processing_then_completes(
    app: FastAPI, api: Api, clock: OffsetClock, stub: StubControl
) -> None:
    app_id = await _awaiting_check(api, digit=6)

    seen = []
    for _ in range(7):
        await _dispatch(app, clock)
        clock.advance(dt.timedelta(seconds=5))
        detail = await _detail(api, app_id)
        seen.append((detail["status"], _latest(detail)["status"]))
    last = await _dispatch(app, clock)
    done = await _detail(api, app_id)

    assert seen == [("awaiting_check", "processing")] * 7
    assert last.completed == 1
    assert done["status"] == "investigated"
    assert _latest(done)["monthly_income_per_capita"] == "800.00"
    stats = await stub.stats()
    assert (stats["checks_created"], stats["submit_requests"]) == (1, 1)
    assert stats["status_requests"] == 8


async def test_a_failing_household_keeps_its_reason_and_is_retried_anew(
    app: FastAPI, api: Api, clock: OffsetClock, stub: StubControl
) -> None:
    app_id = await _awaiting_check(api, digit=7)
    base = f"/api/v1/applications/{app_id}"

    await _dispatch(app, clock)
    failed_run = await _dispatch(app, clock)
    failed = await _detail(api, app_id)
    refresh = await api.call("POST", base + "/economic-check/refresh", who="street1")
    retried = await api.ok(
        "POST",
        base + "/economic-check/retry",
        who="street1",
        json={"why": "数据源恢复后重新核对"},
    )
    again = await api.call("POST", base + "/economic-check/retry", who="street1")
    await _dispatch(app, clock)
    resent = await _detail(api, app_id)

    assert failed_run.failed == 1
    assert failed["status"] == "awaiting_check"
    assert _latest(failed)["status"] == "failed"
    assert _latest(failed)["status_title"] == "核对失败"
    assert _latest(failed)["reason"] == "数据源暂不可用"
    assert ("application.check_failed", DISPATCHER) in _actions(failed)
    assert refresh.status_code == 409
    assert refresh.json()["code"] == "check_failed"
    assert "数据源暂不可用" in refresh.json()["detail"]
    first, second = retried["economic_checks"]
    assert (first["status"], second["status"]) == ("failed", "pending")
    assert first["request_id"] != second["request_id"]
    assert retried["status"] == "awaiting_check"
    retry_entry = retried["timeline"][-1]
    assert retry_entry["action"] == "application.retry_check"
    assert retry_entry["actor"] != DISPATCHER
    assert retry_entry["details"]["previous_request_id"] == first["request_id"]
    assert retry_entry["details"]["request_id"] == second["request_id"]
    assert again.status_code == 409
    assert again.json()["code"] == "check_not_failed"
    assert _latest(resent)["status"] == "processing"
    assert (await stub.stats())["checks_created"] == 2


# -- the platform out of reach ------------------------------------------------


async def test_an_unreachable_platform_leaves_the_check_pending_until_it_answers(
    app: FastAPI, api: Api, clock: OffsetClock, stub: StubControl
) -> None:
    app_id = await _awaiting_check(api, digit=0)
    down = _unreachable()

    try:
        first_at = clock.now()
        first = await _dispatch(app, clock, down)
        after_first = _latest(await _detail(api, app_id))
        too_soon = await _dispatch(app, clock)
        clock.advance(dt.timedelta(seconds=31))
        second_at = clock.now()
        await _dispatch(app, clock, down)
        after_second = _latest(await _detail(api, app_id))
    finally:
        await down.aclose()
    clock.advance(dt.timedelta(seconds=61))
    back = await _dispatch(app, clock)
    after_back = _latest(await _detail(api, app_id))
    await _dispatch(app, clock)
    done = await _detail(api, app_id)

    assert first.deferred == 1
    assert (after_first["status"], after_first["reason"]) == ("pending", UNREACHABLE)
    delivery = after_first["delivery"]
    assert (delivery["attempts"], delivery["failures"]) == (1, 1)
    assert delivery["last_error"] == UNREACHABLE
    assert 30 <= _seconds(delivery["next_attempt_at"], first_at) < 31
    assert too_soon.handled == 0  # backing off: not due yet
    assert after_second["status"] == "pending"
    assert after_second["delivery"]["attempts"] == 2
    # The delay doubles with each failure in a row.
    assert 60 <= _seconds(after_second["delivery"]["next_attempt_at"], second_at) < 61
    assert back.waiting == 1
    assert (after_back["status"], after_back["reason"]) == ("processing", "")
    assert after_back["delivery"]["attempts"] == 3
    assert after_back["delivery"]["failures"] == 0
    assert done["status"] == "investigated"
    assert (await stub.stats())["checks_created"] == 1


async def test_answers_lost_after_the_check_was_opened_make_no_second_check(
    app: FastAPI, api: Api, clock: OffsetClock, stub: StubControl
) -> None:
    # Digit 8: the stub opens the check, then answers 503 twice; the client
    # makes two attempts per call, so the dispatcher sees no answer once.
    app_id = await _awaiting_check(api, digit=8)

    lost = await _dispatch(app, clock)
    pending = _latest(await _detail(api, app_id))
    clock.advance(dt.timedelta(seconds=30))
    found = await _dispatch(app, clock)
    await _dispatch(app, clock)
    done = await _detail(api, app_id)

    assert lost.deferred == 1
    assert pending["status"] == "pending"
    assert "HTTP 503" in pending["reason"]
    assert found.waiting == 1
    assert done["status"] == "investigated"
    stats = await stub.stats()
    assert (stats["checks_created"], stats["submit_requests"]) == (1, 3)


async def test_a_platform_down_too_long_fails_the_check_and_a_retry_succeeds(
    app: FastAPI, api: Api, clock: OffsetClock, stub: StubControl
) -> None:
    app_id = await _awaiting_check(api, digit=0)
    down = _unreachable()

    try:
        runs = []
        for _ in range(3):  # VERIFICATION_MAX_FAILURES
            runs.append(await _dispatch(app, clock, down))
            clock.advance(dt.timedelta(minutes=5))
    finally:
        await down.aclose()
    failed = await _detail(api, app_id)
    retried = await api.ok(
        "POST", f"/api/v1/applications/{app_id}/economic-check/retry", who="street1"
    )
    await _dispatch(app, clock)
    await _dispatch(app, clock)
    done = await _detail(api, app_id)

    assert [(r.deferred, r.failed) for r in runs] == [(1, 0), (1, 0), (0, 1)]
    check = _latest(failed)
    assert check["status"] == "failed"
    assert check["reason"] == f"连续 3 次未能得到核对平台的应答：{UNREACHABLE}"
    assert check["delivery"]["attempts"] == 3
    assert failed["status"] == "awaiting_check"
    assert [c["status"] for c in retried["economic_checks"]] == ["failed", "pending"]
    assert done["status"] == "investigated"
    assert [c["status"] for c in done["economic_checks"]] == ["failed", "completed"]
    assert (await stub.stats())["checks_created"] == 1


async def test_a_refresh_during_an_outage_shows_the_reason_and_reads_back_later(
    app: FastAPI, api: Api, clock: OffsetClock, stub: StubControl
) -> None:
    app_id = await _awaiting_check(api, digit=3)
    refresh = f"/api/v1/applications/{app_id}/economic-check/refresh"
    await stub.unavailable_next(100)

    during = await api.call("POST", refresh, who="street1")
    await stub.unavailable_next(0)
    sent = await api.ok("POST", refresh, who="street1")
    done = await api.ok("POST", refresh, who="street1")

    assert during.status_code == 200
    waiting = _latest(during.json())
    assert waiting["status"] == "pending"
    assert waiting["reason"] == "核对平台暂时无法服务（HTTP 503），请稍后重试。"
    # A clerk's refresh does not count towards the dispatcher's bound.
    assert (waiting["delivery"]["attempts"], waiting["delivery"]["failures"]) == (1, 0)
    assert _latest(sent)["status"] == "processing"
    assert done["status"] == "investigated"
    check = _latest(done)
    assert check["assets"]["vehicle"] is True
    assert check["household"]["vehicles"] == 1
    assert [m["vehicles"] for m in check["members"]] == [1, 0, 0]
    result_entry = next(
        e for e in done["timeline"] if e["action"] == "application.record_check_result"
    )
    assert result_entry["actor"] != DISPATCHER
    assert result_entry["actor_role"] == "street_worker"
    assert (await stub.stats())["checks_created"] == 1


# -- the report feeds the policy ----------------------------------------------


async def test_an_income_over_the_limit_in_the_report_refuses_by_r1_3(
    app: FastAPI, api: Api, clock: OffsetClock
) -> None:
    app_id = await _awaiting_check(
        api,
        digit=1,
        category="disabled_hardship",
        assistance_type="expenditure",
        reason="medical",
        description="住院自付费用过高",
    )
    evaluate = {"application_id": app_id}

    before = await api.ok(
        "POST", "/api/v1/eligibility/evaluate", who="street1", json=evaluate
    )
    await _dispatch(app, clock)
    await _dispatch(app, clock)
    after = await api.ok(
        "POST", "/api/v1/eligibility/evaluate", who="street1", json=evaluate
    )
    opinion = await api.call(
        "POST",
        f"/api/v1/applications/{app_id}/street-opinion",
        who="street1",
        json={"decision": "eligible", "proposed_amount": "800.00"},
    )
    detail = await _detail(api, app_id)

    # Before the report, the investigation's 100.00 is what R1.3 reads.
    assert before["eligible"] is True
    assert _latest(detail)["monthly_income_per_capita"] == "5000.00"
    assert _latest(detail)["members"][0]["monthly_income"]["property_income"] == (
        "200.00"
    )
    assert after["eligible"] is False
    assert after["failed_rules"] == ["R1.3"]
    sentence = next(s for s in after["sentences"] if "5,000.00" in s)
    assert "1,440.00" in sentence
    assert "超过上限" in sentence
    assert opinion.status_code == 422
    assert opinion.json()["code"] == "not_eligible"
    assert opinion.json()["failed_rules"] == ["R1.3"]
    assert detail["status"] == "investigated"


# -- wiring ---------------------------------------------------------------------


async def test_the_server_dispatches_in_the_background(
    app: FastAPI, database_url: str, clock: OffsetClock, stub_url: str
) -> None:
    settings = _settings(
        database_url,
        stub_url,
        verification_dispatch=True,
        verification_dispatch_interval=0.05,
    )
    service = create_app(settings, clock=clock)
    async with (
        service.router.lifespan_context(service),
        AsyncClient(
            transport=ASGITransport(app=service), base_url="http://testserver"
        ) as client,
    ):
        api = Api(client)
        app_id = await _awaiting_check(api, digit=0)
        for _ in range(200):
            if (await _detail(api, app_id))["status"] == "investigated":
                break
            await asyncio.sleep(0.05)
        done = await _detail(api, app_id)

    assert done["status"] == "investigated"
    assert _latest(done)["status"] == "completed"
    assert isinstance(service.state.verification, HttpVerificationPlatform)


def test_production_refuses_to_start_without_the_platform() -> None:
    settings = Settings(
        APP_ENV=Environment.PRODUCTION,
        DATABASE_URL="postgresql+asyncpg://db/prod",
        JWT_SECRET="x" * 40,
    )

    with pytest.raises(UnsafeSettings, match="VERIFICATION_BASE_URL"):
        settings.check_production()


def test_the_cli_dispatcher_needs_the_platform_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VERIFICATION_BASE_URL", "")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["dispatch-verification"])
    finally:
        get_settings.cache_clear()

    assert result.exit_code != 0
    assert "VERIFICATION_BASE_URL" in result.output
