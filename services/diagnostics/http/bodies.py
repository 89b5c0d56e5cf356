"""The base of every request and response body of the diagnostics API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Schema(BaseModel):
    # No docstring: a model's docstring would become its description in the OpenAPI.
    model_config = ConfigDict(from_attributes=True)
