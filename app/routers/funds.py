"""Street reserve funds and recoveries of money paid wrongly (R5.1, R5.2)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["funds"])
