"""The closed lists of the policy: assistance types, reasons, diseases, groups."""

from __future__ import annotations

from enum import StrEnum


class AssistanceType(StrEnum):
    EMERGENCY = "emergency"  # 急难型 (R1.1)
    EXPENDITURE = "expenditure"  # 支出型 (R1.2)


class Reason(StrEnum):
    """The R1 categories; R2.4 counts grants per reason."""

    ACCIDENT = "accident"  # 意外事件 R1.1a
    MAJOR_ILLNESS = "major_illness"  # 重特大疾病 R1.1b
    OTHER_HARDSHIP = "other_hardship"  # 区民政部门认定的其他特殊困难 R1.1c
    EDUCATION = "education"  # 教育支出 R1.2
    MEDICAL = "medical"  # 医疗支出 R1.2
    OTHER_EXPENSE = "other_expense"  # 其他必需支出 R1.2


REASONS_BY_TYPE: dict[AssistanceType, frozenset[Reason]] = {
    AssistanceType.EMERGENCY: frozenset(
        {Reason.ACCIDENT, Reason.MAJOR_ILLNESS, Reason.OTHER_HARDSHIP}
    ),
    AssistanceType.EXPENDITURE: frozenset(
        {Reason.EDUCATION, Reason.MEDICAL, Reason.OTHER_EXPENSE}
    ),
}

REASON_TITLES_ZH: dict[Reason, str] = {
    Reason.ACCIDENT: "意外事件",
    Reason.MAJOR_ILLNESS: "重特大疾病",
    Reason.OTHER_HARDSHIP: "其他特殊困难",
    Reason.EDUCATION: "教育支出",
    Reason.MEDICAL: "医疗支出",
    Reason.OTHER_EXPENSE: "其他必需支出",
}


class Disease(StrEnum):
    """The nine illnesses of R1.1b; severe mental illness by its six sub-types."""

    CHILD_CONGENITAL_HEART_DISEASE = "child_congenital_heart_disease"
    CHILD_LEUKAEMIA = "child_leukaemia"
    BREAST_CANCER = "breast_cancer"
    CERVICAL_CANCER = "cervical_cancer"
    LIVER_TRANSPLANT = "liver_transplant"
    KIDNEY_TRANSPLANT = "kidney_transplant"
    MALIGNANT_TUMOUR = "malignant_tumour"
    SCHIZOPHRENIA = "schizophrenia"
    SCHIZOAFFECTIVE_DISORDER = "schizoaffective_disorder"
    PARANOID_DISORDER = "paranoid_disorder"
    BIPOLAR_DISORDER = "bipolar_disorder"
    EPILEPSY_MENTAL_DISORDER = "epilepsy_mental_disorder"
    SEVERE_INTELLECTUAL_DISABILITY = "severe_intellectual_disability"
    AIDS_OPPORTUNISTIC_INFECTION = "aids_opportunistic_infection"


class HouseholdCategory(StrEnum):
    DIBAO = "dibao"  # 城乡低保对象
    TEKUN = "tekun"  # 特困人员
    DISABLED_HARDSHIP = "disabled_hardship"  # 困难残疾人
    DIBAO_MARGINAL = "dibao_marginal"  # 低保边缘群体
    NONE = "none"


class AreaType(StrEnum):
    URBAN = "urban"
    RURAL = "rural"


class Material(StrEnum):
    """The file of R4.1, as far as intake checks it."""

    APPLICATION_FORM = "application_form"
    ID_CARD_COPY = "id_card_copy"
    HOUSEHOLD_REGISTER_COPY = "household_register_copy"
    HARDSHIP_EVIDENCE = "hardship_evidence"


REQUIRED_MATERIALS: tuple[Material, ...] = tuple(Material)

MATERIAL_TITLES_ZH: dict[Material, str] = {
    Material.APPLICATION_FORM: "临时救助申请书",
    Material.ID_CARD_COPY: "身份证复印件",
    Material.HOUSEHOLD_REGISTER_COPY: "户口簿复印件",
    Material.HARDSHIP_EVIDENCE: "困难情况证明材料",
}


def missing_materials(provided: list[str]) -> list[Material]:
    have = set(provided)
    return [m for m in REQUIRED_MATERIALS if m.value not in have]
