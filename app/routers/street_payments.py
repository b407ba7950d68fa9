"""The street pays what it approved on the district's behalf (R3.5)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from app.api_types import InputModel
from app.routers.applications import (
    ACTION_ERRORS,
    ApplicationDetail,
    CaseActionDep,
)
from app.workflow import payouts as flow

router = APIRouter(prefix="/api/v1/applications", tags=["disbursement"])


class StreetPaymentCreate(InputModel):
    voucher_no: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[0-9A-Za-z\-/]+$",
        description="The street's payment voucher number (凭证号).",
        examples=["TX-2026-0318"],
    )


@router.post(
    "/{application_id}/street-payment",
    summary="Record the street's payment of a grant it approved (delegated)",
    description=(
        "Cash grants the street approved on the district's behalf (≤ the street "
        "approval limit, and 小额快救) are paid by the street, not put on the "
        "district's disbursement form. The amount is what remains after any "
        "advance; the payee is the household's bank account on file."
    ),
    responses=ACTION_ERRORS,
)
async def pay_by_street(
    case: CaseActionDep,
    body: StreetPaymentCreate,
) -> ApplicationDetail:
    await flow.pay_by_street(
        case.session,
        case.application,
        actor=case.principal,
        now=case.now,
        voucher_no=body.voucher_no,
    )
    return await case.detail()
