"""The payout batch report for the district's finance office (XLSX).

One sheet of lines and a summary that reconciles to the fen: paid, failed
and pending add up to the batch's total. Amounts and account numbers are
text cells, so a spreadsheet shows them exactly as the service does.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Font

from app.adapters.bank_files import formula_safe
from app.domain.money import Money

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True, slots=True)
class ReportLine:
    line_no: int
    reference: str
    application_id: int
    payee_name: str
    bank_name: str
    account_masked: str
    amount: Money
    result: str  # 成功 / 失败 / 待回盘
    reason: str


@dataclass(frozen=True, slots=True)
class ReportTotals:
    lines: int
    total: Money
    paid: Money
    paid_lines: int
    failed: Money
    failed_lines: int
    pending: Money
    pending_lines: int

    @property
    def reconciles(self) -> bool:
        return self.paid + self.failed + self.pending == self.total and (
            self.paid_lines + self.failed_lines + self.pending_lines == self.lines
        )


def totals(total: Money, lines: Sequence[ReportLine]) -> ReportTotals:
    def of(result: str) -> list[ReportLine]:
        return [line for line in lines if line.result == result]

    def amount(chosen: list[ReportLine]) -> Money:
        return sum((line.amount for line in chosen), Money.zero())

    paid, failed, pending = of("成功"), of("失败"), of("待回盘")
    return ReportTotals(
        lines=len(lines),
        total=total,
        paid=amount(paid),
        paid_lines=len(paid),
        failed=amount(failed),
        failed_lines=len(failed),
        pending=amount(pending),
        pending_lines=len(pending),
    )


_HEADER = (
    "序号",
    "业务编号",
    "申请编号",
    "收款人",
    "开户银行",
    "银行账号",
    "金额(元)",
    "结果",
    "原因",
)


def render(
    *,
    batch_id: int,
    district: str,
    built_at: dt.datetime,
    status_title: str,
    lines: Sequence[ReportLine],
    summary: ReportTotals,
) -> bytes:
    workbook = Workbook()
    for unused in list(workbook.worksheets):
        workbook.remove(unused)
    sheet = workbook.create_sheet("代发批次报告")

    bold = Font(bold=True)
    sheet.append([f"临时救助代发批次 {batch_id} 报告"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["区", district, "生成时间", built_at.strftime("%Y-%m-%d %H:%M")])
    sheet.append(["状态", status_title])
    sheet.append([])
    summary_rows = (
        ("批次合计", summary.lines, summary.total),
        ("已成功", summary.paid_lines, summary.paid),
        ("已失败", summary.failed_lines, summary.failed),
        ("待回盘", summary.pending_lines, summary.pending),
    )
    sheet.append(["汇总", "笔数", "金额(元)"])
    for label, count, amount in summary_rows:
        sheet.append([label, count, str(amount)])
    sheet.append(["核对", "一致" if summary.reconciles else "不一致"])
    sheet.append([])

    sheet.append(list(_HEADER))
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for line in lines:
        sheet.append(
            [
                line.line_no,
                line.reference,
                line.application_id,
                formula_safe(line.payee_name),
                formula_safe(line.bank_name),
                line.account_masked,
                str(line.amount),
                line.result,
                formula_safe(line.reason),
            ]
        )
    for row in sheet.iter_rows(min_row=5):
        for cell in row:
            if isinstance(cell.value, str):
                cell.number_format = "@"
    for column, size in zip(
        "ABCDEFGHI", (6, 12, 10, 12, 18, 24, 12, 8, 24), strict=True
    ):
        sheet.column_dimensions[column].width = size

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
