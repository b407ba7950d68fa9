"""Payout batches for the entrusted bank, and the bank's results."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, File, Response, UploadFile
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.adapters import bank_results, batch_report
from app.adapters.bank_files import TEMPLATES
from app.api_types import InputModel, LocalDateTime, MoneyStr, OutputModel, PathId
from app.auth.principal import Principal
from app.deps import Authorized, NowDep, SessionDep
from app.domain.money import Money
from app.errors import PayloadTooLarge, problem_responses
from app.persistence.tables import PayoutBatch, pk
from app.workflow import payouts as flow
from app.workflow.states import BatchStatus

router = APIRouter(prefix="/api/v1/payout-batches", tags=["payouts"])


class BatchCreate(InputModel):
    template: str = Field(
        default="generic_csv",
        examples=["generic_csv"],
        description="One of GET /api/v1/payout-batches/templates.",
    )


class BatchLinePublic(OutputModel):
    line_no: int
    payment_id: int
    amount: MoneyStr
    result: str | None
    result_code: flow.FailureCode | None
    result_reason: str | None


class BatchPublic(OutputModel):
    id: int
    district_code: str
    status: BatchStatus
    template: str
    line_count: int
    total: MoneyStr
    file_sha256: str
    created_at: LocalDateTime
    acknowledged_at: LocalDateTime | None
    reconciled_at: LocalDateTime | None
    lines: list[BatchLinePublic]


async def batch_public(session: AsyncSession, batch: PayoutBatch) -> BatchPublic:
    lines = await flow.batch_lines(session, pk(batch))
    return BatchPublic(
        id=pk(batch),
        district_code=batch.district_code,
        status=BatchStatus(batch.status),
        template=batch.template,
        line_count=batch.line_count,
        total=Money(batch.total_fen),
        file_sha256=batch.file_sha256,
        created_at=batch.created_at,
        acknowledged_at=batch.acknowledged_at,
        reconciled_at=batch.reconciled_at,
        lines=[
            BatchLinePublic(
                line_no=line.line_no,
                payment_id=line.payment_id,
                amount=Money(line.amount_fen),
                result=line.result,
                result_code=None
                if line.result_code is None
                else flow.FailureCode(line.result_code),
                result_reason=line.result_reason,
            )
            for line in lines
        ],
    )


@router.post(
    "",
    status_code=201,
    summary="Build a batch from every signed payment of the district",
    responses=problem_responses(401, 403, 409, 422),
)
async def build_batch(
    body: BatchCreate, principal: Authorized, session: SessionDep, at: NowDep
) -> BatchPublic:
    built = await flow.build_batch(
        session, actor=principal, now=at, template=body.template
    )
    return await batch_public(session, built.batch)


@router.get(
    "",
    summary="List payout batches (the bank sees those of its district)",
    responses=problem_responses(401, 403),
)
async def list_batches(
    principal: Authorized, session: SessionDep, status: BatchStatus | None = None
) -> list[BatchPublic]:
    query = select(PayoutBatch).where(
        col(PayoutBatch.district_code).startswith(principal.scope_prefix)
    )
    if status is not None:
        query = query.where(PayoutBatch.status == status.value)
    rows = await session.scalars(query.order_by(col(PayoutBatch.id).desc()).limit(200))
    return [await batch_public(session, b) for b in rows]


class TemplatePublic(OutputModel):
    name: str
    title: str
    extension: str
    media_type: str


@router.get(
    "/templates",
    summary="The bank file templates a batch can be built with",
    responses=problem_responses(401, 403),
)
async def list_templates(principal: Authorized) -> list[TemplatePublic]:
    return [
        TemplatePublic(
            name=t.name,
            title=t.title_zh,
            extension=t.extension,
            media_type=t.media_type,
        )
        for t in TEMPLATES.values()
    ]


@router.get(
    "/{batch_id}",
    summary="One payout batch with its lines",
    responses=problem_responses(401, 403, 404),
)
async def get_batch(
    batch_id: PathId, principal: Authorized, session: SessionDep
) -> BatchPublic:
    return await batch_public(
        session, await flow.load_batch(session, principal, batch_id)
    )


@router.get(
    "/{batch_id}/file",
    summary="Download the batch's bank file (the bank only)",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The bank file."},
        **problem_responses(401, 403, 404, 409),
    },
)
async def download_file(
    batch_id: PathId, principal: Authorized, session: SessionDep
) -> Response:
    """Only the bank: the file carries full account numbers, which nothing
    else the service answers does."""
    batch = await flow.load_batch(session, principal, batch_id)
    template = TEMPLATES[batch.template]
    content = await flow.batch_file(session, batch)
    return Response(
        content=content,
        media_type=template.media_type,
        headers={
            "Content-Disposition": (
                f'attachment; filename="payout-batch-{pk(batch)}.{template.extension}"'
            ),
            "X-Content-SHA256": batch.file_sha256,
        },
    )


@router.get(
    "/{batch_id}/report",
    summary="The batch report for the finance office (XLSX)",
    response_class=Response,
    responses={
        200: {
            "content": {batch_report.MEDIA_TYPE: {}},
            "description": "Lines with their results; paid, failed and pending "
            "reconcile to the batch total.",
        },
        **problem_responses(401, 403, 404),
    },
)
async def download_report(
    batch_id: PathId, principal: Authorized, session: SessionDep
) -> Response:
    batch = await flow.load_batch(session, principal, batch_id)
    content = await flow.batch_report(session, batch)
    return Response(
        content=content,
        media_type=batch_report.MEDIA_TYPE,
        headers={
            "Content-Disposition": (
                f'attachment; filename="payout-batch-{pk(batch)}-report.xlsx"'
            )
        },
    )


@router.post(
    "/{batch_id}/acknowledgement",
    summary="The bank confirms it received the batch",
    responses=problem_responses(401, 403, 404),
)
async def acknowledge(
    batch_id: PathId, principal: Authorized, session: SessionDep, at: NowDep
) -> BatchPublic:
    batch = await flow.load_batch(session, principal, batch_id)
    await flow.acknowledge(session, batch, actor=principal, now=at)
    return await batch_public(session, batch)


class ResultLineIn(InputModel):
    line_no: int = Field(ge=1, le=1_000_000)
    reference: str = Field(pattern=r"^P[0-9]{8,}$")
    amount: MoneyStr
    result: Literal["success", "failed"]
    reason_code: flow.FailureCode | None = Field(
        default=None, description="Required for a failed line."
    )
    reason: str | None = Field(default=None, max_length=255)


class ResultUpload(InputModel):
    lines: list[ResultLineIn] = Field(min_length=1, max_length=100_000)


class ResultSummaryPublic(OutputModel):
    applied: int
    unchanged: int
    failed: int
    paid_total: MoneyStr
    batch: BatchPublic


@router.post(
    "/{batch_id}/results",
    summary="Upload the bank's per-line results",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def upload_results(
    batch_id: PathId,
    body: ResultUpload,
    principal: Authorized,
    session: SessionDep,
    at: NowDep,
) -> ResultSummaryPublic:
    batch = await flow.load_batch(session, principal, batch_id)
    results = [
        flow.ResultLine(
            line_no=line.line_no,
            reference=line.reference,
            amount=line.amount,
            success=line.result == "success",
            reason=line.reason,
            code=line.reason_code,
        )
        for line in body.lines
    ]
    return await _apply(session, batch, principal, at, results)


async def _apply(
    session: AsyncSession,
    batch: PayoutBatch,
    principal: Principal,
    at: dt.datetime,
    results: list[flow.ResultLine],
) -> ResultSummaryPublic:
    summary = await flow.record_results(
        session, batch, actor=principal, now=at, results=results
    )
    return ResultSummaryPublic(
        applied=summary.applied,
        unchanged=summary.unchanged,
        failed=summary.failed,
        paid_total=summary.paid_total,
        batch=await batch_public(session, batch),
    )


# A result file has one short row per payment; 10 MiB holds far more rows
# than a district's batch.
MAX_RESULT_FILE_BYTES = 10 * 1024 * 1024


@router.post(
    "/{batch_id}/results/file",
    summary="Upload the bank's result file (CSV, UTF-8 or GBK)",
    description=(
        "The same results as `POST /results`, as the bank's CSV file: a header "
        "row naming the columns (line_no/序号, reference/业务编号, amount/金额, "
        "result/结果 成功|失败|success|failed, reason_code/原因代码, "
        "reason/原因说明), in UTF-8 with or without BOM, or GBK. Uploading the "
        "same file again changes nothing."
    ),
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
async def upload_result_file(
    batch_id: PathId,
    file: Annotated[UploadFile, File(description="The bank's result CSV.")],
    principal: Authorized,
    session: SessionDep,
    at: NowDep,
) -> ResultSummaryPublic:
    batch = await flow.load_batch(session, principal, batch_id)
    content = await file.read(MAX_RESULT_FILE_BYTES + 1)
    if len(content) > MAX_RESULT_FILE_BYTES:
        raise PayloadTooLarge("结果文件超过 10 MiB。")
    try:
        rows = bank_results.parse(content)
    except bank_results.ResultFileError as exc:
        raise flow.ResultRejected(str(exc), lines=exc.rows) from exc

    unknown = [r for r in rows if r.reason_code and r.reason_code not in _CODES]
    if unknown:
        raise flow.ResultRejected(
            f"第 {unknown[0].line_no} 行：原因代码 {unknown[0].reason_code} 无法识别，"
            f"应为 {'、'.join(sorted(_CODES))} 之一。整份结果未登记。",
            lines=[
                {"line_no": r.line_no, "error": "原因代码无法识别"} for r in unknown
            ],
        )
    results = [
        flow.ResultLine(
            line_no=r.line_no,
            reference=r.reference,
            amount=r.amount,
            success=r.success,
            reason=r.reason,
            code=None if r.reason_code is None else flow.FailureCode(r.reason_code),
        )
        for r in rows
    ]
    return await _apply(session, batch, principal, at, results)


_CODES = {code.value for code in flow.FailureCode}
