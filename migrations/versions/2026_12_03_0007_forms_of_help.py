"""Forms of help (R3.10) and advance assistance (R3.9)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 15:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "form_of_help",
                sa.String(length=16),
                nullable=False,
                server_default="cash",
            )
        )
        for name in ("in_kind_items", "referral", "delivery"):
            default = "[]" if name == "in_kind_items" else "{}"
            batch_op.add_column(
                sa.Column(name, sa.JSON(), nullable=False, server_default=default)
            )
        batch_op.add_column(sa.Column("advance_fen", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("advance_paid_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        names = ("advance_paid_at", "advance_fen", "delivery", "referral")
        for name in (*names, "in_kind_items", "form_of_help"):
            batch_op.drop_column(name)
