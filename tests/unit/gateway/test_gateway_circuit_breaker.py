"""The circuit breaker's state machine: closed, open, half-open."""

from services.gateway.traffic.rules import BreakerState, CircuitBreaker


def test_it_opens_after_the_threshold_of_consecutive_failures():
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout_s=10)
    for t in range(2):
        breaker.record_failure(float(t))
        assert breaker.state(float(t)) is BreakerState.closed
    breaker.record_failure(2.0)
    assert breaker.state(2.0) is BreakerState.open
    assert not breaker.allow(3.0)


def test_a_success_resets_the_failure_count():
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout_s=10)
    breaker.record_failure(0.0)
    breaker.record_success()
    breaker.record_failure(1.0)
    assert breaker.state(1.0) is BreakerState.closed


def test_retry_after_counts_down_to_the_half_open_moment():
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=10)
    breaker.record_failure(100.0)
    assert breaker.retry_after(104.0) == 6.0
    assert breaker.state(110.0) is BreakerState.half_open


def test_half_open_lets_one_trial_through_at_a_time():
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=10)
    breaker.record_failure(0.0)
    assert breaker.allow(10.0)
    assert not breaker.allow(10.0)


def test_a_successful_trial_closes_the_circuit():
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=10)
    breaker.record_failure(0.0)
    assert breaker.allow(10.0)
    breaker.record_success()
    assert breaker.state(10.0) is BreakerState.closed
    assert breaker.allow(10.0) and breaker.allow(10.0)


def test_a_failed_trial_opens_the_circuit_again():
    breaker = CircuitBreaker(failure_threshold=5, reset_timeout_s=10)
    for _ in range(5):
        breaker.record_failure(0.0)
    assert breaker.allow(10.0)
    breaker.record_failure(10.0)
    assert breaker.state(15.0) is BreakerState.open
    assert breaker.state(20.0) is BreakerState.half_open


def test_a_cancelled_trial_lets_another_one_try():
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=10)
    breaker.record_failure(0.0)
    assert breaker.allow(10.0)
    breaker.release()
    assert breaker.allow(10.0)


def test_a_service_that_never_answered_is_not_counted_against_its_circuit():
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=10)
    for now in range(5):  # a cold start: nothing listens yet
        breaker.record_refused(float(now))
    assert breaker.state(5.0) is BreakerState.closed
    assert breaker.allow(5.0)


def test_a_refused_connection_counts_once_the_service_has_answered():
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=10)
    breaker.record_success()
    breaker.record_refused(1.0)  # it was up, and now nothing listens: it died
    assert breaker.state(2.0) is BreakerState.open
