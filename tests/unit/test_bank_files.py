from __future__ import annotations

import csv
import dataclasses
import io

import pytest
from openpyxl import load_workbook

from app.adapters.bank_files import (
    GBK_TXT,
    GENERIC_CSV,
    GENERIC_XLSX,
    PIPE_TXT,
    TEMPLATES,
    BankFileError,
    DelimiterInText,
    DelimiterProblem,
    EncodingProblem,
    Field,
    FileFormat,
    GenericCsvTemplate,
    PayoutLine,
    SummaryPosition,
    SummaryRow,
    TemplateSpec,
    UnencodableText,
    check_lines,
    columns,
    delimiter_conflicts,
    formula_safe,
    template_for,
    unencodable_lines,
)
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


# --- templates as configuration ------------------------------------------


def _rare_lines() -> list[PayoutLine]:
    return [
        _line(1, "张𠮷", "0012345678901234567", "100.00"),
        _line(2, "刘䶮", "6222021234567890123", "1000.05"),
        _line(3, "王五", "6217000010001234", "0.50"),
    ]


def test_each_shipped_template_names_its_file() -> None:
    described = {
        name: (t.name, t.extension, t.media_type, t.title_zh)
        for name, t in TEMPLATES.items()
    }

    assert described == {
        "generic_csv": (
            "generic_csv",
            "csv",
            "text/csv; charset=utf-8",
            "通用 CSV（UTF-8，带表头）",
        ),
        "pipe_txt": (
            "pipe_txt",
            "txt",
            "text/plain; charset=GB18030",
            "竖线分隔 TXT（GB18030，首行汇总）",
        ),
        "gbk_txt": (
            "gbk_txt",
            "txt",
            "text/plain; charset=GBK",
            "逗号分隔 TXT（GBK，末行合计）",
        ),
        "generic_xlsx": (
            "generic_xlsx",
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "通用 Excel（XLSX，文本格式）",
        ),
    }
    assert TEMPLATES["generic_csv"].spec == GENERIC_CSV
    assert GenericCsvTemplate().spec == GENERIC_CSV


def test_gbk_reports_every_name_it_cannot_hold_with_its_line() -> None:
    problems = unencodable_lines("gbk_txt", _rare_lines())

    assert problems == [
        EncodingProblem(1, Field.PAYEE_NAME, "𠮷"),
        EncodingProblem(2, Field.PAYEE_NAME, "䶮"),
    ]
    assert [p.as_dict() for p in problems] == [
        {"line_no": 1, "field": "payee_name", "characters": ["𠮷"]},
        {"line_no": 2, "field": "payee_name", "characters": ["䶮"]},
    ]


def test_gbk_render_refuses_instead_of_writing_question_marks() -> None:
    with pytest.raises(UnencodableText) as caught:
        TEMPLATES["gbk_txt"].render(batch_id=1, lines=_rare_lines())

    error = caught.value
    assert [(p.line_no, p.field, p.characters) for p in error.problems] == [
        (1, "payee_name", "𠮷"),
        (2, "payee_name", "䶮"),
    ]
    assert error.template == "gbk_txt"
    assert isinstance(error, BankFileError)
    assert "GBK" in str(error)
    assert "第1行收款人姓名含有无法编码的字符“𠮷”(U+20BB7)" in str(error)
    assert "第2行收款人姓名含有无法编码的字符“䶮”(U+4DAE)" in str(error)
    with pytest.raises(UnencodableText):
        check_lines("gbk_txt", _rare_lines())


def test_encoding_check_covers_bank_and_purpose_and_lists_each_character_once() -> None:
    line = dataclasses.replace(
        _line(7, "张三", "6222", "1.00"), bank_name="䶮州银行", purpose="𠮷䶮𠮷"
    )

    problems = unencodable_lines("gbk_txt", [line])

    assert problems == [
        EncodingProblem(7, Field.BANK_NAME, "䶮"),
        EncodingProblem(7, Field.PURPOSE, "𠮷䶮"),
    ]


@pytest.mark.parametrize("name", ["generic_csv", "pipe_txt", "generic_xlsx"])
def test_unicode_templates_hold_the_rare_names(name: str) -> None:
    assert unencodable_lines(name, _rare_lines()) == []


def test_gb18030_round_trips_the_rare_names() -> None:
    content = TEMPLATES["pipe_txt"].render(batch_id=1, lines=_rare_lines())

    rows = [r.split("|") for r in content.decode("gb18030").split("\r\n")]
    assert rows[0] == ["H", "3", "1100.55"]
    assert [r[2] for r in rows[1:4]] == ["张𠮷", "刘䶮", "王五"]
    assert rows[4] == [""]  # the file ends with a line break


def test_xlsx_refuses_characters_xml_cannot_hold() -> None:
    line = dataclasses.replace(_line(1, "张三", "6222", "1.00"), purpose="救助\x01")

    assert unencodable_lines("generic_xlsx", [line]) == [
        EncodingProblem(1, Field.PURPOSE, "\x01")
    ]
    with pytest.raises(UnencodableText, match="XLSX"):
        TEMPLATES["generic_xlsx"].render(batch_id=1, lines=[line])


def test_pipe_file_refuses_a_field_that_would_split_its_row() -> None:
    lines = [
        _line(1, "张|三", "6222", "1.00"),
        dataclasses.replace(
            _line(2, "李四", "6223", "2.00"), purpose="第一行\r\n第二行"
        ),
    ]

    assert delimiter_conflicts("pipe_txt", lines) == [
        DelimiterProblem(1, Field.PAYEE_NAME, "|"),
        DelimiterProblem(2, Field.PURPOSE, "\r\n"),
    ]
    with pytest.raises(DelimiterInText) as caught:
        TEMPLATES["pipe_txt"].render(batch_id=1, lines=lines)
    assert "第1行收款人姓名含有“|”" in str(caught.value)
    assert "第2行用途含有回车符、换行符" in str(caught.value)


def test_csv_quotes_delimiters_quotes_and_breaks_and_reads_back_intact() -> None:
    awkward = 'a,b "c"\r\nd'
    line = dataclasses.replace(_line(1, "张三", "6222", "1.00"), purpose=awkward)

    assert delimiter_conflicts("generic_csv", [line]) == []
    for name, encoding in (("generic_csv", "utf-8-sig"), ("gbk_txt", "gbk")):
        content = TEMPLATES[name].render(batch_id=1, lines=[line])
        rows = list(csv.reader(io.StringIO(content.decode(encoding), newline="")))
        assert len(rows) == (2 if name == "generic_csv" else 3)
        assert awkward in rows[1]


def test_formula_text_is_neutralised_in_every_template() -> None:
    lines = [_line(1, "=1+2", "6222", "1.00")]

    for name in ("generic_csv", "pipe_txt", "gbk_txt"):
        template = TEMPLATES[name]
        text = template.render(batch_id=1, lines=lines).decode(template.spec.encoding)
        assert "'=1+2" in text
        assert "=1+2" not in text.replace("'=1+2", "")
    content = TEMPLATES["generic_xlsx"].render(batch_id=1, lines=lines)
    cell = load_workbook(io.BytesIO(content)).worksheets[0]["C2"]
    assert (cell.value, cell.data_type) == ("'=1+2", "s")


def test_spec_drives_summary_position_header_and_xlsx_text_cells() -> None:
    spec = TemplateSpec(
        name="test_xlsx",
        title_zh="测试",
        file_format=FileFormat.XLSX,
        columns=columns(Field.ACCOUNT_NO, Field.AMOUNT, Field.PAYEE_NAME),
        header=False,
        summary=SummaryRow(SummaryPosition.LAST, "合计"),
    )

    content = template_for(spec).render(batch_id=1, lines=_rare_lines())

    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    assert list(sheet.iter_rows(values_only=True)) == [
        ("0012345678901234567", "100.00", "张𠮷"),
        ("6222021234567890123", "1000.05", "刘䶮"),
        ("6217000010001234", "0.50", "王五"),
        ("合计", 3, "1100.55"),
    ]
    assert sheet["A1"].number_format == "@"
    assert sheet["B2"].data_type == "s"


def test_delimited_spec_with_summary_first_and_header() -> None:
    spec = TemplateSpec(
        name="test_csv",
        title_zh="测试",
        file_format=FileFormat.CSV,
        columns=columns(
            Field.PAYEE_NAME,
            Field.AMOUNT,
            titles={
                Field.PAYEE_NAME: "户名",
                Field.AMOUNT: "金额",
            },
        ),
        delimiter=";",
        summary=SummaryRow(SummaryPosition.FIRST, "S"),
        line_terminator="\n",
    )

    content = template_for(spec).render(batch_id=1, lines=_rare_lines()[:2])

    assert content == "S;2;1100.05\n户名;金额\n张𠮷;100.00\n刘䶮;1000.05\n".encode()


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"encoding": "gbk"}, "UTF-8"),
        ({"columns": ()}, "at least one column"),
        ({"delimiter": '"'}, "bad delimiter"),
        ({"delimiter": "||"}, "bad delimiter"),
    ],
)
def test_broken_xlsx_or_delimiter_specs_are_rejected_at_definition(
    changes: dict[str, object], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        dataclasses.replace(GENERIC_XLSX, **changes)  # type: ignore[arg-type]


def test_spec_titles_must_fit_the_encoding_and_the_delimiter() -> None:
    with pytest.raises(ValueError, match="is not gbk"):
        dataclasses.replace(
            GBK_TXT, columns=columns(Field.PAYEE_NAME, titles={Field.PAYEE_NAME: "䶮"})
        )
    with pytest.raises(ValueError, match="holds the delimiter"):
        dataclasses.replace(
            PIPE_TXT,
            header=True,
            columns=columns(Field.AMOUNT, titles={Field.AMOUNT: "a|b"}),
        )
