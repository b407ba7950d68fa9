"""The authenticated caller, as the workflow sees it."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain import regions
from app.domain.roles import Role


@dataclass(frozen=True, slots=True)
class Principal:
    """A person or a machine client acting within a region.

    ``subject`` is stable and never personal data (``user:12``,
    ``client:bank-demo``); it is what audit entries and logs record.
    """

    subject: str
    role: Role
    region_code: str
    display_name: str

    def can_see(self, region_code: str) -> bool:
        return regions.contains(self.region_code, region_code)

    @property
    def scope_prefix(self) -> str:
        return regions.scope_prefix(self.region_code)
