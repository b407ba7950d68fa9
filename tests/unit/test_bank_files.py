from __future__ import annotations

import csv
import io

from app.adapters.bank_files import GenericCsvTemplate, PayoutLine, formula_safe
from app.domain.money import Money


def _line(number: int, name: str, account: str, amount: str) -> PayoutLine:
    return PayoutLine(
        line_no=number,
        reference=f"P{number:08d}",
        payee_name=name,
        bank_name="示例银行",
        account_no=account,
        amount=Money.parse(amount),
        purpose="临时救助金",
    )


def test_generic_csv_is_exact_bytes_with_bom_and_crlf() -> None:
    lines = [_line(1, "张三", "0062170028700123", "100")]

    content = GenericCsvTemplate().render(batch_id=1, lines=lines)

    assert (
        content
        == (
            "\ufeff序号,业务编号,收款人姓名,开户银行,银行账号,金额(元),用途\r\n"
            "1,P00000001,张三,示例银行,0062170028700123,100.00,临时救助金\r\n"
        ).encode()
    )


def test_rendering_is_deterministic_and_keeps_leading_zeros() -> None:
    lines = [_line(1, "李四", "0001", "0.05"), _line(2, "王五", "6222", "12960")]
    template = GenericCsvTemplate()

    first = template.render(batch_id=7, lines=lines)

    assert first == template.render(batch_id=7, lines=lines)
    rows = list(csv.reader(io.StringIO(first.decode("utf-8-sig"))))
    assert [r[4] for r in rows[1:]] == ["0001", "6222"]
    assert [r[5] for r in rows[1:]] == ["0.05", "12960.00"]


def test_text_that_looks_like_a_formula_cannot_run_as_one() -> None:
    assert formula_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert formula_safe("@SUM(A1)") == "'@SUM(A1)"
    assert formula_safe("张三") == "张三"
    content = GenericCsvTemplate().render(
        batch_id=1, lines=[_line(1, "=1+1", "1234", "1.00")]
    )
    assert ",'=1+1," in content.decode("utf-8-sig")
