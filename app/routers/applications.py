"""Applications and the actions of their procedure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import (
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.api_types import (
    InputModel,
    LocalDateTime,
    MoneyStr,
    OutputModel,
    PathId,
    QueryId,
    RowId,
)
from app.auth.principal import Principal
from app.clock import local_date
from app.deps import Authorized, NowDep, SessionDep
from app.domain.catalog import (
    MATERIAL_TITLES_ZH,
    AssistanceType,
    Disease,
    FormOfHelp,
    Material,
    Reason,
)
from app.domain.eligibility import DepartmentShare, Pool, SpecialProgramme
from app.domain.forms import InKindItem
from app.domain.idnumber import mask_account
from app.domain.money import Money
from app.domain.regions import scope_prefix
from app.errors import InvalidInput, PreconditionFailed, problem_responses
from app.persistence.tables import (
    Application,
    Appraisal,
    AuditEntry,
    Decision,
    Investigation,
    Objection,
    Payment,
    pk,
)
from app.routers.pagination import Page, decode_cursor
from app.workflow import applications as flow
from app.workflow.admin import within_duties
from app.workflow.documents import RefusalNotice, build_refusal_notice
from app.workflow.investigation import CheckView, MemberFinding, check_views
from app.workflow.states import STATUS_TITLES_ZH, ApplicationStatus
from app.workflow.transitions import ACTION_TITLES_ZH, Action, allowed_actions
from app.workflow.verification_dispatch import current_authorisation

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])

ACTION_ERRORS = problem_responses(401, 403, 404, 409, 412, 422)

IfMatch = Annotated[
    str | None,
    Header(
        description='The ETag of the application as the clerk saw it, e.g. "3".',
        max_length=64,
    ),
]


def etag(application: Application) -> str:
    return f'"{application.version}"'


async def load_for_action(
    session: AsyncSession,
    principal: Principal,
    application_id: int,
    if_match: str | None,
) -> Application:
    """The application in the caller's scope, as recent as the caller's copy.

    Without ``If-Match`` the compare-and-set of the transition still stops
    a lost update; with it, a stale screen is refused before anything runs.
    """
    application = await flow.load_application(session, principal, application_id)
    wanted = None if if_match is None else if_match.strip().removeprefix("W/")
    if wanted not in (None, "*", etag(application)):
        raise PreconditionFailed(
            "申请已被他人修改，请刷新后再操作。",
            current_version=application.version,
        )
    return application


class CaseFacts(InputModel):
    """The facts of a case the policy rules read (R1, R2.5)."""

    assistance_type: AssistanceType
    reason: Reason
    disease: Disease | None = None
    patient_member_id: RowId | None = Field(
        default=None, description="The ill member (R1.1b child illnesses)."
    )
    diagnosed_on: dt.date | None = None
    district_recognition: str | None = Field(
        default=None,
        max_length=128,
        description="Reference of the district's recognition decision (R1.1c).",
    )
    pool: Pool = Field(
        default=Pool.ORDINARY, description="ordinary, or the 救急难 pool (R2.5)."
    )
    special_programme: SpecialProgramme | None = None

    @model_validator(mode="after")
    def _programme_belongs_to_jijinan(self) -> CaseFacts:
        if self.special_programme is not None and self.pool is not Pool.JIJINAN:
            raise ValueError("专项救助类别只用于救急难案件（pool 须为 jijinan）")
        return self


class ApplicationCreate(CaseFacts):
    household_id: RowId
    description: str = Field(min_length=1, max_length=2000)
    requested_amount: MoneyStr
    materials: list[Material] = Field(
        default_factory=list, description="Materials handed in with the application."
    )


class ActionRef(OutputModel):
    action: Action
    title: str


class TimelineEntry(OutputModel):
    at: LocalDateTime
    actor: str
    actor_role: str
    action: str
    from_status: str | None
    to_status: str | None
    details: dict[str, Any]


class DecisionPublic(OutputModel):
    stage: str
    outcome: str
    amount: MoneyStr | None
    approval_level: str | None
    reasons: str
    explanation: dict[str, Any]
    decided_by: str
    decided_at: LocalDateTime


class InvestigationPublic(OutputModel):
    home_visit_done: bool
    home_visit_note: str
    neighbour_interviews: int
    neighbour_note: str
    monthly_income_per_capita: MoneyStr
    findings: str
    recorded_by: str
    recorded_at: LocalDateTime


class PaymentPublic(OutputModel):
    id: int
    payer: str = Field(description="district (form and bank) or street (R3.5)")
    form_id: int | None
    voucher_no: str | None
    amount: MoneyStr
    status: str
    failure_reason: str | None
    paid_at: LocalDateTime | None


class ApplicationPublic(OutputModel):
    id: int
    household_id: int
    region_code: str
    assistance_type: AssistanceType
    reason: Reason
    disease: Disease | None
    patient_member_id: int | None
    diagnosed_on: dt.date | None
    district_recognition: str | None
    pool: Pool
    special_programme: SpecialProgramme | None
    form_of_help: FormOfHelp
    in_kind_items: list[dict[str, Any]]
    referral: dict[str, Any]
    delivery: dict[str, Any]
    advance: MoneyStr | None
    advance_paid_at: LocalDateTime | None
    description: str
    requested_amount: MoneyStr
    household_size: int
    materials: list[Material]
    missing_materials: list[Material]
    status: ApplicationStatus
    status_title: str
    proposed_amount: MoneyStr | None
    approved_amount: MoneyStr | None
    decided_on: dt.date | None
    accepted_at: LocalDateTime | None
    investigation_due_on: dt.date | None = Field(
        description="R3.3 deadline; null while that year's calendar is not loaded."
    )
    publicity_starts_at: LocalDateTime | None
    publicity_ends_at: LocalDateTime | None
    created_at: LocalDateTime
    updated_at: LocalDateTime
    version: int


def _signed_money(value: Any) -> Money:
    if not isinstance(value, Money):
        raise TypeError("an amount of the check report is a Money")
    return value


# Net business and property income may be negative: output only.
SignedMoneyStr = Annotated[
    Money,
    PlainValidator(_signed_money),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^-?(0|[1-9][0-9]*)\.[0-9]{2}$",
            "description": "Yuan with two decimals, as a string; may be negative.",
            "examples": ["-120.00"],
        }
    ),
]

CHECK_STATUS_TITLES_ZH = {
    "pending": "待发送",
    "submitted": "已提交核对平台",
    "processing": "核对中",
    "completed": "核对完成",
    "failed": "核对失败",
}


class CheckIncomePublic(OutputModel):
    """Monthly income by the four kinds of the statistics."""

    wages: SignedMoneyStr  # 工资性收入
    business: SignedMoneyStr  # 经营净收入
    property_income: SignedMoneyStr  # 财产净收入
    transfers: SignedMoneyStr  # 转移净收入
    total: SignedMoneyStr


class CheckMemberPublic(OutputModel):
    member_id: int
    name: str
    relation: str
    monthly_income: CheckIncomePublic
    deposits: MoneyStr
    securities: MoneyStr
    real_estate: int = Field(description="Registered dwellings.")
    vehicles: int = Field(description="Registered motor vehicles.")
    businesses: list[str] = Field(description="Businesses registered to the member.")


class CheckHouseholdPublic(OutputModel):
    """The report summed over the household, beside the street's own finding."""

    size: int
    monthly_income_total: SignedMoneyStr
    monthly_income_per_capita: SignedMoneyStr
    street_monthly_income_per_capita: MoneyStr | None = Field(
        description="The investigation's per-capita income, for comparison."
    )
    deposits: MoneyStr
    securities: MoneyStr
    real_estate: int
    vehicles: int
    businesses: list[str]


class CheckDeliveryPublic(OutputModel):
    """Where the request to the platform stands (the outbox row)."""

    state: str
    attempts: int = Field(description="Times the request was sent.")
    failures: int = Field(description="Calls in a row the platform did not answer.")
    last_error: str
    next_attempt_at: LocalDateTime | None = Field(
        description="When the dispatcher tries next; null once finished."
    )
    submitted_at: LocalDateTime | None
    finished_at: LocalDateTime | None


class CheckPublic(OutputModel):
    id: int
    request_id: str
    status: str = Field(
        description="pending, submitted, processing, completed or failed."
    )
    status_title: str
    reason: str = Field(
        description="Why the check failed, or why it waits (the platform does "
        "not answer); empty otherwise."
    )
    monthly_income_per_capita: MoneyStr | None
    assets: dict[str, Any]
    requested_by: str
    requested_at: LocalDateTime
    completed_at: LocalDateTime | None
    delivery: CheckDeliveryPublic | None
    household: CheckHouseholdPublic | None
    members: list[CheckMemberPublic]


class CheckAuthorisationPublic(OutputModel):
    """The household's signed authorisation letter in force (授权书)."""

    id: int
    signed_by: str
    signed_on: dt.date
    attachment_id: int
    recorded_by: str
    recorded_at: LocalDateTime


class AppraisalPublic(OutputModel):
    id: int
    held_on: dt.date
    attendees: int
    votes_for: int
    votes_against: int
    result: str
    note: str
    recorded_by: str
    recorded_at: LocalDateTime


class ObjectionPublic(OutputModel):
    id: int
    source: str
    content: str
    contact_masked: str
    status: str
    decision_note: str
    raised_by: str
    raised_at: LocalDateTime
    decided_by: str | None
    decided_at: LocalDateTime | None


class ApplicationDetail(ApplicationPublic):
    allowed_actions: list[ActionRef]
    investigation: InvestigationPublic | None
    economic_checks: list[CheckPublic]
    check_authorisation: CheckAuthorisationPublic | None
    appraisals: list[AppraisalPublic]
    objections: list[ObjectionPublic]
    decisions: list[DecisionPublic]
    payments: list[PaymentPublic]
    timeline: list[TimelineEntry]


def objection_public(o: Objection) -> ObjectionPublic:
    return ObjectionPublic(
        id=pk(o),
        source=o.source,
        content=o.content,
        contact_masked=mask_account(o.contact) if o.contact else "",
        status=o.status,
        decision_note=o.decision_note,
        raised_by=o.raised_by,
        raised_at=o.raised_at,
        decided_by=o.decided_by,
        decided_at=o.decided_at,
    )


def _money(fen: int | None) -> Money | None:
    return None if fen is None else Money(fen)


def application_public(application: Application) -> ApplicationPublic:
    status = ApplicationStatus(application.status)
    return ApplicationPublic(
        id=pk(application),
        household_id=application.household_id,
        region_code=application.region_code,
        assistance_type=AssistanceType(application.assistance_type),
        reason=Reason(application.reason),
        disease=None if application.disease is None else Disease(application.disease),
        patient_member_id=application.patient_member_id,
        diagnosed_on=application.diagnosed_on,
        district_recognition=application.district_recognition,
        pool=Pool(application.pool),
        special_programme=None
        if application.special_programme is None
        else SpecialProgramme(application.special_programme),
        form_of_help=FormOfHelp(application.form_of_help),
        in_kind_items=application.in_kind_items,
        referral=application.referral,
        delivery=application.delivery,
        advance=_money(application.advance_fen),
        advance_paid_at=application.advance_paid_at,
        description=application.description,
        requested_amount=Money(application.requested_fen),
        household_size=application.household_size,
        materials=[Material(m) for m in application.materials],
        missing_materials=[Material(m) for m in application.missing_materials],
        status=status,
        status_title=STATUS_TITLES_ZH[status],
        proposed_amount=_money(application.proposed_fen),
        approved_amount=_money(application.approved_fen),
        decided_on=application.decided_on,
        accepted_at=application.accepted_at,
        investigation_due_on=application.investigation_due_on,
        publicity_starts_at=application.publicity_starts_at,
        publicity_ends_at=application.publicity_ends_at,
        created_at=application.created_at,
        updated_at=application.updated_at,
        version=application.version,
    )


def _member_public(finding: MemberFinding) -> CheckMemberPublic:
    r = finding.report
    income = [r.wages_fen, r.business_fen, r.property_income_fen, r.transfers_fen]
    return CheckMemberPublic(
        member_id=r.member_id,
        name=finding.member.name,
        relation=finding.member.relation,
        monthly_income=CheckIncomePublic(
            wages=Money(r.wages_fen),
            business=Money(r.business_fen),
            property_income=Money(r.property_income_fen),
            transfers=Money(r.transfers_fen),
            total=Money(sum(income)),
        ),
        deposits=Money(r.deposits_fen),
        securities=Money(r.securities_fen),
        real_estate=r.real_estate,
        vehicles=r.vehicles,
        businesses=r.businesses,
    )


def check_public(view: CheckView, investigation: Investigation | None) -> CheckPublic:
    """A check with its delivery and, once completed, its report."""
    c, request = view.check, view.request
    members = [_member_public(f) for f in view.members]
    household = None
    if members and c.monthly_income_fen is not None:
        total = sum((m.monthly_income.total for m in members), Money(0))
        household = CheckHouseholdPublic(
            size=len(members),
            monthly_income_total=total,
            monthly_income_per_capita=Money(c.monthly_income_fen),
            street_monthly_income_per_capita=None
            if investigation is None
            else Money(investigation.monthly_income_fen),
            deposits=sum((m.deposits for m in members), Money(0)),
            securities=sum((m.securities for m in members), Money(0)),
            real_estate=sum(m.real_estate for m in members),
            vehicles=sum(m.vehicles for m in members),
            businesses=[b for m in members for b in m.businesses],
        )
    delivery = None
    if request is not None:
        live = request.state not in ("completed", "failed")
        delivery = CheckDeliveryPublic(
            state=request.state,
            attempts=request.attempts,
            failures=request.failures,
            last_error=request.last_error,
            next_attempt_at=request.next_attempt_at if live else None,
            submitted_at=request.submitted_at,
            finished_at=request.finished_at,
        )
    return CheckPublic(
        id=pk(c),
        request_id=c.request_id,
        status=c.status,
        status_title=CHECK_STATUS_TITLES_ZH.get(c.status, c.status),
        reason=c.reason,
        monthly_income_per_capita=_money(c.monthly_income_fen),
        assets=c.assets,
        requested_by=c.requested_by,
        requested_at=c.requested_at,
        completed_at=c.completed_at,
        delivery=delivery,
        household=household,
        members=members,
    )


async def application_detail(
    session: AsyncSession,
    application: Application,
    principal: Principal,
    at: dt.datetime,
) -> ApplicationDetail:
    app_id = pk(application)
    investigation = await session.scalar(
        select(Investigation)
        .where(Investigation.application_id == app_id)
        .order_by(col(Investigation.id).desc())
    )
    decisions = await session.scalars(
        select(Decision)
        .where(Decision.application_id == app_id)
        .order_by(col(Decision.id))
    )
    payments = await session.scalars(
        select(Payment)
        .where(Payment.application_id == app_id)
        .order_by(col(Payment.id))
    )
    timeline = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "application", AuditEntry.entity_id == app_id)
        .order_by(col(AuditEntry.id))
    )
    checks = await check_views(session, app_id)
    authorisation = await current_authorisation(session, app_id)
    appraisals = await session.scalars(
        select(Appraisal)
        .where(Appraisal.application_id == app_id)
        .order_by(col(Appraisal.id))
    )
    objections = await session.scalars(
        select(Objection)
        .where(Objection.application_id == app_id)
        .order_by(col(Objection.id))
    )
    actions = await within_duties(
        session,
        principal,
        application,
        await allowed_actions(session, application, principal.role, at),
    )
    return ApplicationDetail(
        **application_public(application).model_dump(),
        allowed_actions=[
            ActionRef(action=a, title=ACTION_TITLES_ZH[a]) for a in actions
        ],
        economic_checks=[check_public(c, investigation) for c in checks],
        check_authorisation=None
        if authorisation is None
        else CheckAuthorisationPublic.model_validate(authorisation),
        appraisals=[AppraisalPublic.model_validate(a) for a in appraisals],
        objections=[objection_public(o) for o in objections],
        investigation=None
        if investigation is None
        else InvestigationPublic(
            home_visit_done=investigation.home_visit_done,
            home_visit_note=investigation.home_visit_note,
            neighbour_interviews=investigation.neighbour_interviews,
            neighbour_note=investigation.neighbour_note,
            monthly_income_per_capita=Money(investigation.monthly_income_fen),
            findings=investigation.findings,
            recorded_by=investigation.recorded_by,
            recorded_at=investigation.recorded_at,
        ),
        decisions=[
            DecisionPublic(
                stage=d.stage,
                outcome=d.outcome,
                amount=_money(d.amount_fen),
                approval_level=d.approval_level,
                reasons=d.reasons,
                explanation=d.explanation,
                decided_by=d.decided_by,
                decided_at=d.decided_at,
            )
            for d in decisions
        ],
        payments=[
            PaymentPublic(
                id=pk(p),
                payer=p.payer,
                form_id=p.form_id,
                voucher_no=p.voucher_no,
                amount=Money(p.amount_fen),
                status=p.status,
                failure_reason=p.failure_reason,
                paid_at=p.paid_at,
            )
            for p in payments
        ],
        timeline=[TimelineEntry.model_validate(e) for e in timeline],
    )


@dataclass(frozen=True, slots=True)
class CaseAction:
    """One action on one application: who acts, when, and the case as fresh as
    the caller's copy (``If-Match``), in the request's unit of work."""

    session: AsyncSession
    principal: Principal
    now: dt.datetime
    application: Application

    async def detail(self) -> ApplicationDetail:
        """The application after the action, as the caller sees it."""
        return await application_detail(
            self.session, self.application, self.principal, self.now
        )


async def case_action(
    application_id: PathId,
    principal: Authorized,
    session: SessionDep,
    at: NowDep,
    if_match: IfMatch = None,
) -> CaseAction:
    application = await load_for_action(session, principal, application_id, if_match)
    return CaseAction(session, principal, at, application)


CaseActionDep = Annotated[CaseAction, Depends(case_action)]


@router.post(
    "",
    status_code=201,
    summary="Take an application for a household",
    responses=ACTION_ERRORS,
)
async def create_application(
    body: ApplicationCreate,
    principal: Authorized,
    session: SessionDep,
    at: NowDep,
) -> ApplicationDetail:
    application = await flow.create_application(
        session,
        actor=principal,
        now=at,
        household_id=body.household_id,
        assistance_type=body.assistance_type,
        reason=body.reason,
        disease=body.disease,
        description=body.description,
        requested=body.requested_amount,
        materials=body.materials,
        patient_member_id=body.patient_member_id,
        diagnosed_on=body.diagnosed_on,
        district_recognition=body.district_recognition,
        pool=body.pool,
        special_programme=body.special_programme,
    )
    return await application_detail(session, application, principal, at)


@router.get(
    "",
    summary="List applications in the caller's scope",
    responses=problem_responses(401, 422),
)
async def list_applications(
    principal: Authorized,
    session: SessionDep,
    at: NowDep,
    status: ApplicationStatus | None = None,
    assistance_type: AssistanceType | None = None,
    reason: Reason | None = None,
    household_id: QueryId = None,
    region_code: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
    overdue: Annotated[
        bool,
        Query(description="Only accepted applications past their investigation day."),
    ] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[ApplicationPublic]:
    query = select(Application).where(
        col(Application.region_code).startswith(principal.scope_prefix)
    )
    if region_code is not None:
        # A filter can only narrow the caller's scope, never widen it.
        query = query.where(
            col(Application.region_code).startswith(scope_prefix(region_code))
        )
    if status is not None:
        query = query.where(Application.status == status.value)
    if assistance_type is not None:
        query = query.where(Application.assistance_type == assistance_type.value)
    if reason is not None:
        query = query.where(Application.reason == reason.value)
    if household_id is not None:
        query = query.where(Application.household_id == household_id)
    if overdue:
        query = query.where(
            Application.status == ApplicationStatus.ACCEPTED.value,
            col(Application.investigation_due_on) < local_date(at),
        )
    if cursor is not None:
        query = query.where(col(Application.id) < decode_cursor(cursor))
    rows = list(
        await session.scalars(
            query.order_by(col(Application.id).desc()).limit(limit + 1)
        )
    )
    items = [application_public(a) for a in rows[:limit]]
    return Page.of(items, limit=limit, has_more=len(rows) > limit)


@router.get(
    "/{application_id}",
    summary="One application with its timeline and the caller's actions",
    responses=problem_responses(401, 404),
)
async def get_application(
    application_id: PathId,
    principal: Authorized,
    session: SessionDep,
    at: NowDep,
    response: Response,
) -> ApplicationDetail:
    """The ``ETag`` is the version; send it back as ``If-Match`` on an action
    to be refused with 412 if someone else acted in between."""
    application = await flow.load_application(session, principal, application_id)
    response.headers["ETag"] = etag(application)
    return await application_detail(session, application, principal, at)


class IntakeDecision(InputModel):
    decision: Literal["accept", "return", "refuse"]
    missing_materials: list[Material] = Field(default_factory=list)
    note: str = Field(
        default="",
        max_length=2000,
        description="For a refusal: the reasons given to the applicant.",
    )


@router.post(
    "/{application_id}/intake",
    summary="Accept an application, or return it listing missing materials",
    responses=ACTION_ERRORS,
)
async def intake(
    case: CaseActionDep,
    body: IntakeDecision,
) -> ApplicationDetail:
    if body.decision == "accept":
        await flow.accept(
            case.session, case.application, actor=case.principal, now=case.now
        )
    elif body.decision == "refuse":
        await flow.refuse(
            case.session,
            case.application,
            actor=case.principal,
            now=case.now,
            action=Action.INTAKE_REFUSE,
            reasons=body.note,
        )
    else:
        await flow.return_for_materials(
            case.session,
            case.application,
            actor=case.principal,
            now=case.now,
            missing=body.missing_materials,
            note=body.note
            or "请补齐："
            + "、".join(MATERIAL_TITLES_ZH[m] for m in body.missing_materials),
        )
    return await case.detail()


class Resubmission(InputModel):
    materials: list[Material] = Field(min_length=1)


@router.post(
    "/{application_id}/resubmission",
    summary="Resubmit a returned application with the missing materials",
    responses=ACTION_ERRORS,
)
async def resubmit(
    case: CaseActionDep,
    body: Resubmission,
) -> ApplicationDetail:
    await flow.resubmit(
        case.session,
        case.application,
        actor=case.principal,
        now=case.now,
        materials=body.materials,
    )
    return await case.detail()


class InKindItemIn(InputModel):
    name: str = Field(min_length=1, max_length=64, examples=["棉被"])
    quantity: int = Field(ge=1, le=10_000)
    unit_value: MoneyStr


class StreetOpinion(InputModel):
    decision: Literal["eligible", "refused"]
    proposed_amount: MoneyStr | None = None
    opinion: str = Field(default="", max_length=2000)
    form_of_help: Literal[FormOfHelp.CASH, FormOfHelp.IN_KIND] = Field(
        default=FormOfHelp.CASH,
        description="Cash through the bank, or goods in kind valued in items.",
    )
    items: list[InKindItemIn] = Field(
        default_factory=list,
        max_length=50,
        description="In kind only: the goods; their value must equal the amount.",
    )


@router.post(
    "/{application_id}/street-opinion",
    summary="The street's opinion: eligible with an amount, or refused",
    responses=ACTION_ERRORS,
)
async def street_opinion(
    case: CaseActionDep,
    body: StreetOpinion,
) -> ApplicationDetail:
    if body.decision == "eligible":
        if body.proposed_amount is None or body.proposed_amount.fen <= 0:
            raise InvalidInput(
                "拟救助时须填写大于 0 的拟救助金额。", field="proposed_amount"
            )
        await flow.propose(
            case.session,
            case.application,
            actor=case.principal,
            now=case.now,
            amount=body.proposed_amount,
            opinion=body.opinion,
            form_of_help=body.form_of_help,
            items=[
                InKindItem(name=i.name, quantity=i.quantity, unit_value=i.unit_value)
                for i in body.items
            ],
        )
    else:
        await flow.refuse(
            case.session,
            case.application,
            actor=case.principal,
            now=case.now,
            action=Action.STREET_REFUSE,
            reasons=body.opinion,
        )
    return await case.detail()


class DepartmentShareIn(InputModel):
    department: str = Field(min_length=1, max_length=64)
    amount: MoneyStr


class DistrictDecision(InputModel):
    decision: Literal["approve", "refuse"]
    amount: MoneyStr | None = Field(
        default=None, description="Approved amount; the street's proposal if omitted."
    )
    opinion: str = Field(default="", max_length=2000)
    departments: list[DepartmentShareIn] = Field(
        default_factory=list,
        max_length=20,
        description="救急难 only (R2.5): each department's share of the amount.",
    )


@router.post(
    "/{application_id}/district-decision",
    summary="The district's approval with an amount, or refusal",
    responses=ACTION_ERRORS,
)
async def district_decision(
    case: CaseActionDep,
    body: DistrictDecision,
) -> ApplicationDetail:
    if body.decision == "approve":
        await flow.approve(
            case.session,
            case.application,
            actor=case.principal,
            now=case.now,
            amount=body.amount,
            opinion=body.opinion,
            departments=[
                DepartmentShare(department=d.department, amount=d.amount)
                for d in body.departments
            ],
        )
    else:
        await flow.refuse(
            case.session,
            case.application,
            actor=case.principal,
            now=case.now,
            action=Action.DISTRICT_REFUSE,
            reasons=body.opinion,
        )
    return await case.detail()


class StreetApproval(InputModel):
    amount: MoneyStr | None = Field(
        default=None, description="Approved amount; the street's proposal if omitted."
    )
    opinion: str = Field(default="", max_length=2000)


@router.post(
    "/{application_id}/street-approval",
    summary="The street leader approves a small grant for the district (R3.5)",
    responses=ACTION_ERRORS,
)
async def street_approval(
    case: CaseActionDep,
    body: StreetApproval,
) -> ApplicationDetail:
    await flow.approve(
        case.session,
        case.application,
        actor=case.principal,
        now=case.now,
        amount=body.amount,
        opinion=body.opinion,
        action=Action.STREET_APPROVE,
    )
    return await case.detail()


@router.post(
    "/{application_id}/close",
    summary="Close a paid case once its file is complete (R4)",
    responses=ACTION_ERRORS,
)
async def close_case(
    case: CaseActionDep,
) -> ApplicationDetail:
    await flow.close_file(
        case.session, case.application, actor=case.principal, now=case.now
    )
    return await case.detail()


class FastRelief(InputModel):
    amount: MoneyStr
    opinion: str = Field(default="", max_length=2000)


@router.post(
    "/{application_id}/fast-relief",
    summary="小额快救: grant a small sudden-event or illness case at once",
    description="Only where the district has switched the procedure on "
    "(policy parameter `small_fast_relief`).",
    responses=ACTION_ERRORS,
)
async def fast_relief(
    case: CaseActionDep,
    body: FastRelief,
) -> ApplicationDetail:
    await flow.fast_relief(
        case.session,
        case.application,
        actor=case.principal,
        now=case.now,
        amount=body.amount,
        opinion=body.opinion,
    )
    return await case.detail()


@router.get(
    "/{application_id}/refusal-notice",
    summary="The written refusal (不予救助书面说明) of a refused application",
    responses=problem_responses(401, 403, 404, 409),
)
async def refusal_notice(
    application_id: PathId, principal: Authorized, session: SessionDep
) -> RefusalNotice:
    application = await flow.load_application(session, principal, application_id)
    return await build_refusal_notice(session, application)


@router.post(
    "/{application_id}/publicity/start",
    summary="Start the publicity period",
    responses=ACTION_ERRORS,
)
async def start_publicity(
    case: CaseActionDep,
) -> ApplicationDetail:
    await flow.start_publicity(
        case.session, case.application, actor=case.principal, now=case.now
    )
    return await case.detail()


@router.post(
    "/{application_id}/publicity/close",
    summary="Close the publicity once its period has passed",
    responses=ACTION_ERRORS,
)
async def close_publicity(
    case: CaseActionDep,
) -> ApplicationDetail:
    await flow.close_publicity(
        case.session, case.application, actor=case.principal, now=case.now
    )
    return await case.detail()
