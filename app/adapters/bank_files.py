"""Payout files for the entrusted bank (代发).

A template turns the lines of a batch into the exact bytes the bank loads.
Templates are configuration: each is a ``TemplateSpec`` (columns, header,
summary row, delimiter, encoding, format) handed to one of two renderers,
``DelimitedTemplate`` for CSV/TXT and ``XlsxTemplate`` for XLSX. A new bank
is a new spec, not a new class.

Contracts every template keeps:

* Deterministic bytes. The same lines always give the same bytes, so the
  SHA-256 recorded when the batch was built proves later that the file was not
  changed. For XLSX see ``XlsxTemplate``: fixed document dates, fixed ZIP entry
  metadata, stored (uncompressed) entries.
* No silent replacement. Text the template's encoding cannot hold is refused
  with ``UnencodableText`` listing every line, field and character; nothing is
  ever written as ``?``. ``unencodable_lines`` runs the same check without
  rendering, so a batch can be refused before it is released.
* No formula injection. A text field (names, bank, purpose, and defensively
  the account number and reference, which upstream validation keeps to
  digits and our own ids) starting with ``= + - @``, a tab or a CR is prefixed
  with ``'`` in every format, and every XLSX text cell is a string cell,
  never a formula.
* Intact rows. In a spec with ``OnDelimiter.QUOTE`` a field holding the
  delimiter, a quote or a line break is quoted by the CSV rules. Fixed-layout
  bank files (``OnDelimiter.REFUSE``, e.g. pipe files, which banks parse by
  splitting on ``|`` with no quoting) refuse such a field with
  ``DelimiterInText`` instead.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, Protocol

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.functions import tostring

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


class Field(StrEnum):
    """A column a template may carry; the values name ``PayoutLine`` fields."""

    LINE_NO = "line_no"
    REFERENCE = "reference"
    PAYEE_NAME = "payee_name"
    BANK_NAME = "bank_name"
    ACCOUNT_NO = "account_no"
    AMOUNT = "amount"
    PURPOSE = "purpose"


FIELD_TITLES_ZH: Mapping[Field, str] = {
    Field.LINE_NO: "序号",
    Field.REFERENCE: "业务编号",
    Field.PAYEE_NAME: "收款人姓名",
    Field.BANK_NAME: "开户银行",
    Field.ACCOUNT_NO: "银行账号",
    Field.AMOUNT: "金额(元)",
    Field.PURPOSE: "用途",
}

# The string fields, i.e. everything but the number and the amount the
# service computes itself; these are checked against the encoding.
_TEXT_OF: Mapping[Field, Callable[[PayoutLine], str]] = {
    Field.REFERENCE: lambda line: line.reference,
    Field.PAYEE_NAME: lambda line: line.payee_name,
    Field.BANK_NAME: lambda line: line.bank_name,
    Field.ACCOUNT_NO: lambda line: line.account_no,
    Field.PURPOSE: lambda line: line.purpose,
}


class FileFormat(StrEnum):
    CSV = "csv"
    TXT = "txt"
    XLSX = "xlsx"


class OnDelimiter(StrEnum):
    """What a delimited file does with a field holding the delimiter or a break."""

    QUOTE = "quote"  # RFC 4180 quoting, for files read by CSV parsers
    REFUSE = "refuse"  # raise DelimiterInText, for files split naively


class SummaryPosition(StrEnum):
    FIRST = "first"  # before the header titles and the lines
    LAST = "last"  # after the lines


Encoding = Literal["utf-8", "utf-8-sig", "gbk", "gb18030"]

_CHARSETS: Mapping[str, str] = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8",
    "gbk": "GBK",
    "gb18030": "GB18030",
}

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True, slots=True)
class Column:
    field: Field
    title: str
    width: int | None = None  # XLSX only; None takes the field's usual width


def columns(
    *fields: Field, titles: Mapping[Field, str] = FIELD_TITLES_ZH
) -> tuple[Column, ...]:
    """Columns in the given order, titled from ``titles``."""
    return tuple(Column(f, titles[f]) for f in fields)


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """The control row banks check a file against: label, line count, total.

    Rendered as three cells ``label, count, total`` (``H|2|1100.05`` in a
    pipe file); in XLSX they fill the first three columns.
    """

    position: SummaryPosition
    label: str


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """Everything that makes one bank's payout file what it is."""

    name: str
    title_zh: str
    file_format: FileFormat
    columns: tuple[Column, ...]
    encoding: Encoding = "utf-8"
    delimiter: str = ","
    header: bool = True
    summary: SummaryRow | None = None
    on_delimiter: OnDelimiter = OnDelimiter.QUOTE
    line_terminator: str = "\r\n"
    sheet_title: str = "代发明细"  # XLSX only

    def __post_init__(self) -> None:
        # A spec is code-reviewed configuration: reject a broken one at import
        # time rather than when a clerk builds a batch.
        if not self.columns:
            raise ValueError(f"{self.name}: a template needs at least one column")
        if len(self.delimiter) != 1 or self.delimiter in "\r\n\"'":
            raise ValueError(f"{self.name}: bad delimiter {self.delimiter!r}")
        if self.file_format is FileFormat.XLSX and self.encoding != "utf-8":
            raise ValueError(f"{self.name}: XLSX is always UTF-8 inside")
        fixed_texts = [c.title for c in self.columns]
        if self.summary is not None:
            fixed_texts.append(self.summary.label)
        for text in fixed_texts:
            if _unholdable(self, text):
                raise ValueError(f"{self.name}: {text!r} is not {self.encoding}")
            if self._splits_rows(text):
                raise ValueError(f"{self.name}: {text!r} holds the delimiter")

    @property
    def media_type(self) -> str:
        if self.file_format is FileFormat.XLSX:
            return XLSX_MEDIA_TYPE
        kind = "text/csv" if self.file_format is FileFormat.CSV else "text/plain"
        return f"{kind}; charset={_CHARSETS[self.encoding]}"

    @property
    def extension(self) -> str:
        return self.file_format.value

    def _splits_rows(self, text: str) -> bool:
        return (
            self.file_format is not FileFormat.XLSX
            and self.on_delimiter is OnDelimiter.REFUSE
            and bool(_row_breakers(self, text))
        )


class BankFileTemplate(Protocol):
    name: str
    title_zh: str
    media_type: str
    extension: str
    spec: TemplateSpec

    def render(self, *, batch_id: int, lines: Sequence[PayoutLine]) -> bytes: ...


_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(text: str) -> str:
    """A cell a spreadsheet will not run: leading formula characters are quoted."""
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


# ---------------------------------------------------------------------------
# Checks run before rendering


def _xml_char(ch: str) -> bool:
    """Whether XML 1.0 (and so an XLSX cell) can hold the character at all."""
    code = ord(ch)
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _encodes(ch: str, encoding: str) -> bool:
    try:
        ch.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _distinct(chars: Iterator[str]) -> str:
    return "".join(dict.fromkeys(chars))


def _unholdable(spec: TemplateSpec, text: str) -> str:
    """The distinct characters of ``text`` the file cannot carry, in order."""
    if spec.file_format is FileFormat.XLSX:
        return _distinct(ch for ch in text if not _xml_char(ch))
    try:
        text.encode(spec.encoding)
    except UnicodeEncodeError:
        return _distinct(ch for ch in text if not _encodes(ch, spec.encoding))
    return ""


def _row_breakers(spec: TemplateSpec, text: str) -> str:
    return _distinct(ch for ch in text if ch in (spec.delimiter, "\r", "\n"))


def _encoding_title(spec: TemplateSpec) -> str:
    if spec.file_format is FileFormat.XLSX:
        return "XLSX"
    return _CHARSETS[spec.encoding].upper()


_BREAKER_NAMES_ZH: Mapping[str, str] = {"\r": "回车符", "\n": "换行符"}


def _describe(characters: str) -> str:
    return "、".join(f"“{ch}”(U+{ord(ch):04X})" for ch in characters)


@dataclass(frozen=True, slots=True)
class EncodingProblem:
    """A field of a line holding characters the template's encoding cannot."""

    line_no: int
    field: Field
    characters: str  # distinct, in order of appearance

    @property
    def message_zh(self) -> str:
        return (
            f"第{self.line_no}行{FIELD_TITLES_ZH[self.field]}"
            f"含有无法编码的字符{_describe(self.characters)}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "line_no": self.line_no,
            "field": self.field.value,
            "characters": list(self.characters),
        }


@dataclass(frozen=True, slots=True)
class DelimiterProblem:
    """A field that would split its row in a file that cannot quote."""

    line_no: int
    field: Field
    characters: str

    @property
    def message_zh(self) -> str:
        shown = "、".join(
            _BREAKER_NAMES_ZH.get(ch, f"“{ch}”") for ch in self.characters
        )
        return f"第{self.line_no}行{FIELD_TITLES_ZH[self.field]}含有{shown}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "line_no": self.line_no,
            "field": self.field.value,
            "characters": list(self.characters),
        }


class BankFileError(ValueError):
    """The lines cannot be put into this template's file as they are.

    ``str(error)`` is a Chinese message a clerk can act on; ``problems``
    lists every offending line and field.
    """

    problems: tuple[EncodingProblem | DelimiterProblem, ...]

    def __init__(
        self,
        message: str,
        problems: Sequence[EncodingProblem | DelimiterProblem],
        *,
        template: str,
    ) -> None:
        super().__init__(message)
        self.problems = tuple(problems)
        self.template = template


class UnencodableText(BankFileError):
    problems: tuple[EncodingProblem, ...]

    def __init__(self, spec: TemplateSpec, problems: Sequence[EncodingProblem]):
        message = (
            f"代发文件“{spec.title_zh}”使用 {_encoding_title(spec)} 编码，"
            f"无法表示以下字符，文件未生成："
            + "；".join(p.message_zh for p in problems)
            + "。请核对收款人信息，或改用 GB18030 或 UTF-8 编码的模板。"
        )
        super().__init__(message, problems, template=spec.name)
        self.problems = tuple(problems)
        self.encoding = spec.encoding


class DelimiterInText(BankFileError):
    problems: tuple[DelimiterProblem, ...]

    def __init__(self, spec: TemplateSpec, problems: Sequence[DelimiterProblem]):
        message = (
            f"代发文件“{spec.title_zh}”以“{spec.delimiter}”分隔且不支持引号转义，"
            f"文件未生成："
            + "；".join(p.message_zh for p in problems)
            + "。请删除这些字符后重试。"
        )
        super().__init__(message, problems, template=spec.name)
        self.problems = tuple(problems)


def _text_cells(spec: TemplateSpec, line: PayoutLine) -> Iterator[tuple[Field, str]]:
    for column in spec.columns:
        text_of = _TEXT_OF.get(column.field)
        if text_of is not None:
            yield column.field, text_of(line)


def _encoding_problems(
    spec: TemplateSpec, lines: Sequence[PayoutLine]
) -> list[EncodingProblem]:
    problems = []
    for line in lines:
        for field_, text in _text_cells(spec, line):
            bad = _unholdable(spec, text)
            if bad:
                problems.append(EncodingProblem(line.line_no, field_, bad))
    return problems


def _delimiter_problems(
    spec: TemplateSpec, lines: Sequence[PayoutLine]
) -> list[DelimiterProblem]:
    if spec.file_format is FileFormat.XLSX or spec.on_delimiter is OnDelimiter.QUOTE:
        return []
    problems = []
    for line in lines:
        for field_, text in _text_cells(spec, line):
            bad = _row_breakers(spec, text)
            if bad:
                problems.append(DelimiterProblem(line.line_no, field_, bad))
    return problems


def _refuse_unrenderable(spec: TemplateSpec, lines: Sequence[PayoutLine]) -> None:
    encoding = _encoding_problems(spec, lines)
    if encoding:
        raise UnencodableText(spec, encoding)
    delimiter = _delimiter_problems(spec, lines)
    if delimiter:
        raise DelimiterInText(spec, delimiter)


# ---------------------------------------------------------------------------
# Renderers


def _cell_text(field_: Field, line: PayoutLine) -> str:
    if field_ is Field.LINE_NO:
        return str(line.line_no)
    if field_ is Field.AMOUNT:
        return str(line.amount)
    return formula_safe(_TEXT_OF[field_](line))


def _summary_cells(summary: SummaryRow, lines: Sequence[PayoutLine]) -> list[str]:
    total = sum((line.amount for line in lines), Money.zero())
    return [summary.label, str(len(lines)), str(total)]


class DelimitedTemplate:
    """CSV or TXT from a spec: one row per line, text encoded strictly."""

    def __init__(self, spec: TemplateSpec) -> None:
        if spec.file_format is FileFormat.XLSX:
            raise ValueError(f"{spec.name}: use XlsxTemplate for XLSX")
        self.spec = spec
        self.name = spec.name
        self.title_zh = spec.title_zh
        self.media_type = spec.media_type
        self.extension = spec.extension

    def _rows(self, lines: Sequence[PayoutLine]) -> list[list[str]]:
        spec = self.spec
        rows: list[list[str]] = []
        if spec.summary and spec.summary.position is SummaryPosition.FIRST:
            rows.append(_summary_cells(spec.summary, lines))
        if spec.header:
            rows.append([c.title for c in spec.columns])
        rows.extend([_cell_text(c.field, line) for c in spec.columns] for line in lines)
        if spec.summary and spec.summary.position is SummaryPosition.LAST:
            rows.append(_summary_cells(spec.summary, lines))
        return rows

    def render(self, *, batch_id: int, lines: Sequence[PayoutLine]) -> bytes:
        spec = self.spec
        _refuse_unrenderable(spec, lines)
        rows = self._rows(lines)
        if spec.on_delimiter is OnDelimiter.REFUSE:
            text = "".join(
                spec.delimiter.join(row) + spec.line_terminator for row in rows
            )
        else:
            buffer = io.StringIO(newline="")
            writer = csv.writer(
                buffer, delimiter=spec.delimiter, lineterminator=spec.line_terminator
            )
            writer.writerows(rows)
            text = buffer.getvalue()
        # Strict: the checks above make a failure here a bug, never a "?".
        return text.encode(spec.encoding)


# Fixed metadata so that the bytes depend on the lines alone. The ZIP format
# cannot express dates before 1980.
_FIXED_DOCUMENT_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.UTC).replace(tzinfo=None)
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_CORE_PROPERTIES_PART = "docProps/core.xml"

_TEXT_FORMAT = "@"
_DEFAULT_WIDTHS: Mapping[Field, int] = {
    Field.LINE_NO: 6,
    Field.REFERENCE: 14,
    Field.PAYEE_NAME: 16,
    Field.BANK_NAME: 28,
    Field.ACCOUNT_NO: 24,
    Field.AMOUNT: 14,
    Field.PURPOSE: 20,
}


def _stable_zip(content: bytes, core_properties: bytes) -> bytes:
    """Re-pack an XLSX so that nothing in it depends on when it was made.

    openpyxl stamps each ZIP entry with the current time (and the temporary
    file's mtime for sheets) and sets the document's modified date on save;
    the entries are rewritten in the same order with fixed times and
    attributes, and the core properties part is replaced. Entries are stored
    uncompressed so the bytes do not depend on the zlib build either.
    """
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target,
    ):
        for entry in source.infolist():
            data = (
                core_properties
                if entry.filename == _CORE_PROPERTIES_PART
                else source.read(entry)
            )
            fixed = zipfile.ZipInfo(entry.filename, date_time=_FIXED_ZIP_TIME)
            fixed.create_system = 3  # otherwise it follows the host platform
            fixed.external_attr = 0o644 << 16
            fixed.compress_type = zipfile.ZIP_STORED
            target.writestr(fixed, data)
    return out.getvalue()


class XlsxTemplate:
    """XLSX from a spec; every identifier and amount is a text cell.

    Text cells have number format ``@`` and a string value, so leading zeros
    and 19-digit card numbers survive and amounts read exactly ``100.00``.
    Only ``line_no`` and the summary's count are numbers.
    """

    def __init__(self, spec: TemplateSpec) -> None:
        if spec.file_format is not FileFormat.XLSX:
            raise ValueError(f"{spec.name}: use DelimitedTemplate for CSV/TXT")
        self.spec = spec
        self.name = spec.name
        self.title_zh = spec.title_zh
        self.media_type = spec.media_type
        self.extension = spec.extension

    def render(self, *, batch_id: int, lines: Sequence[PayoutLine]) -> bytes:
        spec = self.spec
        _refuse_unrenderable(spec, lines)
        workbook = Workbook()
        sheet: Worksheet = workbook.create_sheet(spec.sheet_title)
        workbook.remove(workbook.worksheets[0])
        row = 1
        if spec.summary and spec.summary.position is SummaryPosition.FIRST:
            _summary_row(sheet, row, spec.summary, lines)
            row += 1
        if spec.header:
            bold = Font(bold=True)
            for number, column in enumerate(spec.columns, start=1):
                _text_cell(sheet, row, number, column.title).font = bold
            sheet.freeze_panes = f"A{row + 1}"
            row += 1
        for line in lines:
            for number, column in enumerate(spec.columns, start=1):
                if column.field is Field.LINE_NO:
                    sheet.cell(row, number, line.line_no)
                else:
                    _text_cell(sheet, row, number, _cell_text(column.field, line))
            row += 1
        if spec.summary and spec.summary.position is SummaryPosition.LAST:
            _summary_row(sheet, row, spec.summary, lines)
        for number, column in enumerate(spec.columns, start=1):
            width = column.width or _DEFAULT_WIDTHS[column.field]
            sheet.column_dimensions[get_column_letter(number)].width = width

        workbook.properties.created = _FIXED_DOCUMENT_TIME
        workbook.properties.modified = _FIXED_DOCUMENT_TIME
        buffer = io.BytesIO()
        workbook.save(buffer)
        # save() resets "modified" to now, so the part is serialised again.
        workbook.properties.modified = _FIXED_DOCUMENT_TIME
        core = tostring(workbook.properties.to_tree())
        return _stable_zip(buffer.getvalue(), core)


def _summary_row(
    sheet: Worksheet, row: int, summary: SummaryRow, lines: Sequence[PayoutLine]
) -> None:
    label, count, total = _summary_cells(summary, lines)
    _text_cell(sheet, row, 1, label)
    sheet.cell(row, 2, int(count))
    _text_cell(sheet, row, 3, total)


def _text_cell(sheet: Worksheet, row: int, column: int, text: str) -> Cell:
    cell = sheet.cell(row, column, text)
    # openpyxl makes any string starting with "=" a formula; formula_safe has
    # already quoted those, and the type is pinned so no path can yield one.
    cell.data_type = "s"
    cell.number_format = _TEXT_FORMAT
    return cell


# ---------------------------------------------------------------------------
# The shipped templates


GENERIC_CSV = TemplateSpec(
    name="generic_csv",
    title_zh="通用 CSV（UTF-8，带表头）",
    file_format=FileFormat.CSV,
    columns=columns(*Field),
    encoding="utf-8-sig",  # the BOM makes spreadsheet programs read Chinese
)

PIPE_TXT = TemplateSpec(
    name="pipe_txt",
    title_zh="竖线分隔 TXT（GB18030，首行汇总）",
    file_format=FileFormat.TXT,
    columns=columns(
        Field.LINE_NO,
        Field.ACCOUNT_NO,
        Field.PAYEE_NAME,
        Field.AMOUNT,
        Field.BANK_NAME,
        Field.PURPOSE,
        Field.REFERENCE,
    ),
    encoding="gb18030",
    delimiter="|",
    header=False,
    summary=SummaryRow(SummaryPosition.FIRST, "H"),
    on_delimiter=OnDelimiter.REFUSE,
)

GBK_TXT = TemplateSpec(
    name="gbk_txt",
    title_zh="逗号分隔 TXT（GBK，末行合计）",
    file_format=FileFormat.TXT,
    columns=columns(
        Field.LINE_NO,
        Field.PAYEE_NAME,
        Field.ACCOUNT_NO,
        Field.AMOUNT,
        Field.BANK_NAME,
        Field.PURPOSE,
        Field.REFERENCE,
    ),
    encoding="gbk",
    summary=SummaryRow(SummaryPosition.LAST, "合计"),
)

GENERIC_XLSX = TemplateSpec(
    name="generic_xlsx",
    title_zh="通用 Excel（XLSX，文本格式）",
    file_format=FileFormat.XLSX,
    columns=columns(*Field),
)


def template_for(spec: TemplateSpec) -> BankFileTemplate:
    if spec.file_format is FileFormat.XLSX:
        return XlsxTemplate(spec)
    return DelimitedTemplate(spec)


class GenericCsvTemplate(DelimitedTemplate):
    """The original UTF-8 CSV, kept importable under its old name."""

    def __init__(self) -> None:
        super().__init__(GENERIC_CSV)


TEMPLATES: dict[str, BankFileTemplate] = {
    spec.name: template_for(spec)
    for spec in (GENERIC_CSV, PIPE_TXT, GBK_TXT, GENERIC_XLSX)
}


def unencodable_lines(
    template_name: str, lines: Sequence[PayoutLine]
) -> list[EncodingProblem]:
    """Every text field the template's encoding cannot hold, line by line.

    Empty means the file can be rendered as far as encoding goes. A KeyError
    for an unknown template, like ``TEMPLATES[name]``.
    """
    return _encoding_problems(TEMPLATES[template_name].spec, lines)


def delimiter_conflicts(
    template_name: str, lines: Sequence[PayoutLine]
) -> list[DelimiterProblem]:
    """Fields that would split a row of a template that refuses to quote."""
    return _delimiter_problems(TEMPLATES[template_name].spec, lines)


def check_lines(template_name: str, lines: Sequence[PayoutLine]) -> None:
    """Raise what ``render`` would raise, without rendering.

    ``UnencodableText`` first, then ``DelimiterInText``; both are
    ``BankFileError`` with a message for the clerk.
    """
    _refuse_unrenderable(TEMPLATES[template_name].spec, lines)
