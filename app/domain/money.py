"""Money as integer fen.

Amounts cross the API as strings with exactly two decimals (``"1234.50"``) and
live everywhere else as an integer number of fen, so that no float ever
touches a grant. Parsing is strict: a clerk who types ``1e3`` or ``12.345``
gets an error, not a silently rounded amount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Self

_YUAN_PATTERN = re.compile(r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$")

YUAN_PATTERN_TEXT = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"


class MoneyFormatError(ValueError):
    """The text is not an amount of yuan with at most two decimals."""


@dataclass(frozen=True, order=True, slots=True)
class Money:
    """A non-negative or negative amount in fen; arithmetic stays exact."""

    fen: int

    @classmethod
    def parse(cls, text: str) -> Self:
        """Read ``"1234.5"`` or ``"1234.50"``; refuse signs, exponents and floats."""
        if not isinstance(text, str) or not _YUAN_PATTERN.fullmatch(text):
            raise MoneyFormatError(text)
        whole, _, frac = text.partition(".")
        return cls(int(whole) * 100 + int((frac + "00")[:2]))

    @classmethod
    def yuan(cls, whole: int) -> Self:
        return cls(whole * 100)

    def __str__(self) -> str:
        sign = "-" if self.fen < 0 else ""
        whole, frac = divmod(abs(self.fen), 100)
        return f"{sign}{whole}.{frac:02d}"

    def grouped(self) -> str:
        """Thousands separators for sentences read by people: ``11,700.00``."""
        sign = "-" if self.fen < 0 else ""
        whole, frac = divmod(abs(self.fen), 100)
        return f"{sign}{whole:,}.{frac:02d}"

    def __add__(self, other: Money) -> Money:
        return Money(self.fen + other.fen)

    def __sub__(self, other: Money) -> Money:
        return Money(self.fen - other.fen)

    def __mul__(self, factor: int) -> Money:
        return Money(self.fen * factor)

    __rmul__ = __mul__

    def as_fraction(self) -> Fraction:
        return Fraction(self.fen)

    @staticmethod
    def zero() -> Money:
        return Money(0)


def format_per_capita(total_fen: Fraction) -> str:
    """Display a per-capita amount (an exact fraction of fen) for people.

    The one rounding rule of the service: half-up to the fen, for display
    only. Comparisons against caps always use the exact fraction.
    """
    sign = "-" if total_fen < 0 else ""
    magnitude = abs(total_fen)
    fen = int(magnitude + Fraction(1, 2))
    return sign + str(Money(fen)) if fen else "0.00"
