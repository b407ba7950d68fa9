"""Administration: a staff member's own ID number, for separation of duties

Revision ID: 0011c
Revises: 0010a
Create Date: 2026-12-03 19:00:00+00:00

``users.id_number`` holds ``app.auth.access.person_key`` of the staff
member's ID number, so nobody handles their own household's case. It is
optional: existing accounts keep working without one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011c"
down_revision: str | None = "0010a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("id_number", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("id_number")
