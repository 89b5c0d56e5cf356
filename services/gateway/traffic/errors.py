"""Errors of the gateway's edge (size and rate limits) and of its hop to the services."""

from __future__ import annotations

from services.gateway.errors import GatewayError


class PayloadTooLarge(GatewayError):
    status, code, title = 413, "payload-too-large", "Request body too large"


class RateLimited(GatewayError):
    status, code, title = 429, "rate-limited", "Too many requests"


class UnknownService(GatewayError):
    status, code, title = 404, "unknown-service", "No such service"


class ProxyProblem(GatewayError):
    """An upstream failure as the caller sees it, with the headers it calls for."""


class GatewayTimeout(ProxyProblem):
    status, code, title = 504, "gateway-timeout", "The service did not answer in time"


class UpstreamUnavailable(ProxyProblem):
    status, code, title = 503, "upstream-unavailable", "Service temporarily unavailable"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class UpstreamError(ProxyProblem):
    code, title = "upstream-error", "The service reported an error"

    def __init__(self, status: int) -> None:
        super().__init__(f"the service answered {status} without details")
        # One class for every status a service may answer with.
        self.status = status  # type: ignore[misc]
