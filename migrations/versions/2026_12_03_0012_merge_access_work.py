"""Join sessions and throttling (0011a), personal data at rest (0011b) and
administration (0011c)

Revision ID: 0012
Revises: 0011a, 0011b, 0011c
Create Date: 2026-12-03 17:00:00+00:00
"""

from collections.abc import Sequence

revision: str = "0012"
down_revision: tuple[str, ...] = ("0011a", "0011b", "0011c")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
