"""The transition table, exercised through the HTTP API.

Every edge is taken once from its source status; and, generated from the
table, every action that is not an edge of a status is refused there with
409 and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from app.clock import OffsetClock
from app.workflow.states import ApplicationStatus as S
from app.workflow.transitions import EDGES, Action
from tests.support import (
    FULL_MATERIALS,
    Api,
    authorise_check,
    enable_fast_relief,
    fund_the_street,
    id_number,
    paid,
)

PDF = b"%PDF-1.4\n%%EOF\n"


@dataclass(frozen=True)
class Request:
    who: str
    path: str  # below /api/v1/applications/{id}
    body: dict[str, Any] | None = None


# How a clerk takes each action; the role is one the edge allows, so that a
# refusal can only come from the status.
REQUESTS: dict[Action, Request] = {
    Action.ACCEPT: Request("community1", "/intake", {"decision": "accept"}),
    Action.RETURN: Request(
        "community1",
        "/intake",
        {"decision": "return", "missing_materials": ["hardship_evidence"]},
    ),
    Action.INTAKE_REFUSE: Request(
        "community1", "/intake", {"decision": "refuse", "note": "明显不符合条件"}
    ),
    Action.RESUBMIT: Request(
        "community1", "/resubmission", {"materials": ["hardship_evidence"]}
    ),
    Action.RECORD_INVESTIGATION: Request(
        "community1",
        "/investigation",
        {"home_visit_done": True, "monthly_income_per_capita": "100.00"},
    ),
    Action.REQUEST_CHECK: Request("street1", "/economic-check", {"why": "结果存疑"}),
    Action.RECORD_CHECK_RESULT: Request("street1", "/economic-check/refresh"),
    Action.RECORD_APPRAISAL: Request(
        "community1",
        "/appraisal",
        {"held_on": "2026-03-02", "attendees": 5, "votes_for": 5, "votes_against": 0},
    ),
    Action.PROPOSE: Request(
        "street1",
        "/street-opinion",
        {"decision": "eligible", "proposed_amount": "2000.00"},
    ),
    Action.STREET_REFUSE: Request(
        "street1", "/street-opinion", {"decision": "refused", "opinion": "不符合条件"}
    ),
    Action.STREET_APPROVE: Request("streetlead1", "/street-approval", {}),
    Action.APPROVE: Request("officer1", "/district-decision", {"decision": "approve"}),
    Action.DISTRICT_REFUSE: Request(
        "officer1",
        "/district-decision",
        {"decision": "refuse", "opinion": "不符合条件"},
    ),
    Action.START_PUBLICITY: Request("street1", "/publicity/start"),
    Action.CLOSE_PUBLICITY: Request("street1", "/publicity/close"),
    Action.CLOSE_FILE: Request("street1", "/close"),
    Action.REFER: Request(
        "street1", "/referral", {"agency": "区医疗保障局", "programme": "医疗救助"}
    ),
    Action.RECORD_REFERRAL_OUTCOME: Request(
        "street1", "/referral/outcome", {"outcome": "已纳入医疗救助"}
    ),
    Action.PAY_ADVANCE: Request("streetlead1", "/advance", {"amount": "2000.00"}),
    Action.SETTLE_ADVANCE: Request("officer1", "/advance/settlement"),
    Action.FAST_RELIEF: Request("streetlead1", "/fast-relief", {"amount": "500.00"}),
    Action.RECORD_DELIVERY: Request(
        "street1",
        "/delivery",
        {"received_by": "许一", "delivered_on": "2026-03-02"},
    ),
    Action.STREET_PAY: Request("street1", "/street-payment", {"voucher_no": "TX-1"}),
    Action.RECORD_RECOVERY: Request(
        "officer1",
        "/recoveries",
        {"amount": "100.00", "reason": "fraud", "note": "骗取救助"},
    ),
}

# Actions that are effects of another record, not requests on a case: an
# objection is upheld through its own decision (an open objection exists only
# during publicity, so no other status can be asked), the bank's results mark
# payments paid, and a failed spot check's result reopens a case. Each is
# taken in the edge tests below.
NOT_REQUESTED = {
    Action.UPHOLD_OBJECTION,
    Action.MARK_PAID,
    Action.REOPEN,
}


def test_every_action_is_requested_here_or_named_as_taken_elsewhere() -> None:
    assert set(REQUESTS) | NOT_REQUESTED == set(Action)
    assert not set(REQUESTS) & NOT_REQUESTED


class Case:
    """One application, driven through the API."""

    def __init__(self, api: Api, clock: OffsetClock, app_id: int) -> None:
        self.api, self.clock, self.id = api, clock, app_id

    async def take(self, action: Action, who: str | None = None) -> Any:
        request = REQUESTS[action]
        return await self.api.call(
            "POST",
            f"/api/v1/applications/{self.id}{request.path}",
            who=who or request.who,
            json=request.body,
        )

    async def do(self, *actions: Action) -> None:
        for action in actions:
            response = await self.take(action)
            assert response.status_code in (200, 201), (action, response.text)

    async def status(self) -> str:
        detail = await self.api.ok(
            "GET", f"/api/v1/applications/{self.id}", who="officer1"
        )
        return str(detail["status"])


_seq = iter(range(500, 10_000))


async def new_case(api: Api, clock: OffsetClock) -> Case:
    household = await api.household(
        members=[("许一", id_number("430204", "19700101", next(_seq)), "本人", "")]
    )
    created = await api.ok(
        "POST",
        "/api/v1/applications",
        who="community1",
        status=201,
        json={
            "household_id": household["id"],
            "assistance_type": "emergency",
            "reason": "accident",
            "description": "突发事件",
            "requested_amount": "2000.00",
            "materials": FULL_MATERIALS[:3],
        },
    )
    return Case(api, clock, int(created["id"]))


A = Action
Setup = Callable[[Case], Awaitable[None]]


async def _submitted(case: Case) -> None:
    await case.do(A.RETURN, A.RESUBMIT)  # the full set of materials


async def _accepted(case: Case) -> None:
    await _submitted(case)
    await case.do(A.ACCEPT)


async def _investigated(case: Case) -> None:
    await _accepted(case)
    await case.do(A.RECORD_INVESTIGATION)


async def _reviewed(case: Case) -> None:
    await _investigated(case)
    await case.do(A.PROPOSE)


async def _approved(case: Case) -> None:
    await _reviewed(case)
    await case.do(A.APPROVE)


async def _in_publicity(case: Case) -> None:
    await _approved(case)
    await case.do(A.START_PUBLICITY)


async def _awaiting_payment(case: Case) -> None:
    await _in_publicity(case)
    case.clock.advance(dt.timedelta(days=7))
    await case.do(A.CLOSE_PUBLICITY)


async def _awaiting_check(case: Case) -> None:
    await _investigated(case)
    await authorise_check(case.api, case.id)
    await case.do(A.REQUEST_CHECK)


async def _referred(case: Case) -> None:
    await _investigated(case)
    await case.do(A.REFER)


async def _refused(case: Case) -> None:
    await _submitted(case)
    await case.do(A.INTAKE_REFUSE)


async def _returned(case: Case) -> None:
    await case.do(A.RETURN)


async def _nothing(case: Case) -> None:
    return None


SETUPS: dict[S, Setup] = {
    S.RETURNED: _returned,
    S.SUBMITTED: _submitted,
    S.ACCEPTED: _accepted,
    S.AWAITING_CHECK: _awaiting_check,
    S.INVESTIGATED: _investigated,
    S.STREET_REVIEWED: _reviewed,
    S.APPROVED: _approved,
    S.IN_PUBLICITY: _in_publicity,
    S.AWAITING_PAYMENT: _awaiting_payment,
    S.REFUSED: _refused,
    S.REFERRED: _referred,
}


async def _case_in(api: Api, clock: OffsetClock, status: S) -> Case:
    if status in (S.PAID, S.CLOSED):
        case = Case(
            api, clock, await paid(api, clock, seq=next(_seq), amount="2000.00")
        )
        if status is S.CLOSED:
            await _upload_file(case)
            await case.do(A.CLOSE_FILE)
        return case
    case = await new_case(api, clock)
    await SETUPS[status](case)
    return case


async def _upload_file(case: Case) -> None:
    token = await case.api.token("street1")
    for material in FULL_MATERIALS:
        response = await case.api.client.post(
            f"/api/v1/applications/{case.id}/attachments",
            headers={"Authorization": f"Bearer {token}"},
            data={"material": material},
            files={"file": (f"{material}.pdf", PDF, "application/pdf")},
        )
        assert response.status_code == 201, response.text


@pytest.mark.parametrize("status", list(S), ids=[s.value for s in S])
async def test_every_other_action_is_refused_with_409_and_changes_nothing(
    api: Api, clock: OffsetClock, status: S
) -> None:
    case = await _case_in(api, clock, status)
    assert await case.status() == status.value
    edges = {e.action for e in EDGES if e.source is status}

    for action in set(REQUESTS) - edges:
        response = await case.take(action)

        assert response.status_code == 409, (status, action, response.text)
        problem = response.json()
        assert problem["code"] == "invalid_transition"
        assert problem["current_status"] == status.value
    assert await case.status() == status.value


async def _edge_setup(case: Case, action: Action, source: S) -> None:
    """Bring ``case`` to ``source`` so that ``action``'s guard lets it pass."""
    if action in (A.PAY_ADVANCE, A.SETTLE_ADVANCE):
        await fund_the_street(case.api)
    if action is A.FAST_RELIEF:
        await enable_fast_relief(case.api)
    if action is A.SETTLE_ADVANCE:
        await _accepted(case)
        await case.do(A.PAY_ADVANCE, A.RECORD_INVESTIGATION, A.PROPOSE, A.APPROVE)
        await case.do(A.START_PUBLICITY)
        case.clock.advance(dt.timedelta(days=7))
        await case.do(A.CLOSE_PUBLICITY)
        return
    if action in (A.STREET_APPROVE, A.STREET_PAY) or (
        action is A.STREET_REFUSE and source is S.STREET_REVIEWED
    ):
        await _investigated(case)
        response = await case.api.call(
            "POST",
            f"/api/v1/applications/{case.id}/street-opinion",
            who="street1",
            json={"decision": "eligible", "proposed_amount": "800.00"},
        )
        assert response.status_code == 200, response.text
        if action is A.STREET_PAY:
            await case.do(A.STREET_APPROVE, A.START_PUBLICITY)
            case.clock.advance(dt.timedelta(days=7))
            await case.do(A.CLOSE_PUBLICITY)
        return
    if action is A.RECORD_DELIVERY:
        await _investigated(case)
        response = await case.api.call(
            "POST",
            f"/api/v1/applications/{case.id}/street-opinion",
            who="street1",
            json={
                "decision": "eligible",
                "proposed_amount": "1200.00",
                "form_of_help": "in_kind",
                "items": [{"name": "棉被", "quantity": 4, "unit_value": "300.00"}],
            },
        )
        assert response.status_code == 200, response.text
        await case.do(A.APPROVE, A.START_PUBLICITY)
        case.clock.advance(dt.timedelta(days=7))
        await case.do(A.CLOSE_PUBLICITY)
        return
    await SETUPS[source](case)
    if action is A.REQUEST_CHECK:
        await authorise_check(case.api, case.id)
    if action is A.CLOSE_PUBLICITY:
        case.clock.advance(dt.timedelta(days=7))


# Ending a case with an advance but no grant takes the recovery edge itself
# (see the test after the next), so a clerk's request there finds no room.
_TAKEN_AS_AN_EFFECT = {(A.RECORD_RECOVERY, S.REFUSED), (A.RECORD_RECOVERY, S.REFERRED)}
DRIVEN = [
    e
    for e in EDGES
    if e.action in REQUESTS and (e.action, e.source) not in _TAKEN_AS_AN_EFFECT
]


@pytest.mark.parametrize(
    "edge", DRIVEN, ids=[f"{e.source.value}-{e.action.value}" for e in DRIVEN]
)
async def test_every_edge_moves_the_case_to_its_target(
    api: Api, clock: OffsetClock, edge: Any
) -> None:
    if edge.source in (S.PAID, S.CLOSED):
        case = await _case_in(api, clock, edge.source)
        if edge.action is A.CLOSE_FILE:
            await _upload_file(case)
    else:
        case = await new_case(api, clock)
        await _edge_setup(case, edge.action, edge.source)
    assert await case.status() == edge.source.value

    # The one edge whose role differs from the action's usual clerk.
    small_case_leader = (
        edge.source is S.STREET_REVIEWED and edge.action is A.STREET_REFUSE
    )
    response = await case.take(
        edge.action, who="streetlead1" if small_case_leader else None
    )

    assert response.status_code in (200, 201), response.text
    assert await case.status() == edge.target.value


async def test_the_bank_result_edge_and_the_closing_edge(
    api: Api, clock: OffsetClock
) -> None:
    case = await _case_in(api, clock, S.PAID)
    assert await case.status() == "paid"

    await _upload_file(case)
    await case.do(A.CLOSE_FILE)

    assert await case.status() == "closed"


async def test_the_upheld_objection_edge(api: Api, clock: OffsetClock) -> None:
    case = await _case_in(api, clock, S.IN_PUBLICITY)
    raised = await api.ok(
        "POST",
        f"/api/v1/applications/{case.id}/objections",
        who="community1",
        status=201,
        json={"content": "异议"},
    )

    upheld = await api.ok(
        "POST",
        f"/api/v1/objections/{raised['objections'][0]['id']}/decision",
        who="assistlead1",
        json={"decision": "uphold", "note": "异议成立"},
    )

    assert upheld["status"] == "accepted"


@pytest.mark.parametrize("ending", [A.STREET_REFUSE, A.REFER])
async def test_ending_without_a_grant_takes_the_recovery_edge_for_the_advance(
    api: Api, clock: OffsetClock, ending: Action
) -> None:
    case = await new_case(api, clock)
    await fund_the_street(api)
    await _accepted(case)
    await case.do(A.PAY_ADVANCE, A.RECORD_INVESTIGATION)

    await case.do(ending)

    recoveries = await api.ok(
        "GET", f"/api/v1/applications/{case.id}/recoveries", who="officer1"
    )
    assert [(r["amount"], r["reason"]) for r in recoveries] == [
        ("2000.00", "advance_excess")
    ]
    assert await case.status() == (
        "refused" if ending is A.STREET_REFUSE else "referred"
    )
