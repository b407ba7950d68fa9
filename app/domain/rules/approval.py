"""R3.5: which office approves a grant."""

from __future__ import annotations

from enum import StrEnum

from app.domain.caps import RuleResult
from app.domain.money import Money
from app.domain.rules.facts import PolicyParameters, Pool


class ApprovalLevel(StrEnum):
    STREET = "street"  # 街道受区民政局委托审批发放，报区备案
    DISTRICT = "district"  # 区民政局（救急难：区帮扶救助中心）审批


def approval_level(
    *, amount: Money, pool: Pool, amount_is_proposed: bool, parameters: PolicyParameters
) -> tuple[ApprovalLevel, RuleResult]:
    """The street up to the limit (inclusive), the district above it.

    A 救急难 case is always the district's: the notice gives it to the
    district assistance centre, and the street's delegation covers ordinary
    temporary assistance only. The result always passes; it routes the case
    and refuses nothing. ``amount_is_proposed`` says whether ``amount`` is
    the case's own amount or, in a what-if, the largest amount allowed.
    """
    limit_version = parameters.street_approval_limit
    limit = limit_version.as_money()
    subject = "本次金额" if amount_is_proposed else "可批准的最高金额"
    inputs = {
        "amount": str(amount),
        "amount_is_proposed": "true" if amount_is_proposed else "false",
        "street_approval_limit": str(limit),
        "pool": pool.value,
    }

    if pool is Pool.JIJINAN:
        return ApprovalLevel.DISTRICT, RuleResult(
            "R3.5",
            True,
            f"救急难案件由区帮扶救助中心一事一议，{subject} {amount.grouped()} 元，"
            "由区级审批。",
            inputs,
            (limit_version,),
        )

    if amount.fen == 0 and not amount_is_proposed:
        # Nothing can be granted now, so no office has anything to approve.
        return ApprovalLevel.STREET, RuleResult(
            "R3.5",
            True,
            "当前可批准的金额为 0.00 元，不涉及审批层级。",
            inputs,
            (limit_version,),
        )

    street = amount.fen <= limit.fen
    level = ApprovalLevel.STREET if street else ApprovalLevel.DISTRICT
    verdict = (
        f"不超过街道审批限额 {limit.grouped()} 元（含），由街道受区民政局委托审批"
        "并发放，报区民政局备案。"
        if street
        else f"超过街道审批限额 {limit.grouped()} 元，报区民政局审批。"
    )
    return level, RuleResult(
        "R3.5",
        True,
        f"{subject} {amount.grouped()} 元，{verdict}",
        inputs,
        (limit_version,),
    )
