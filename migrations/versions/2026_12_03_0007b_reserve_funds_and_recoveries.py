"""Street reserve funds and recoveries (R5.1, R5.2)

Revision ID: 0007b
Revises: 0006
Create Date: 2026-12-03 16:00:00+00:00

A branch beside the other work on 0006: these four tables are new and touch
no existing one, and ``upgrade heads`` applies every branch until a merge
revision joins them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007b"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reserve_funds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("street_code", sa.String(length=12), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("cap_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "balance_fen >= 0 AND balance_fen <= cap_fen",
            name=op.f("ck_reserve_funds_balance_within_cap"),
        ),
        sa.ForeignKeyConstraint(
            ["street_code"],
            ["regions.code"],
            name=op.f("fk_reserve_funds_street_code_regions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reserve_funds")),
        sa.UniqueConstraint("street_code", name=op.f("uq_reserve_funds_street_code")),
    )

    op.create_table(
        "reserve_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_after_fen", sa.BigInteger(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_reserve_movements_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["fund_id"],
            ["reserve_funds.id"],
            name=op.f("fk_reserve_movements_fund_id_reserve_funds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reserve_movements")),
    )
    with op.batch_alter_table("reserve_movements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reserve_movements_application_id"),
            ["application_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_reserve_movements_fund_id"), ["fund_id"], unique=False
        )

    op.create_table(
        "recoveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("recovered_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "amount_fen > 0 AND recovered_fen >= 0 AND recovered_fen <= amount_fen",
            name=op.f("ck_recoveries_recovered_within_amount"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_recoveries_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recoveries")),
    )
    with op.batch_alter_table("recoveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recoveries_application_id"),
            ["application_id"],
            unique=False,
        )

    op.create_table(
        "repayments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recovery_id", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("receipt_no", sa.String(length=64), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "amount_fen > 0", name=op.f("ck_repayments_positive_amount")
        ),
        sa.ForeignKeyConstraint(
            ["recovery_id"],
            ["recoveries.id"],
            name=op.f("fk_repayments_recovery_id_recoveries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repayments")),
        sa.UniqueConstraint(
            "recovery_id", "receipt_no", name="uq_repayment_recovery_receipt"
        ),
    )
    with op.batch_alter_table("repayments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_repayments_recovery_id"), ["recovery_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("repayments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_repayments_recovery_id"))

    op.drop_table("repayments")
    with op.batch_alter_table("recoveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recoveries_application_id"))

    op.drop_table("recoveries")
    with op.batch_alter_table("reserve_movements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reserve_movements_fund_id"))
        batch_op.drop_index(batch_op.f("ix_reserve_movements_application_id"))

    op.drop_table("reserve_movements")
    op.drop_table("reserve_funds")
