"""The closed lists of the policy: assistance types, reasons, diseases, groups."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal


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


class FormOfHelp(StrEnum):
    """R3.10: how the help is given."""

    CASH = "cash"  # 现金，经代发银行
    IN_KIND = "in_kind"  # 实物，按价值计入上限
    REFERRAL = "referral"  # 转介服务


class AreaType(StrEnum):
    URBAN = "urban"
    RURAL = "rural"


class Material(StrEnum):
    """The file of R4.1, as far as intake checks it."""

    APPLICATION_FORM = "application_form"
    ID_CARD_COPY = "id_card_copy"
    HOUSEHOLD_REGISTER_COPY = "household_register_copy"
    HARDSHIP_EVIDENCE = "hardship_evidence"
    # The household's signed consent to the economic-status check (授权书). Not
    # an intake material: only a case that is checked needs it, and the check
    # cannot be requested before it is on file (``workflow.investigation``).
    AUTHORISATION_LETTER = "authorisation_letter"


REQUIRED_MATERIALS: tuple[Material, ...] = (
    Material.APPLICATION_FORM,
    Material.ID_CARD_COPY,
    Material.HOUSEHOLD_REGISTER_COPY,
    Material.HARDSHIP_EVIDENCE,
)

MATERIAL_TITLES_ZH: dict[Material, str] = {
    Material.APPLICATION_FORM: "临时救助申请书",
    Material.ID_CARD_COPY: "身份证复印件",
    Material.HOUSEHOLD_REGISTER_COPY: "户口簿复印件",
    Material.HARDSHIP_EVIDENCE: "困难情况证明材料",
    Material.AUTHORISATION_LETTER: "家庭经济状况核对授权书",
}


def missing_materials(provided: list[str]) -> list[Material]:
    have = set(provided)
    return [m for m in REQUIRED_MATERIALS if m.value not in have]


# --- The case file (一人一档, R4) ------------------------------------------

# R4: every recipient's file holds these scans whatever the assistance type;
# the records the service writes itself (investigation, publicity, review,
# approval) come from the case, not from uploads. The guard of closing a
# case is to read this checklist (``workflow.attachments.missing_on_file``).
# The authorisation letter is not listed: a case that was checked has it on
# file already, since no check is requested without it.
REQUIRED_FILE_MATERIALS: dict[AssistanceType, tuple[Material, ...]] = {
    AssistanceType.EMERGENCY: (
        Material.APPLICATION_FORM,
        Material.ID_CARD_COPY,
        Material.HOUSEHOLD_REGISTER_COPY,
        Material.HARDSHIP_EVIDENCE,
    ),
    AssistanceType.EXPENDITURE: (
        Material.APPLICATION_FORM,
        Material.ID_CARD_COPY,
        Material.HOUSEHOLD_REGISTER_COPY,
        Material.HARDSHIP_EVIDENCE,
    ),
}

# An attachment is one of the listed materials, or anything else the clerk
# files with the case (a signed visit record, a receipt); "other" never
# satisfies the checklist.
OTHER_MATERIAL: Final = "other"
AttachmentMaterial = Material | Literal["other"]
OTHER_MATERIAL_TITLE_ZH: Final = "其他材料"


def attachment_material(value: str) -> AttachmentMaterial:
    """A stored attachment material; ``ValueError`` for anything else."""
    return "other" if value == OTHER_MATERIAL else Material(value)


def attachment_material_title(material: str) -> str:
    """The Chinese title of a stored attachment material."""
    parsed = attachment_material(material)
    return OTHER_MATERIAL_TITLE_ZH if parsed == "other" else MATERIAL_TITLES_ZH[parsed]


@dataclass(frozen=True, slots=True)
class UploadType:
    """A file type the case file accepts, recognised by its first bytes."""

    media_type: str
    title: str
    magic: bytes
    extensions: tuple[str, ...]  # lower case with the dot; the first is canonical


# Scans and photographs of paper documents only. The type is read from the
# content, never from the client's Content-Type or the file name.
ALLOWED_UPLOAD_TYPES: tuple[UploadType, ...] = (
    UploadType("application/pdf", "PDF", b"%PDF-", (".pdf",)),
    UploadType("image/jpeg", "JPEG", b"\xff\xd8\xff", (".jpg", ".jpeg")),
    UploadType("image/png", "PNG", b"\x89PNG\r\n\x1a\n", (".png",)),
)

MAX_UPLOAD_BYTES: Final = 10 * 1024 * 1024  # 10 MiB per file


def sniff_upload_type(content: bytes) -> UploadType | None:
    """The allowed type whose signature starts ``content``, if any."""
    for kind in ALLOWED_UPLOAD_TYPES:
        if content.startswith(kind.magic):
            return kind
    return None
