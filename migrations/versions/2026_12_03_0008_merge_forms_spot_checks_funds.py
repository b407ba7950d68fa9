"""Join forms of help (0007), spot checks (0007a) and funds (0007b)

Revision ID: 0008
Revises: 0007, 0007a, 0007b
Create Date: 2026-12-03 14:30:00+00:00
"""

from collections.abc import Sequence

revision: str = "0008"
down_revision: tuple[str, ...] = ("0007", "0007a", "0007b")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
