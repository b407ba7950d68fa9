"""The verification platform over HTTP (``VerificationPlatform`` with httpx).

The wire protocol is the one ``app.stubs.verification_platform`` documents;
the stub is the reference the tests run this client against.

Failure handling, the contract callers rely on:

* connect errors, timeouts and 5xx answers are retried a bounded number of
  times with exponential backoff and jitter, within an overall deadline;
  4xx answers are not retried (the same request would be refused again);
* ``submit`` sends its ``request_id`` as the ``Idempotency-Key`` header (and
  in the body), the same on every attempt, so the platform opens one check
  however many attempts reach it;
* whatever goes wrong surfaces as ``PlatformUnavailable`` (try later) or
  ``PlatformRejected`` (4xx), each with a Chinese reason, never as an httpx
  exception;
* no log line and no exception message carries ID numbers or names: only
  the request id, the platform's check id, counts and status codes. Response
  bodies are never logged or quoted either, as they may echo the request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential,
    wait_random,
)

from app.adapters.verification import (
    CheckMember,
    CheckReport,
    CheckResult,
    CheckState,
    CheckStatus,
    MemberAssets,
    MemberReport,
    MonthlyIncome,
    PlatformRejected,
    PlatformUnavailable,
    members_to_check,
)
from app.domain.money import Money, MoneyFormatError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HttpPlatformConfig:
    """Where the platform is and how patient to be with it (seconds).

    A check is submitted and refreshed while a clerk waits for the answer, so
    the worst case, ``deadline`` plus one request's timeouts, is kept short.
    """

    base_url: str
    token: str = ""  # sent as a bearer token when set
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    attempts: int = 4  # in all, the first one included
    backoff_initial: float = 0.25
    backoff_max: float = 4.0
    backoff_jitter: float = 0.25
    deadline: float = 20.0  # no retry is started that would wait past this

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")


class _ServerError(Exception):
    """A 5xx answer, raised inside the retry loop so that it is retried."""

    def __init__(self, status_code: int) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code


# Worth another attempt: the request may not have arrived, or the platform was
# briefly overloaded. Invalid URLs, unsupported schemes and 4xx are not.
_TRANSIENT = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    _ServerError,
)


class _Wire(BaseModel):
    # The platform may add fields; only what is read is checked.
    model_config = ConfigDict(extra="ignore", frozen=True)


_W = TypeVar("_W", bound=_Wire)


class _SubmitAnswer(_Wire):
    check_id: str = Field(min_length=1, max_length=64)


class _StatusAnswer(_Wire):
    state: CheckState
    reason: str = ""


class _IncomeWire(_Wire):
    wages: str
    business: str
    property_income: str = Field(alias="property")
    transfers: str


class _AssetsWire(_Wire):
    deposits: str
    securities: str
    real_estate: int = Field(ge=0)
    vehicles: int = Field(ge=0)


class _MemberWire(_Wire):
    id_number: str
    income: _IncomeWire
    assets: _AssetsWire
    businesses: list[str] = Field(default_factory=list)


class _ReportAnswer(_Wire):
    members: list[_MemberWire] = Field(min_length=1)


def _signed_money(text: str) -> Money:
    # Net business or property income can be negative; Money.parse is not.
    if text.startswith("-"):
        return Money(-Money.parse(text[1:]).fen)
    return Money.parse(text)


def _member_report(wire: _MemberWire) -> MemberReport:
    return MemberReport(
        id_number=wire.id_number,
        income=MonthlyIncome(
            wages=_signed_money(wire.income.wages),
            business=_signed_money(wire.income.business),
            property_income=_signed_money(wire.income.property_income),
            transfers=_signed_money(wire.income.transfers),
        ),
        assets=MemberAssets(
            deposits=Money.parse(wire.assets.deposits),
            securities=Money.parse(wire.assets.securities),
            real_estate=wire.assets.real_estate,
            vehicles=wire.assets.vehicles,
        ),
        businesses=tuple(wire.businesses),
    )


_UNREADABLE = "核对平台的应答无法识别，请稍后重试或联系平台运维。"


class HttpVerificationPlatform:
    """``VerificationPlatform`` against the platform's HTTP API.

    Holds one connection pool: create it once per process and ``aclose()``
    it on shutdown (or use it as an async context manager).
    """

    def __init__(
        self,
        config: HttpPlatformConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = config
        headers = {"Accept": "application/json"}
        if config.token:
            headers["Authorization"] = f"Bearer {config.token}"
        self._client = httpx.AsyncClient(
            base_url=config.base_url,
            headers=headers,
            timeout=httpx.Timeout(
                config.read_timeout,
                connect=config.connect_timeout,
            ),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def submit(
        self,
        *,
        request_id: str,
        id_numbers: Sequence[str] = (),
        members: Sequence[CheckMember] = (),
    ) -> str:
        chosen = members_to_check(id_numbers, members)
        body = {
            "request_id": request_id,
            "members": [
                {"id_number": m.id_number, "name": m.name, "relation": m.relation}
                for m in chosen
            ],
        }
        response = await self._send(
            "submit",
            "POST",
            "/api/v1/checks",
            json=body,
            headers={"Idempotency-Key": request_id},
            request_id=request_id,
        )
        if response.status_code >= 400:
            raise self._rejected("submit", response, request_id=request_id)
        check_id = self._parse(_SubmitAnswer, response, "submit").check_id
        log.info(
            "verification check submitted: request_id=%s check_id=%s members=%d",
            request_id,
            check_id,
            len(chosen),
        )
        return check_id

    async def status(self, check_id: str) -> CheckStatus:
        if not check_id:
            return CheckStatus(CheckState.FAILED, reason="核对平台无此核对请求")
        response = await self._send("status", "GET", _check_path(check_id))
        if response.status_code == 404:
            # Lost on the platform's side: FAILED lets the clerk send it again.
            log.warning("verification check unknown to the platform: %s", check_id)
            return CheckStatus(CheckState.FAILED, reason="核对平台无此核对请求")
        if response.status_code >= 400:
            raise self._rejected("status", response, check_id=check_id)
        answer = self._parse(_StatusAnswer, response, "status")
        return CheckStatus(answer.state, reason=answer.reason)

    async def report(self, check_id: str) -> CheckReport:
        response = await self._send("report", "GET", _check_path(check_id) + "/report")
        if response.status_code == 409:
            raise PlatformRejected("核对尚未完成，暂无核对报告。")
        if response.status_code >= 400:
            raise self._rejected("report", response, check_id=check_id)
        answer = self._parse(_ReportAnswer, response, "report")
        try:
            members = tuple(_member_report(m) for m in answer.members)
        except MoneyFormatError:
            log.error("verification report has a malformed amount: %s", check_id)
            raise PlatformUnavailable(_UNREADABLE) from None
        return CheckReport(check_id=check_id, members=members)

    async def result(self, check_id: str) -> CheckResult:
        status = await self.status(check_id)
        if status.state is not CheckState.COMPLETED:
            return CheckResult.of(status)
        return CheckResult.of(status, await self.report(check_id))

    async def _send(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        request_id: str = "",
    ) -> httpx.Response:
        """One logical request: retried on transient failures, then either a
        response below 500 or ``PlatformUnavailable``."""
        config = self._config
        retrying = AsyncRetrying(
            stop=stop_after_attempt(config.attempts)
            | stop_before_delay(config.deadline),
            # backoff_initial × 2ⁿ up to backoff_max, plus up to backoff_jitter so
            # that clients cut off together do not come back together.
            wait=wait_exponential(
                multiplier=config.backoff_initial, max=config.backoff_max
            )
            + wait_random(0, config.backoff_jitter),
            retry=retry_if_exception_type(_TRANSIENT),
            before_sleep=_log_retry(operation, request_id),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    response = await self._client.request(
                        method, path, json=json, headers=headers
                    )
                    if response.status_code >= 500:
                        raise _ServerError(response.status_code)
                    return response
        except _TRANSIENT as exc:
            tries = retrying.statistics.get("attempt_number", 1)
            log.error(
                "verification platform gave no answer to %s after %d attempt(s): %s%s",
                operation,
                tries,
                _describe(exc),
                f" request_id={request_id}" if request_id else "",
            )
            raise PlatformUnavailable(_unavailable_reason(exc)) from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            # A configuration fault (bad URL or scheme): retrying cannot help.
            log.error(
                "verification platform request %s impossible: %s",
                operation,
                type(exc).__name__,
            )
            raise PlatformUnavailable(
                "核对平台的连接配置有误，请联系系统管理员。"
            ) from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _parse(self, model: type[_W], response: httpx.Response, operation: str) -> _W:
        try:
            return model.model_validate_json(response.content)
        except ValidationError:
            log.error(
                "verification platform's %s answer is not understood "
                "(HTTP %d, %d bytes)",
                operation,
                response.status_code,
                len(response.content),
            )
            raise PlatformUnavailable(_UNREADABLE) from None

    @staticmethod
    def _rejected(
        operation: str,
        response: httpx.Response,
        *,
        request_id: str = "",
        check_id: str = "",
    ) -> PlatformRejected:
        log.error(
            "verification platform refused %s: HTTP %d%s%s",
            operation,
            response.status_code,
            f" request_id={request_id}" if request_id else "",
            f" check_id={check_id}" if check_id else "",
        )
        return PlatformRejected(
            f"核对平台拒绝了该请求（HTTP {response.status_code}），"
            "请核对家庭成员信息后重试或联系平台运维。"
        )


def _check_path(check_id: str) -> str:
    # The id is the platform's; quoted so that it can only name one check.
    return "/api/v1/checks/" + quote(check_id, safe="")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, _ServerError):
        return f"HTTP {exc.status_code}"
    return type(exc).__name__


def _unavailable_reason(exc: BaseException) -> str:
    if isinstance(exc, _ServerError):
        return f"核对平台暂时无法服务（HTTP {exc.status_code}），请稍后重试。"
    if isinstance(exc, httpx.TimeoutException) and not isinstance(
        exc, httpx.ConnectTimeout
    ):
        return "核对平台响应超时，请稍后重试。"
    return "无法连接家庭经济状况核对平台，请稍后重试。"


def _log_retry(operation: str, request_id: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "verification platform %s failed (attempt %d: %s); retrying in %.2fs%s",
            operation,
            state.attempt_number,
            "?" if exc is None else _describe(exc),
            state.upcoming_sleep,
            f" request_id={request_id}" if request_id else "",
        )

    return before_sleep
