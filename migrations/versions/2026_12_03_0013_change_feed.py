"""The change feed: outbox events get a position in commit order

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 18:00:00+00:00

``outbox_events.position`` is an event's place in the provincial change
feed, given when its transaction commits; ``outbox_counter`` holds the last
position given (docs/change-feed.md). Events already committed keep their
order: their position is their id, and the counter starts after the largest.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("position", sa.BigInteger(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_outbox_events_position"), ["position"]
        )
    # Committed before this revision, so already in their final order.
    op.execute("UPDATE outbox_events SET position = id")

    op.create_table(
        "outbox_counter",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_counter")),
    )
    op.execute(
        "INSERT INTO outbox_counter (id, last_position)"
        " SELECT 1, COALESCE(MAX(position), 0) FROM outbox_events"
    )


def downgrade() -> None:
    op.drop_table("outbox_counter")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_outbox_events_position"), type_="unique"
        )
        batch_op.drop_column("position")
