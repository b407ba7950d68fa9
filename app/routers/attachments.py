"""Attachments and the exported case file (一人一档, R4)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["attachments"])
