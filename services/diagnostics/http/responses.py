"""The ``responses=`` of an endpoint, so its OpenAPI lists every problem it can return."""

from __future__ import annotations

from typing import Any

from shared.problems import Forbidden, Unauthorized, problem_responses


def errors(*problems: type[Exception]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for an endpoint: authentication errors plus ``problems``."""
    return problem_responses(Unauthorized, Forbidden, *problems)
