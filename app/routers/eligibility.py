"""What-if: what a household can still get now, and why. Changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from pydantic import Field, model_validator

from app.api_types import InputModel, MoneyStr, OutputModel, RowId
from app.clock import local_date
from app.deps import Authorized, NowDep, SessionDep
from app.domain.eligibility import DepartmentShare
from app.errors import InvalidInput, problem_responses
from app.persistence.tables import pk
from app.routers.applications import CaseFacts, DepartmentShareIn
from app.workflow.applications import load_application
from app.workflow.eligibility import CaseDraft, evaluate_case
from app.workflow.households import load_household, members_of

router = APIRouter(prefix="/api/v1/eligibility", tags=["eligibility"])


class WhatIf(InputModel):
    """Either a saved application, or a household with the facts of a case."""

    application_id: RowId | None = None
    household_id: RowId | None = None
    case: CaseFacts | None = Field(
        default=None, description="Required with household_id."
    )
    amount: MoneyStr | None = Field(
        default=None, description="A trial amount; omit to ask for the limits."
    )
    monthly_income_per_capita: MoneyStr | None = Field(
        default=None,
        description="Overrides the investigation's finding (R1.3).",
    )
    departments: list[DepartmentShareIn] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _one_subject(self) -> WhatIf:
        if (self.application_id is None) == (self.household_id is None):
            raise ValueError("须且只须提供 application_id 或 household_id 之一")
        if self.household_id is not None and self.case is None:
            raise ValueError("按家庭评估时须填写 case（救助类型、事由等）")
        if self.application_id is not None and self.case is not None:
            raise ValueError("按申请评估时使用申请中的信息，不能另填 case")
        return self


class EvaluationPublic(OutputModel):
    eligible: bool
    allowed_max: MoneyStr
    approval_level: str
    decision_date: dt.date
    failed_rules: list[str]
    sentences: list[str] = Field(description="The explanation, to be read out.")
    explanation: dict[str, Any]


@router.post(
    "/evaluate",
    summary="What-if: the policy's verdict and limits for a case, now",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def evaluate(
    body: WhatIf, principal: Authorized, session: SessionDep, at: NowDep
) -> EvaluationPublic:
    if body.application_id is not None:
        application = await load_application(session, principal, body.application_id)
        household = await load_household(session, principal, application.household_id)
        draft = CaseDraft.of(application)
    else:
        household_id, facts = body.household_id, body.case
        if household_id is None or facts is None:  # excluded by WhatIf's validator
            raise InvalidInput("须提供 household_id 和 case。", field="case")
        household = await load_household(session, principal, household_id)
        members = await members_of(session, household_id)
        if facts.patient_member_id is not None and facts.patient_member_id not in {
            pk(m) for m in members
        }:
            raise InvalidInput("患病成员须是本家庭的成员。", field="patient_member_id")
        if facts.diagnosed_on is not None and facts.diagnosed_on > local_date(at):
            raise InvalidInput("确诊日期不能晚于今天。", field="diagnosed_on")
        draft = CaseDraft(
            region_code=household.region_code,
            household_size=len(members),
            assistance_type=facts.assistance_type,
            reason=facts.reason,
            disease=facts.disease,
            patient_member_id=facts.patient_member_id,
            diagnosed_on=facts.diagnosed_on,
            district_recognition=facts.district_recognition,
            pool=facts.pool,
            special_programme=facts.special_programme,
        )

    evaluation = await evaluate_case(
        session,
        draft,
        household,
        amount=body.amount,
        on=local_date(at),
        income=body.monthly_income_per_capita,
        departments=[
            DepartmentShare(department=d.department, amount=d.amount)
            for d in body.departments
        ],
    )
    return EvaluationPublic(
        eligible=evaluation.eligible,
        allowed_max=evaluation.allowed_max,
        approval_level=evaluation.approval_level.value,
        decision_date=evaluation.decision_date,
        failed_rules=evaluation.failed_rules,
        sentences=evaluation.sentences(),
        explanation=evaluation.to_dict(),
    )
