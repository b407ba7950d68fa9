"""Keyset pagination: newest first, the cursor is the last id seen."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Generic, Protocol, Self, TypeVar

from pydantic import BaseModel

from app.api_types import MAX_ID
from app.errors import InvalidInput


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


T = TypeVar("T", bound=BaseModel)


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        kind, _, value = base64.urlsafe_b64decode(padded).decode().partition(":")
        if kind != "id" or not value.isdigit() or not 0 < int(value) <= MAX_ID:
            raise ValueError(cursor)
        return int(value)
    except ValueError as exc:
        raise InvalidInput(
            "分页游标无效，请从第一页重新查询。", field="cursor"
        ) from exc


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None

    @classmethod
    def of(cls, items: Sequence[T], *, limit: int, has_more: bool) -> Self:
        next_cursor = None
        if has_more and items:
            last = items[-1]
            next_cursor = encode_cursor(int(getattr(last, "id")))  # noqa: B009
        return cls(items=list(items), next_cursor=next_cursor)
