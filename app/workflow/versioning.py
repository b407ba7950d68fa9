"""Compare-and-set on a row's ``version``: the one way rows change under races.

``UPDATE … SET version = version + 1 … WHERE id = :id AND version = :seen``
matches no row when someone else changed it since it was read; the caller
then gets 409 ``concurrent_update`` and its transaction rolls back.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.errors import ConcurrentUpdate


class Versioned(Protocol):
    @property
    def id(self) -> int | None: ...

    @property
    def version(self) -> int: ...


async def compare_and_set(session: AsyncSession, row: Versioned, **values: Any) -> None:
    """Write ``values`` and the next version if the row still has the version read."""
    table: Any = type(row)
    seen = row.version
    values = {**values, "version": seen + 1}
    result = await session.execute(
        update(table)
        .where(table.id == row.id, table.version == seen)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise ConcurrentUpdate()
    for key, value in values.items():
        set_committed_value(row, key, value)
