"""The bank's result file (代发回盘文件), read into per-line results.

Banks send CSV, in UTF-8 (with or without a byte-order mark) or in GBK /
GB18030. The first row names the columns, in English or in Chinese; the
columns may come in any order. Every row is read before any is returned, so
a file with one bad row is rejected whole, naming its rows.

    序号,业务编号,金额,结果,原因代码,原因说明
    1,P00000012,1900.00,成功,,
    2,P00000013,800.00,失败,account_closed,账户已销户
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from app.domain.money import Money

# Column names as banks write them, mapped to ours.
_COLUMNS: dict[str, str] = {
    "line_no": "line_no",
    "序号": "line_no",
    "reference": "reference",
    "业务编号": "reference",
    "amount": "amount",
    "金额": "amount",
    "金额(元)": "amount",
    "result": "result",
    "结果": "result",
    "reason_code": "reason_code",
    "原因代码": "reason_code",
    "失败原因代码": "reason_code",
    "reason": "reason",
    "原因说明": "reason",
    "失败原因": "reason",
}
_REQUIRED = ("line_no", "reference", "amount", "result")
_OUTCOMES = {
    "success": True,
    "成功": True,
    "failed": False,
    "failure": False,
    "失败": False,
}


@dataclass(frozen=True, slots=True)
class ResultRow:
    line_no: int
    reference: str
    amount: Money
    success: bool
    reason_code: str | None
    reason: str | None


class ResultFileError(ValueError):
    """The file cannot be read; ``rows`` names each bad row (1 = first data row)."""

    def __init__(self, message: str, rows: list[dict[str, object]]) -> None:
        super().__init__(message)
        self.rows = rows


def decode(content: bytes) -> str:
    """UTF-8 (a BOM is dropped) or, failing that, GB18030 (a superset of GBK)."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ResultFileError(
            "文件编码无法识别，请使用 UTF-8 或 GBK 编码。", []
        ) from exc


def parse(content: bytes) -> list[ResultRow]:
    reader = csv.reader(io.StringIO(decode(content), newline=""))
    header = next(reader, None)
    if header is None:
        raise ResultFileError("文件为空。", [])
    names = [
        _COLUMNS.get(title.strip().lower(), _COLUMNS.get(title.strip(), ""))
        for title in header
    ]
    missing = [c for c in _REQUIRED if c not in names]
    if missing:
        raise ResultFileError(
            f"文件首行缺少列：{'、'.join(missing)}。", [{"row": 0, "missing": missing}]
        )

    rows: list[ResultRow] = []
    errors: list[dict[str, object]] = []
    for number, cells in enumerate(reader, start=1):
        if not any(cell.strip() for cell in cells):
            continue
        values = {
            name: cell.strip() for name, cell in zip(names, cells, strict=False) if name
        }
        try:
            rows.append(_row(values))
        except ValueError as exc:
            errors.append({"row": number, "error": str(exc)})
    if errors:
        first = errors[0]
        raise ResultFileError(
            f"第 {first['row']} 行数据有误：{first['error']}。整份文件未登记。", errors
        )
    if not rows:
        raise ResultFileError("文件中没有结果行。", [])
    return rows


def _row(values: dict[str, str]) -> ResultRow:
    line_no = values.get("line_no", "")
    if not line_no.isdigit() or int(line_no) < 1:
        raise ValueError("序号须为正整数")
    outcome = values.get("result", "").lower()
    if outcome not in _OUTCOMES:
        raise ValueError("结果须为“成功”或“失败”")
    try:
        amount = Money.parse(values.get("amount", ""))
    except ValueError as exc:
        raise ValueError("金额格式不正确，应如 100.00") from exc
    return ResultRow(
        line_no=int(line_no),
        reference=values.get("reference", ""),
        amount=amount,
        success=_OUTCOMES[outcome],
        reason_code=values.get("reason_code") or None,
        reason=values.get("reason") or None,
    )
