"""Payments the street makes itself for its delegated approvals (R3.5)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 16:00:00+00:00

A payment is either the district's (on a signed disbursement form, paid by
the bank) or the street's (no form; the street's voucher number instead).
Existing rows are all the district's.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "payer",
                sa.String(length=16),
                nullable=False,
                server_default="district",
            )
        )
        batch_op.add_column(
            sa.Column("voucher_no", sa.String(length=64), nullable=True)
        )
        batch_op.alter_column("form_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint(
            op.f("ck_payments_payer_and_its_record"),
            "(payer = 'district' AND form_id IS NOT NULL)"
            " OR (payer = 'street' AND form_id IS NULL AND voucher_no IS NOT NULL)",
        )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.alter_column("payer", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("ck_payments_payer_and_its_record"), type_="check"
        )
        batch_op.alter_column("form_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("voucher_no")
        batch_op.drop_column("payer")
