"""objections appraisals economic checks

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 13:44:01.357023+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appraisals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("attendees", sa.Integer(), nullable=False),
        sa.Column("votes_for", sa.Integer(), nullable=False),
        sa.Column("votes_against", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_appraisals_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appraisals")),
    )
    with op.batch_alter_table("appraisals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appraisals_application_id"), ["application_id"], unique=False
        )

    op.create_table(
        "economic_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("platform_check_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("monthly_income_fen", sa.BigInteger(), nullable=True),
        sa.Column("assets", sa.JSON(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_economic_checks_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_economic_checks")),
        sa.UniqueConstraint("request_id", name=op.f("uq_economic_checks_request_id")),
    )
    with op.batch_alter_table("economic_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_economic_checks_application_id"),
            ["application_id"],
            unique=False,
        )

    op.create_table(
        "objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("content", sa.String(length=2000), nullable=False),
        sa.Column("contact", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decision_note", sa.String(length=2000), nullable=False),
        sa.Column("raised_by", sa.String(length=64), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_objections_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objections")),
    )
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_objections_application_id"), ["application_id"], unique=False
        )

    with op.batch_alter_table("investigations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "result_in_doubt",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )

    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_grants_application_id"), type_="unique")
        batch_op.create_index(
            batch_op.f("ix_grants_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            "uq_grants_active_application",
            ["application_id"],
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )


def downgrade() -> None:
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_index("uq_grants_active_application")
        batch_op.drop_index(batch_op.f("ix_grants_application_id"))
        batch_op.create_unique_constraint(
            batch_op.f("uq_grants_application_id"), ["application_id"]
        )

    with op.batch_alter_table("investigations", schema=None) as batch_op:
        batch_op.drop_column("result_in_doubt")

    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objections_application_id"))

    op.drop_table("objections")
    with op.batch_alter_table("economic_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_economic_checks_application_id"))

    op.drop_table("economic_checks")
    with op.batch_alter_table("appraisals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appraisals_application_id"))

    op.drop_table("appraisals")
