"""From a closed publicity to money in the account.

The disbursement form (临时救助资金发放审批单) lists payees and amounts; the
assistance officer and the two leaders each sign the SHA-256 of exactly that
list (R3.8). Signed payments go into a payout batch whose file the bank
downloads; the bank's results close the payments and the applications.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.adapters import batch_report as batch_report_adapter
from app.adapters.bank_files import TEMPLATES, BankFileError, PayoutLine, check_lines
from app.auth.principal import Principal
from app.clock import CHINA_TZ
from app.domain.idnumber import mask_account
from app.domain.money import Money
from app.domain.regions import RegionLevel, ancestor_at
from app.domain.roles import DISTRICT_ROLES, ROLE_TITLES_ZH, Role
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.persistence.tables import (
    Application,
    DisbursementForm,
    DisbursementSignature,
    Household,
    Payment,
    PayoutBatch,
    PayoutBatchLine,
    pk,
)
from app.workflow import audit
from app.workflow.advances import top_up
from app.workflow.applications import load_application, transition
from app.workflow.states import (
    STATUS_TITLES_ZH,
    ApplicationStatus,
    BatchStatus,
    FormStatus,
    PaymentStatus,
)
from app.workflow.transitions import Action, edge_for, paid_by_street
from app.workflow.versioning import compare_and_set

SIGNER_ROLES: tuple[Role, ...] = (
    Role.DISTRICT_OFFICER,
    Role.DISTRICT_ASSISTANCE_LEADER,
    Role.DISTRICT_FINANCE_LEADER,
)


class SignatureRefused(Conflict):
    code = "signature_refused"


class PayloadChanged(Conflict):
    code = "payload_changed"


class NotCash(Conflict):
    code = "not_cash"


class NothingToPay(Conflict):
    code = "nothing_to_pay"


BATCH_STATUS_TITLES_ZH: dict[BatchStatus, str] = {
    BatchStatus.READY: "待银行接收",
    BatchStatus.ACKNOWLEDGED: "银行已接收",
    BatchStatus.RECONCILED: "已全部回盘",
}


class FailureCode(StrEnum):
    """Why the bank could not pay a line: the codes its result file uses."""

    ACCOUNT_NOT_FOUND = "account_not_found"
    NAME_MISMATCH = "name_mismatch"
    ACCOUNT_CLOSED = "account_closed"
    ACCOUNT_FROZEN = "account_frozen"
    OTHER = "other"


FAILURE_TITLES_ZH: dict[FailureCode, str] = {
    FailureCode.ACCOUNT_NOT_FOUND: "账号不存在",
    FailureCode.NAME_MISMATCH: "户名与账号不符",
    FailureCode.ACCOUNT_CLOSED: "账户已销户",
    FailureCode.ACCOUNT_FROZEN: "账户冻结或止付",
    FailureCode.OTHER: "其他原因",
}


class AccountNotCorrected(Conflict):
    code = "account_not_corrected"


class FormNotOpen(Conflict):
    code = "form_not_open"


class PayeeTextUnfit(InvalidInput):
    code = "payee_text_unfit"


class PaidByStreet(Conflict):
    code = "paid_by_street"


class ResultRejected(InvalidInput):
    code = "result_rejected"


def _district_of(actor: Principal) -> str:
    return ancestor_at(actor.region_code, RegionLevel.DISTRICT)


def payload_digest(payments: Sequence[Payment]) -> str:
    """The SHA-256 of the exact payees and amounts a signature binds."""
    rows = sorted(
        (p.application_id, p.payee_name, p.account_no, p.amount_fen) for p in payments
    )
    canonical = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


async def create_form(
    session: AsyncSession,
    *,
    actor: Principal,
    now: dt.datetime,
    application_ids: Sequence[int],
) -> tuple[DisbursementForm, list[Payment]]:
    if actor.role is not Role.DISTRICT_OFFICER:
        raise PermissionDenied("只有区民政局社会救助经办人可以制作发放审批单。")
    if not application_ids:
        raise InvalidInput("发放审批单至少包含一个申请。", field="application_ids")

    applications: list[tuple[Application, Household]] = []
    for application_id in sorted(set(application_ids)):
        application = await load_application(session, actor, application_id)
        if application.form_of_help != "cash":
            raise NotCash(
                f"申请 {application_id} 为实物救助，按实物登记发放，不列入发放审批单。",
                application_id=application_id,
            )
        if application.status != ApplicationStatus.AWAITING_PAYMENT:
            raise Conflict(
                f"申请 {application_id} 当前状态为「"
                f"{STATUS_TITLES_ZH[ApplicationStatus(application.status)]}」，"
                "只有公示期满待发放的申请才能列入发放审批单。",
                application_id=application_id,
                current_status=application.status,
            )
        if await paid_by_street(session, application):
            raise PaidByStreet(
                f"申请 {application_id} 由街道受区委托审批，由街道发放并登记凭证，"
                "不列入区发放审批单。",
                application_id=application_id,
            )
        if top_up(application).fen == 0:
            raise Conflict(
                f"申请 {application_id} 已由先行救助足额支付，请办理结算，"
                "不列入发放审批单。",
                application_id=application_id,
            )
        household = await session.get(Household, application.household_id)
        if household is None:
            raise NotFound(f"申请 {application_id} 的家庭不存在。")
        await _refuse_the_failed_account(session, application, household)
        applications.append((application, household))

    # Putting a case on a form changes it: a concurrent spot-check reopening
    # (or anything else that read the old version) cannot also succeed.
    for application, _ in applications:
        await compare_and_set(session, application, updated_at=now)

    form = DisbursementForm(
        district_code=_district_of(actor),
        status=FormStatus.OPEN.value,
        payload_sha256="",
        total_fen=sum(top_up(a).fen for a, _ in applications),
        created_by=actor.subject,
        created_at=now,
    )
    session.add(form)
    await session.flush()
    payments = [
        Payment(
            application_id=pk(application),
            form_id=pk(form),
            kind="grant" if application.advance_fen is None else "top_up",
            amount_fen=top_up(application).fen,
            payee_name=household.bank_account_name,
            bank_name=household.bank_name,
            account_no=household.bank_account_no,
            status=PaymentStatus.AWAITING_SIGNATURES.value,
            created_at=now,
        )
        for application, household in applications
    ]
    session.add_all(payments)
    form.payload_sha256 = payload_digest(payments)
    try:
        await session.flush()
    except IntegrityError as exc:
        # The unique (application, kind) constraint: one grant is paid once.
        raise Conflict("所列申请中已有申请列入其他发放审批单。") from exc
    await audit.record(
        session,
        actor=actor,
        at=now,
        action="disbursement_form.create",
        entity_type="disbursement_form",
        entity_id=pk(form),
        to_status=form.status,
        details={"payments": len(payments), "total": str(Money(form.total_fen))},
        event_type="disbursement_form.created",
        entity_version=form.version,
        payload={"id": pk(form), "total": str(Money(form.total_fen))},
    )
    return form, payments


async def _refuse_the_failed_account(
    session: AsyncSession, application: Application, household: Household
) -> None:
    """After the bank failed a payment, the next goes to a corrected account."""
    failed = await session.scalar(
        select(Payment)
        .where(
            Payment.application_id == pk(application),
            Payment.status == PaymentStatus.FAILED.value,
        )
        .order_by(col(Payment.id).desc())
        .limit(1)
    )
    if failed is None:
        return
    same = (
        failed.account_no == household.bank_account_no
        and failed.payee_name == household.bank_account_name
        and failed.bank_name == household.bank_name
    )
    if same:
        title = FAILURE_TITLES_ZH.get(
            FailureCode(failed.failure_code or FailureCode.OTHER)
        )
        raise AccountNotCorrected(
            f"申请 {pk(application)} 上次发放失败（{title}），收款账户尚未更正。"
            "请先核实并更正该户的收款账户，再列入发放审批单。",
            application_id=pk(application),
            failed_payment_id=pk(failed),
        )


async def withdraw_payment(
    session: AsyncSession,
    form: DisbursementForm,
    *,
    actor: Principal,
    now: dt.datetime,
    payment_id: int,
    reason: str,
) -> list[DisbursementSignature]:
    """Take one payment off a form still collecting signatures.

    The form's payees and amounts change, so the signatures already given
    are void (R3.8) and removed; who had signed, and the digest they signed,
    stay in the audit entry. Returns the voided signatures. A form with its
    three signatures is not changed: its payments may already be with the
    bank.
    """
    if actor.role is not Role.DISTRICT_OFFICER:
        raise PermissionDenied("只有区民政局社会救助经办人可以调整发放审批单。")
    if form.status != FormStatus.OPEN:
        raise FormNotOpen(
            "发放审批单已签批完毕，不能再调整。", current_status=form.status
        )
    payments = await form_payments(session, pk(form))
    payment = next((p for p in payments if pk(p) == payment_id), None)
    if payment is None:
        raise NotFound(f"发放审批单 {pk(form)} 中没有款项 {payment_id}。")

    remaining = [p for p in payments if p is not payment]
    voided = await form_signatures(session, pk(form))
    await compare_and_set(
        session,
        form,
        status=FormStatus.OPEN.value if remaining else FormStatus.VOID.value,
        payload_sha256=payload_digest(remaining),
        total_fen=sum(p.amount_fen for p in remaining),
    )
    for signature in voided:
        await session.delete(signature)
    await session.delete(payment)
    await session.flush()

    await audit.record(
        session,
        actor=actor,
        at=now,
        action="disbursement_form.withdraw",
        entity_type="disbursement_form",
        entity_id=pk(form),
        from_status=FormStatus.OPEN.value,
        to_status=form.status,
        details={
            "application_id": payment.application_id,
            "amount": str(Money(payment.amount_fen)),
            "reason": reason,
            "voided_signatures": [
                {"signer": v.signer, "role": v.signer_role, "sha256": v.payload_sha256}
                for v in voided
            ],
        },
        event_type="disbursement_form.changed",
        entity_version=form.version,
        payload={"id": pk(form), "status": form.status},
    )
    return voided


async def pay_by_street(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    voucher_no: str,
) -> Payment:
    """The street pays a case it approved on the district's behalf (R3.5).

    The payment is recorded with the street's voucher, to the household's
    account as it stands now; the unique (application, kind) constraint
    means a grant is paid once, by the street or by the bank, never both.
    """
    await edge_for(session, application, Action.STREET_PAY, actor.role, now)
    amount = top_up(application)
    if amount.fen == 0:
        raise NothingToPay(
            "本案已由先行救助足额支付，请办理结算，无需再发放。",
            application_id=pk(application),
        )
    household = await session.get(Household, application.household_id)
    if household is None:
        raise NotFound(f"申请 {pk(application)} 的家庭不存在。")

    payment = Payment(
        application_id=pk(application),
        payer="street",
        form_id=None,
        voucher_no=voucher_no,
        kind="grant" if application.advance_fen is None else "top_up",
        amount_fen=amount.fen,
        payee_name=household.bank_account_name,
        bank_name=household.bank_name,
        account_no=household.bank_account_no,
        status=PaymentStatus.PAID.value,
        paid_at=now,
        created_at=now,
    )
    session.add(payment)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("本案的救助金已发放或已列入发放审批单。") from exc
    await transition(
        session,
        application,
        Action.STREET_PAY,
        actor=actor,
        now=now,
        details={
            "payment_id": pk(payment),
            "amount": str(amount),
            "voucher_no": voucher_no,
        },
    )
    return payment


async def load_form(
    session: AsyncSession, actor: Principal, form_id: int
) -> DisbursementForm:
    form = await session.get(DisbursementForm, form_id)
    if form is None or not actor.can_see(form.district_code):
        raise NotFound(f"发放审批单 {form_id} 不存在。")
    return form


async def form_payments(session: AsyncSession, form_id: int) -> list[Payment]:
    rows = await session.scalars(
        select(Payment).where(Payment.form_id == form_id).order_by(col(Payment.id))
    )
    return list(rows)


async def form_signatures(
    session: AsyncSession, form_id: int
) -> list[DisbursementSignature]:
    rows = await session.scalars(
        select(DisbursementSignature)
        .where(DisbursementSignature.form_id == form_id)
        .order_by(col(DisbursementSignature.id))
    )
    return list(rows)


async def sign_form(
    session: AsyncSession,
    form: DisbursementForm,
    *,
    actor: Principal,
    now: dt.datetime,
    payload_sha256: str,
) -> DisbursementSignature:
    """One of the three signatures; the signer names the digest they read."""
    if actor.role not in DISTRICT_ROLES:
        raise PermissionDenied("只有经办人、社会救助分管领导和财务分管领导可以签批。")
    if form.status != FormStatus.OPEN:
        raise SignatureRefused("该发放审批单已签批完毕。", current_status=form.status)

    payments = await form_payments(session, pk(form))
    current = payload_digest(payments)
    if payload_sha256 != current or current != form.payload_sha256:
        raise PayloadChanged(
            "发放审批单内容与您核对的内容不一致，请重新核对后签批。",
            payload_sha256=current,
        )
    existing = await form_signatures(session, pk(form))
    if any(s.signer == actor.subject for s in existing):
        raise SignatureRefused("同一人只能在发放审批单上签批一次（须三人分别签批）。")
    if any(s.signer_role == actor.role for s in existing):
        raise SignatureRefused(f"{ROLE_TITLES_ZH[actor.role]}已签批。")

    # The form's version serialises its signers: of two leaders signing at
    # once, one wins and the other is asked to retry, so the third signature
    # always sees the other two and completes the form.
    complete = len(existing) + 1 == len(SIGNER_ROLES)
    await compare_and_set(
        session,
        form,
        status=(FormStatus.SIGNED if complete else FormStatus.OPEN).value,
    )
    signature = DisbursementSignature(
        form_id=pk(form),
        signer=actor.subject,
        signer_name=actor.display_name,
        signer_role=actor.role.value,
        payload_sha256=current,
        signed_at=now,
    )
    session.add(signature)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise SignatureRefused(f"{ROLE_TITLES_ZH[actor.role]}已签批。") from exc

    if complete:
        for payment in payments:
            payment.status = PaymentStatus.SIGNED.value
            payment.version += 1
    await audit.record(
        session,
        actor=actor,
        at=now,
        action="disbursement_form.sign",
        entity_type="disbursement_form",
        entity_id=pk(form),
        from_status=FormStatus.OPEN.value,
        to_status=form.status,
        details={"role": actor.role.value, "payload_sha256": current},
        event_type="disbursement_form.signed" if complete else None,
        entity_version=form.version,
        payload={"id": pk(form), "status": form.status},
    )
    return signature


class SignaturesVoid(Conflict):
    code = "signatures_void"


async def _require_signatures_hold(session: AsyncSession, form_id: int) -> None:
    """A signature binds the payees and amounts it saw: any change voids it.

    Nothing in the service edits a signed form's payments; this catches a
    change made outside it before any money moves.
    """
    current = payload_digest(await form_payments(session, form_id))
    signed = {s.payload_sha256 for s in await form_signatures(session, form_id)}
    if signed != {current}:
        raise SignaturesVoid(
            f"发放审批单 {form_id} 的收款人或金额在签批后发生了变化，签批作废，"
            "不能生成代发批次；请核查后重新制作并签批。",
            form_id=form_id,
        )


@dataclass(frozen=True, slots=True)
class BuiltBatch:
    batch: PayoutBatch
    lines: list[PayoutBatchLine]


def payment_reference(payment_id: int) -> str:
    """The reference a bank file carries and the bank's results echo back."""
    return f"P{payment_id:08d}"


def _payout_line(line_no: int, payment: Payment, amount_fen: int) -> PayoutLine:
    return PayoutLine(
        line_no=line_no,
        reference=payment_reference(pk(payment)),
        payee_name=payment.payee_name,
        bank_name=payment.bank_name,
        account_no=payment.account_no,
        amount=Money(amount_fen),
        purpose="临时救助金",
    )


async def _payout_lines(session: AsyncSession, batch_id: int) -> list[PayoutLine]:
    rows = await session.execute(
        select(PayoutBatchLine, Payment)
        .join(Payment, col(Payment.id) == PayoutBatchLine.payment_id)
        .where(PayoutBatchLine.batch_id == batch_id)
        .order_by(col(PayoutBatchLine.line_no))
    )
    return [
        _payout_line(line.line_no, payment, line.amount_fen) for line, payment in rows
    ]


def _require_fit_for(template: str, payments: Sequence[Payment]) -> None:
    """Every payee fits the bank's file before the batch is released.

    A name the file's encoding cannot hold would reach the bank as ``?`` and
    fail or, worse, be paid to a near match; such a batch is not built.
    """
    lines = [
        _payout_line(number, payment, payment.amount_fen)
        for number, payment in enumerate(payments, start=1)
    ]
    try:
        check_lines(template, lines)
    except BankFileError as exc:
        by_line = {number: pk(p) for number, p in enumerate(payments, start=1)}
        raise PayeeTextUnfit(
            f"{exc}批次未生成。",
            template=template,
            problems=[
                {**problem.as_dict(), "payment_id": by_line[problem.line_no]}
                for problem in exc.problems
            ],
        ) from exc


async def build_batch(
    session: AsyncSession,
    *,
    actor: Principal,
    now: dt.datetime,
    template: str = "generic_csv",
) -> BuiltBatch:
    """Put every signed payment of the caller's district into one new batch."""
    if actor.role not in (Role.DISTRICT_OFFICER, Role.DISTRICT_FINANCE_LEADER):
        raise PermissionDenied("只有区民政局经办人或财务分管领导可以生成代发批次。")
    if template not in TEMPLATES:
        raise InvalidInput(f"未知的代发文件模板：{template}。", field="template")
    district = _district_of(actor)
    payments = list(
        await session.scalars(
            select(Payment)
            .join(DisbursementForm, col(DisbursementForm.id) == Payment.form_id)
            .where(
                DisbursementForm.district_code == district,
                Payment.status == PaymentStatus.SIGNED.value,
            )
            .order_by(col(Payment.id))
            .with_for_update()
        )
    )
    if not payments:
        raise NothingToPay("没有已签批待发放的款项。")
    # The join above keeps only payments on a form (the district's).
    for form_id in sorted({p.form_id for p in payments if p.form_id is not None}):
        await _require_signatures_hold(session, form_id)
    _require_fit_for(template, payments)

    batch = PayoutBatch(
        district_code=district,
        status=BatchStatus.READY.value,
        template=template,
        line_count=len(payments),
        total_fen=sum(p.amount_fen for p in payments),
        file_sha256="",
        created_by=actor.subject,
        created_at=now,
    )
    session.add(batch)
    await session.flush()
    lines = [
        PayoutBatchLine(
            batch_id=pk(batch),
            payment_id=pk(payment),
            line_no=number,
            amount_fen=payment.amount_fen,
        )
        for number, payment in enumerate(payments, start=1)
    ]
    session.add_all(lines)
    for payment in payments:
        payment.status = PaymentStatus.IN_BATCH.value
        payment.version += 1
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("有款项已在其他代发批次中，请刷新后重试。") from exc

    content = TEMPLATES[template].render(
        batch_id=pk(batch), lines=await _payout_lines(session, pk(batch))
    )
    batch.file_sha256 = hashlib.sha256(content).hexdigest()
    await audit.record(
        session,
        actor=actor,
        at=now,
        action="payout_batch.build",
        entity_type="payout_batch",
        entity_id=pk(batch),
        to_status=batch.status,
        details={
            "lines": batch.line_count,
            "total": str(Money(batch.total_fen)),
            "sha256": batch.file_sha256,
        },
        event_type="payout_batch.built",
        entity_version=batch.version,
        payload={
            "id": pk(batch),
            "lines": batch.line_count,
            "total": str(Money(batch.total_fen)),
        },
    )
    return BuiltBatch(batch, lines)


async def load_batch(
    session: AsyncSession, actor: Principal, batch_id: int
) -> PayoutBatch:
    batch = await session.get(PayoutBatch, batch_id)
    if batch is None or not actor.can_see(batch.district_code):
        raise NotFound(f"代发批次 {batch_id} 不存在。")
    return batch


_RESULT_TITLES_ZH = {"success": "成功", "failed": "失败", None: "待回盘"}


async def batch_report(session: AsyncSession, batch: PayoutBatch) -> bytes:
    """The finance office's XLSX report of one batch; it reconciles to the fen."""
    rows = await session.execute(
        select(PayoutBatchLine, Payment)
        .join(Payment, col(Payment.id) == PayoutBatchLine.payment_id)
        .where(PayoutBatchLine.batch_id == pk(batch))
        .order_by(col(PayoutBatchLine.line_no))
    )
    lines = [
        batch_report_adapter.ReportLine(
            line_no=line.line_no,
            reference=payment_reference(pk(payment)),
            application_id=payment.application_id,
            payee_name=payment.payee_name,
            bank_name=payment.bank_name,
            account_masked=mask_account(payment.account_no),
            amount=Money(line.amount_fen),
            result=_RESULT_TITLES_ZH[line.result],
            reason=line.result_reason
            or (
                FAILURE_TITLES_ZH[FailureCode(line.result_code)]
                if line.result_code
                else ""
            ),
        )
        for line, payment in rows
    ]
    summary = batch_report_adapter.totals(Money(batch.total_fen), lines)
    return batch_report_adapter.render(
        batch_id=pk(batch),
        district=batch.district_code,
        built_at=batch.created_at.astimezone(CHINA_TZ),
        status_title=BATCH_STATUS_TITLES_ZH[BatchStatus(batch.status)],
        lines=lines,
        summary=summary,
    )


async def batch_lines(session: AsyncSession, batch_id: int) -> list[PayoutBatchLine]:
    rows = await session.scalars(
        select(PayoutBatchLine)
        .where(PayoutBatchLine.batch_id == batch_id)
        .order_by(col(PayoutBatchLine.line_no))
    )
    return list(rows)


async def batch_file(session: AsyncSession, batch: PayoutBatch) -> bytes:
    """The batch's file, re-rendered and proven equal to what was recorded."""
    content = TEMPLATES[batch.template].render(
        batch_id=pk(batch), lines=await _payout_lines(session, pk(batch))
    )
    if hashlib.sha256(content).hexdigest() != batch.file_sha256:
        raise Conflict("代发文件校验失败：内容与生成时记录的摘要不一致。")
    return content


async def acknowledge(
    session: AsyncSession, batch: PayoutBatch, *, actor: Principal, now: dt.datetime
) -> None:
    if batch.status != BatchStatus.READY:
        return  # acknowledging twice, or after results, changes nothing
    await compare_and_set(
        session, batch, status=BatchStatus.ACKNOWLEDGED.value, acknowledged_at=now
    )
    await audit.record(
        session,
        actor=actor,
        at=now,
        action="payout_batch.acknowledge",
        entity_type="payout_batch",
        entity_id=pk(batch),
        from_status=BatchStatus.READY.value,
        to_status=batch.status,
    )


@dataclass(frozen=True, slots=True)
class ResultLine:
    line_no: int
    reference: str
    amount: Money
    success: bool
    reason: str | None
    code: FailureCode | None = None


@dataclass(frozen=True, slots=True)
class ResultSummary:
    applied: int
    unchanged: int
    paid_total: Money
    failed: int


async def record_results(
    session: AsyncSession,
    batch: PayoutBatch,
    *,
    actor: Principal,
    now: dt.datetime,
    results: Sequence[ResultLine],
) -> ResultSummary:
    """Apply the bank's per-line results; sending the same results again is a no-op.

    Every line is checked before any is applied, so a file with one bad line
    changes nothing and the bank is told which line to correct.
    """
    lines = {line.line_no: line for line in await batch_lines(session, pk(batch))}
    payments = {
        pk(p): p
        for p in await session.scalars(
            select(Payment).where(
                col(Payment.id).in_([line.payment_id for line in lines.values()])
            )
        )
    }
    errors: list[dict[str, object]] = []
    seen: set[int] = set()
    for result in results:
        line = lines.get(result.line_no)
        if result.line_no in seen:
            errors.append(
                {"line_no": result.line_no, "error": "同一行在结果中重复出现"}
            )
        elif line is None or payment_reference(line.payment_id) != result.reference:
            errors.append(
                {"line_no": result.line_no, "error": "与批次中的任何款项都不匹配"}
            )
        elif line.amount_fen != result.amount.fen:
            errors.append(
                {
                    "line_no": result.line_no,
                    "error": f"金额不符：批次为 {Money(line.amount_fen)} 元",
                }
            )
        elif line.result is not None and line.result != _outcome(result):
            errors.append({"line_no": result.line_no, "error": "与已登记的结果矛盾"})
        elif not result.success and result.code is None:
            errors.append(
                {"line_no": result.line_no, "error": "失败的款项须注明原因代码"}
            )
        seen.add(result.line_no)
    if errors:
        first = errors[0]
        raise ResultRejected(
            f"第 {first['line_no']} 行：{first['error']}。"
            "整份结果未登记，请更正后重新上传。",
            lines=errors,
        )

    # Results imply receipt; the batch's version also stops two uploads of
    # the same results from both applying them.
    await compare_and_set(
        session,
        batch,
        status=BatchStatus.ACKNOWLEDGED.value
        if batch.status == BatchStatus.READY
        else batch.status,
        acknowledged_at=batch.acknowledged_at or now,
    )
    applied = unchanged = failed = 0
    paid = Money.zero()
    for result in results:
        line = lines[result.line_no]
        if line.result is not None:
            unchanged += 1
            continue
        payment = payments[line.payment_id]
        line.result = _outcome(result)
        line.result_reason = result.reason
        line.result_at = now
        payment.version += 1
        if result.success:
            payment.status = PaymentStatus.PAID.value
            payment.paid_at = now
            paid += result.amount
            application = await session.get(Application, payment.application_id)
            if application is None:
                raise NotFound(f"款项 {pk(payment)} 对应的申请不存在。")
            await transition(
                session,
                application,
                Action.MARK_PAID,
                actor=actor,
                now=now,
                details={"payment_id": pk(payment), "batch_id": pk(batch)},
            )
        else:
            failed += 1
            # The failed payment stays as it was signed, as history; the case
            # still awaits payment and, once the household's account is
            # corrected, goes on a new form whose three signatures bind the
            # new account, and from there into a new batch.
            line.live = False
            line.result_code = payment.failure_code = result.code
            payment.status = PaymentStatus.FAILED.value
            payment.failure_reason = result.reason or (
                FAILURE_TITLES_ZH[result.code] if result.code else None
            )
        applied += 1

    if all(line.result is not None for line in lines.values()):
        batch.status = BatchStatus.RECONCILED.value
        batch.reconciled_at = batch.reconciled_at or now
    if applied:
        await audit.record(
            session,
            actor=actor,
            at=now,
            action="payout_batch.results",
            entity_type="payout_batch",
            entity_id=pk(batch),
            to_status=batch.status,
            details={"applied": applied, "failed": failed, "paid_total": str(paid)},
            event_type="payout_batch.results",
            entity_version=batch.version,
            payload={"id": pk(batch), "status": batch.status, "paid_total": str(paid)},
        )
    await session.flush()
    return ResultSummary(
        applied=applied, unchanged=unchanged, paid_total=paid, failed=failed
    )


def _outcome(result: ResultLine) -> str:
    return "success" if result.success else "failed"
