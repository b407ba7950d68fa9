"""Golden files for the bank payout templates (代发文件模板).

Each shipped template renders the same batch, and the bytes must equal the
file under ``tests/golden/bank_files/``: a bank loads these bytes, and the
SHA-256 recorded at build time must still match when the file is re-rendered
for download. A change in output, including one brought by an openpyxl
upgrade, fails here first.

To accept a deliberate change, regenerate the files and review the diff:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_bank_file_golden.py

That run rewrites the golden files and reports those tests as skipped; a
normal run only reads them. The text templates are also compared with their
expected text spelled out below, so a wrongly regenerated file still fails.
"""

from __future__ import annotations

import dataclasses
import io
import os
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from app.adapters.bank_files import TEMPLATES, PayoutLine
from app.domain.money import Money

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "golden" / "bank_files"
BATCH_ID = 42

LINES = [
    PayoutLine(
        line_no=1,
        reference="P00000001",
        payee_name="张𠮷",  # U+20BB7, outside GBK
        bank_name="中国工商银行北京分行",
        account_no="0012345678901234567",  # leading zeros must survive
        amount=Money.parse("100.00"),
        purpose="临时救助金",
    ),
    PayoutLine(
        line_no=2,
        reference="P00000002",
        payee_name="刘䶮",  # U+4DAE, outside GBK
        bank_name="中国农业银行",
        account_no="6222021234567890123",  # 19-digit card, beyond a double
        amount=Money.parse("1000.05"),
        purpose='急难,"临时"救助',  # a comma and quotes for the CSV rules
    ),
    PayoutLine(
        line_no=3,
        reference="P00000003",
        payee_name="=1+2",
        bank_name="示例银行",
        account_no="6217000010001234",
        amount=Money.parse("0.50"),
        purpose="临时救助金",
    ),
]

# The GBK file cannot carry the first two names at all (see the unit tests);
# its golden batch uses names GBK holds.
GBK_LINES = [
    dataclasses.replace(LINES[0], payee_name="张吉"),
    dataclasses.replace(LINES[1], payee_name="刘岩"),
    LINES[2],
]

GOLDEN_CASES = [
    ("generic_csv", LINES, "generic_csv.csv"),
    ("pipe_txt", LINES, "pipe_txt.txt"),
    ("gbk_txt", GBK_LINES, "gbk_txt.txt"),
    ("generic_xlsx", LINES, "generic_xlsx.xlsx"),
]

EXPECTED_TEXT = {
    "generic_csv.csv": (
        "\ufeff序号,业务编号,收款人姓名,开户银行,银行账号,金额(元),用途\r\n"
        "1,P00000001,张𠮷,中国工商银行北京分行,0012345678901234567,100.00,"
        "临时救助金\r\n"
        '2,P00000002,刘䶮,中国农业银行,6222021234567890123,1000.05,"急难,""临时""'
        '救助"\r\n'
        "3,P00000003,'=1+2,示例银行,6217000010001234,0.50,临时救助金\r\n"
    ),
    "pipe_txt.txt": (
        "H|3|1100.55\r\n"
        "1|0012345678901234567|张𠮷|100.00|中国工商银行北京分行|临时救助金|"
        "P00000001\r\n"
        '2|6222021234567890123|刘䶮|1000.05|中国农业银行|急难,"临时"救助|'
        "P00000002\r\n"
        "3|6217000010001234|'=1+2|0.50|示例银行|临时救助金|P00000003\r\n"
    ),
    "gbk_txt.txt": (
        "序号,收款人姓名,银行账号,金额(元),开户银行,用途,业务编号\r\n"
        "1,张吉,0012345678901234567,100.00,中国工商银行北京分行,临时救助金,"
        "P00000001\r\n"
        '2,刘岩,6222021234567890123,1000.05,中国农业银行,"急难,""临时""救助",'
        "P00000002\r\n"
        "3,'=1+2,6217000010001234,0.50,示例银行,临时救助金,P00000003\r\n"
        "合计,3,1100.55\r\n"
    ),
}

EXPECTED_XLSX_ROWS = [
    ("序号", "业务编号", "收款人姓名", "开户银行", "银行账号", "金额(元)", "用途"),
    (
        1,
        "P00000001",
        "张𠮷",
        "中国工商银行北京分行",
        "0012345678901234567",
        "100.00",
        "临时救助金",
    ),
    (
        2,
        "P00000002",
        "刘䶮",
        "中国农业银行",
        "6222021234567890123",
        "1000.05",
        '急难,"临时"救助',
    ),
    (3, "P00000003", "'=1+2", "示例银行", "6217000010001234", "0.50", "临时救助金"),
]


def _golden(filename: str, content: bytes) -> bytes:
    path = GOLDEN_DIR / filename
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        pytest.skip(f"rewrote {path}; review the diff before committing")
    return path.read_bytes()


@pytest.mark.parametrize(("template", "lines", "filename"), GOLDEN_CASES)
def test_rendered_bytes_equal_the_golden_file(
    template: str, lines: list[PayoutLine], filename: str
) -> None:
    content = TEMPLATES[template].render(batch_id=BATCH_ID, lines=lines)

    assert content == _golden(filename, content)


@pytest.mark.parametrize(
    ("filename", "encoding"),
    [
        ("generic_csv.csv", "utf-8"),
        ("pipe_txt.txt", "gb18030"),
        ("gbk_txt.txt", "gbk"),
    ],
)
def test_golden_text_files_say_what_the_bank_expects(
    filename: str, encoding: str
) -> None:
    content = (GOLDEN_DIR / filename).read_bytes()

    assert content.decode(encoding) == EXPECTED_TEXT[filename]
    assert b"?" not in content


def test_gb18030_file_carries_the_names_gbk_cannot() -> None:
    content = (GOLDEN_DIR / "pipe_txt.txt").read_bytes()

    # Four-byte GB18030 for U+20BB7; two bytes for U+4DAE.
    assert "张𠮷".encode("gb18030") == b"\xd5\xc5\x95\x34\xb2\x35"
    assert b"\xd5\xc5\x95\x34\xb2\x35" in content
    assert "刘䶮".encode("gb18030") in content
    rows = [row.split("|") for row in content.decode("gb18030").splitlines()]
    assert [row[2] for row in rows[1:]] == ["张𠮷", "刘䶮", "'=1+2"]


def test_golden_xlsx_reads_back_as_exact_strings() -> None:
    content = (GOLDEN_DIR / "generic_xlsx.xlsx").read_bytes()

    sheet = load_workbook(io.BytesIO(content)).worksheets[0]

    assert sheet.title == "代发明细"
    assert list(sheet.iter_rows(values_only=True)) == EXPECTED_XLSX_ROWS
    for row in sheet.iter_rows(min_row=2):
        line_no, *texts = row
        assert line_no.data_type == "n"
        assert [c.data_type for c in texts] == ["s"] * 6
        assert [c.number_format for c in texts] == ["@"] * 6


def test_xlsx_carries_no_time_of_rendering() -> None:
    content = (GOLDEN_DIR / "generic_xlsx.xlsx").read_bytes()

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        entries = archive.infolist()
        core = archive.read("docProps/core.xml").decode()

    assert {e.date_time for e in entries} == {(1980, 1, 1, 0, 0, 0)}
    assert {e.compress_type for e in entries} == {zipfile.ZIP_STORED}
    assert core.count("2000-01-01T00:00:00Z") == 2  # created and modified
    again = TEMPLATES["generic_xlsx"].render(batch_id=BATCH_ID, lines=LINES)
    assert again == TEMPLATES["generic_xlsx"].render(batch_id=BATCH_ID, lines=LINES)
