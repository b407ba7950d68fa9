"""Documents the procedure hands to people, assembled from the case record.

The written refusal (不予救助书面说明, R3.2 and R3.4) is issued by the street
on the district's behalf; it states the clerk's reasons and the rules of the
policy that the case does not meet, in the words of the stored explanation.
TODO: printable PDF renderings (public notices and documents work).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.api_types import LocalDateTime, OutputModel
from app.domain.catalog import REASON_TITLES_ZH, Reason
from app.domain.regions import RegionLevel, ancestor_at
from app.errors import Conflict
from app.persistence.tables import Application, Decision, HouseholdMember, Region, pk
from app.workflow.states import ApplicationStatus


class RefusalNotice(OutputModel):
    title: str
    application_id: int
    applicant_name: str
    reason_title: str
    stage: str
    reasons: str
    rules_not_met: list[str]
    issued_by: str
    on_behalf_of: str
    decided_at: LocalDateTime
    remedy: str


class NotRefused(Conflict):
    code = "not_refused"


async def build_refusal_notice(
    session: AsyncSession, application: Application
) -> RefusalNotice:
    if application.status != ApplicationStatus.REFUSED:
        raise NotRefused("该申请未被拒绝，没有不予救助书面说明。")
    decision = await session.scalar(
        select(Decision)
        .where(
            Decision.application_id == pk(application), Decision.outcome == "refused"
        )
        .order_by(col(Decision.id).desc())
        .limit(1)
    )
    if decision is None:
        raise NotRefused("未找到不予救助的决定记录。")
    applicant = await session.scalar(
        select(HouseholdMember).where(
            HouseholdMember.household_id == application.household_id,
            col(HouseholdMember.is_applicant),
        )
    )
    street = await session.get(
        Region, ancestor_at(application.region_code, RegionLevel.STREET)
    )
    district = await session.get(
        Region, ancestor_at(application.region_code, RegionLevel.DISTRICT)
    )
    rules = decision.explanation.get("rules", [])
    return RefusalNotice(
        title="不予救助书面说明",
        application_id=pk(application),
        applicant_name=applicant.name if applicant else "",
        reason_title=REASON_TITLES_ZH[Reason(application.reason)],
        stage=decision.stage,
        reasons=decision.reasons,
        rules_not_met=[r["message"] for r in rules if not r.get("passed", True)],
        issued_by=street.name if street else "",
        on_behalf_of=f"{district.name}民政局" if district else "",
        decided_at=decision.decided_at,
        remedy="如对本决定有异议，可自收到本说明之日起向区民政局申请复核；"
        "情况发生变化的，可重新提出申请。",
    )
