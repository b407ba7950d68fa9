"""The evaluation as a whole: what it returns, records and refuses to assume."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest

from app.domain.catalog import AssistanceType, Disease, HouseholdCategory, Reason
from app.domain.eligibility import (
    ApplicationFacts,
    ApprovalLevel,
    InconsistentFactsError,
    Member,
    MissingParameterError,
    policy_parameters,
)
from app.domain.money import Money
from app.domain.parameters import ParameterVersion
from tests.domain.builders import (
    COMMUNITY,
    DAY,
    application,
    grant,
    household,
    notice_versions,
    parameters_on,
    run,
    standard,
)


def _no_floats(value: Any) -> bool:
    if isinstance(value, float):
        return False
    if isinstance(value, dict):
        return all(_no_floats(v) for v in value.values())
    if isinstance(value, list):
        return all(_no_floats(v) for v in value)
    return True


def test_eligible_case_reports_amount_limit_level_and_every_rule() -> None:
    facts = household(category=HouseholdCategory.DIBAO_MARGINAL, income="1200.00")
    app = application(reason=Reason.MEDICAL, amount="4500.00")

    evaluation = run(app, facts=facts, grants=[grant(dt.date(2024, 1, 9), "1200.00")])

    assert evaluation.eligible
    assert evaluation.allowed_max == Money.parse("11700.00")
    assert evaluation.approval_level is ApprovalLevel.DISTRICT
    assert [r.rule for r in evaluation.results] == [
        "R1.2",
        "R1.3",
        "R2.1",
        "R2.2",
        "R2.3",
        "R2.4",
        "R3.5",
    ]
    assert evaluation.sentences()[4] == (
        "本年度（2024 年）已救助 1 次，人均累计 400.00 元，年度人均上限 "
        "12×650.00 = 7,800.00 元，尚余人均 7,400.00 元；本次人均 1,500.00 元，"
        "未超过年度上限。"
    )


def test_to_dict_is_json_with_strings_for_money_and_version_references() -> None:
    facts = household(
        members=[Member("child", dt.date(2015, 6, 1))], category=HouseholdCategory.NONE
    )
    app = application(
        reason=Reason.MAJOR_ILLNESS,
        disease=Disease.CHILD_CONGENITAL_HEART_DISEASE,
        patient="child",
        diagnosed_on=dt.date(2024, 4, 2),
        amount="800.00",
    )

    record = run(app, facts=facts).to_dict()

    assert json.loads(json.dumps(record)) == record
    assert _no_floats(record)
    assert record["eligible"] is True
    assert record["amount"] == "800.00"
    assert record["allowed_max"] == "11700.00"
    assert record["approval_level"] == "street"
    assert record["failed_rules"] == []
    assert [p["name"] for p in record["parameters"]] == [
        "child_age_limit",
        "dibao_standard.urban",
        "per_case_multiple",
        "annual_multiple",
        "max_same_reason_per_year",
        "year_window",
        "street_approval_limit",
    ]
    for entry in record["rules"]:
        assert set(entry) == {"rule", "passed", "message", "inputs", "parameters"}
        assert all(isinstance(v, str) for v in entry["inputs"].values())


def test_a_failed_eligibility_rule_leaves_nothing_to_grant() -> None:
    facts = household(category=HouseholdCategory.NONE)

    evaluation = run(application(reason=Reason.EDUCATION, amount="500.00"), facts=facts)

    assert not evaluation.eligible
    assert evaluation.failed_rules == ["R1.2"]
    assert evaluation.allowed_max == Money(0)


def test_an_amount_over_the_cap_keeps_the_largest_allowed_amount() -> None:
    evaluation = run(application(amount="20000.00"))

    assert not evaluation.eligible
    assert evaluation.failed_rules == ["R2.2"]
    assert evaluation.allowed_max == Money.parse("11700.00")


@pytest.mark.parametrize(
    ("kind", "reason", "extra"),
    [
        pytest.param(AssistanceType.EMERGENCY, Reason.EDUCATION, {}, id="wrong-type"),
        pytest.param(
            AssistanceType.EMERGENCY,
            Reason.ACCIDENT,
            {"disease": Disease.BREAST_CANCER},
            id="disease-on-accident",
        ),
        pytest.param(
            AssistanceType.EMERGENCY, Reason.ACCIDENT, {"household_size": 0}, id="N0"
        ),
        pytest.param(
            AssistanceType.EMERGENCY,
            Reason.ACCIDENT,
            {"amount": Money(-1)},
            id="negative",
        ),
    ],
)
def test_contradictory_facts_are_refused(
    kind: AssistanceType, reason: Reason, extra: dict[str, Any]
) -> None:
    fields: dict[str, Any] = {"household_size": 3} | extra
    with pytest.raises(InconsistentFactsError):
        ApplicationFacts(
            assistance_type=kind,
            reason=reason,
            decision_date=DAY,
            region_code=COMMUNITY,
            **fields,
        )


def test_duplicate_member_keys_are_refused() -> None:
    with pytest.raises(InconsistentFactsError):
        household(members=[Member("a", DAY), Member("a", DAY)])


def test_parameters_of_another_district_are_refused() -> None:
    elsewhere = dataclasses.replace(
        parameters_on(DAY),
        standard=ParameterVersion(
            id=7,
            name="dibao_standard.urban",
            region_code="430202000000",  # 荷塘区
            valid_from=dt.date(2024, 1, 1),
            value="700.00",
        ),
    )

    with pytest.raises(InconsistentFactsError, match="does not apply"):
        run(application(), parameters=elsewhere)


def test_parameters_not_yet_in_force_are_refused() -> None:
    later = parameters_on(dt.date(2024, 8, 1), standards=[standard("720.00")])

    with pytest.raises(InconsistentFactsError, match="does not apply"):
        run(application(on=dt.date(2023, 12, 31)), parameters=later)


def test_a_swapped_parameter_is_refused() -> None:
    params = parameters_on(DAY)

    with pytest.raises(InconsistentFactsError, match="annual_multiple given"):
        dataclasses.replace(params, per_case_multiple=params.annual_multiple)


def test_a_missing_standard_is_reported_by_name_and_date() -> None:
    with pytest.raises(MissingParameterError) as caught:
        policy_parameters(
            notice_versions(), region_code=COMMUNITY, area_type="rural", on=DAY
        )

    assert caught.value.name == "dibao_standard.rural"
    assert caught.value.on == DAY


def test_the_same_facts_give_the_same_answer_to_what_if_and_approval() -> None:
    grants = [grant(dt.date(2024, 3, 1), "2000.00")]

    what_if = run(application(), grants=grants)
    approval = run(application(amount=str(what_if.allowed_max)), grants=grants)
    over = run(application(amount=str(what_if.allowed_max + Money(1))), grants=grants)

    assert what_if.eligible
    assert approval.eligible
    assert approval.allowed_max == what_if.allowed_max
    assert not over.eligible
