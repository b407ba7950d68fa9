"""The economic-status check: authorisation letters, an outbox, member reports

Revision ID: 0010a
Revises: 0010
Create Date: 2026-12-03 17:00:00+00:00

``check_authorisations`` holds the household's signed consent (授权书) that
a check needs; ``verification_requests`` is the outbox the dispatcher sends
to the platform, one row per check; ``check_member_reports`` keeps a
completed check's findings per member. Existing checks keep their rows and
get no outbox row: they were sent when they were requested.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010a"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "check_authorisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("signed_by", sa.String(length=64), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_check_authorisations_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachments.id"],
            name=op.f("fk_check_authorisations_attachment_id_attachments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_authorisations")),
    )
    with op.batch_alter_table("check_authorisations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_check_authorisations_application_id"),
            ["application_id"],
            unique=False,
        )

    op.create_table(
        "check_member_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("economic_check_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("wages_fen", sa.BigInteger(), nullable=False),
        sa.Column("business_fen", sa.BigInteger(), nullable=False),
        sa.Column("property_income_fen", sa.BigInteger(), nullable=False),
        sa.Column("transfers_fen", sa.BigInteger(), nullable=False),
        sa.Column("deposits_fen", sa.BigInteger(), nullable=False),
        sa.Column("securities_fen", sa.BigInteger(), nullable=False),
        sa.Column("real_estate", sa.Integer(), nullable=False),
        sa.Column("vehicles", sa.Integer(), nullable=False),
        sa.Column("businesses", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["economic_check_id"],
            ["economic_checks.id"],
            name=op.f("fk_check_member_reports_economic_check_id_economic_checks"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["household_members.id"],
            name=op.f("fk_check_member_reports_member_id_household_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_member_reports")),
        sa.UniqueConstraint(
            "economic_check_id", "position", name="uq_check_member_report_position"
        ),
    )
    with op.batch_alter_table("check_member_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_check_member_reports_economic_check_id"),
            ["economic_check_id"],
            unique=False,
        )

    op.create_table(
        "verification_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("economic_check_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("member_ids", sa.JSON(), nullable=False),
        sa.Column("authorisation_id", sa.Integer(), nullable=False),
        sa.Column("requested_role", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=255), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("platform_check_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_verification_requests_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["authorisation_id"],
            ["check_authorisations.id"],
            name=op.f("fk_verification_requests_authorisation_id_check_authorisations"),
        ),
        sa.ForeignKeyConstraint(
            ["economic_check_id"],
            ["economic_checks.id"],
            name=op.f("fk_verification_requests_economic_check_id_economic_checks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_requests")),
        sa.UniqueConstraint(
            "economic_check_id",
            name=op.f("uq_verification_requests_economic_check_id"),
        ),
        sa.UniqueConstraint(
            "request_id", name=op.f("uq_verification_requests_request_id")
        ),
    )
    with op.batch_alter_table("verification_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verification_requests_application_id"),
            ["application_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_verification_requests_due",
            ["state", "next_attempt_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("verification_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_verification_requests_due")
        batch_op.drop_index(batch_op.f("ix_verification_requests_application_id"))
    op.drop_table("verification_requests")
    with op.batch_alter_table("check_member_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_member_reports_economic_check_id"))
    op.drop_table("check_member_reports")
    with op.batch_alter_table("check_authorisations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_authorisations_application_id"))
    op.drop_table("check_authorisations")
