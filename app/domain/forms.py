"""Forms of help (R3.10): the value of goods given in kind.

Goods count against the caps at their value, so an in-kind grant is the sum
of quantity × unit value over its items, exactly in fen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.money import Money


@dataclass(frozen=True, slots=True)
class InKindItem:
    name: str
    quantity: int
    unit_value: Money

    @property
    def value(self) -> Money:
        return self.unit_value * self.quantity

    def to_dict(self) -> dict[str, str | int]:
        return {
            "name": self.name,
            "quantity": self.quantity,
            "unit_value": str(self.unit_value),
            "value": str(self.value),
        }


def in_kind_value(items: Sequence[InKindItem]) -> Money:
    return sum((item.value for item in items), Money.zero())
