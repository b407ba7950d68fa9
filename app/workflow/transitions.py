"""The table of edges of an application's life.

Each edge names the action, the status it leaves, the status it reaches, the
roles that may take it and, where the policy sets a condition, a guard.
Nothing changes an application's status except by an edge of this table
(see ``applications.transition``): an action that is not an edge of the
current status is refused with 409, the current status and the actions that
are allowed; a role outside the edge gets 403. ``allowed_actions`` reads the
same table, so the buttons a front-end shows are the actions the server
accepts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from app.clock import local_date
from app.domain.catalog import MATERIAL_TITLES_ZH, missing_materials
from app.domain.money import Money
from app.domain.parameters import ParameterName
from app.domain.regions import RegionLevel, ancestor_at
from app.domain.roles import Role
from app.errors import InvalidTransition, PermissionDenied
from app.persistence.tables import (
    Application,
    Decision,
    Objection,
    Recovery,
    ReserveFund,
    SpotCheck,
)
from app.workflow.attachments import missing_on_file
from app.workflow.policy_inputs import ParameterMissing, parameter_book
from app.workflow.states import STATUS_TITLES_ZH, ApplicationStatus

S = ApplicationStatus


class Action(StrEnum):
    ACCEPT = "accept"
    RETURN = "return"
    INTAKE_REFUSE = "intake_refuse"
    RESUBMIT = "resubmit"
    RECORD_INVESTIGATION = "record_investigation"
    REQUEST_CHECK = "request_check"
    RECORD_CHECK_RESULT = "record_check_result"
    RECORD_APPRAISAL = "record_appraisal"
    PROPOSE = "propose"
    STREET_REFUSE = "street_refuse"
    STREET_APPROVE = "street_approve"
    APPROVE = "approve"
    DISTRICT_REFUSE = "district_refuse"
    START_PUBLICITY = "start_publicity"
    UPHOLD_OBJECTION = "uphold_objection"
    CLOSE_PUBLICITY = "close_publicity"
    MARK_PAID = "mark_paid"
    STREET_PAY = "street_pay"
    CLOSE_FILE = "close_file"
    REFER = "refer"
    RECORD_REFERRAL_OUTCOME = "record_referral_outcome"
    RECORD_DELIVERY = "record_delivery"
    PAY_ADVANCE = "pay_advance"
    FAST_RELIEF = "fast_relief"
    SETTLE_ADVANCE = "settle_advance"
    REOPEN = "reopen"
    RECORD_RECOVERY = "record_recovery"


ACTION_TITLES_ZH: dict[Action, str] = {
    Action.ACCEPT: "受理",
    Action.RETURN: "退回补正材料",
    Action.INTAKE_REFUSE: "当场告知不符合条件（不予受理）",
    Action.RESUBMIT: "补齐材料后重新提交",
    Action.RECORD_INVESTIGATION: "登记调查核实结果",
    Action.REQUEST_CHECK: "申请家庭经济状况核对",
    Action.RECORD_CHECK_RESULT: "登记核对结果",
    Action.RECORD_APPRAISAL: "登记民主评议结果",
    Action.PROPOSE: "街道出具意见（拟救助）",
    Action.STREET_REFUSE: "街道出具意见（不予救助）",
    Action.STREET_APPROVE: "街道审批（受区委托）",
    Action.APPROVE: "区民政局审批通过",
    Action.DISTRICT_REFUSE: "区民政局审批不予救助",
    Action.START_PUBLICITY: "开始公示",
    Action.UPHOLD_OBJECTION: "异议成立，撤销审批",
    Action.CLOSE_PUBLICITY: "结束公示",
    Action.MARK_PAID: "确认发放到账",
    Action.STREET_PAY: "街道发放（受区委托）",
    Action.CLOSE_FILE: "结案归档",
    Action.REFER: "转介至其他救助渠道",
    Action.RECORD_REFERRAL_OUTCOME: "登记转介结果",
    Action.RECORD_DELIVERY: "登记实物发放",
    Action.PAY_ADVANCE: "先行救助（从备用金支付）",
    Action.FAST_RELIEF: "小额快救（街道直接审批）",
    Action.SETTLE_ADVANCE: "先行救助已足额，结算",
    Action.REOPEN: "抽查不合格，退回重新调查",
    Action.RECORD_RECOVERY: "登记追回（骗取或抽查不合格）",
}

# A guard returns ``None`` when the edge may be taken now, else the reason a
# clerk reads. Guards read the database but never change it.
Guard = Callable[[AsyncSession, Application, dt.datetime], Awaitable[str | None]]


async def open_objections(session: AsyncSession, application_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Objection)
        .where(
            col(Objection.application_id) == application_id,
            col(Objection.status) == "open",
        )
    )
    return int(count or 0)


async def _publicity_may_close(
    session: AsyncSession, application: Application, now: dt.datetime
) -> str | None:
    ends = application.publicity_ends_at
    if ends is None or now < ends:
        return "公示期未满，不能结束公示。"
    if application.id is not None and await open_objections(session, application.id):
        return "公示期间收到的异议尚未处理完毕，不能结束公示。"
    return None


async def _street_limit(
    session: AsyncSession, application: Application, now: dt.datetime
) -> Money | None:
    """R3.5's limit when the proposal is the street's to approve, else ``None``."""
    if application.pool != "ordinary" or application.proposed_fen is None:
        return None
    book = await parameter_book(session, application.region_code, local_date(now))
    limit = book.require(ParameterName.STREET_APPROVAL_LIMIT).as_money()
    return limit if application.proposed_fen <= limit.fen else None


async def _within_street_limit(
    session: AsyncSession, application: Application, now: dt.datetime
) -> str | None:
    if application.pool != "ordinary":
        return "救急难案件须由区级审批。"
    if await _street_limit(session, application, now) is None:
        book = await parameter_book(session, application.region_code, local_date(now))
        limit = book.require(ParameterName.STREET_APPROVAL_LIMIT).as_money()
        return f"拟救助金额超过街道审批限额 {limit.grouped()} 元，须报区民政局审批。"
    return None


async def _above_street_limit(
    session: AsyncSession, application: Application, now: dt.datetime
) -> str | None:
    limit = await _street_limit(session, application, now)
    if limit is not None:
        return (
            f"拟救助金额不超过街道审批限额 {limit.grouped()} 元，"
            "由街道受区民政局委托审批并报区备案。"
        )
    return None


async def _materials_complete(
    session: AsyncSession, application: Application, now: dt.datetime
) -> str | None:
    missing = missing_materials(application.materials)
    if missing:
        titles = "、".join(MATERIAL_TITLES_ZH[m] for m in missing)
        return f"材料不全，不能受理。请申请人补齐：{titles}。"
    return None


async def _has_open_objection(
    session: AsyncSession, application: Application, now: dt.datetime
) -> str | None:
    if application.id is None or not await open_objections(session, application.id):
        return "没有待处理的异议。"
    return None


async def _file_complete(
    session: AsyncSession, application: Application, now: dt.datetime
) -> str | None:
    missing = await missing_on_file(session, application)
    if missing:
        titles = "、".join(MATERIAL_TITLES_ZH[m] for m in missing)
        return f"档案不全，不能结案。请先上传：{titles}。"
    return None


# The stages of a decision the street takes on the district's behalf (R3.5).
DELEGATED_STAGES = ("street_approval", "fast_relief")


async def paid_by_street(session: AsyncSession, application: Application) -> bool:
    """Whether the approval in force is the street's, so the street pays (R3.5).

    The latest approval is the one in force: an upheld objection or a failed
    spot check sends the case back, and a new approval follows before any
    payment.
    """
    stage = await session.scalar(
        select(Decision.stage)
        .where(
            col(Decision.application_id) == application.id,
            col(Decision.outcome) == "approved",
        )
        .order_by(col(Decision.id).desc())
        .limit(1)
    )
    return stage in DELEGATED_STAGES


async def _street_pays(
    session: AsyncSession, application: Application, now: dt.datetime
) -> str | None:
    if application.form_of_help != "cash":
        return "实物救助按实物登记发放。"
    if not await paid_by_street(session, application):
        return "本案由区民政局审批，经发放审批单由代发银行发放。"
    if (application.advance_fen or 0) >= (application.approved_fen or 0):
        return "先行救助已足额支付核定金额，请办理结算，无需再发放。"
    return None


async def _district_pays(
    session: AsyncSession, application: Application, now: dt.datetime
) -> str | None:
    if application.form_of_help != "cash":
        return "实物救助不经银行发放。"
    if await paid_by_street(session, application):
        return "本案由街道受区委托审批并发放。"
    return None


def _form_is(form: str, refusal: str) -> Guard:
    async def guard(
        session: AsyncSession, application: Application, now: dt.datetime
    ) -> str | None:
        return None if application.form_of_help == form else refusal

    return guard


async def _failed_spot_check(
    session: AsyncSession, application: Application, now: dt.datetime
) -> str | None:
    """Only a failed spot check of the approval in force reopens a case."""
    approval = await session.scalar(
        select(Decision.id)
        .where(
            col(Decision.application_id) == application.id,
            col(Decision.outcome) == "approved",
        )
        .order_by(col(Decision.id).desc())
        .limit(1)
    )
    failed = await session.scalar(
        select(func.count())
        .select_from(SpotCheck)
        .where(
            col(SpotCheck.decision_id) == approval,
            col(SpotCheck.status) == "failed",
        )
    )
    return None if failed else "只有抽查不合格的案件才能退回重新调查。"


async def _fast_relief_open(
    session: AsyncSession, application: Application, now: dt.datetime
) -> str | None:
    """The district has switched the procedure on, and the case is of its kind."""
    book = await parameter_book(session, application.region_code, local_date(now))
    try:
        switched_on = book.require(ParameterName.SMALL_FAST_RELIEF).value == "on"
    except ParameterMissing:
        switched_on = False
    if not switched_on:
        return "本区未启用小额快救程序。"
    if application.reason not in ("accident", "major_illness"):
        return "小额快救只适用于突发事件和重特大疾病。"
    if application.pool != "ordinary":
        return "救急难案件不适用小额快救。"
    return None


async def _room_to_recover(
    session: AsyncSession, application: Application, now: dt.datetime
) -> str | None:
    """Something paid out on the case is not yet claimed back (R5.2).

    What went out is the approved amount, or the advance where it was
    larger; every recovery opened counts, written-off ones included.
    """
    granted = max(application.approved_fen or 0, application.advance_fen or 0)
    if not granted:
        return "本案没有已支付的款项，无需追回。"
    claimed = await session.scalar(
        select(func.coalesce(func.sum(Recovery.amount_fen), 0)).where(
            col(Recovery.application_id) == application.id
        )
    )
    if int(claimed or 0) >= granted:
        return "本案已支付的款项已全部登记追回。"
    return None


async def _advance_allowed(
    session: AsyncSession, application: Application, now: dt.datetime
) -> str | None:
    if application.assistance_type != "emergency":
        return "只有急难型救助可以先行救助。"
    if application.advance_fen is not None:
        return "本案已支付过先行救助。"
    balance = await session.scalar(
        select(ReserveFund.balance_fen).where(
            col(ReserveFund.street_code)
            == ancestor_at(application.region_code, RegionLevel.STREET)
        )
    )
    if not balance:
        return "本街道备用金未设立或余额为 0，不能先行救助。"
    return None


async def _advance_covers_grant(
    session: AsyncSession, application: Application, now: dt.datetime
) -> str | None:
    advance = application.advance_fen
    if advance is None or advance < (application.approved_fen or 0):
        return "先行救助金额不足核定金额，差额经发放审批单补足。"
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
_STREET_LEADER = frozenset({Role.STREET_LEADER})
_DISTRICT_APPROVAL = frozenset({Role.DISTRICT_OFFICER, Role.DISTRICT_ASSISTANCE_LEADER})
_PUBLICITY = frozenset({Role.STREET_WORKER, Role.DISTRICT_OFFICER})
# Whoever approved decides on objections: the street leader for delegated
# cases, the district otherwise; both may, as the district is the principal.
_OBJECTIONS = _STREET_LEADER | _DISTRICT_APPROVAL
OBJECTION_DECIDERS = _OBJECTIONS
_SPOT_CHECKERS = frozenset({Role.DISTRICT_OFFICER, Role.DISTRICT_ASSISTANCE_LEADER})
_RECOVERERS = _SPOT_CHECKERS
_ADVANCERS = frozenset({Role.STREET_LEADER, Role.DISTRICT_OFFICER})

EDGES: tuple[Edge, ...] = (
    Edge(Action.ACCEPT, S.SUBMITTED, S.ACCEPTED, _INTAKE, guard=_materials_complete),
    Edge(Action.RETURN, S.SUBMITTED, S.RETURNED, _INTAKE),
    Edge(Action.INTAKE_REFUSE, S.SUBMITTED, S.REFUSED, _INTAKE),
    Edge(Action.RESUBMIT, S.RETURNED, S.SUBMITTED, _INTAKE),
    Edge(Action.RECORD_INVESTIGATION, S.ACCEPTED, S.INVESTIGATED, _INTAKE),
    Edge(
        Action.REQUEST_CHECK, S.INVESTIGATED, S.AWAITING_CHECK, _INTAKE | _STREET_REVIEW
    ),
    Edge(
        Action.RECORD_CHECK_RESULT,
        S.AWAITING_CHECK,
        S.INVESTIGATED,
        _INTAKE | _STREET_REVIEW,
    ),
    Edge(Action.RECORD_APPRAISAL, S.INVESTIGATED, S.INVESTIGATED, _INTAKE),
    Edge(Action.PROPOSE, S.INVESTIGATED, S.STREET_REVIEWED, _STREET_REVIEW),
    Edge(Action.STREET_REFUSE, S.INVESTIGATED, S.REFUSED, _STREET_REVIEW),
    Edge(
        Action.STREET_APPROVE,
        S.STREET_REVIEWED,
        S.APPROVED,
        _STREET_LEADER,
        guard=_within_street_limit,
    ),
    # The street leader decides small cases either way (R3.5).
    Edge(
        Action.STREET_REFUSE,
        S.STREET_REVIEWED,
        S.REFUSED,
        _STREET_LEADER,
        guard=_within_street_limit,
    ),
    Edge(
        Action.APPROVE,
        S.STREET_REVIEWED,
        S.APPROVED,
        _DISTRICT_APPROVAL,
        guard=_above_street_limit,
    ),
    Edge(Action.DISTRICT_REFUSE, S.STREET_REVIEWED, S.REFUSED, _DISTRICT_APPROVAL),
    Edge(Action.START_PUBLICITY, S.APPROVED, S.IN_PUBLICITY, _PUBLICITY),
    Edge(
        Action.UPHOLD_OBJECTION,
        S.IN_PUBLICITY,
        S.ACCEPTED,
        _OBJECTIONS,
        guard=_has_open_objection,
    ),
    Edge(
        Action.CLOSE_PUBLICITY,
        S.IN_PUBLICITY,
        S.AWAITING_PAYMENT,
        _PUBLICITY,
        guard=_publicity_may_close,
    ),
    # Taken by the bank's result upload, never by a person's button.
    Edge(
        Action.MARK_PAID,
        S.AWAITING_PAYMENT,
        S.PAID,
        frozenset({Role.BANK}),
        guard=_district_pays,
    ),
    # R3.5: the street pays what it approved on the district's behalf, from
    # its own account, and records the voucher; no district form, no batch.
    Edge(
        Action.STREET_PAY,
        S.AWAITING_PAYMENT,
        S.PAID,
        _STREET_REVIEW,
        guard=_street_pays,
    ),
    # R3.10: goods are handed over by the street; their value was the grant.
    Edge(
        Action.RECORD_DELIVERY,
        S.AWAITING_PAYMENT,
        S.PAID,
        _STREET_REVIEW,
        guard=_form_is("in_kind", "现金救助经代发银行发放，不登记实物发放。"),
    ),
    Edge(Action.REFER, S.INVESTIGATED, S.REFERRED, _STREET_REVIEW),
    # 小额快救: where a district enables it, a small sudden-event or illness
    # case goes from intake to payment: no check, no publicity.
    Edge(
        Action.FAST_RELIEF,
        S.ACCEPTED,
        S.AWAITING_PAYMENT,
        _STREET_LEADER,
        guard=_fast_relief_open,
    ),
    # R3.9: in an urgent emergency the money comes first and the procedure
    # (check, appraisal, publicity) is completed afterwards.
    *(
        Edge(Action.PAY_ADVANCE, source, source, _ADVANCERS, guard=_advance_allowed)
        for source in (
            S.ACCEPTED,
            S.AWAITING_CHECK,
            S.INVESTIGATED,
            S.STREET_REVIEWED,
        )
    ),
    Edge(
        Action.SETTLE_ADVANCE,
        S.AWAITING_PAYMENT,
        S.PAID,
        _ADVANCERS,
        guard=_advance_covers_grant,
    ),
    Edge(
        Action.RECORD_REFERRAL_OUTCOME,
        S.REFERRED,
        S.REFERRED,
        _INTAKE | _STREET_REVIEW,
    ),
    # R3.6: a failed spot check sends a case not yet paid back to investigation
    # (its grant revoked); a paid one gets a recovery instead.
    *(
        Edge(
            Action.REOPEN,
            source,
            S.INVESTIGATED,
            _SPOT_CHECKERS,
            guard=_failed_spot_check,
        )
        for source in (S.APPROVED, S.IN_PUBLICITY, S.AWAITING_PAYMENT)
    ),
    # R5.2: money paid wrongly (fraud, a failed spot check) is recovered; the
    # case keeps its status and gains a recovery record.
    *(
        Edge(
            Action.RECORD_RECOVERY, source, source, _RECOVERERS, guard=_room_to_recover
        )
        for source in (S.PAID, S.CLOSED)
    ),
    # An advance paid on a case that then ends without a grant is owed back;
    # the office that ended it opens the recovery.
    *(
        Edge(
            Action.RECORD_RECOVERY,
            source,
            source,
            _RECOVERERS | _STREET_REVIEW,
            guard=_room_to_recover,
        )
        for source in (S.REFUSED, S.REFERRED)
    ),
    # R4: a case is closed only with its whole file (一人一档).
    Edge(
        Action.CLOSE_FILE,
        S.PAID,
        S.CLOSED,
        frozenset({Role.STREET_WORKER, Role.DISTRICT_OFFICER}),
        guard=_file_complete,
    ),
)

_BY_KEY = {(edge.source, edge.action): edge for edge in EDGES}


async def allowed_actions(
    session: AsyncSession, application: Application, role: Role, now: dt.datetime
) -> list[Action]:
    """The actions this role can take on this application now, in table order."""
    status = ApplicationStatus(application.status)
    allowed = []
    for edge in EDGES:
        if edge.source is not status or role not in edge.roles:
            continue
        if edge.guard is None or await edge.guard(session, application, now) is None:
            allowed.append(edge.action)
    return allowed


async def edge_for(
    session: AsyncSession,
    application: Application,
    action: Action,
    role: Role,
    now: dt.datetime,
    *,
    guarded: bool = True,
    role_checked: bool = True,
) -> Edge:
    """The edge to take, or the refusal a clerk can understand.

    ``guarded=False`` checks status and role only, for a caller that answers
    the guard's condition with a more specific error of its own.
    ``role_checked=False`` is for an edge taken as the effect of an action
    the caller was allowed to take (a settlement opening the recovery of an
    excess advance), never for a request of its own.
    """
    status = ApplicationStatus(application.status)
    edge = _BY_KEY.get((status, action))
    refusal: str | None = None
    if edge is None:
        refusal = (
            f"申请当前状态为「{STATUS_TITLES_ZH[status]}」，"
            f"不能执行「{ACTION_TITLES_ZH[action]}」。"
        )
    elif role_checked and role not in edge.roles:
        raise PermissionDenied(
            f"您的角色无权执行「{ACTION_TITLES_ZH[action]}」。",
            current_status=status.value,
        )
    elif guarded and edge.guard is not None:
        refusal = await edge.guard(session, application, now)

    if refusal is not None or edge is None:
        allowed = await allowed_actions(session, application, role, now)
        raise InvalidTransition(
            refusal or "",
            current_status=status.value,
            allowed_actions=[a.value for a in allowed],
        )
    return edge
