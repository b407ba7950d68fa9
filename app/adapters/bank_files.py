"""Payout files for the entrusted bank (代发).

A template turns the lines of a batch into the exact bytes the bank loads.
Rendering is deterministic: the same lines always give the same bytes, so the
SHA-256 recorded when the batch was built proves the file was not changed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from app.domain.money import Money


@dataclass(frozen=True, slots=True)
class PayoutLine:
    line_no: int
    reference: str  # our payment id, echoed back in the bank's results
    payee_name: str
    bank_name: str
    account_no: str
    amount: Money
    purpose: str


class BankFileTemplate(Protocol):
    name: str
    media_type: str
    extension: str

    def render(self, *, batch_id: int, lines: Sequence[PayoutLine]) -> bytes: ...


_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(text: str) -> str:
    """A cell a spreadsheet will not run: leading formula characters are quoted."""
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


class GenericCsvTemplate:
    """UTF-8 CSV with a byte-order mark (so spreadsheet programs read Chinese)."""

    name = "generic_csv"
    media_type = "text/csv; charset=utf-8"
    extension = "csv"

    HEADER = (
        "序号",
        "业务编号",
        "收款人姓名",
        "开户银行",
        "银行账号",
        "金额(元)",
        "用途",
    )

    def render(self, *, batch_id: int, lines: Sequence[PayoutLine]) -> bytes:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(self.HEADER)
        for line in lines:
            writer.writerow(
                (
                    line.line_no,
                    line.reference,
                    formula_safe(line.payee_name),
                    formula_safe(line.bank_name),
                    line.account_no,
                    str(line.amount),
                    formula_safe(line.purpose),
                )
            )
        return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


TEMPLATES: dict[str, BankFileTemplate] = {GenericCsvTemplate.name: GenericCsvTemplate()}
