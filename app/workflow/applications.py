"""An application's life from intake to the district's decision and publicity.

Each public function is one action of the transition table: it checks the
inputs the action needs, applies the policy where money is decided, and
moves the application along its edge with ``transition``. The caller's unit
of work commits.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.auth.access import SeparationOfDuties
from app.auth.principal import Principal
from app.clock import local_date
from app.domain.calendar import CalendarUnknown
from app.domain.catalog import (
    MATERIAL_TITLES_ZH,
    REASON_TITLES_ZH,
    REASONS_BY_TYPE,
    AssistanceType,
    Disease,
    FormOfHelp,
    Material,
    Reason,
    missing_materials,
)
from app.domain.eligibility import (
    ApprovalLevel,
    DepartmentShare,
    Evaluation,
    Pool,
    SpecialProgramme,
)
from app.domain.forms import InKindItem, in_kind_value
from app.domain.money import Money
from app.domain.parameters import ParameterName, standard_parameter_name
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.persistence.tables import (
    Application,
    Decision,
    Grant,
    pk,
)
from app.workflow import audit
from app.workflow.admin import (
    member_of_household,
    refuse_own_household,
    refuse_own_proposal,
)
from app.workflow.calendar import working_calendar
from app.workflow.eligibility import CaseDraft, evaluate_case, refusal
from app.workflow.households import load_household, lock_household, members_of
from app.workflow.policy_inputs import parameter_book
from app.workflow.states import ApplicationStatus
from app.workflow.transitions import CREATE_ROLES, Action, Edge, edge_for
from app.workflow.versioning import compare_and_set


class AboveStreetLimit(Conflict):
    code = "above_street_limit"
    title = "Above the street's approval limit"


class MaterialsIncomplete(InvalidInput):
    code = "materials_incomplete"
    title = "Required materials missing"


def snapshot(application: Application) -> dict[str, Any]:
    """The outbox payload: what the province needs, no personal data."""
    return {
        "id": pk(application),
        "household_id": application.household_id,
        "region_code": application.region_code,
        "assistance_type": application.assistance_type,
        "reason": application.reason,
        "status": application.status,
        "household_size": application.household_size,
        "requested": str(Money(application.requested_fen)),
        "approved": None
        if application.approved_fen is None
        else str(Money(application.approved_fen)),
        "decided_on": None
        if application.decided_on is None
        else application.decided_on.isoformat(),
        "version": application.version,
    }


async def load_application(
    session: AsyncSession, actor: Principal, application_id: int
) -> Application:
    application = await session.get(Application, application_id)
    if application is None or not actor.can_see(application.region_code):
        raise NotFound(f"申请 {application_id} 不存在。")
    return application


async def transition(
    session: AsyncSession,
    application: Application,
    action: Action,
    *,
    actor: Principal,
    now: dt.datetime,
    details: dict[str, Any] | None = None,
    checked: Edge | None = None,
    **changes: Any,
) -> None:
    """Take one edge of the table as a compare-and-set on the row version.

    Two clerks acting on the same version cannot both win: the second
    update matches no row and is refused as a concurrent change. ``checked``
    is the edge the caller resolved before its effects (a draw on the
    reserve fund changes what a guard reads); the compare-and-set still
    refuses a case changed in between.
    """
    edge = (
        checked
        if checked is not None
        and checked.action is action
        and checked.source.value == application.status
        else await edge_for(session, application, action, actor.role, now)
    )
    # Every edge, whoever takes it: nobody handles their own household's case.
    await refuse_own_household(session, actor, application)
    source = application.status
    await compare_and_set(
        session, application, **changes, status=edge.target.value, updated_at=now
    )

    await audit.record(
        session,
        actor=actor,
        at=now,
        action=f"application.{action.value}",
        entity_type="application",
        entity_id=pk(application),
        from_status=source,
        to_status=edge.target.value,
        details=details,
        event_type=f"application.{action.value}",
        entity_version=application.version,
        payload=snapshot(application),
    )


def _check_reason(
    assistance_type: AssistanceType, reason: Reason, disease: Disease | None
) -> None:
    if reason not in REASONS_BY_TYPE[assistance_type]:
        raise InvalidInput(
            f"救助类型与事由不符：「{REASON_TITLES_ZH[reason]}」不属于该救助类型。",
            field="reason",
        )
    if reason is Reason.MAJOR_ILLNESS and disease is None:
        raise InvalidInput("因重特大疾病申请时须填写病种。", field="disease")
    if reason is not Reason.MAJOR_ILLNESS and disease is not None:
        raise InvalidInput("只有因重特大疾病申请时才填写病种。", field="disease")


async def create_application(
    session: AsyncSession,
    *,
    actor: Principal,
    now: dt.datetime,
    household_id: int,
    assistance_type: AssistanceType,
    reason: Reason,
    disease: Disease | None,
    description: str,
    requested: Money,
    materials: Sequence[Material],
    patient_member_id: int | None = None,
    diagnosed_on: dt.date | None = None,
    district_recognition: str | None = None,
    pool: Pool = Pool.ORDINARY,
    special_programme: SpecialProgramme | None = None,
) -> Application:
    if actor.role not in CREATE_ROLES:
        raise PermissionDenied("只有社区/村或街道经办人员可以登记申请。")
    household = await load_household(session, actor, household_id)
    if await member_of_household(session, actor, household_id):
        raise SeparationOfDuties("您是该家庭的成员，须回避，不能为其登记申请。")
    _check_reason(assistance_type, reason, disease)
    members = await members_of(session, household_id)
    if patient_member_id is not None and patient_member_id not in {
        pk(m) for m in members
    }:
        raise InvalidInput("患病成员须是本家庭的成员。", field="patient_member_id")
    if diagnosed_on is not None and diagnosed_on > local_date(now):
        raise InvalidInput("确诊日期不能晚于今天。", field="diagnosed_on")
    application = Application(
        household_id=household_id,
        region_code=household.region_code,
        assistance_type=assistance_type.value,
        reason=reason.value,
        disease=None if disease is None else disease.value,
        description=description,
        requested_fen=requested.fen,
        household_size=len(members),
        patient_member_id=patient_member_id,
        diagnosed_on=diagnosed_on,
        district_recognition=district_recognition,
        pool=pool.value,
        special_programme=None
        if special_programme is None
        else special_programme.value,
        materials=sorted({m.value for m in materials}),
        status=ApplicationStatus.SUBMITTED.value,
        created_by=actor.subject,
        created_at=now,
        updated_at=now,
    )
    session.add(application)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        at=now,
        action="application.create",
        entity_type="application",
        entity_id=pk(application),
        to_status=application.status,
        details={"requested": str(requested)},
        event_type="application.created",
        entity_version=application.version,
        payload=snapshot(application),
    )
    return application


def _materials_text(materials: Sequence[Material]) -> str:
    return "、".join(MATERIAL_TITLES_ZH[m] for m in materials)


async def accept(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
) -> None:
    missing = missing_materials(application.materials)
    if missing:
        # Status and role are answered first (409, 403); then the list of
        # what the applicant is to bring (422), which the edge's guard reads.
        await edge_for(
            session, application, Action.ACCEPT, actor.role, now, guarded=False
        )
        raise MaterialsIncomplete(
            f"材料不全，不能受理。请申请人补齐：{_materials_text(missing)}。",
            missing_materials=[m.value for m in missing],
        )
    due = await investigation_due_on(session, application, accepted_on=local_date(now))
    await transition(
        session,
        application,
        Action.ACCEPT,
        actor=actor,
        now=now,
        details={"investigation_due_on": None if due is None else due.isoformat()},
        accepted_at=now,
        investigation_due_on=due,
    )


async def fill_open_deadlines(session: AsyncSession) -> int:
    """Give a due date to accepted cases that waited for a year's calendar.

    Run when an administrator loads a calendar; returns how many were set.
    """
    waiting = list(
        await session.scalars(
            select(Application).where(
                col(Application.status) == ApplicationStatus.ACCEPTED.value,
                col(Application.investigation_due_on).is_(None),
                col(Application.accepted_at).is_not(None),
            )
        )
    )
    filled = 0
    for application in waiting:
        accepted_at = application.accepted_at
        if accepted_at is None:
            continue
        due = await investigation_due_on(
            session, application, accepted_on=local_date(accepted_at)
        )
        if due is not None:
            application.investigation_due_on = due
            filled += 1
    await session.flush()
    return filled


async def investigation_due_on(
    session: AsyncSession, application: Application, *, accepted_on: dt.date
) -> dt.date | None:
    """R3.3: the last day for the investigation, or ``None`` if unknowable.

    A year whose official calendar is not loaded yet gives no date rather
    than a guess; intake is not held up for it, and the missing calendar is
    reported where administrators look (the calendar endpoint).
    """
    book = await parameter_book(session, application.region_code, accepted_on)
    days = book.integer(ParameterName.INVESTIGATION_WORKING_DAYS)
    calendar = await working_calendar(session)
    try:
        return calendar.add_working_days(accepted_on, days)
    except CalendarUnknown:
        return None


async def return_for_materials(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    missing: Sequence[Material],
    note: str,
) -> None:
    listed = sorted(set(missing) | set(missing_materials(application.materials)))
    if not listed:
        await edge_for(session, application, Action.RETURN, actor.role, now)
        raise InvalidInput(
            "材料已齐全，无需退回；请直接受理。", field="missing_materials"
        )
    await transition(
        session,
        application,
        Action.RETURN,
        actor=actor,
        now=now,
        details={"missing_materials": [m.value for m in listed], "note": note},
        missing_materials=[m.value for m in listed],
    )


async def resubmit(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    materials: Sequence[Material],
) -> None:
    provided = sorted(set(application.materials) | {m.value for m in materials})
    await transition(
        session,
        application,
        Action.RESUBMIT,
        actor=actor,
        now=now,
        details={"added_materials": sorted(m.value for m in materials)},
        materials=provided,
        missing_materials=[m.value for m in missing_materials(provided)],
    )


async def _record_decision(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    stage: str,
    outcome: str,
    amount: Money | None,
    reasons: str,
    explanation: dict[str, Any],
    approval_level: str | None = None,
) -> Decision:
    decision = Decision(
        application_id=pk(application),
        stage=stage,
        outcome=outcome,
        amount_fen=None if amount is None else amount.fen,
        approval_level=approval_level,
        reasons=reasons,
        explanation=explanation,
        decided_by=actor.subject,
        decided_at=now,
    )
    session.add(decision)
    return decision


async def propose(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    amount: Money,
    opinion: str,
    form_of_help: FormOfHelp = FormOfHelp.CASH,
    items: Sequence[InKindItem] = (),
) -> Evaluation:
    """The street's opinion that the household is eligible, with an amount.

    The whole policy is applied to the proposal, so an amount the district
    could not approve is refused here already, with the same explanation.
    Goods in kind (R3.10) are proposed as items whose value is the amount.
    """
    await edge_for(session, application, Action.PROPOSE, actor.role, now)
    if form_of_help is FormOfHelp.REFERRAL:
        raise InvalidInput("转介请使用转介操作，不出具救助金额。", field="form_of_help")
    if form_of_help is FormOfHelp.IN_KIND and application.advance_fen is not None:
        raise InvalidInput(
            "本案已先行支付现金救助，余下部分只能以现金补足，不能改为实物救助。",
            field="form_of_help",
        )
    if (form_of_help is FormOfHelp.IN_KIND) != bool(items):
        raise InvalidInput("实物救助须列明物品；现金救助不列物品。", field="items")
    if items and in_kind_value(items) != amount:
        raise InvalidInput(
            f"物品价值合计 {in_kind_value(items).grouped()} 元，"
            f"与拟救助金额 {amount.grouped()} 元不符。",
            field="items",
        )
    household = await load_household(session, actor, application.household_id)
    evaluation = await evaluate_case(
        session, CaseDraft.of(application), household, amount=amount, on=local_date(now)
    )
    if not evaluation.eligible:
        raise refusal(evaluation)
    await _record_decision(
        session,
        application,
        actor=actor,
        now=now,
        stage="street_opinion",
        outcome="eligible",
        amount=amount,
        reasons=opinion,
        explanation=evaluation.to_dict(),
        approval_level=evaluation.approval_level.value,
    )
    await transition(
        session,
        application,
        Action.PROPOSE,
        actor=actor,
        now=now,
        details={"proposed": str(amount), "form_of_help": form_of_help.value},
        proposed_fen=amount.fen,
        form_of_help=form_of_help.value,
        in_kind_items=[item.to_dict() for item in items],
    )
    return evaluation


_REFUSAL_STAGES = {
    Action.INTAKE_REFUSE: "intake",
    Action.STREET_REFUSE: "street_opinion",
    Action.DISTRICT_REFUSE: "district_decision",
}


async def refuse(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    action: Action,
    reasons: str,
) -> None:
    """A refusal at intake (R3.2), by the street (R3.4) or by the district.

    The case closes. The decision keeps the policy's explanation as it stood,
    so the written refusal (不予救助书面说明) can cite the rules not met
    beside the clerk's reasons.
    """
    stage = _REFUSAL_STAGES[action]
    await edge_for(session, application, action, actor.role, now)
    if not reasons.strip():
        raise InvalidInput("不予救助须写明理由。", field="reasons")
    household = await load_household(session, actor, application.household_id)
    evaluation = await evaluate_case(
        session, CaseDraft.of(application), household, amount=None, on=local_date(now)
    )
    await _record_decision(
        session,
        application,
        actor=actor,
        now=now,
        stage=stage,
        outcome="refused",
        amount=None,
        reasons=reasons,
        explanation=evaluation.to_dict(),
    )
    await transition(
        session, application, action, actor=actor, now=now, details={"reasons": reasons}
    )
    # Imported here: advances builds on this module.
    from app.workflow.advances import recover_unearned

    await recover_unearned(session, application, actor=actor, now=now)


async def approve(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    amount: Money | None,
    opinion: str,
    departments: Sequence[DepartmentShare] = (),
    action: Action = Action.APPROVE,
) -> Evaluation:
    """An approval under every rule of R1 and R2.

    ``Action.APPROVE`` is the district's (R3.6); ``Action.STREET_APPROVE`` is
    the street leader's on the district's behalf (R3.5), only for an amount
    the rules route to the street, and it lands on the district's filing list.
    """
    await edge_for(session, application, action, actor.role, now)
    await refuse_own_proposal(session, actor, application)
    # Lock the household so that two approvals for it are counted one after
    # the other, never both against the same remaining room.
    household = await lock_household(session, actor, application.household_id)
    granted = amount or Money(application.proposed_fen or 0)
    if granted.fen <= 0:
        raise InvalidInput("审批金额须大于 0。", field="amount")
    if (
        application.form_of_help == FormOfHelp.IN_KIND
        and granted.fen != application.proposed_fen
    ):
        raise InvalidInput(
            "实物救助按所列物品的价值审批，金额须与拟救助金额一致。", field="amount"
        )
    decided_on = local_date(now)
    evaluation = await evaluate_case(
        session,
        CaseDraft.of(application),
        household,
        amount=granted,
        on=decided_on,
        departments=departments,
        shares_due=True,
    )
    if not evaluation.eligible:
        raise refusal(evaluation)
    street = action is Action.STREET_APPROVE
    if street and evaluation.approval_level is not ApprovalLevel.STREET:
        raise AboveStreetLimit(
            "金额超过街道审批限额，须报区民政局审批。",
            explanation=evaluation.to_dict(),
        )

    await _record_decision(
        session,
        application,
        actor=actor,
        now=now,
        stage="street_approval" if street else "district_decision",
        outcome="approved",
        amount=granted,
        reasons=opinion,
        explanation=evaluation.to_dict(),
        approval_level=evaluation.approval_level.value,
    )
    # An advance counted as this case's grant until now; the approval's
    # amount is the case's total and replaces it.
    await session.execute(
        update(Grant)
        .where(col(Grant.application_id) == pk(application), col(Grant.active))
        .values(active=False)
    )
    session.add(
        Grant(
            household_id=application.household_id,
            application_id=pk(application),
            decided_on=decided_on,
            amount_fen=granted.fen,
            household_size=application.household_size,
            reason=application.reason,
            pool=evaluation.pool.value,
            departments=[
                {"department": d.department, "amount": str(d.amount)}
                for d in departments
            ],
        )
    )
    await transition(
        session,
        application,
        action,
        actor=actor,
        now=now,
        details={"approved": str(granted)},
        approved_fen=granted.fen,
        decided_on=decided_on,
    )
    return evaluation


class AboveFastReliefLimit(InvalidInput):
    code = "above_fast_relief_limit"


async def fast_relief(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    amount: Money,
    opinion: str,
) -> Evaluation:
    """小额快救: the street leader grants a small amount at once.

    Every rule of R1 and R2 still applies; the amount is also at most
    ``small_fast_relief_multiple`` × S for the case. The decision and its
    explanation are kept like any other approval.
    """
    await edge_for(session, application, Action.FAST_RELIEF, actor.role, now)
    household = await lock_household(session, actor, application.household_id)
    decided_on = local_date(now)
    evaluation = await evaluate_case(
        session, CaseDraft.of(application), household, amount=amount, on=decided_on
    )
    if not evaluation.eligible:
        raise refusal(evaluation)
    book = await parameter_book(session, application.region_code, decided_on)
    standard = book.require(standard_parameter_name(household.area_type)).as_money()
    multiple = book.require(ParameterName.SMALL_FAST_RELIEF_MULTIPLE).as_fraction()
    limit = Money(math.floor(multiple * standard.fen))
    if amount > limit:
        raise AboveFastReliefLimit(
            f"小额快救每案不超过 {multiple}×{standard} = {limit.grouped()} 元，"
            f"本次 {amount.grouped()} 元，请按一般程序办理。",
            limit=str(limit),
        )

    await _record_decision(
        session,
        application,
        actor=actor,
        now=now,
        stage="fast_relief",
        outcome="approved",
        amount=amount,
        reasons=opinion,
        explanation=evaluation.to_dict(),
        approval_level="street",
    )
    session.add(
        Grant(
            household_id=application.household_id,
            application_id=pk(application),
            decided_on=decided_on,
            amount_fen=amount.fen,
            household_size=application.household_size,
            reason=application.reason,
        )
    )
    await transition(
        session,
        application,
        Action.FAST_RELIEF,
        actor=actor,
        now=now,
        details={"approved": str(amount), "limit": str(limit)},
        proposed_fen=amount.fen,
        approved_fen=amount.fen,
        decided_on=decided_on,
    )
    return evaluation


async def start_publicity(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
) -> None:
    await edge_for(session, application, Action.START_PUBLICITY, actor.role, now)
    book = await parameter_book(session, application.region_code, local_date(now))
    days = book.integer(ParameterName.PUBLICITY_DAYS)
    ends = now + dt.timedelta(days=days)
    await transition(
        session,
        application,
        Action.START_PUBLICITY,
        actor=actor,
        now=now,
        details={"days": days},
        publicity_starts_at=now,
        publicity_ends_at=ends,
    )


async def close_file(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
) -> None:
    await transition(session, application, Action.CLOSE_FILE, actor=actor, now=now)


async def close_publicity(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
) -> None:
    await transition(session, application, Action.CLOSE_PUBLICITY, actor=actor, now=now)
