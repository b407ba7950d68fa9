"""Field types shared by the request and response models."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    field_validator,
)
from pydantic import BaseModel as _BaseModel

from app.clock import CHINA_TZ
from app.domain.idnumber import InvalidIdNumber, normalise_id_number
from app.domain.money import YUAN_PATTERN_TEXT, Money, MoneyFormatError


def _to_money(value: Any) -> Money:
    if isinstance(value, Money):
        return value
    if not isinstance(value, str):
        raise ValueError('金额须写成字符串，精确到分，例如 "1234.50"')
    try:
        return Money.parse(value)
    except MoneyFormatError as exc:
        raise ValueError(
            '金额格式不正确，须为非负数、最多两位小数，例如 "1234.50"'
        ) from exc


MoneyStr = Annotated[
    Money,
    PlainValidator(_to_money),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": YUAN_PATTERN_TEXT,
            "description": "Yuan with two decimals, as a string.",
            "examples": ["1234.50"],
        }
    ),
]


def _to_local(moment: dt.datetime) -> str:
    return moment.astimezone(CHINA_TZ).isoformat()


# Instants are stored in UTC and shown at +08:00, where people read them.
LocalDateTime = Annotated[dt.datetime, PlainSerializer(_to_local, return_type=str)]


def _valid_id_number(value: str) -> str:
    try:
        return normalise_id_number(value)
    except InvalidIdNumber as exc:
        raise ValueError("身份证号码无效（位数、出生日期或校验位不正确）") from exc


IdNumber = Annotated[str, AfterValidator(_valid_id_number)]


# Row ids fit the 32-bit integer columns; a larger number cannot name a row.
MAX_ID = 2**31 - 1
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


class InputModel(_BaseModel):
    """Request bodies: unknown fields are refused, so no side door sets a status."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL cannot store U+0000 in text; refuse it as input, not as a 500.
        if _has_nul(value):
            raise ValueError("不能包含空字符（U+0000）")
        return value


class OutputModel(_BaseModel):
    model_config = ConfigDict(from_attributes=True)


# A person's name as written on an ID card or a bank account. It reaches
# bank files and spreadsheets: no leading character a spreadsheet would run
# as a formula, no delimiter of a bank file, no line breaks or tabs.
PersonName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[^=+\-@\s|][^|\t\r\n]*$",
        examples=["张建国", "阿依古丽·买买提"],
    ),
]
