"""Running the Alembic migrations from code (the CLI and the tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from app.settings import PROJECT_ROOT


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["configure_logger"] = False
    return config


def upgrade_head(url: str) -> None:
    """Bring the database at ``url`` to the newest schema; safe to repeat.

    ``heads`` rather than ``head``: work on separate areas may branch the
    revision history for a while before a merge revision joins it again.
    """
    command.upgrade(alembic_config(url), "heads")
