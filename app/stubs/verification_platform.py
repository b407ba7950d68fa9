"""A stand-in for the household economic-status verification platform.

A small ASGI app that answers like the real platform is expected to: a check
is opened, then polled (submitted → processing → completed or failed), then
its report is read. Everything is decided by the submitted ID numbers and by
counting requests, never by the wall clock, so tests need not sleep.

Run it on its own::

    python -m app.stubs.verification_platform --port 8001
    make stub-platform                      # the same, STUB_PORT=8001

and point ``HttpVerificationPlatform`` at ``http://127.0.0.1:8001``.

Wire protocol (JSON; amounts are yuan strings with two decimals)
-----------------------------------------------------------------
``POST /api/v1/checks``, header ``Idempotency-Key: <request id>``, body
``{"request_id": "<same id, optional>", "members": [{"id_number": "…",
"name": "…", "relation": "本人"}, …]}``
    201 ``{"check_id", "request_id", "state": "submitted"}`` for a new check;
    200 and the same ``check_id`` when the request id was seen before (the
    check is never opened twice); 422 when that request id was used for other
    members, or the body is malformed (the answer never echoes the input).
``GET /api/v1/checks/{check_id}``
    ``{"check_id", "state", "reason"}``; every call is one poll; 404 unknown.
``GET /api/v1/checks/{check_id}/report``
    ``{"check_id", "members": [{"id_number", "income": {"wages", "business",
    "property", "transfers"}, "assets": {"deposits", "securities",
    "real_estate", "vehicles"}, "businesses": ["…"]}]}``, monthly income;
    409 until the check is completed (reading it is not a poll); 404 unknown.

For tests and demos: ``GET /_stub/stats`` (counters, ``checks_created`` among
them), ``POST /_stub/faults {"unavailable_next": N}`` (the next N API requests
answer 503 before doing anything: an outage), ``POST /_stub/reset``.

How the households behave
-------------------------
Decided by the FIRST member's 17th character, the last digit before the check
digit: with ``app.domain.idnumber.compose_id_number(area, birth, sequence)``
it is ``sequence % 10``. Income is per member per month and every member gets
the same amounts, so the per-capita income is the row's total. Assets and
businesses belong to the first member only. "Polls" counts status requests:
with the defaults a check is ``processing`` on the first poll and finished on
the second.

====  ===========================  =========================================
digit household                    report (per member / first member)
====  ===========================  =========================================
0     ordinary                     wages 600.00 + transfers 200.00 = 800.00
1     income over any limit        wages 4,800.00 + property 200.00
                                   = 5,000.00
2     real estate                  as 0; first member owns 2 dwellings
3     vehicle                      as 0; first member owns 1 vehicle
4     registered business          wages 700.00 + business 500.00
                                   = 1,200.00; first member registered
                                   "便民小超市（个体工商户）"
5     savings                      wages 600.00 + property 250.00 = 850.00;
                                   deposits 120,000.00, securities 30,000.00
6     slow                         as 0, completed on poll 8 (``slow_polls``)
7     failing                      failed on poll 2, reason "数据源暂不可用"
8     lost answers                 as 0; the first 2 answers (``lost_answers``)
                                   to a submit with that request id are 503
                                   although the check WAS opened: a client
                                   that retries must get the same check id
9     no income                    all zero, no assets
====  ===========================  =========================================
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import uvicorn
from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.domain.idnumber import InvalidIdNumber, normalise_id_number
from app.domain.money import Money

FAILED_REASON = "数据源暂不可用"


@dataclass(frozen=True, slots=True)
class StubConfig:
    polls_to_complete: int = 2  # the poll on which an ordinary check finishes
    slow_polls: int = 8  # the same for a slow household (digit 6)
    lost_answers: int = 2  # 503s after opening a digit-8 check
    unavailable_first: int = 0  # API requests answered 503 right from the start


@dataclass(frozen=True, slots=True)
class Behaviour:
    """What one kind of household gets; amounts in fen."""

    label: str
    wages: int = 60_000
    business: int = 0
    property_income: int = 0
    transfers: int = 20_000
    deposits: int = 0
    securities: int = 0
    real_estate: int = 0
    vehicles: int = 0
    businesses: tuple[str, ...] = ()
    slow: bool = False
    fails: bool = False
    loses_answers: bool = False


BEHAVIOURS: dict[str, Behaviour] = {
    "0": Behaviour("ordinary"),
    "1": Behaviour(
        "income over the limit", wages=480_000, property_income=20_000, transfers=0
    ),
    "2": Behaviour("real estate", real_estate=2),
    "3": Behaviour("vehicle", vehicles=1),
    "4": Behaviour(
        "registered business",
        wages=70_000,
        business=50_000,
        transfers=0,
        businesses=("便民小超市（个体工商户）",),
    ),
    "5": Behaviour(
        "savings",
        property_income=25_000,
        transfers=0,
        deposits=12_000_000,
        securities=3_000_000,
    ),
    "6": Behaviour("slow", slow=True),
    "7": Behaviour("failing", fails=True),
    "8": Behaviour("lost answers", loses_answers=True),
    "9": Behaviour("no income", wages=0, transfers=0),
}


def behaviour_of(first_id_number: str) -> Behaviour:
    return BEHAVIOURS[first_id_number[16]]


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_number: str = Field(min_length=18, max_length=18)
    name: str = Field(default="", max_length=64)
    relation: str = Field(default="", max_length=16)


class SubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str | None = Field(default=None, min_length=1, max_length=64)
    members: list[MemberIn] = Field(min_length=1, max_length=50)


class FaultsIn(BaseModel):
    unavailable_next: int = Field(ge=0, le=1000)


@dataclass(slots=True)
class _Check:
    check_id: str
    fingerprint: str  # of the members, to refuse a request id reused for others
    id_numbers: tuple[str, ...]
    behaviour: Behaviour
    lost_answers_left: int
    polls: int = 0
    state: str = "submitted"
    reason: str = ""


@dataclass(slots=True)
class StubState:
    """All the stub knows; one event loop serves it, so no locking."""

    config: StubConfig
    checks: dict[str, _Check] = field(default_factory=dict)
    by_request: dict[str, _Check] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    unavailable_next: int = 0

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.checks.clear()
        self.by_request.clear()
        self.counters.clear()
        self.counters.update(
            checks_created=0,
            submit_requests=0,
            status_requests=0,
            report_requests=0,
            unavailable_answers=0,
        )
        self.unavailable_next = self.config.unavailable_first

    def count(self, name: str) -> None:
        self.counters[name] += 1

    def poll(self, check: _Check) -> None:
        """One status request moves the check on, by the count alone."""
        check.polls += 1
        if check.state in {"completed", "failed"}:
            return
        behaviour = check.behaviour
        due = (
            self.config.slow_polls if behaviour.slow else self.config.polls_to_complete
        )
        if check.polls < due:
            check.state = "processing"
        elif behaviour.fails:
            check.state, check.reason = "failed", FAILED_REASON
        else:
            check.state = "completed"


def _fingerprint(members: Sequence[MemberIn]) -> str:
    canonical = json.dumps(
        [[m.id_number, m.name, m.relation] for m in members], ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical_id_number(text: str) -> bool:
    # The platform takes only the canonical form (upper-case X, ASCII).
    try:
        return normalise_id_number(text) == text
    except InvalidIdNumber:
        return False


def _yuan(fen: int) -> str:
    return str(Money(fen))


def _member_report(
    id_number: str, behaviour: Behaviour, *, first: bool
) -> dict[str, Any]:
    b = behaviour
    return {
        "id_number": id_number,
        "income": {
            "wages": _yuan(b.wages),
            "business": _yuan(b.business),
            "property": _yuan(b.property_income),
            "transfers": _yuan(b.transfers),
        },
        "assets": {
            "deposits": _yuan(b.deposits if first else 0),
            "securities": _yuan(b.securities if first else 0),
            "real_estate": b.real_estate if first else 0,
            "vehicles": b.vehicles if first else 0,
        },
        "businesses": list(b.businesses) if first else [],
    }


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def create_stub_app(config: StubConfig | None = None) -> FastAPI:
    state = StubState(config or StubConfig())
    app = FastAPI(title="家庭经济状况核对平台（模拟）", version="0.1.0")
    app.state.stub = state

    @app.exception_handler(RequestValidationError)
    async def _malformed(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's default answer echoes the input; it would hold ID numbers.
        errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        return JSONResponse(
            {"detail": "请求格式有误", "errors": errors}, status_code=422
        )

    def outage() -> JSONResponse | None:
        if state.unavailable_next <= 0:
            return None
        state.unavailable_next -= 1
        state.count("unavailable_answers")
        return _problem(503, "核对平台维护中")

    api = APIRouter(prefix="/api/v1")

    @api.post("/checks", status_code=201)
    async def submit(
        body: SubmitIn,
        idempotency_key: Annotated[
            str, Header(alias="Idempotency-Key", min_length=1, max_length=64)
        ],
    ) -> JSONResponse:
        state.count("submit_requests")
        if (down := outage()) is not None:
            return down
        if body.request_id is not None and body.request_id != idempotency_key:
            return _problem(422, "请求号与幂等键不一致")
        for position, member in enumerate(body.members, start=1):
            if not _canonical_id_number(member.id_number):
                return _problem(422, f"第{position}位成员的身份证号码无效")

        fingerprint = _fingerprint(body.members)
        check = state.by_request.get(idempotency_key)
        status = 200
        if check is None:
            state.count("checks_created")
            behaviour = behaviour_of(body.members[0].id_number)
            check = _Check(
                check_id=f"CHK-{state.counters['checks_created']:06d}",
                fingerprint=fingerprint,
                id_numbers=tuple(m.id_number for m in body.members),
                behaviour=behaviour,
                lost_answers_left=state.config.lost_answers
                if behaviour.loses_answers
                else 0,
            )
            state.checks[check.check_id] = check
            state.by_request[idempotency_key] = check
            status = 201
        elif check.fingerprint != fingerprint:
            return _problem(422, "该幂等键已用于另一组成员的核对请求")

        if check.lost_answers_left > 0:
            check.lost_answers_left -= 1
            state.count("unavailable_answers")
            return _problem(503, "核对平台繁忙")
        return JSONResponse(
            {
                "check_id": check.check_id,
                "request_id": idempotency_key,
                "state": check.state,
            },
            status_code=status,
        )

    @api.get("/checks/{check_id}")
    async def status(check_id: str) -> JSONResponse:
        state.count("status_requests")
        if (down := outage()) is not None:
            return down
        check = state.checks.get(check_id)
        if check is None:
            return _problem(404, "核对请求不存在")
        state.poll(check)
        return JSONResponse(
            {"check_id": check_id, "state": check.state, "reason": check.reason}
        )

    @api.get("/checks/{check_id}/report")
    async def report(check_id: str) -> JSONResponse:
        state.count("report_requests")
        if (down := outage()) is not None:
            return down
        check = state.checks.get(check_id)
        if check is None:
            return _problem(404, "核对请求不存在")
        if check.state != "completed":
            return _problem(409, "核对尚未完成")
        members = [
            _member_report(number, check.behaviour, first=i == 0)
            for i, number in enumerate(check.id_numbers)
        ]
        return JSONResponse({"check_id": check_id, "members": members})

    app.include_router(api)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/_stub/stats")
    async def stats() -> dict[str, int]:
        return dict(state.counters) | {"unavailable_next": state.unavailable_next}

    @app.post("/_stub/faults")
    async def faults(body: FaultsIn) -> dict[str, int]:
        state.unavailable_next = body.unavailable_next
        return {"unavailable_next": state.unavailable_next}

    @app.post("/_stub/reset", status_code=204)
    async def reset() -> None:
        state.reset()

    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m app.stubs.verification_platform",
        description="A stand-in for the economic-status verification platform.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    defaults = StubConfig()
    parser.add_argument("--polls", type=int, default=defaults.polls_to_complete)
    parser.add_argument("--slow-polls", type=int, default=defaults.slow_polls)
    parser.add_argument("--lost-answers", type=int, default=defaults.lost_answers)
    parser.add_argument(
        "--unavailable-first",
        type=int,
        default=0,
        help="answer the first N API requests with 503",
    )
    args = parser.parse_args(argv)
    config = StubConfig(
        polls_to_complete=args.polls,
        slow_polls=args.slow_polls,
        lost_answers=args.lost_answers,
        unavailable_first=args.unavailable_first,
    )
    uvicorn.run(create_stub_app(config), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
