"""Join the procedure (0005) and attachments (0005a) branches

Revision ID: 0006
Revises: 0005, 0005a
Create Date: 2026-12-03 14:30:00+00:00
"""

from collections.abc import Sequence

revision: str = "0006"
down_revision: tuple[str, ...] = ("0005", "0005a")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
