"""Command line: ``linshi migrate | seed | serve | dispatch-verification |
rotate-pii-key | export-openapi | export-access``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from app.clock import SystemClock
from app.persistence import crypto
from app.persistence.db import make_engine, make_sessionmaker
from app.persistence.migrate import upgrade_head
from app.seed import (
    DEMO_ACCOUNTS,
    DEMO_CLIENTS,
    DEMO_PASSWORD,
    seed_demo_users,
    seed_reference,
)
from app.settings import (
    DEFAULT_SQLITE_PATH,
    PROJECT_ROOT,
    Settings,
    UnsafeSettings,
    get_settings,
)

cli = typer.Typer(no_args_is_help=True, add_completion=False)


def _settings_with_keys() -> Settings:
    """The settings, with this process's personal-data key ring configured.

    Every command that reads or writes the database runs this first: the
    migrations encrypt stored values, and production keys must be real ones
    before anything is written under them.
    """
    settings = get_settings()
    try:
        settings.check_pii_keys()
    except UnsafeSettings as exc:
        raise typer.BadParameter(str(exc)) from None
    crypto.configure(crypto.KeyRing.from_settings(settings))
    return settings


@cli.command()
def migrate() -> None:
    """Apply every migration (alembic upgrade head)."""
    settings = _settings_with_keys()
    if not settings.database_url:
        DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    upgrade_head(settings.effective_database_url)
    typer.echo("database at the newest schema")


async def _seed(demo: bool) -> tuple[bool, bool]:
    settings = _settings_with_keys()
    engine = make_engine(settings.effective_database_url)
    sessionmaker = make_sessionmaker(engine)
    now = SystemClock().now()
    try:
        async with sessionmaker() as session, session.begin():
            reference = await seed_reference(session, now=now)
            users = await seed_demo_users(session, now=now) if demo else False
    finally:
        await engine.dispose()
    return reference, users


@cli.command()
def seed(
    demo: Annotated[bool, typer.Option(help="Also add the demo accounts.")] = False,
) -> None:
    """Load the region tree, parameters and standards (and demo accounts)."""
    settings = get_settings()
    if demo and not settings.demo_mode:
        raise typer.BadParameter("demo accounts exist only with APP_ENV=demo")
    reference, users = asyncio.run(_seed(demo))
    typer.echo("reference data " + ("loaded" if reference else "already present"))
    if demo:
        typer.echo("demo accounts " + ("created" if users else "already present"))


@cli.command("demo-accounts")
def demo_accounts() -> None:
    """Print how to log in as each demo user."""
    typer.echo(f"Demo accounts (password for every person: {DEMO_PASSWORD}):")
    for account in DEMO_ACCOUNTS:
        typer.echo(
            f"  {account.username:<13} {account.role.value:<27} {account.display_name}"
        )
    typer.echo("Machine clients (grant_type=client_credentials):")
    for client in DEMO_CLIENTS:
        typer.echo(
            f"  {client.client_id:<13} secret {client.secret:<22} {client.role.value}"
        )


@cli.command("export-access")
def export_access(
    path: Annotated[Path, typer.Option(help="Where to write the page.")] = PROJECT_ROOT
    / "docs"
    / "access.md",
) -> None:
    """Write docs/access.md: who may call each route, from app/auth/access.py."""
    from app.auth.access import render_markdown

    path.write_text(render_markdown() + "\n", encoding="utf-8")
    typer.echo(f"wrote {path}")


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT")] = 8000,
) -> None:
    """Serve the API (one worker: the demo clock lives in the process)."""
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port)


async def _dispatch(loop: bool, interval: float) -> None:
    from app.adapters.verification_http import HttpVerificationPlatform
    from app.main import platform_from_settings
    from app.workflow.verification_dispatch import (
        DispatchPolicy,
        dispatch_verification,
        run_dispatcher,
    )

    settings = _settings_with_keys()
    engine = make_engine(settings.effective_database_url)
    sessionmaker = make_sessionmaker(engine)
    platform = platform_from_settings(settings)
    policy = DispatchPolicy.from_settings(settings)
    try:
        if not loop:
            summary = await dispatch_verification(
                sessionmaker, platform, SystemClock().now(), policy=policy
            )
            typer.echo(f"verification requests {summary}")
            return
        stop = asyncio.Event()
        await run_dispatcher(
            sessionmaker,
            platform,
            SystemClock(),
            interval=interval,
            policy=policy,
            stop=stop,
        )
    finally:
        if isinstance(platform, HttpVerificationPlatform):
            await platform.aclose()
        await engine.dispose()


@cli.command("dispatch-verification")
def dispatch_verification_command(
    loop: Annotated[
        bool, typer.Option("--loop", help="Keep running until interrupted.")
    ] = False,
    interval: Annotated[
        float, typer.Option(help="Seconds between runs with --loop.", min=0.5)
    ] = 5.0,
) -> None:
    """Send queued economic-status checks, poll them and store their reports.

    The server does the same every few seconds unless VERIFICATION_DISPATCH is
    false; this command is for a server run without it (or a cron job).
    """
    if not get_settings().verification_base_url:
        # The in-process stub remembers its checks in the server's memory
        # only: polled from here, every check the server sent reads as lost.
        raise typer.BadParameter(
            "VERIFICATION_BASE_URL is not set: the in-process stub platform "
            "answers only inside the server, whose dispatcher handles it"
        )
    try:
        asyncio.run(_dispatch(loop, interval))
    except KeyboardInterrupt:
        typer.echo("stopped")


async def _rotate_pii_key(url: str) -> dict[str, int]:
    from app.persistence.tables import metadata

    keyring = crypto.active_keyring()
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(
                crypto.reencrypt_columns,
                keyring,
                crypto.encrypted_columns(metadata),
            )
    finally:
        await engine.dispose()


@cli.command("rotate-pii-key")
def rotate_pii_key() -> None:
    """Rewrite personal data under PII_CURRENT_KEY and refresh blind indexes.

    Run after adding a new key to PII_KEYS and making it PII_CURRENT_KEY (the
    service writes new values under it at once), or after changing
    PII_INDEX_KEY. One transaction; a key missing for some value changes
    nothing. Afterwards the old key can leave PII_KEYS.
    """
    settings = _settings_with_keys()
    try:
        counts = asyncio.run(_rotate_pii_key(settings.effective_database_url))
    except crypto.PiiKeyError as exc:
        raise typer.BadParameter(str(exc)) from None
    for column, count in counts.items():
        typer.echo(f"{column}: {count} rewritten")
    typer.echo(f"personal data under key {settings.pii_current_key!r}")


@cli.command("export-openapi")
def export_openapi(
    output: Path = PROJECT_ROOT / "openapi" / "openapi.json",
) -> None:
    """Write the OpenAPI document the app serves."""
    from app.main import create_app

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_openapi(create_app().openapi()), encoding="utf-8")
    typer.echo(f"wrote {output}")


def render_openapi(document: dict[str, object]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main() -> None:
    cli()
