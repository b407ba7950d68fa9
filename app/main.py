"""The ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.adapters.verification import StubPlatform, VerificationPlatform
from app.clock import Clock, OffsetClock, SystemClock
from app.errors import install_error_handlers
from app.persistence.db import make_engine, make_sessionmaker
from app.routers import (
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
    system,
)
from app.settings import Settings, get_settings

API_DESCRIPTION = """\
临时救助业务服务：受理、调查、审核、审批、公示、发放审批与银行代发。

Every endpoint except the token endpoint and `/healthz` needs a bearer token.
Amounts are strings of yuan with two decimals; times are shown at +08:00.
Errors are `application/problem+json` with a stable `code` and a Chinese
`detail`.
"""


def create_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    verification: VerificationPlatform | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    settings.check_production()
    if clock is None:
        clock = OffsetClock() if settings.movable_clock else SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.effective_database_url)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="临时救助 Temporary Assistance Case Service",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    # TODO: the HTTP client of the real platform when its address is set.
    app.state.verification = verification or StubPlatform()
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
    ):
        app.include_router(module.router)
    return app
