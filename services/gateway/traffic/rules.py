"""Pure rules of the gateway's traffic: token buckets (rate limits) and circuit breakers.
The clock is passed in, so tests need no sleeping.

Token buckets: each caller may burst up to ``capacity`` requests, then is held to ``rate``
requests per second.

A circuit breaker per upstream: after ``failure_threshold`` consecutive failures the
gateway stops sending requests for ``reset_timeout_s`` and answers 503 at once, so a
sick service gets room to recover and callers do not pile up on timeouts. Then one trial
request at a time is let through (half-open); its success closes the circuit. An upstream
that has never answered (nothing listening yet, as on a cold start) is not counted against
its circuit: a refused connection costs nothing, and counting it would keep the first
callers of a freshly started stack out for ``reset_timeout_s`` after the service is up."""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after_s: float
    limit: int


class TokenBucket:
    """One caller's bucket; ``tokens`` refill continuously at ``rate`` per second."""

    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, *, capacity: int, rate: float, now: float) -> None:
        if capacity < 1 or rate <= 0:
            raise ValueError("a bucket needs a capacity >= 1 and a positive rate")
        self.capacity = capacity
        self.rate = rate
        self.tokens = float(capacity)
        self.updated = now

    def take(self, now: float, cost: float = 1.0) -> Decision:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(self.capacity), self.tokens + elapsed * self.rate)
        self.updated = now
        if self.tokens >= cost:
            self.tokens -= cost
            return Decision(True, math.floor(self.tokens), 0.0, self.capacity)
        wait = (cost - self.tokens) / self.rate
        return Decision(False, 0, wait, self.capacity)

    def resize(self, *, capacity: int, rate: float, now: float) -> None:
        """New limits (a client's limit edited, or replicas joining or leaving): the bucket
        keeps its level, capped at the new capacity, so a throttled caller is not handed a
        fresh burst by the change."""
        if capacity < 1 or rate <= 0:
            raise ValueError("a bucket needs a capacity >= 1 and a positive rate")
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(capacity), self.tokens + elapsed * self.rate)
        self.capacity, self.rate, self.updated = capacity, rate, now

    def peek(self, now: float, cost: float = 1.0) -> Decision:
        """What `take` would answer, without taking anything."""
        tokens = min(float(self.capacity), self.tokens + max(0.0, now - self.updated) * self.rate)
        if tokens >= cost:
            return Decision(True, math.floor(tokens), 0.0, self.capacity)
        return Decision(False, 0, (cost - tokens) / self.rate, self.capacity)


class RateLimiter:
    """Buckets by key (a client id or an IP address), bounded in memory: when ``max_keys``
    is reached the least recently seen bucket is forgotten, which can only ever be generous
    to that caller (a new bucket starts full), never unfair to another."""

    def __init__(self, *, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, key: str, *, capacity: int, per_minute: int, now: float) -> Decision:
        rate = per_minute / 60.0
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(capacity=capacity, rate=rate, now=now)
            self._buckets[key] = bucket
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            if bucket.capacity != capacity or bucket.rate != rate:
                bucket.resize(capacity=capacity, rate=rate, now=now)
        return bucket.take(now)

    def peek(self, key: str, *, capacity: int, per_minute: int, now: float) -> Decision:
        """What `take` would answer for ``key``, without taking (a caller never seen has a
        full bucket)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return Decision(True, capacity, 0.0, capacity)
        bucket.resize(capacity=capacity, rate=per_minute / 60.0, now=now)
        return bucket.peek(now)

    def __len__(self) -> int:
        return len(self._buckets)


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
        self.has_answered = False
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
        self.has_answered = True
        self.failures = 0
        self.opened_at = None
        self._trial_in_flight = False

    def record_refused(self, now: float) -> None:
        """Nothing was listening: a failure once the upstream has answered, and before
        that a service still starting, which the circuit leaves alone."""
        if self.has_answered:
            self.record_failure(now)
        else:
            self.release()

    def record_failure(self, now: float) -> None:
        self.failures += 1
        if self._trial_in_flight or self.failures >= self.failure_threshold:
            self.opened_at = now
        self._trial_in_flight = False

    def release(self) -> None:
        """A trial ended without telling us anything (cancelled): let another one try."""
        self._trial_in_flight = False
