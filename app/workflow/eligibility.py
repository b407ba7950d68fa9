"""The policy engine fed from the database, for decisions and what-ifs alike.

``evaluate_case`` is the one way the workflow asks the rules: the street's
opinion, the district's approval and the what-if endpoint all come through
it with the same facts, so a what-if's answer is the approval's answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.catalog import AssistanceType, Disease, HouseholdCategory, Reason
from app.domain.eligibility import (
    ApplicationFacts,
    DepartmentShare,
    Evaluation,
    HouseholdFacts,
    InconsistentFactsError,
    Member,
    MissingParameterError,
    Pool,
    SpecialProgramme,
    evaluate,
    policy_parameters,
)
from app.domain.money import Money
from app.errors import CapExceeded, InvalidInput, PolicyViolation
from app.persistence.tables import (
    Application,
    EconomicCheck,
    Household,
    Investigation,
    pk,
)
from app.workflow.households import members_of
from app.workflow.policy_inputs import (
    ParameterMissing,
    parameter_versions,
    prior_grants,
)

_CAP_RULES = frozenset({"R2.2", "R2.3"})


class NotEligible(PolicyViolation):
    code = "not_eligible"
    title = "Not eligible under the policy"


@dataclass(frozen=True, slots=True)
class CaseDraft:
    """An application's policy facts, saved or not yet (a what-if)."""

    region_code: str
    household_size: int
    assistance_type: AssistanceType
    reason: Reason
    disease: Disease | None = None
    patient_member_id: int | None = None
    diagnosed_on: dt.date | None = None
    district_recognition: str | None = None
    pool: Pool = Pool.ORDINARY
    special_programme: SpecialProgramme | None = None
    application_id: int | None = None

    @classmethod
    def of(cls, application: Application) -> CaseDraft:
        return cls(
            region_code=application.region_code,
            household_size=application.household_size,
            assistance_type=AssistanceType(application.assistance_type),
            reason=Reason(application.reason),
            disease=None
            if application.disease is None
            else Disease(application.disease),
            patient_member_id=application.patient_member_id,
            diagnosed_on=application.diagnosed_on,
            district_recognition=application.district_recognition,
            pool=Pool(application.pool),
            special_programme=None
            if application.special_programme is None
            else SpecialProgramme(application.special_programme),
            application_id=application.id,
        )


async def latest_income(session: AsyncSession, application_id: int) -> Money | None:
    """R1.3's income: the completed economic-status check's figure where one
    exists (official data outweighs what the household declared), else the
    latest investigation's."""
    checked = await session.scalar(
        select(EconomicCheck.monthly_income_fen)
        .where(
            EconomicCheck.application_id == application_id,
            EconomicCheck.status == "completed",
            col(EconomicCheck.monthly_income_fen).is_not(None),
        )
        .order_by(col(EconomicCheck.id).desc())
        .limit(1)
    )
    if checked is not None:
        return Money(checked)
    found = await session.scalar(
        select(Investigation.monthly_income_fen)
        .where(Investigation.application_id == application_id)
        .order_by(col(Investigation.id).desc())
        .limit(1)
    )
    return None if found is None else Money(found)


async def evaluate_case(
    session: AsyncSession,
    draft: CaseDraft,
    household: Household,
    *,
    amount: Money | None,
    on: dt.date,
    income: Money | None = None,
    departments: Sequence[DepartmentShare] = (),
    shares_due: bool = False,
) -> Evaluation:
    """Every rule for this case on ``on``; ``amount=None`` asks for the limits.

    ``income`` defaults to the latest investigation's finding. ``shares_due``
    is set by the district's approval, the one step that must record the
    departments' shares of a 救急难 grant.
    """
    try:
        parameters = policy_parameters(
            await parameter_versions(session, draft.region_code),
            region_code=draft.region_code,
            area_type=household.area_type,
            on=on,
        )
    except MissingParameterError as exc:
        raise ParameterMissing(exc.name, on) from exc

    if income is None and draft.application_id is not None:
        income = await latest_income(session, draft.application_id)
    members = await members_of(session, pk(household))
    try:
        household_facts = HouseholdFacts(
            members=tuple(Member(str(pk(m)), m.birth_date) for m in members),
            category=HouseholdCategory(household.category),
            category_valid_from=household.category_valid_from,
            category_valid_until=household.category_valid_until,
            monthly_income_per_capita=income,
        )
        application_facts = ApplicationFacts(
            assistance_type=draft.assistance_type,
            reason=draft.reason,
            decision_date=on,
            region_code=draft.region_code,
            household_size=draft.household_size,
            amount=amount,
            disease=draft.disease,
            patient=None
            if draft.patient_member_id is None
            else str(draft.patient_member_id),
            diagnosed_on=draft.diagnosed_on,
            district_recognition=draft.district_recognition,
            pool=draft.pool,
            special_programme=draft.special_programme,
            departments=tuple(departments),
            shares_due=shares_due,
        )
    except InconsistentFactsError as exc:
        raise InvalidInput(
            "申请信息相互矛盾，无法评估，请核对救助类型、事由、病种和救急难信息。",
            reason=str(exc),
        ) from exc

    return evaluate(
        household=household_facts,
        application=application_facts,
        prior_grants=await prior_grants(
            session, pk(household), exclude_application_id=draft.application_id
        ),
        parameters=parameters,
    )


def refusal(evaluation: Evaluation) -> PolicyViolation:
    """The 422 a clerk sees: the failed rules in words, and what is still possible."""
    failed = [r for r in evaluation.results if not r.passed]
    caps_only = {r.rule for r in failed} <= _CAP_RULES
    error = CapExceeded if caps_only else NotEligible
    lead = "金额超过政策上限：" if caps_only else "不符合救助条件："
    return error(
        lead
        + "".join(r.message_zh for r in failed)
        + f"本次最多可批准 {evaluation.allowed_max.grouped()} 元。",
        allowed_max=str(evaluation.allowed_max),
        failed_rules=evaluation.failed_rules,
        explanation=evaluation.to_dict(),
    )
