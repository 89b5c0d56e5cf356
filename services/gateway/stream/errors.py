"""Errors of the live stream."""

from __future__ import annotations

from services.gateway.errors import GatewayError

RETRY_AFTER_S = 5


class TooManyStreams(GatewayError):
    """The client already has its maximum of open streams on this replica."""

    status, code, title = 429, "too-many-streams", "Too many open streams for this client"

    def __init__(self, client_id: str, limit: int) -> None:
        super().__init__(
            f"at most {limit} open streams per client: close one first",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
        self.client_id = client_id
        self.limit = limit
