"""One household per person: ID numbers of members are unique

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 13:40:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("household_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_household_members_id_number"))
        batch_op.create_unique_constraint(
            batch_op.f("uq_household_members_id_number"), ["id_number"]
        )


def downgrade() -> None:
    with op.batch_alter_table("household_members", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_household_members_id_number"), type_="unique"
        )
        batch_op.create_index(
            batch_op.f("ix_household_members_id_number"), ["id_number"], unique=False
        )
