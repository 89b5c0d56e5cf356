"""Token buckets, with the clock passed in."""

import pytest

from services.gateway.traffic.rules import RateLimiter, TokenBucket


def test_a_full_bucket_allows_a_burst_then_refuses():
    bucket = TokenBucket(capacity=3, rate=1.0, now=0.0)
    assert [bucket.take(0.0).allowed for _ in range(4)] == [True, True, True, False]


def test_a_refused_request_says_how_long_to_wait():
    bucket = TokenBucket(capacity=1, rate=0.5, now=0.0)
    bucket.take(0.0)
    decision = bucket.take(0.5)
    assert not decision.allowed
    assert decision.retry_after_s == pytest.approx(1.5)


def test_tokens_refill_at_the_rate_up_to_the_capacity():
    bucket = TokenBucket(capacity=2, rate=1.0, now=0.0)
    bucket.take(0.0)
    bucket.take(0.0)
    assert bucket.take(1.0).allowed
    assert not bucket.take(1.0).allowed
    assert bucket.take(100.0).remaining == 1  # capped at capacity 2, one just taken


def test_remaining_counts_down():
    bucket = TokenBucket(capacity=3, rate=1.0, now=0.0)
    assert [bucket.take(0.0).remaining for _ in range(3)] == [2, 1, 0]


def test_a_clock_going_backwards_does_not_mint_tokens():
    bucket = TokenBucket(capacity=1, rate=1.0, now=10.0)
    bucket.take(10.0)
    assert not bucket.take(5.0).allowed


def test_buckets_are_independent_per_key():
    limiter = RateLimiter()
    for _ in range(2):
        limiter.take("client:a", capacity=2, per_minute=60, now=0.0)
    assert not limiter.take("client:a", capacity=2, per_minute=60, now=0.0).allowed
    assert limiter.take("client:b", capacity=2, per_minute=60, now=0.0).allowed


def test_the_limiter_forgets_the_least_recently_seen_key_when_full():
    limiter = RateLimiter(max_keys=2)
    limiter.take("a", capacity=1, per_minute=60, now=0.0)
    limiter.take("b", capacity=1, per_minute=60, now=0.0)
    limiter.take("a", capacity=1, per_minute=60, now=0.0)
    limiter.take("c", capacity=1, per_minute=60, now=0.0)
    assert len(limiter) == 2
    assert limiter.take("b", capacity=1, per_minute=60, now=0.0).allowed  # b was forgotten


def test_a_changed_limit_applies_at_once_without_minting_a_fresh_burst():
    limiter = RateLimiter()
    assert limiter.take("a", capacity=1, per_minute=60, now=0.0).allowed
    # Raised to 10/s: the empty bucket is not refilled by the change...
    raised = limiter.take("a", capacity=5, per_minute=600, now=0.0)
    assert not raised.allowed and raised.limit == 5
    # ...but refills at the new rate at once: one token after 0.1 s, not after 1 s.
    assert limiter.take("a", capacity=5, per_minute=600, now=0.1).allowed


def test_a_lowered_capacity_caps_the_level_kept():
    limiter = RateLimiter()
    for _ in range(2):
        assert limiter.take("a", capacity=10, per_minute=60, now=0.0).allowed
    # 8 tokens left; a replica joining halves the capacity to 5: 5 remain, not 8.
    decisions = [limiter.take("a", capacity=5, per_minute=30, now=0.0) for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]


def test_invalid_buckets_are_refused():
    with pytest.raises(ValueError):
        TokenBucket(capacity=0, rate=1.0, now=0.0)
