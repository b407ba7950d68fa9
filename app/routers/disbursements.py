"""The disbursement approval form (临时救助资金发放审批单) and its signatures."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.api_types import (
    InputModel,
    LocalDateTime,
    MoneyStr,
    OutputModel,
    PathId,
    RowId,
)
from app.deps import Authorized, NowDep, SessionDep
from app.domain.idnumber import mask_account
from app.domain.money import Money
from app.domain.roles import ROLE_TITLES_ZH, Role
from app.errors import problem_responses
from app.persistence.tables import DisbursementForm, pk
from app.workflow import payouts as flow
from app.workflow.states import FormStatus

router = APIRouter(prefix="/api/v1/disbursement-forms", tags=["disbursement"])


class FormCreate(InputModel):
    application_ids: list[RowId] = Field(min_length=1, max_length=500)


class FormPayment(OutputModel):
    payment_id: int
    application_id: int
    payee_name: str
    bank_name: str
    account_masked: str
    amount: MoneyStr
    status: str


class FormSignature(OutputModel):
    signer: str
    signer_name: str
    signer_role: Role
    signer_role_title: str
    payload_sha256: str
    signed_at: LocalDateTime


class FormPublic(OutputModel):
    id: int
    district_code: str
    status: str
    total: MoneyStr
    payload_sha256: str = Field(description="What each signature binds.")
    created_by: str
    created_at: LocalDateTime
    payments: list[FormPayment]
    signatures: list[FormSignature]
    missing_roles: list[Role]


async def form_public(session: AsyncSession, form: DisbursementForm) -> FormPublic:
    form_id = pk(form)
    payments = await flow.form_payments(session, form_id)
    signatures = await flow.form_signatures(session, form_id)
    signed_roles = {s.signer_role for s in signatures}
    return FormPublic(
        id=form_id,
        district_code=form.district_code,
        status=form.status,
        total=Money(form.total_fen),
        payload_sha256=form.payload_sha256,
        created_by=form.created_by,
        created_at=form.created_at,
        payments=[
            FormPayment(
                payment_id=pk(p),
                application_id=p.application_id,
                payee_name=p.payee_name,
                bank_name=p.bank_name,
                account_masked=mask_account(p.account_no),
                amount=Money(p.amount_fen),
                status=p.status,
            )
            for p in payments
        ],
        signatures=[
            FormSignature(
                signer=s.signer,
                signer_name=s.signer_name,
                signer_role=Role(s.signer_role),
                signer_role_title=ROLE_TITLES_ZH[Role(s.signer_role)],
                payload_sha256=s.payload_sha256,
                signed_at=s.signed_at,
            )
            for s in signatures
        ],
        missing_roles=[r for r in flow.SIGNER_ROLES if r.value not in signed_roles],
    )


@router.post(
    "",
    status_code=201,
    summary="Draw up a disbursement form for applications past publicity",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_form(
    body: FormCreate, principal: Authorized, session: SessionDep, at: NowDep
) -> FormPublic:
    form, _ = await flow.create_form(
        session, actor=principal, now=at, application_ids=body.application_ids
    )
    return await form_public(session, form)


@router.get(
    "",
    summary="List disbursement forms of the caller's district",
    responses=problem_responses(401, 403),
)
async def list_forms(
    principal: Authorized, session: SessionDep, status: FormStatus | None = None
) -> list[FormPublic]:
    query = select(DisbursementForm).where(
        col(DisbursementForm.district_code).startswith(principal.scope_prefix)
    )
    if status is not None:
        query = query.where(DisbursementForm.status == status.value)
    forms = await session.scalars(
        query.order_by(col(DisbursementForm.id).desc()).limit(200)
    )
    return [await form_public(session, f) for f in forms]


@router.get(
    "/{form_id}",
    summary="One disbursement form with its payees and signatures",
    responses=problem_responses(401, 403, 404),
)
async def get_form(
    form_id: PathId, principal: Authorized, session: SessionDep
) -> FormPublic:
    return await form_public(session, await flow.load_form(session, principal, form_id))


class SignatureCreate(InputModel):
    payload_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="The digest of the form as the signer read it.",
    )


@router.post(
    "/{form_id}/signatures",
    status_code=201,
    summary="Sign the form in the caller's role",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def sign_form(
    form_id: PathId,
    body: SignatureCreate,
    principal: Authorized,
    session: SessionDep,
    at: NowDep,
) -> FormPublic:
    form = await flow.load_form(session, principal, form_id)
    await flow.sign_form(
        session, form, actor=principal, now=at, payload_sha256=body.payload_sha256
    )
    return await form_public(session, form)


class WithdrawalCreate(InputModel):
    payment_id: RowId
    reason: str = Field(min_length=1, max_length=500, examples=["收款账户待核实"])


@router.post(
    "/{form_id}/withdrawals",
    summary="Take a payment off a form not yet fully signed (voids its signatures)",
    description=(
        "The payees and amounts the signers read change, so every signature "
        "already given is void and removed; the signers sign the new digest "
        "again. The case stays awaiting payment and may go on a later form. "
        "A fully signed form cannot be changed."
    ),
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def withdraw_payment(
    form_id: PathId,
    body: WithdrawalCreate,
    principal: Authorized,
    session: SessionDep,
    at: NowDep,
) -> FormPublic:
    form = await flow.load_form(session, principal, form_id)
    await flow.withdraw_payment(
        session,
        form,
        actor=principal,
        now=at,
        payment_id=body.payment_id,
        reason=body.reason,
    )
    return await form_public(session, form)
