"""Statuses of applications, payments, forms and batches."""

from __future__ import annotations

from enum import StrEnum


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"  # 已申请, awaiting intake
    RETURNED = "returned"  # 退回补正: materials missing, applicant may resubmit
    ACCEPTED = "accepted"  # 已受理, investigation due
    AWAITING_CHECK = "awaiting_check"  # 待家庭经济状况核对结果
    INVESTIGATED = "investigated"  # 已调查, awaiting the street opinion
    STREET_REVIEWED = "street_reviewed"  # 街道已出具意见, awaiting the district
    APPROVED = "approved"  # 已审批, publicity not yet started
    IN_PUBLICITY = "in_publicity"  # 公示中
    AWAITING_PAYMENT = "awaiting_payment"  # 公示期满, awaiting disbursement
    REFERRED = "referred"  # 已转介 to another programme, department or charity
    PAID = "paid"  # 已发放
    CLOSED = "closed"  # 已结案: paid and its file (一人一档) complete
    REFUSED = "refused"  # 不予救助


STATUS_TITLES_ZH: dict[ApplicationStatus, str] = {
    ApplicationStatus.SUBMITTED: "已申请，待受理",
    ApplicationStatus.RETURNED: "已退回，待补齐材料",
    ApplicationStatus.ACCEPTED: "已受理，待调查核实",
    ApplicationStatus.AWAITING_CHECK: "已调查，待家庭经济状况核对结果",
    ApplicationStatus.INVESTIGATED: "已调查，待街道出具意见",
    ApplicationStatus.STREET_REVIEWED: "街道已出具意见，待审批",
    ApplicationStatus.APPROVED: "已审批，待公示",
    ApplicationStatus.IN_PUBLICITY: "公示中",
    ApplicationStatus.AWAITING_PAYMENT: "已审定，待发放",
    ApplicationStatus.REFERRED: "已转介",
    ApplicationStatus.PAID: "已发放",
    ApplicationStatus.CLOSED: "已结案",
    ApplicationStatus.REFUSED: "不予救助",
}


class PaymentStatus(StrEnum):
    AWAITING_SIGNATURES = "awaiting_signatures"
    SIGNED = "signed"
    IN_BATCH = "in_batch"
    PAID = "paid"
    FAILED = "failed"


class FormStatus(StrEnum):
    OPEN = "open"  # collecting signatures
    SIGNED = "signed"  # all three signatures present
    VOID = "void"  # every payment taken off before it was signed


class BatchStatus(StrEnum):
    READY = "ready"  # built, file available to the bank
    ACKNOWLEDGED = "acknowledged"  # the bank confirmed receipt
    RECONCILED = "reconciled"  # every line has a result
