"""R1: whether the applicant belongs to a group that may be helped.

An emergency case (R1.1) is judged by its cause; an expenditure case (R1.2)
by the household's assistance category on the decision date and, for two of
the four groups, by its income (R1.3). Each function returns the results of
the rules that apply to the case and nothing for the others.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from app.domain.caps import RuleResult, fraction_text, per_capita_text, ratio_text
from app.domain.catalog import (
    AssistanceType,
    Disease,
    HouseholdCategory,
    Reason,
)
from app.domain.rules.facts import ApplicationFacts, HouseholdFacts, PolicyParameters

CHILD_DISEASES = frozenset(
    {Disease.CHILD_CONGENITAL_HEART_DISEASE, Disease.CHILD_LEUKAEMIA}
)

# The six sub-types the notice lists under 重性精神病; together they are one
# of the nine illnesses.
SEVERE_MENTAL_ILLNESS = frozenset(
    {
        Disease.SCHIZOPHRENIA,
        Disease.SCHIZOAFFECTIVE_DISORDER,
        Disease.PARANOID_DISORDER,
        Disease.BIPOLAR_DISORDER,
        Disease.EPILEPSY_MENTAL_DISORDER,
        Disease.SEVERE_INTELLECTUAL_DISABILITY,
    }
)

DISEASE_TITLES_ZH: dict[Disease, str] = {
    Disease.CHILD_CONGENITAL_HEART_DISEASE: "儿童先天性心脏病",
    Disease.CHILD_LEUKAEMIA: "儿童白血病",
    Disease.BREAST_CANCER: "乳腺癌",
    Disease.CERVICAL_CANCER: "宫颈癌",
    Disease.LIVER_TRANSPLANT: "肝移植",
    Disease.KIDNEY_TRANSPLANT: "肾移植",
    Disease.MALIGNANT_TUMOUR: "恶性肿瘤",
    Disease.SCHIZOPHRENIA: "重性精神病（精神分裂症）",
    Disease.SCHIZOAFFECTIVE_DISORDER: "重性精神病（分裂情感性障碍）",
    Disease.PARANOID_DISORDER: "重性精神病（偏执性精神障碍）",
    Disease.BIPOLAR_DISORDER: "重性精神病（双相情感障碍）",
    Disease.EPILEPSY_MENTAL_DISORDER: "重性精神病（癫痫所致精神障碍）",
    Disease.SEVERE_INTELLECTUAL_DISABILITY: "重性精神病（严重精神发育迟滞）",
    Disease.AIDS_OPPORTUNISTIC_INFECTION: "艾滋病机会性感染",
}

CATEGORY_TITLES_ZH: dict[HouseholdCategory, str] = {
    HouseholdCategory.DIBAO: "城乡低保对象",
    HouseholdCategory.TEKUN: "特困人员",
    HouseholdCategory.DISABLED_HARDSHIP: "困难残疾人",
    HouseholdCategory.DIBAO_MARGINAL: "低保边缘群体",
    HouseholdCategory.NONE: "无救助类别",
}

EXPENDITURE_GROUPS = frozenset(
    {
        HouseholdCategory.DIBAO,
        HouseholdCategory.TEKUN,
        HouseholdCategory.DISABLED_HARDSHIP,
        HouseholdCategory.DIBAO_MARGINAL,
    }
)

INCOME_TESTED_GROUPS = frozenset(
    {HouseholdCategory.DISABLED_HARDSHIP, HouseholdCategory.DIBAO_MARGINAL}
)


def anniversary(*, birth_date: dt.date, years: int) -> dt.date:
    """The day a person born on ``birth_date`` turns ``years`` years old.

    Someone born on 29 February turns a year older on 1 March of a common
    year: only then has the full year passed.
    """
    try:
        return birth_date.replace(year=birth_date.year + years)
    except ValueError:
        return dt.date(birth_date.year + years, 3, 1)


def age_on(*, birth_date: dt.date, on: dt.date) -> int:
    """Completed years (周岁) on ``on``."""
    years = on.year - birth_date.year
    return years if anniversary(birth_date=birth_date, years=years) <= on else years - 1


def check_who(
    *,
    household: HouseholdFacts,
    application: ApplicationFacts,
    parameters: PolicyParameters,
) -> tuple[RuleResult, ...]:
    """The R1 results that apply to this case."""
    if application.assistance_type is AssistanceType.EMERGENCY:
        return (
            emergency_cause(
                household=household, application=application, parameters=parameters
            ),
        )

    results = [expenditure_group(household=household, on=application.decision_date)]
    if household.category in INCOME_TESTED_GROUPS:
        results.append(income_test(household=household, parameters=parameters))
    return tuple(results)


def emergency_cause(
    *,
    household: HouseholdFacts,
    application: ApplicationFacts,
    parameters: PolicyParameters,
) -> RuleResult:
    """R1.1a, R1.1b or R1.1c, whichever the reason names."""
    if application.reason is Reason.ACCIDENT:
        return RuleResult(
            "R1.1a",
            True,
            "申请事由为意外事件（火灾、交通事故等突发意外），属急难型救助对象。",
            {"reason": application.reason.value},
        )
    if application.reason is Reason.MAJOR_ILLNESS:
        return major_illness(
            household=household, application=application, parameters=parameters
        )
    return district_recognition(application=application)


def major_illness(
    *,
    household: HouseholdFacts,
    application: ApplicationFacts,
    parameters: PolicyParameters,
) -> RuleResult:
    """R1.1b: one of the nine illnesses; a child's illness only below the age limit.

    The patient counts as a child when the diagnosis came before the day
    they turned ``child_age_limit``: the day before that birthday qualifies,
    the birthday itself does not.
    """
    disease = application.disease
    if disease is None:
        return RuleResult(
            "R1.1b",
            False,
            "因重特大疾病申请，但未填写病种；须为通知所列 9 种疾病之一。",
            {"reason": application.reason.value},
        )

    title = DISEASE_TITLES_ZH[disease]
    inputs = {"disease": disease.value}
    if disease not in CHILD_DISEASES:
        return RuleResult(
            "R1.1b",
            True,
            f"所患疾病为{title}，属通知所列 9 种重特大疾病之一。",
            inputs,
        )

    limit_version = parameters.child_age_limit
    limit = limit_version.as_int()
    inputs["child_age_limit"] = str(limit)
    patient = (
        None if application.patient is None else household.member(application.patient)
    )
    if patient is None or application.diagnosed_on is None:
        missing = "患病成员" if patient is None else "确诊日期"
        return RuleResult(
            "R1.1b",
            False,
            f"{title}仅限确诊时未满 {limit} 周岁的儿童，但未提供{missing}，无法认定。",
            inputs,
            (limit_version,),
        )

    diagnosed_on = application.diagnosed_on
    if diagnosed_on < patient.birth_date:
        return RuleResult(
            "R1.1b",
            False,
            f"确诊日期 {diagnosed_on.isoformat()} 早于患者出生日期"
            f" {patient.birth_date.isoformat()}，请核对。",
            inputs,
            (limit_version,),
        )
    limit_day = anniversary(birth_date=patient.birth_date, years=limit)
    is_child = diagnosed_on < limit_day
    age = age_on(birth_date=patient.birth_date, on=diagnosed_on)
    inputs |= {
        "patient": patient.key,
        "birth_date": patient.birth_date.isoformat(),
        "diagnosed_on": diagnosed_on.isoformat(),
        "age_at_diagnosis": str(age),
        "age_limit_reached_on": limit_day.isoformat(),
    }
    verdict = (
        f"未满 {limit} 周岁，属儿童，符合条件。"
        if is_child
        else f"已满 {limit} 周岁（{limit_day.isoformat()} 满），"
        f"不属儿童，{title}不予认定。"
    )
    return RuleResult(
        "R1.1b",
        is_child,
        f"所患疾病为{title}；患者生于 {patient.birth_date.isoformat()}，"
        f"确诊日 {diagnosed_on.isoformat()} 时 {age} 周岁，{verdict}",
        inputs,
        (limit_version,),
    )


def district_recognition(*, application: ApplicationFacts) -> RuleResult:
    """R1.1c: another sudden hardship, only with a recorded district recognition."""
    reference = (application.district_recognition or "").strip()
    if reference:
        return RuleResult(
            "R1.1c",
            True,
            f"其他突发性特殊困难已经区民政部门认定（认定记录 {reference}）。",
            {"district_recognition": reference},
        )
    return RuleResult(
        "R1.1c",
        False,
        "其他突发性特殊困难须经区民政部门认定，尚无认定记录，不予救助。",
        {"district_recognition": ""},
    )


def _date_text(day: dt.date | None, *, open_end: str) -> str:
    return open_end if day is None else day.isoformat()


def expenditure_group(*, household: HouseholdFacts, on: dt.date) -> RuleResult:
    """R1.2: one of the four groups, its status valid on the decision date.

    Both ends of the validity are inclusive; a missing end is open.
    """
    category = household.category
    title = CATEGORY_TITLES_ZH[category]
    valid_from = household.category_valid_from
    valid_until = household.category_valid_until
    inputs = {
        "category": category.value,
        "valid_from": _date_text(valid_from, open_end=""),
        "valid_until": _date_text(valid_until, open_end=""),
        "decision_date": on.isoformat(),
    }
    if category not in EXPENDITURE_GROUPS:
        return RuleResult(
            "R1.2",
            False,
            f"家庭类别为「{title}」；支出型救助仅限城乡低保对象、特困人员、"
            "困难残疾人和低保边缘群体，不予救助。",
            inputs,
        )

    in_force = (valid_from is None or valid_from <= on) and (
        valid_until is None or on <= valid_until
    )
    starts = _date_text(valid_from, open_end="不限")
    ends = _date_text(valid_until, open_end="长期")
    verdict = (
        "在有效期内，属支出型救助对象。" if in_force else "不在有效期内，不予救助。"
    )
    return RuleResult(
        "R1.2",
        in_force,
        f"家庭属{title}（有效期 {starts} 至 {ends}），"
        f"决定日 {on.isoformat()} {verdict}",
        inputs,
    )


def income_test(
    *, household: HouseholdFacts, parameters: PolicyParameters
) -> RuleResult:
    """R1.3: monthly per-capita income at most ``income_multiple`` × S.

    Exactly at the limit passes; the comparison is exact in fen.
    """
    standard = parameters.standard.as_money()
    multiple = parameters.income_multiple.as_fraction()
    limit = multiple * standard.fen
    used = (parameters.standard, parameters.income_multiple)
    limit_text = f"上限 {ratio_text(multiple)}×{standard} = {per_capita_text(limit)} 元"
    title = CATEGORY_TITLES_ZH[household.category]
    inputs = {
        "category": household.category.value,
        "standard": str(standard),
        "income_multiple": parameters.income_multiple.value,
        "limit_fen_exact": fraction_text(limit),
    }
    income = household.monthly_income_per_capita
    if income is None:
        return RuleResult(
            "R1.3",
            False,
            f"{title}须核实家庭月人均收入（{limit_text}），尚无调查核实结果。",
            inputs | {"monthly_income_per_capita": ""},
            used,
        )

    passed = Fraction(income.fen) <= limit
    verdict = "未超过上限。" if passed else "超过上限，不属救助对象。"
    return RuleResult(
        "R1.3",
        passed,
        f"{title}家庭月人均收入 {income.grouped()} 元，{limit_text}，{verdict}",
        inputs | {"monthly_income_per_capita": str(income)},
        used,
    )
