"""The table of edges of an application's life.

Each edge names the action, the status it leaves, the status it reaches and
the roles that may take it. Nothing changes an application's status except
by an edge of this table (see ``applications.transition``); an action that
is not an edge of the current status is refused with the current status and
the actions that are allowed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from app.domain.roles import Role
from app.errors import InvalidTransition, PermissionDenied
from app.persistence.tables import Application
from app.workflow.states import STATUS_TITLES_ZH, ApplicationStatus

S = ApplicationStatus


class Action(StrEnum):
    ACCEPT = "accept"
    RETURN = "return"
    RESUBMIT = "resubmit"
    RECORD_INVESTIGATION = "record_investigation"
    PROPOSE = "propose"
    STREET_REFUSE = "street_refuse"
    APPROVE = "approve"
    DISTRICT_REFUSE = "district_refuse"
    START_PUBLICITY = "start_publicity"
    CLOSE_PUBLICITY = "close_publicity"
    MARK_PAID = "mark_paid"


ACTION_TITLES_ZH: dict[Action, str] = {
    Action.ACCEPT: "受理",
    Action.RETURN: "退回补正材料",
    Action.RESUBMIT: "补齐材料后重新提交",
    Action.RECORD_INVESTIGATION: "登记调查核实结果",
    Action.PROPOSE: "街道出具意见（拟救助）",
    Action.STREET_REFUSE: "街道出具意见（不予救助）",
    Action.APPROVE: "区民政局审批通过",
    Action.DISTRICT_REFUSE: "区民政局审批不予救助",
    Action.START_PUBLICITY: "开始公示",
    Action.CLOSE_PUBLICITY: "结束公示",
    Action.MARK_PAID: "确认发放到账",
}

# A guard returns ``None`` when the edge may be taken now, else the reason.
Guard = Callable[[Application, dt.datetime], str | None]


def _publicity_over(application: Application, now: dt.datetime) -> str | None:
    ends = application.publicity_ends_at
    if ends is None or now < ends:
        return "公示期未满，不能结束公示。"
    return None


@dataclass(frozen=True, slots=True)
class Edge:
    action: Action
    source: ApplicationStatus
    target: ApplicationStatus
    roles: frozenset[Role]
    guard: Guard | None = None


_INTAKE = frozenset({Role.COMMUNITY_WORKER, Role.STREET_WORKER})
# Who may take an application in the first place (the entry into the table).
CREATE_ROLES = _INTAKE
_STREET_REVIEW = frozenset({Role.STREET_WORKER, Role.STREET_LEADER})
_DISTRICT_APPROVAL = frozenset({Role.DISTRICT_OFFICER, Role.DISTRICT_ASSISTANCE_LEADER})
_PUBLICITY = frozenset({Role.STREET_WORKER, Role.DISTRICT_OFFICER})

EDGES: tuple[Edge, ...] = (
    Edge(Action.ACCEPT, S.SUBMITTED, S.ACCEPTED, _INTAKE),
    Edge(Action.RETURN, S.SUBMITTED, S.RETURNED, _INTAKE),
    Edge(Action.RESUBMIT, S.RETURNED, S.SUBMITTED, _INTAKE),
    Edge(Action.RECORD_INVESTIGATION, S.ACCEPTED, S.INVESTIGATED, _INTAKE),
    Edge(Action.PROPOSE, S.INVESTIGATED, S.STREET_REVIEWED, _STREET_REVIEW),
    Edge(Action.STREET_REFUSE, S.INVESTIGATED, S.REFUSED, _STREET_REVIEW),
    Edge(Action.APPROVE, S.STREET_REVIEWED, S.APPROVED, _DISTRICT_APPROVAL),
    Edge(Action.DISTRICT_REFUSE, S.STREET_REVIEWED, S.REFUSED, _DISTRICT_APPROVAL),
    Edge(Action.START_PUBLICITY, S.APPROVED, S.IN_PUBLICITY, _PUBLICITY),
    Edge(
        Action.CLOSE_PUBLICITY,
        S.IN_PUBLICITY,
        S.AWAITING_PAYMENT,
        _PUBLICITY,
        guard=_publicity_over,
    ),
    # Taken by the bank's result upload, never by a person's button.
    Edge(Action.MARK_PAID, S.AWAITING_PAYMENT, S.PAID, frozenset({Role.BANK})),
)

_BY_KEY = {(edge.source, edge.action): edge for edge in EDGES}


def allowed_actions(
    application: Application, role: Role, now: dt.datetime
) -> list[Action]:
    """The actions this role can take on this application now, in table order."""
    status = ApplicationStatus(application.status)
    return [
        edge.action
        for edge in EDGES
        if edge.source is status
        and role in edge.roles
        and (edge.guard is None or edge.guard(application, now) is None)
    ]


def edge_for(
    application: Application, action: Action, role: Role, now: dt.datetime
) -> Edge:
    """The edge to take, or the refusal a clerk can understand."""
    status = ApplicationStatus(application.status)
    edge = _BY_KEY.get((status, action))
    if edge is None:
        raise InvalidTransition(
            f"申请当前状态为「{STATUS_TITLES_ZH[status]}」，"
            f"不能执行「{ACTION_TITLES_ZH[action]}」。",
            current_status=status.value,
            allowed_actions=[a.value for a in allowed_actions(application, role, now)],
        )
    if role not in edge.roles:
        raise PermissionDenied(
            f"您的角色无权执行「{ACTION_TITLES_ZH[action]}」。",
            current_status=status.value,
        )
    if edge.guard is not None:
        refusal = edge.guard(application, now)
        if refusal is not None:
            raise InvalidTransition(
                refusal,
                current_status=status.value,
                allowed_actions=[
                    a.value for a in allowed_actions(application, role, now)
                ],
            )
    return edge
