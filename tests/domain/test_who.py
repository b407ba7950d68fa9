"""R1: who may be helped, at the boundaries the notice draws."""

from __future__ import annotations

import datetime as dt

import pytest

from app.domain.catalog import Disease, HouseholdCategory, Reason
from app.domain.eligibility import Member
from app.domain.money import Money
from app.domain.rules.who import age_on, anniversary
from tests.domain.builders import (
    DAY,
    application,
    household,
    parameters_on,
    rule,
    run,
    standard,
)

CHILD_BORN = dt.date(2006, 5, 11)  # turns 18 on 2024-05-11
LEAP_BORN = dt.date(2008, 2, 29)  # turns 18 on 2026-03-01


def test_accident_is_an_emergency_cause() -> None:
    evaluation = run(application(reason=Reason.ACCIDENT, amount="500.00"))

    assert rule(evaluation, "R1.1a").passed
    assert evaluation.eligible
    assert evaluation.failed_rules == []


@pytest.mark.parametrize(
    ("born", "diagnosed_on", "qualifies", "age"),
    [
        pytest.param(CHILD_BORN, dt.date(2024, 5, 10), True, 17, id="day-before-18"),
        pytest.param(CHILD_BORN, dt.date(2024, 5, 11), False, 18, id="18th-birthday"),
        pytest.param(CHILD_BORN, dt.date(2024, 5, 12), False, 18, id="day-after"),
        pytest.param(CHILD_BORN, dt.date(2010, 1, 1), True, 3, id="small-child"),
        pytest.param(LEAP_BORN, dt.date(2026, 2, 28), True, 17, id="leap-28-feb"),
        pytest.param(LEAP_BORN, dt.date(2026, 3, 1), False, 18, id="leap-1-mar"),
    ],
)
@pytest.mark.parametrize(
    "disease", [Disease.CHILD_LEUKAEMIA, Disease.CHILD_CONGENITAL_HEART_DISEASE]
)
def test_child_disease_counts_only_when_diagnosed_before_the_18th_birthday(
    disease: Disease, born: dt.date, diagnosed_on: dt.date, qualifies: bool, age: int
) -> None:
    facts = household(
        members=[Member("child", born), Member("mother", dt.date(1980, 1, 1))]
    )
    app = application(
        on=DAY,
        reason=Reason.MAJOR_ILLNESS,
        disease=disease,
        patient="child",
        diagnosed_on=diagnosed_on,
    )

    result = rule(run(app, facts=facts), "R1.1b")

    assert result.passed is qualifies
    assert result.inputs["age_at_diagnosis"] == str(age)
    assert result.inputs["child_age_limit"] == "18"
    assert [p.name for p in result.parameters] == ["child_age_limit"]
    assert f"确诊日 {diagnosed_on.isoformat()} 时 {age} 周岁" in result.message_zh


def test_child_age_limit_is_a_parameter() -> None:
    facts = household(members=[Member("child", CHILD_BORN)])
    app = application(
        reason=Reason.MAJOR_ILLNESS,
        disease=Disease.CHILD_LEUKAEMIA,
        patient="child",
        diagnosed_on=dt.date(2024, 5, 11),
    )
    result = rule(
        run(app, facts=facts, parameters=parameters_on(DAY, child_age_limit="19")),
        "R1.1b",
    )

    assert result.passed
    assert "未满 19 周岁" in result.message_zh


@pytest.mark.parametrize(
    ("patient", "diagnosed_on", "missing"),
    [
        pytest.param(None, dt.date(2024, 1, 1), "患病成员", id="no-patient"),
        pytest.param("stranger", dt.date(2024, 1, 1), "患病成员", id="not-a-member"),
        pytest.param("child", None, "确诊日期", id="no-diagnosis-date"),
    ],
)
def test_child_disease_without_patient_or_diagnosis_date_is_not_recognised(
    patient: str | None, diagnosed_on: dt.date | None, missing: str
) -> None:
    facts = household(members=[Member("child", CHILD_BORN)])
    app = application(
        reason=Reason.MAJOR_ILLNESS,
        disease=Disease.CHILD_LEUKAEMIA,
        patient=patient,
        diagnosed_on=diagnosed_on,
    )

    evaluation = run(app, facts=facts)

    assert not rule(evaluation, "R1.1b").passed
    assert f"未提供{missing}" in rule(evaluation, "R1.1b").message_zh
    assert evaluation.allowed_max == Money(0)


@pytest.mark.parametrize(
    "disease",
    [
        Disease.SCHIZOPHRENIA,
        Disease.SCHIZOAFFECTIVE_DISORDER,
        Disease.PARANOID_DISORDER,
        Disease.BIPOLAR_DISORDER,
        Disease.EPILEPSY_MENTAL_DISORDER,
        Disease.SEVERE_INTELLECTUAL_DISABILITY,
    ],
)
def test_each_mental_illness_subtype_counts_as_severe_mental_illness(
    disease: Disease,
) -> None:
    result = rule(
        run(application(reason=Reason.MAJOR_ILLNESS, disease=disease)), "R1.1b"
    )

    assert result.passed
    assert "重性精神病" in result.message_zh
    assert result.parameters == ()


@pytest.mark.parametrize(
    "disease",
    [
        Disease.BREAST_CANCER,
        Disease.CERVICAL_CANCER,
        Disease.LIVER_TRANSPLANT,
        Disease.KIDNEY_TRANSPLANT,
        Disease.MALIGNANT_TUMOUR,
        Disease.AIDS_OPPORTUNISTIC_INFECTION,
    ],
)
def test_adult_diseases_have_no_age_condition(disease: Disease) -> None:
    old = household(members=[Member("grandfather", dt.date(1940, 1, 1))])
    app = application(
        reason=Reason.MAJOR_ILLNESS, disease=disease, patient="grandfather"
    )

    assert rule(run(app, facts=old), "R1.1b").passed


def test_major_illness_without_a_disease_is_not_recognised() -> None:
    result = rule(run(application(reason=Reason.MAJOR_ILLNESS)), "R1.1b")

    assert not result.passed
    assert "未填写病种" in result.message_zh


@pytest.mark.parametrize(
    ("recognition", "passed"),
    [
        pytest.param("石民认〔2024〕3号", True, id="recorded"),
        pytest.param(None, False, id="none"),
        pytest.param("   ", False, id="blank"),
    ],
)
def test_other_hardship_needs_a_recorded_district_recognition(
    recognition: str | None, passed: bool
) -> None:
    app = application(
        reason=Reason.OTHER_HARDSHIP, amount="800.00", district_recognition=recognition
    )

    evaluation = run(app)

    assert rule(evaluation, "R1.1c").passed is passed
    assert evaluation.eligible is passed
    assert evaluation.allowed_max == (Money.parse("11700.00") if passed else Money(0))


VALID_FROM = dt.date(2024, 1, 1)
VALID_UNTIL = dt.date(2024, 12, 31)


@pytest.mark.parametrize(
    ("category", "valid_from", "valid_until", "on", "passed"),
    [
        pytest.param(
            "dibao", VALID_FROM, VALID_UNTIL, VALID_FROM, True, id="first-day"
        ),
        pytest.param(
            "dibao", VALID_FROM, VALID_UNTIL, VALID_UNTIL, True, id="last-day"
        ),
        pytest.param(
            "dibao", VALID_FROM, VALID_UNTIL, dt.date(2023, 12, 31), False, id="before"
        ),
        pytest.param(
            "dibao", VALID_FROM, VALID_UNTIL, dt.date(2025, 1, 1), False, id="after"
        ),
        pytest.param("tekun", None, None, dt.date(2030, 6, 1), True, id="open-ends"),
        pytest.param(
            "tekun", None, VALID_UNTIL, dt.date(2019, 6, 1), True, id="no-start"
        ),
        pytest.param("tekun", VALID_FROM, None, dt.date(2099, 1, 1), True, id="no-end"),
        pytest.param("none", None, None, DAY, False, id="no-category"),
    ],
)
def test_expenditure_type_needs_one_of_four_groups_valid_on_the_decision_date(
    category: str,
    valid_from: dt.date | None,
    valid_until: dt.date | None,
    on: dt.date,
    passed: bool,
) -> None:
    facts = household(
        category=HouseholdCategory(category),
        valid_from=valid_from,
        valid_until=valid_until,
    )

    evaluation = run(application(on=on, reason=Reason.EDUCATION), facts=facts)

    assert rule(evaluation, "R1.2").passed is passed
    assert evaluation.eligible is passed


@pytest.mark.parametrize(
    ("category", "income", "passed"),
    [
        pytest.param("disabled_hardship", "1300.00", True, id="disabled-at-2S"),
        pytest.param("disabled_hardship", "1300.01", False, id="disabled-fen-over"),
        pytest.param("dibao_marginal", "1300.00", True, id="marginal-at-2S"),
        pytest.param("dibao_marginal", "1300.01", False, id="marginal-fen-over"),
        pytest.param("dibao_marginal", "0.00", True, id="no-income"),
    ],
)
def test_income_of_disabled_and_marginal_households_at_most_twice_the_standard(
    category: str, income: str, passed: bool
) -> None:
    facts = household(category=HouseholdCategory(category), income=income)

    result = rule(run(application(reason=Reason.MEDICAL), facts=facts), "R1.3")

    assert result.passed is passed
    assert "上限 2×650.00 = 1,300.00 元" in result.message_zh
    assert result.inputs["monthly_income_per_capita"] == income
    assert [p.name for p in result.parameters] == [
        "dibao_standard.urban",
        "income_multiple",
    ]


def test_income_test_without_investigated_income_fails() -> None:
    facts = household(category=HouseholdCategory.DIBAO_MARGINAL)

    result = rule(run(application(reason=Reason.MEDICAL), facts=facts), "R1.3")

    assert not result.passed
    assert "尚无调查核实结果" in result.message_zh


@pytest.mark.parametrize("category", ["dibao", "tekun"])
def test_dibao_and_tekun_households_have_no_income_test(category: str) -> None:
    facts = household(category=HouseholdCategory(category), income="9999.99")

    evaluation = run(application(reason=Reason.MEDICAL, amount="100.00"), facts=facts)

    assert [r.rule for r in evaluation.results][:1] == ["R1.2"]
    assert "R1.3" not in [r.rule for r in evaluation.results]
    assert evaluation.eligible


def test_income_limit_follows_the_standard_in_force() -> None:
    raised = [standard("650.00"), standard("720.00", valid_from=dt.date(2024, 7, 1))]
    facts = household(category=HouseholdCategory.DISABLED_HARDSHIP, income="1440.00")

    before = run(
        application(on=dt.date(2024, 6, 30), reason=Reason.MEDICAL),
        facts=facts,
        parameters=parameters_on(dt.date(2024, 6, 30), standards=raised),
    )
    after = run(
        application(on=dt.date(2024, 7, 1), reason=Reason.MEDICAL),
        facts=facts,
        parameters=parameters_on(dt.date(2024, 7, 1), standards=raised),
    )

    assert not rule(before, "R1.3").passed
    assert rule(after, "R1.3").passed


@pytest.mark.parametrize(
    ("born", "on", "age", "turns_18"),
    [
        (dt.date(2006, 5, 11), dt.date(2024, 5, 10), 17, dt.date(2024, 5, 11)),
        (dt.date(2006, 5, 11), dt.date(2024, 5, 11), 18, dt.date(2024, 5, 11)),
        (dt.date(2008, 2, 29), dt.date(2026, 2, 28), 17, dt.date(2026, 3, 1)),
        (dt.date(2008, 2, 29), dt.date(2026, 3, 1), 18, dt.date(2026, 3, 1)),
        (dt.date(2008, 2, 29), dt.date(2028, 2, 29), 20, dt.date(2026, 3, 1)),
    ],
)
def test_age_in_completed_years_and_the_day_it_is_reached(
    born: dt.date, on: dt.date, age: int, turns_18: dt.date
) -> None:
    assert age_on(birth_date=born, on=on) == age
    assert anniversary(birth_date=born, years=18) == turns_18
