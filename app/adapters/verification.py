"""The household economic-status verification platform (家庭经济状况核对平台).

The service asks the platform to check a household's members and later reads
the answer. ``VerificationPlatform`` is the whole seam:

    request_id → submit() → platform check id → status() … → report()

``result()`` folds ``status()`` and, once completed, ``report()`` into the one
``CheckResult`` the investigation workflow stores.

Implementations:

* ``StubPlatform`` here answers in-process, at once and deterministically from
  the members' ID numbers, for the demo and the API tests;
* ``app.adapters.verification_http.HttpVerificationPlatform`` talks to the real
  platform (or to the stand-in ``app.stubs.verification_platform``) over HTTP.

Contract every implementation keeps:

* ``submit`` is idempotent by ``request_id``: the same id always names the same
  check, however often it is sent, so a retry never opens a second check;
* failures to reach the platform raise a ``PlatformError`` (never a transport
  library's exception) whose ``reason`` a clerk can read;
* a check the platform could not carry out is not an exception: it is a
  ``CheckState.FAILED`` status with the platform's reason.

The report is per member. Income is monthly, by the four kinds of the
statistics (工资性、经营净、财产净、转移净收入); the household's per-capita
income is derived from it (``CheckReport.monthly_income_per_capita``).

TODO: an outbox so a request is never lost when the platform is down; it goes
behind this same interface.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Protocol

from app.domain.money import Money

# Money is frozen, so one shared zero is a safe dataclass default.
_ZERO = Money(0)


class CheckState(StrEnum):
    SUBMITTED = "submitted"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class PlatformError(Exception):
    """The platform could not be asked or did not answer usefully.

    ``reason`` is Chinese, for the clerk; it never carries personal data nor
    the platform's response body (which may echo what was sent).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PlatformUnavailable(PlatformError):
    """Unreachable, too slow, or answering 5xx (after the bounded retries).

    Nothing was decided: the same request may be sent again later.
    """


class PlatformRejected(PlatformError):
    """The platform refused the request (4xx); sending it again will not help."""


@dataclass(frozen=True, slots=True)
class CheckMember:
    """A member to be checked. Personal data stays out of ``repr``, and so of
    any log line or traceback that shows the object."""

    id_number: str = field(repr=False)
    name: str = field(default="", repr=False)
    relation: str = ""  # to the applicant: 本人, 配偶, 子女 …


@dataclass(frozen=True, slots=True)
class MonthlyIncome:
    """One member's income per month, by kind."""

    wages: Money = _ZERO  # 工资性收入
    business: Money = _ZERO  # 经营净收入
    property_income: Money = _ZERO  # 财产净收入 (rent, interest, dividends)
    transfers: Money = _ZERO  # 转移净收入 (pensions, alimony …)

    @property
    def total(self) -> Money:
        return self.wages + self.business + self.property_income + self.transfers


@dataclass(frozen=True, slots=True)
class MemberAssets:
    deposits: Money = _ZERO  # 存款
    securities: Money = _ZERO  # 有价证券
    real_estate: int = 0  # number of registered dwellings (不动产登记)
    vehicles: int = 0  # number of registered motor vehicles


@dataclass(frozen=True, slots=True)
class MemberReport:
    id_number: str = field(repr=False)
    income: MonthlyIncome = MonthlyIncome()
    assets: MemberAssets = MemberAssets()
    # Names of businesses registered to the member (市场主体登记); empty if none.
    businesses: tuple[str, ...] = field(default=(), repr=False)

    @property
    def has_registered_business(self) -> bool:
        return bool(self.businesses)


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The platform's findings for a completed check, one entry per member."""

    check_id: str
    members: tuple[MemberReport, ...]

    def __post_init__(self) -> None:
        if not self.members:
            raise ValueError("a check report covers at least one member")

    def member(self, id_number: str) -> MemberReport | None:
        return next((m for m in self.members if m.id_number == id_number), None)

    @property
    def household_size(self) -> int:
        return len(self.members)

    @property
    def monthly_income_total(self) -> Money:
        return sum((m.income.total for m in self.members), Money(0))

    @property
    def monthly_income_per_capita_exact(self) -> Fraction:
        """In fen, unrounded: what comparisons against a cap should use."""
        return Fraction(self.monthly_income_total.fen, self.household_size)

    @property
    def monthly_income_per_capita(self) -> Money:
        """Rounded half-up to the fen (the service's one rounding rule), for
        storage and display; ``_exact`` for comparisons."""
        return Money(_round_half_up(self.monthly_income_per_capita_exact))

    @property
    def deposits(self) -> Money:
        return sum((m.assets.deposits for m in self.members), Money(0))

    @property
    def securities(self) -> Money:
        return sum((m.assets.securities for m in self.members), Money(0))

    @property
    def real_estate(self) -> int:
        return sum(m.assets.real_estate for m in self.members)

    @property
    def vehicles(self) -> int:
        return sum(m.assets.vehicles for m in self.members)

    @property
    def has_registered_business(self) -> bool:
        return any(m.has_registered_business for m in self.members)

    def asset_flags(self) -> dict[str, bool]:
        """The yes/no summary kept on the check record (``CheckResult.assets``).

        ``vehicle`` and ``real_estate`` are the keys the record had before the
        report existed; ``business_registration`` was added with it.
        """
        return {
            "vehicle": self.vehicles > 0,
            "real_estate": self.real_estate > 0,
            "business_registration": self.has_registered_business,
        }


def _round_half_up(fen: Fraction) -> int:
    # Half away from zero, as ``app.domain.money.format_per_capita`` rounds.
    magnitude = int(abs(fen) + Fraction(1, 2))
    return -magnitude if fen < 0 else magnitude


@dataclass(frozen=True, slots=True)
class CheckStatus:
    state: CheckState
    reason: str = ""  # the platform's reason when FAILED


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The status and, once completed, the report, in the shape the workflow
    stores: ``monthly_income_per_capita`` and ``assets`` come from ``report``."""

    state: CheckState
    monthly_income_per_capita: Money | None = None
    assets: dict[str, bool] = field(default_factory=dict)
    reason: str = ""
    report: CheckReport | None = None

    @classmethod
    def of(cls, status: CheckStatus, report: CheckReport | None = None) -> CheckResult:
        if report is None:
            return cls(status.state, reason=status.reason)
        return cls(
            status.state,
            monthly_income_per_capita=report.monthly_income_per_capita,
            assets=report.asset_flags(),
            reason=status.reason,
            report=report,
        )


class VerificationPlatform(Protocol):
    async def submit(
        self,
        *,
        request_id: str,
        id_numbers: Sequence[str] = (),
        members: Sequence[CheckMember] = (),
    ) -> str:
        """Open a check (idempotent by ``request_id``); return the platform's id.

        Give ``members`` (with names and relations). ``id_numbers`` alone is
        the older form, read as members without name or relation; it goes
        once every caller sends ``members``. Exactly one of them is given.
        Raises ``PlatformError``.
        """
        ...

    async def status(self, check_id: str) -> CheckStatus:
        """Where the check stands; an unknown check id is FAILED, not an error,
        so that the clerk sends the request again. Raises ``PlatformError``."""
        ...

    async def report(self, check_id: str) -> CheckReport:
        """The findings of a completed check. Raises ``PlatformRejected`` if the
        check is not completed, ``PlatformError`` otherwise."""
        ...

    async def result(self, check_id: str) -> CheckResult:
        """``status()`` and, once completed, ``report()`` together."""
        ...


def members_to_check(
    id_numbers: Sequence[str], members: Sequence[CheckMember]
) -> tuple[CheckMember, ...]:
    """The members of a ``submit`` call, from whichever form the caller used."""
    if id_numbers and members:
        raise ValueError("give either id_numbers or members, not both")
    chosen = tuple(members) or tuple(CheckMember(n) for n in id_numbers)
    if not chosen:
        raise ValueError("a check needs at least one member")
    return chosen


class StubPlatform:
    """A platform that answers at once, the same way every time.

    Decided by the first member's ID number (its check digit, the last
    character): ``9`` fails ("数据源暂不可用"), ``7`` has a vehicle. Every
    member earns the same wages, drawn from the digest of all the numbers
    (0 to 1,999.99 yuan a month), so that is also the per-capita income.

    For a platform that takes its time (submitted → processing → completed)
    and more kinds of household, run ``app.stubs.verification_platform`` and
    use the HTTP implementation.
    """

    def __init__(self) -> None:
        self._checks: dict[str, tuple[CheckMember, ...]] = {}

    async def submit(
        self,
        *,
        request_id: str,
        id_numbers: Sequence[str] = (),
        members: Sequence[CheckMember] = (),
    ) -> str:
        chosen = members_to_check(id_numbers, members)
        check_id = "STUB-" + request_id
        self._checks.setdefault(check_id, chosen)
        return check_id

    async def status(self, check_id: str) -> CheckStatus:
        members = self._checks.get(check_id)
        if members is None:
            return CheckStatus(CheckState.FAILED, reason="核对请求不存在")
        if members[0].id_number.endswith("9"):
            return CheckStatus(CheckState.FAILED, reason="数据源暂不可用")
        return CheckStatus(CheckState.COMPLETED)

    async def report(self, check_id: str) -> CheckReport:
        if (await self.status(check_id)).state is not CheckState.COMPLETED:
            raise PlatformRejected("核对尚未完成，暂无核对报告。")
        members = self._checks[check_id]
        numbers = [m.id_number for m in members]
        digest = hashlib.sha256("|".join(numbers).encode()).digest()
        wages = Money(int.from_bytes(digest[:4], "big") % 200_000)
        return CheckReport(
            check_id=check_id,
            members=tuple(
                MemberReport(
                    id_number=number,
                    income=MonthlyIncome(wages=wages),
                    assets=MemberAssets(
                        vehicles=1 if i == 0 and number.endswith("7") else 0
                    ),
                )
                for i, number in enumerate(numbers)
            ),
        )

    async def result(self, check_id: str) -> CheckResult:
        status = await self.status(check_id)
        if status.state is not CheckState.COMPLETED:
            return CheckResult.of(status)
        return CheckResult.of(status, await self.report(check_id))
