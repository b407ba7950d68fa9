"""The migrations are the schema: one head, and nothing the models add."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory

from app.persistence.migrate import alembic_config


def test_the_history_has_a_single_head(database_url: str) -> None:
    scripts = ScriptDirectory.from_config(alembic_config(database_url))

    assert len(scripts.get_heads()) == 1


def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    # Raises when autogenerate would add, drop or alter anything.
    command.check(alembic_config(database_url))
