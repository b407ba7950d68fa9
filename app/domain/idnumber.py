"""Resident identity numbers (居民身份证号码, GB 11643-1999).

The check digit and the embedded birth date are checked by python-stdnum.
Its further test, that the six-digit area code existed in the holder's birth
year, is deliberately not applied: the code records where the number was
issued, often years after birth (numbers were first issued in 1984 and area
codes have been renamed since), so that test refuses real residents. Born
before 1984 in 石峰区 (430204, created 1997) is an ordinary case here.
"""

from __future__ import annotations

import datetime as dt

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

_FULL_WIDTH = str.maketrans("０１２３４５６７８９ＸｘＸ", "0123456789XXX")


class InvalidIdNumber(ValueError):
    """The number fails its length, birth-date or check-digit test."""


def normalise_id_number(raw: str) -> str:
    """Return the canonical 18-character form, upper-case ``X``.

    Full-width digits and a lower-case ``x`` are accepted because they are
    what Chinese input methods produce; spaces are ignored.
    """
    text = raw.translate(_FULL_WIDTH).replace(" ", "").upper()
    if len(text) != 18 or not text[:17].isdigit():
        raise InvalidIdNumber(raw)
    try:
        if ric.calc_check_digit(text) != text[-1]:
            raise InvalidIdNumber(raw)
        ric.get_birth_date(text)
    except ValidationError as exc:
        raise InvalidIdNumber(raw) from exc
    return text


def compose_id_number(area: str, birth: dt.date, sequence: int) -> str:
    """A checksum-valid number for demo and test data (never for real people)."""
    body = f"{area}{birth:%Y%m%d}{sequence % 1000:03d}"
    return body + str(ric.calc_check_digit(body + "0"))


def birth_date_of(id_number: str) -> dt.date:
    return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def mask_id_number(id_number: str) -> str:
    """Keep the region prefix and the last four characters: ``430204**********1234``."""
    if len(id_number) < 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_account(account: str) -> str:
    """Bank account: only the last four digits show."""
    if len(account) <= 4:
        return "*" * len(account)
    return "*" * (len(account) - 4) + account[-4:]


def mask_name(name: str) -> str:
    """Keep the first character, mask the rest, counting characters not bytes."""
    if len(name) <= 1:
        return name
    return name[0] + "*" * (len(name) - 1)
