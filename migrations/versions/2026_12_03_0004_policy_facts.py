"""Policy facts on applications, approval level on decisions, 救急难 shares

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 14:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("patient_member_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("diagnosed_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("district_recognition", sa.String(length=128), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "pool", sa.String(length=16), nullable=False, server_default="ordinary"
            )
        )
        batch_op.add_column(
            sa.Column("special_programme", sa.String(length=16), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_applications_patient_member_id_household_members"),
            "household_members",
            ["patient_member_id"],
            ["id"],
        )

    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("approval_level", sa.String(length=16), nullable=True)
        )

    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("departments", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_column("departments")

    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("approval_level")

    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_applications_patient_member_id_household_members"),
            type_="foreignkey",
        )
        batch_op.drop_column("special_programme")
        batch_op.drop_column("pool")
        batch_op.drop_column("district_recognition")
        batch_op.drop_column("diagnosed_on")
        batch_op.drop_column("patient_member_id")
