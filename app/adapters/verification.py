"""The household economic-status verification platform (家庭经济状况核对平台).

The service asks the platform to check a household's members and later reads
the result. ``VerificationPlatform`` is the whole seam; ``StubPlatform``
answers in-process and deterministically from the members' ID numbers, for
the demo and the tests.

    request_id → submit() → platform check id → status() → CheckResult

TODO: the HTTP implementation (httpx, timeouts, bounded retries) and an
outbox so a request is never lost when the platform is down; both go behind
this same interface.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from app.domain.money import Money


class CheckState(StrEnum):
    SUBMITTED = "submitted"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CheckResult:
    state: CheckState
    monthly_income_per_capita: Money | None = None
    assets: dict[str, bool] = field(default_factory=dict)
    reason: str = ""


class VerificationPlatform(Protocol):
    async def submit(self, *, request_id: str, id_numbers: Sequence[str]) -> str:
        """Open a check (idempotent by ``request_id``); return the platform's id."""
        ...

    async def result(self, check_id: str) -> CheckResult: ...


class StubPlatform:
    """A platform that answers at once, the same way every time.

    A household whose first member's ID number ends in ``7`` is reported with a
    vehicle, one ending in ``9`` fails ("数据源暂不可用"); the monthly income
    per capita is drawn from the numbers' digest (0 to 1,999.99 yuan).
    """

    def __init__(self) -> None:
        self._checks: dict[str, tuple[str, ...]] = {}

    async def submit(self, *, request_id: str, id_numbers: Sequence[str]) -> str:
        check_id = "STUB-" + request_id
        self._checks.setdefault(check_id, tuple(id_numbers))
        return check_id

    async def result(self, check_id: str) -> CheckResult:
        members = self._checks.get(check_id)
        if members is None:
            return CheckResult(CheckState.FAILED, reason="核对请求不存在")
        if members[0].endswith("9"):
            return CheckResult(CheckState.FAILED, reason="数据源暂不可用")
        digest = hashlib.sha256("|".join(members).encode()).digest()
        income = Money(int.from_bytes(digest[:4], "big") % 200_000)
        return CheckResult(
            CheckState.COMPLETED,
            monthly_income_per_capita=income,
            assets={"vehicle": members[0].endswith("7"), "real_estate": False},
        )
