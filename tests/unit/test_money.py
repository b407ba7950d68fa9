from __future__ import annotations

from fractions import Fraction

import pytest

from app.domain.money import Money, MoneyFormatError, format_per_capita


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("0", 0),
        ("0.5", 50),
        ("0.05", 5),
        ("1234.5", 123450),
        ("1234.50", 123450),
        ("999999999999.99", 99999999999999),
    ],
)
def test_yuan_text_parses_to_exact_fen(text: str, fen: int) -> None:
    assert Money.parse(text).fen == fen


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1e3",
        "1.234",
        "-1.00",
        "+1",
        "01.00",
        "1,000.00",
        "NaN",
        "Infinity",
        "１２",
        " 1.00",
        "1.",
        ".5",
        "0x10",
    ],
)
def test_anything_but_plain_yuan_with_two_decimals_is_refused(text: str) -> None:
    with pytest.raises(MoneyFormatError):
        Money.parse(text)


def test_amounts_print_with_two_decimals_and_group_for_people() -> None:
    assert str(Money(123450)) == "1234.50"
    assert str(Money(5)) == "0.05"
    assert str(Money(-5)) == "-0.05"
    assert Money(1170000).grouped() == "11,700.00"


def test_arithmetic_stays_in_fen() -> None:
    assert Money.parse("0.10") + Money.parse("0.20") == Money.parse("0.30")
    assert Money.parse("650.00") * 6 * 3 == Money.parse("11700.00")
    assert Money.parse("1.00") - Money.parse("0.01") == Money(99)


@pytest.mark.parametrize(
    ("fen", "shown"),
    [
        (Fraction(100000, 3), "333.33"),  # 1,000 yuan over three people
        (Fraction(200000, 3), "666.67"),  # half-up at the fen
        (Fraction(1, 2), "0.01"),
        (Fraction(1, 3), "0.00"),
        (Fraction(0), "0.00"),
    ],
)
def test_per_capita_amounts_round_half_up_only_for_display(
    fen: Fraction, shown: str
) -> None:
    assert format_per_capita(fen) == shown
