"""A failed payment may be followed by a new one; the bank's reason codes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 16:30:00+00:00

The unique (application_id, kind) of payments becomes a partial unique
index over the payments that are not failed: a payment the bank failed stays
as history, and one new payment (to the corrected account, on a new form)
may follow it. The bank's failure reason code is kept beside its text.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint("uq_payment_application_kind", type_="unique")
        batch_op.add_column(
            sa.Column("failure_code", sa.String(length=32), nullable=True)
        )
    with op.batch_alter_table("payout_batch_lines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("result_code", sa.String(length=32), nullable=True)
        )
    op.create_index(
        "uq_payment_application_kind_live",
        "payments",
        ["application_id", "kind"],
        unique=True,
        sqlite_where=sa.text("status <> 'failed'"),
        postgresql_where=sa.text("status <> 'failed'"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_payment_application_kind_live",
        table_name="payments",
        sqlite_where=sa.text("status <> 'failed'"),
        postgresql_where=sa.text("status <> 'failed'"),
    )
    with op.batch_alter_table("payout_batch_lines", schema=None) as batch_op:
        batch_op.drop_column("result_code")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("failure_code")
        batch_op.create_unique_constraint(
            "uq_payment_application_kind", ["application_id", "kind"]
        )
