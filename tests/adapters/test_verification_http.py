"""The HTTP platform client against the stub platform, over real sockets.

The stub runs in a uvicorn server on a free localhost port in a background
thread; nothing here sleeps to wait for a check: the stub moves a check on
by counting status polls (see ``app.stubs.verification_platform``).
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.adapters.verification import (
    CheckMember,
    CheckReport,
    CheckState,
    PlatformRejected,
    PlatformUnavailable,
    StubPlatform,
    VerificationPlatform,
)
from app.adapters.verification_http import HttpPlatformConfig, HttpVerificationPlatform
from app.domain.idnumber import compose_id_number
from app.domain.money import Money
from tests.adapters.stub_server import StubControl, free_port

NAMES = ("王建国", "李秀英", "王小明", "王小红")
RELATIONS = ("本人", "配偶", "子女", "子女")


def household(digit: int, size: int = 3) -> list[CheckMember]:
    """Members whose applicant's number selects the stub's behaviour ``digit``
    (the digit before the check digit is ``sequence % 10``)."""
    births = [dt.date(1980, 5, 17), dt.date(1982, 3, 8), dt.date(2010, 9, 1)]
    births.append(dt.date(2013, 1, 30))
    return [
        CheckMember(
            id_number=compose_id_number("430204", births[i], 120 + 10 * i + digit),
            name=NAMES[i],
            relation=RELATIONS[i],
        )
        for i in range(size)
    ]


def fast_config(base_url: str, **changes: Any) -> HttpPlatformConfig:
    settings: dict[str, Any] = {
        "base_url": base_url,
        "connect_timeout": 1.0,
        "read_timeout": 2.0,
        "attempts": 4,
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        "backoff_jitter": 0.01,
        "deadline": 5.0,
    }
    return HttpPlatformConfig(**(settings | changes))


def new_request_id() -> str:
    return uuid.uuid4().hex


# -- the stub in a real server ----------------------------------------------


@pytest.fixture
async def platform(
    stub_url: str, stub: StubControl
) -> AsyncIterator[HttpVerificationPlatform]:
    async with HttpVerificationPlatform(fast_config(stub_url)) as client:
        yield client


async def completed_report(
    platform: VerificationPlatform, members: list[CheckMember]
) -> CheckReport:
    check_id = await platform.submit(request_id=new_request_id(), members=members)
    for _ in range(20):
        if (await platform.status(check_id)).state is CheckState.COMPLETED:
            return await platform.report(check_id)
    raise AssertionError("the check never completed")


# -- the life of a check ------------------------------------------------------


async def test_a_check_goes_from_submitted_through_processing_to_its_report(
    platform: HttpVerificationPlatform,
) -> None:
    members = household(0)
    check_id = await platform.submit(request_id=new_request_id(), members=members)

    first = await platform.status(check_id)
    with pytest.raises(PlatformRejected, match="核对尚未完成"):
        await platform.report(check_id)
    second = await platform.status(check_id)
    report = await platform.report(check_id)

    assert first.state is CheckState.PROCESSING
    assert second.state is CheckState.COMPLETED
    assert report.check_id == check_id
    assert report.household_size == 3
    assert [m.id_number for m in report.members] == [m.id_number for m in members]
    income = report.members[1].income
    assert (income.wages, income.transfers) == (Money(60_000), Money(20_000))
    assert income.total == Money(80_000)
    assert report.monthly_income_total == Money(240_000)
    assert report.monthly_income_per_capita == Money.parse("800.00")
    assert report.asset_flags() == {
        "vehicle": False,
        "real_estate": False,
        "business_registration": False,
    }


async def test_result_folds_status_and_report_for_the_workflow(
    platform: HttpVerificationPlatform,
) -> None:
    check_id = await platform.submit(request_id=new_request_id(), members=household(3))

    waiting = await platform.result(check_id)
    done = await platform.result(check_id)

    assert waiting.state is CheckState.PROCESSING
    assert waiting.monthly_income_per_capita is None
    assert waiting.report is None
    assert done.state is CheckState.COMPLETED
    assert done.monthly_income_per_capita == Money.parse("800.00")
    assert done.assets["vehicle"] is True
    assert done.report is not None
    assert done.report.vehicles == 1


@pytest.mark.parametrize(
    ("digit", "per_capita", "expected"),
    [
        (1, "5000.00", {"property_income": Money.parse("200.00")}),
        (2, "800.00", {"real_estate": 2}),
        (3, "800.00", {"vehicles": 1}),
        (4, "1200.00", {"business": Money.parse("500.00"), "registered": True}),
        (
            5,
            "850.00",
            {
                "property_income": Money.parse("250.00"),
                "deposits": Money.parse("120000.00"),
                "securities": Money.parse("30000.00"),
            },
        ),
        (9, "0.00", {}),
    ],
)
async def test_the_household_kinds_of_the_stub(
    platform: HttpVerificationPlatform,
    digit: int,
    per_capita: str,
    expected: dict[str, object],
) -> None:
    report = await completed_report(platform, household(digit))
    applicant = report.members[0]
    found: dict[str, object] = {
        "property_income": applicant.income.property_income,
        "business": applicant.income.business,
        "real_estate": report.real_estate,
        "vehicles": report.vehicles,
        "deposits": report.deposits,
        "securities": report.securities,
        "registered": report.has_registered_business,
    }
    plain: dict[str, object] = {
        "property_income": Money(0),
        "business": Money(0),
        "real_estate": 0,
        "vehicles": 0,
        "deposits": Money(0),
        "securities": Money(0),
        "registered": False,
    }

    assert report.monthly_income_per_capita == Money.parse(per_capita)
    assert found == plain | expected
    # Assets and registrations are the applicant's alone.
    assert all(m.assets.real_estate == 0 for m in report.members[1:])
    assert all(not m.businesses for m in report.members[1:])


async def test_a_slow_household_takes_eight_polls(
    platform: HttpVerificationPlatform,
) -> None:
    check_id = await platform.submit(request_id=new_request_id(), members=household(6))

    states = [(await platform.status(check_id)).state for _ in range(9)]

    assert states == [CheckState.PROCESSING] * 7 + [CheckState.COMPLETED] * 2


async def test_a_failing_household_fails_with_the_platform_reason(
    platform: HttpVerificationPlatform,
) -> None:
    check_id = await platform.submit(request_id=new_request_id(), members=household(7))

    first = await platform.result(check_id)
    failed = await platform.result(check_id)

    assert first.state is CheckState.PROCESSING
    assert failed.state is CheckState.FAILED
    assert failed.reason == "数据源暂不可用"
    assert failed.report is None
    with pytest.raises(PlatformRejected):
        await platform.report(check_id)


async def test_an_unknown_check_reads_as_failed_so_the_clerk_sends_it_again(
    platform: HttpVerificationPlatform, stub: StubControl
) -> None:
    unknown = await platform.status("CHK-999999")
    empty = await platform.status("")

    assert unknown.state is CheckState.FAILED
    assert unknown.reason == "核对平台无此核对请求"
    assert empty.state is CheckState.FAILED
    assert (await stub.stats())["status_requests"] == 1


# -- idempotency and retries --------------------------------------------------


async def test_lost_answers_are_retried_into_exactly_one_check(
    platform: HttpVerificationPlatform, stub: StubControl
) -> None:
    members = household(8)
    request_id = new_request_id()

    check_id = await platform.submit(request_id=request_id, members=members)
    after_retries = await stub.stats()
    again = await platform.submit(request_id=request_id, members=members)
    other = await platform.submit(request_id=new_request_id(), members=members)

    assert after_retries["submit_requests"] == 3
    assert after_retries["unavailable_answers"] == 2
    assert after_retries["checks_created"] == 1
    assert again == check_id
    assert other != check_id
    assert (await stub.stats())["checks_created"] == 2


async def test_an_outage_shorter_than_the_retries_goes_unnoticed(
    platform: HttpVerificationPlatform, stub: StubControl
) -> None:
    await stub.unavailable_next(3)

    check_id = await platform.submit(request_id=new_request_id(), members=household(0))

    stats = await stub.stats()
    assert check_id
    assert (stats["submit_requests"], stats["checks_created"]) == (4, 1)


async def test_a_longer_outage_is_platform_unavailable_after_bounded_retries(
    stub_url: str, stub: StubControl
) -> None:
    await stub.unavailable_next(100)

    async with HttpVerificationPlatform(fast_config(stub_url, attempts=3)) as client:
        with pytest.raises(PlatformUnavailable) as raised:
            await client.submit(request_id=new_request_id(), members=household(0))

    stats = await stub.stats()
    assert "HTTP 503" in raised.value.reason
    assert (stats["submit_requests"], stats["checks_created"]) == (3, 0)


async def test_a_refusal_is_not_retried(
    platform: HttpVerificationPlatform, stub: StubControl
) -> None:
    valid = household(0)
    number = valid[0].id_number
    wrong_check_digit = number[:17] + ("1" if number[17] == "0" else "0")
    broken = [CheckMember(id_number=wrong_check_digit, name="王建国")]
    request_id = new_request_id()
    await platform.submit(request_id=request_id, members=valid)

    with pytest.raises(PlatformRejected, match="HTTP 422"):
        await platform.submit(request_id=new_request_id(), members=broken)
    with pytest.raises(PlatformRejected, match="HTTP 422"):
        # The same request id for other members is refused, not a new check.
        await platform.submit(request_id=request_id, members=valid[:2])

    stats = await stub.stats()
    assert (stats["submit_requests"], stats["checks_created"]) == (3, 1)


async def test_the_older_id_numbers_form_still_opens_a_check(
    platform: HttpVerificationPlatform,
) -> None:
    numbers = [m.id_number for m in household(0, size=2)]

    check_id = await platform.submit(request_id=new_request_id(), id_numbers=numbers)

    assert check_id.startswith("CHK-")
    with pytest.raises(ValueError, match="either"):
        await platform.submit(
            request_id=new_request_id(),
            id_numbers=numbers,
            members=household(0, size=2),
        )


# -- the platform out of reach ------------------------------------------------


async def test_an_unreachable_platform_is_platform_unavailable() -> None:
    config = fast_config(f"http://127.0.0.1:{free_port()}", attempts=3)

    async with HttpVerificationPlatform(config) as client:
        with pytest.raises(PlatformUnavailable, match="无法连接"):
            await client.submit(request_id=new_request_id(), members=household(0))
        with pytest.raises(PlatformUnavailable, match="无法连接"):
            await client.status("CHK-000001")


async def test_a_platform_that_never_answers_times_out() -> None:
    # Connections complete in the kernel's backlog but nobody ever reads them.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        config = fast_config(f"http://127.0.0.1:{port}", read_timeout=0.2, attempts=2)
        started = time.monotonic()
        async with HttpVerificationPlatform(config) as client:
            with pytest.raises(PlatformUnavailable, match="响应超时") as raised:
                await client.submit(request_id=new_request_id(), members=household(0))

    assert time.monotonic() - started < 3
    assert raised.value.__cause__ is None  # no httpx exception leaks out


# -- what the logs may say ----------------------------------------------------


async def test_no_id_number_or_name_reaches_a_log_line(
    stub_url: str, stub: StubControl, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    members = household(8, size=4)
    async with HttpVerificationPlatform(fast_config(stub_url)) as client:
        check_id = await client.submit(request_id=new_request_id(), members=members)
        await client.result(check_id)
        await client.result(check_id)
        failing = await client.submit(request_id=new_request_id(), members=household(7))
        await client.result(failing)
        await client.result(failing)
        with pytest.raises(PlatformRejected):
            await client.submit(
                request_id=new_request_id(),
                members=[CheckMember(id_number="43020419800517123Y", name="王建国")],
            )
        await stub.unavailable_next(100)
        with pytest.raises(PlatformUnavailable):
            await client.status(check_id)

    secrets = {m.id_number for m in members + household(7)} | set(NAMES)
    lines = [record.getMessage() for record in caplog.records]
    assert any("retrying" in line for line in lines)
    assert not [line for line in lines if any(s in line for s in secrets)]
    assert not any(s in repr(members) for s in secrets)


# -- both implementations keep the seam ---------------------------------------


async def test_the_in_process_stub_keeps_its_answers() -> None:
    stub = StubPlatform()
    plain = household(0, size=2)
    numbers = [m.id_number for m in plain]

    check_id = await stub.submit(request_id="r1", id_numbers=numbers)
    result = await stub.result(check_id)
    missing = await stub.result("STUB-none")

    assert check_id == "STUB-r1"
    assert await stub.submit(request_id="r1", members=plain) == check_id
    assert result.state is CheckState.COMPLETED
    assert result.report is not None
    assert result.monthly_income_per_capita == result.report.members[0].income.wages
    assert set(result.assets) >= {"vehicle", "real_estate"}
    assert missing.state is CheckState.FAILED


def implementations(
    http: HttpVerificationPlatform, stub: StubPlatform
) -> list[VerificationPlatform]:
    # mypy checks here that both satisfy the protocol.
    return [http, stub]
