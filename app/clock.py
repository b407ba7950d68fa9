"""The one source of "now".

Everything that reads the time goes through a ``Clock`` so that tests and the
demo can move through a seven-day publicity period without sleeping. Times
are timezone-aware UTC inside the service; people see them at +08:00.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

CHINA_TZ = dt.timezone(dt.timedelta(hours=8), name="Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class OffsetClock:
    """Real time shifted by an offset that only ever grows.

    Used by demo and test runs. The offset lives in this process only, so a
    demo server runs a single worker.
    """

    def __init__(self, start: dt.datetime | None = None) -> None:
        base = dt.datetime.now(dt.UTC)
        self._offset = (start - base) if start is not None else dt.timedelta(0)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self._offset

    def advance(self, delta: dt.timedelta) -> None:
        if delta < dt.timedelta(0):
            raise ValueError("time never moves backwards")
        self._offset += delta


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar date in China of an instant; decisions are dated this way."""
    return moment.astimezone(CHINA_TZ).date()
