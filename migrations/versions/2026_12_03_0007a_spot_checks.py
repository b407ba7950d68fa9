"""Spot checks of street-approved cases: draws and checks (R3.6)

Revision ID: 0007a
Revises: 0006
Create Date: 2026-12-03 16:00:00+00:00

A branch beside the other 0007 revisions: it only adds its own tables, and
``upgrade heads`` applies every branch until a merge revision joins them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007a"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spot_check_draws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("street_code", sa.String(length=12), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("seed_source", sa.String(length=16), nullable=False),
        sa.Column("ratio", sa.String(length=16), nullable=False),
        sa.Column("population_count", sa.Integer(), nullable=False),
        sa.Column("population_ids", sa.JSON(), nullable=False),
        sa.Column("drawn_count", sa.Integer(), nullable=False),
        sa.Column("drawn_by", sa.String(length=64), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["street_code"],
            ["regions.code"],
            name=op.f("fk_spot_check_draws_street_code_regions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spot_check_draws")),
        sa.UniqueConstraint(
            "street_code", "month", name="uq_spot_check_draws_street_month"
        ),
    )

    op.create_table(
        "spot_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("findings", sa.String(length=2000), nullable=False),
        sa.Column("recovery_required", sa.Boolean(), nullable=False),
        sa.Column("checked_by", sa.String(length=64), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_spot_checks_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_spot_checks_decision_id_decisions"),
        ),
        sa.ForeignKeyConstraint(
            ["draw_id"],
            ["spot_check_draws.id"],
            name=op.f("fk_spot_checks_draw_id_spot_check_draws"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spot_checks")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_spot_checks_decision_id")),
    )
    with op.batch_alter_table("spot_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spot_checks_application_id"),
            ["application_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_spot_checks_draw_id"), ["draw_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("spot_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spot_checks_draw_id"))
        batch_op.drop_index(batch_op.f("ix_spot_checks_application_id"))

    op.drop_table("spot_checks")
    op.drop_table("spot_check_draws")
