"""A circuit breaker per upstream: after ``failure_threshold`` consecutive failures the
gateway stops sending requests for ``reset_timeout_s`` and answers 503 at once, so a
sick service gets room to recover and callers do not pile up on timeouts. Then one trial
request at a time is let through (half-open); its success closes the circuit."""

from __future__ import annotations

from enum import StrEnum


class BreakerState(StrEnum):
    closed = "closed"
    open = "open"
    half_open = "half_open"


class CircuitBreaker:
    def __init__(self, *, failure_threshold: int = 5, reset_timeout_s: float = 10.0) -> None:
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self.failures = 0
        self.opened_at: float | None = None
        self._trial_in_flight = False

    def state(self, now: float) -> BreakerState:
        if self.opened_at is None:
            return BreakerState.closed
        if now - self.opened_at >= self.reset_timeout_s:
            return BreakerState.half_open
        return BreakerState.open

    def retry_after(self, now: float) -> float:
        """Seconds until a trial request will be let through (0 when closed)."""
        if self.opened_at is None:
            return 0.0
        return max(0.0, self.reset_timeout_s - (now - self.opened_at))

    def allow(self, now: float) -> bool:
        """Whether to send a request now; in half-open state only one trial at a time."""
        state = self.state(now)
        if state is BreakerState.closed:
            return True
        if state is BreakerState.open or self._trial_in_flight:
            return False
        self._trial_in_flight = True
        return True

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self._trial_in_flight = False

    def record_failure(self, now: float) -> None:
        self.failures += 1
        if self._trial_in_flight or self.failures >= self.failure_threshold:
            self.opened_at = now
        self._trial_in_flight = False

    def release(self) -> None:
        """A trial ended without telling us anything (cancelled): let another one try."""
        self._trial_in_flight = False
