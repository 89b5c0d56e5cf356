"""The base of every error the gateway answers with.

Each concept declares its own errors beside it (``clients/errors.py``, ``tokens/errors.py``,
``stream/errors.py``, ``traffic/errors.py``); shared's one handler renders them all as
problem+json.
"""

from __future__ import annotations

from typing import Any, ClassVar

from shared.errors import DomainError


class GatewayError(DomainError):
    """An error the gateway answers a client with; ``headers`` go with the answer."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "gateway-error"
    title: ClassVar[str] = "Gateway error"

    def __init__(
        self, detail: str | None = None, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail, **extra)
        self.headers: dict[str, str] = headers or {}
