from __future__ import annotations

import datetime as dt

import pytest

from app.domain.idnumber import (
    InvalidIdNumber,
    birth_date_of,
    mask_account,
    mask_id_number,
    mask_name,
    normalise_id_number,
)
from tests.support import id_number

VALID_X = "11010519491231002X"  # the GB 11643 worked example


def test_a_valid_number_is_returned_unchanged() -> None:
    number = id_number("430204", "19850315", 1)

    assert normalise_id_number(number) == number


def test_lower_case_and_full_width_x_are_what_input_methods_type() -> None:
    assert normalise_id_number(VALID_X.lower()) == VALID_X
    assert normalise_id_number(VALID_X[:-1] + "ｘ") == VALID_X
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in VALID_X[:17]) + "X"
    assert normalise_id_number(full_width) == VALID_X


def test_born_before_the_area_code_existed_is_still_valid() -> None:
    # 石峰区 (430204) was created long after 1950; its residents keep that code.
    number = id_number("430204", "19500101", 3)

    assert normalise_id_number(number) == number


@pytest.mark.parametrize(
    "number",
    [
        VALID_X[:-1] + "1",  # wrong check digit
        "11010519491331002X",  # month 13
        "1101051949123100",  # too short
        "A1010519491231002X",  # a letter in the body
    ],
)
def test_invalid_numbers_are_refused(number: str) -> None:
    with pytest.raises(InvalidIdNumber):
        normalise_id_number(number)


def test_birth_date_comes_from_the_number() -> None:
    assert birth_date_of(VALID_X) == dt.date(1949, 12, 31)


def test_masks_keep_only_what_identifies_nobody() -> None:
    assert mask_id_number(VALID_X) == "110105********002X"
    assert mask_account("6217002870012345678") == "***************5678"
    assert mask_account("123") == "***"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("李") == "李"
