"""Audit: the per-currency hash chain, its verification, and journal exports (FEC, CSV)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/currencies", tags=["audit"])
