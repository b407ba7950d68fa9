"""Spot checks of street-approved cases and the district filing list (R3.5, R3.6)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["spot-checks"])
