"""Cards and tokens: a card maps to an account; card payments are a hold then a capture."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/cards", tags=["cards"])
