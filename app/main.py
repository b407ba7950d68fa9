"""The ASGI application."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.adapters.verification import StubPlatform, VerificationPlatform
from app.adapters.verification_http import HttpPlatformConfig, HttpVerificationPlatform
from app.clock import Clock, OffsetClock, SystemClock
from app.errors import install_error_handlers
from app.persistence import crypto
from app.persistence.db import make_engine, make_sessionmaker
from app.routers import (
    admin,
    advances,
    applications,
    attachments,
    auth,
    calendar,
    disbursements,
    eligibility,
    forms_of_help,
    funds,
    households,
    investigation,
    objections,
    payouts,
    policy,
    regions,
    spot_checks,
    street_payments,
    sync,
    system,
)
from app.settings import Settings, get_settings
from app.workflow.verification_dispatch import DispatchPolicy, run_dispatcher

log = logging.getLogger(__name__)

API_DESCRIPTION = """\
临时救助业务服务：受理、调查、审核、审批、公示、发放审批与银行代发。

Every endpoint except the token endpoint and `/healthz` needs a bearer token.
Amounts are strings of yuan with two decimals; times are shown at +08:00.
Errors are `application/problem+json` with a stable `code` and a Chinese
`detail`.
"""


def platform_from_settings(settings: Settings) -> VerificationPlatform:
    """The HTTP client of the platform at ``VERIFICATION_BASE_URL``, or the
    in-process stub when none is set (the zero-setup default; production
    refuses to start without the address, see ``Settings.check_production``).
    The HTTP client holds a connection pool: whoever builds it closes it."""
    if not settings.verification_base_url:
        return StubPlatform()
    return HttpVerificationPlatform(
        HttpPlatformConfig(
            base_url=settings.verification_base_url,
            token=settings.verification_token,
            connect_timeout=settings.verification_connect_timeout,
            read_timeout=settings.verification_read_timeout,
            attempts=settings.verification_attempts,
            deadline=settings.verification_deadline,
        )
    )


def create_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    verification: VerificationPlatform | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    settings.check_production()
    # Personal-data columns encrypt and decrypt with these keys; a malformed
    # key stops the start here, not at the first request.
    crypto.configure(crypto.KeyRing.from_settings(settings))
    if clock is None:
        clock = OffsetClock() if settings.movable_clock else SystemClock()

    owned_platform = verification is None
    platform = verification or platform_from_settings(settings)
    dispatch_policy = DispatchPolicy.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.effective_database_url)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        stop = asyncio.Event()
        dispatcher: asyncio.Task[None] | None = None
        if settings.dispatch_in_background:
            dispatcher = asyncio.create_task(
                run_dispatcher(
                    app.state.sessionmaker,
                    platform,
                    clock,
                    interval=settings.verification_dispatch_interval,
                    policy=dispatch_policy,
                    stop=stop,
                ),
                name="verification-dispatcher",
            )
        try:
            yield
        finally:
            stop.set()
            if dispatcher is not None:
                await _stop(dispatcher, grace=settings.verification_deadline + 5)
            if owned_platform and isinstance(platform, HttpVerificationPlatform):
                await platform.aclose()
            await engine.dispose()

    app = FastAPI(
        title="临时救助 Temporary Assistance Case Service",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.verification = platform
    app.state.dispatch_policy = dispatch_policy
    install_error_handlers(app)
    for module in (
        system,
        auth,
        regions,
        households,
        applications,
        advances,
        investigation,
        objections,
        forms_of_help,
        eligibility,
        attachments,
        disbursements,
        street_payments,
        payouts,
        policy,
        calendar,
        spot_checks,
        funds,
        admin,
        sync,
    ):
        app.include_router(module.router)
    return app


async def _stop(task: asyncio.Task[None], *, grace: float) -> None:
    """Let a run in progress record what it learnt; cancel it past ``grace``
    (what it sent is idempotent and is sent again on the next start)."""
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout=grace)
    except TimeoutError:
        log.warning("verification dispatcher cancelled at shutdown")
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
