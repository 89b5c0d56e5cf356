"""The cache of verified tokens in `shared.auth`: hits skip the signature check, and nothing
expired, forged or evicted is ever served from it."""

from __future__ import annotations

import time

import pytest

from shared import auth
from shared.auth import Principal, TokenVerifier, VerifiedTokenCache
from shared.problems import Unauthorized
from tests.support.tokens import jwks_json, mint


def _principal(client_id: str = "c") -> Principal:
    return Principal(client_id=client_id, role="r", scopes=frozenset({"s"}))


def _counting_verifier(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count real signature checks made by every TokenVerifier."""
    checks: list[str] = []
    real = TokenVerifier.verified_claims

    def counted(self: TokenVerifier, token: str) -> dict[str, object]:
        checks.append(token)
        return real(self, token)

    monkeypatch.setattr(TokenVerifier, "verified_claims", counted)
    return checks


def test_a_token_is_verified_once_then_served_from_the_cache(monkeypatch):
    checks = _counting_verifier(monkeypatch)
    verifier = TokenVerifier(jwks_json=jwks_json())
    token = mint(scopes=["ledger:read"], client_id="app-1")
    first = verifier.verify(token)
    assert verifier.verify(token) == first
    assert verifier.cached(token) == first
    assert first.client_id == "app-1"
    assert len(checks) == 1


def test_an_invalid_token_is_never_cached(monkeypatch):
    checks = _counting_verifier(monkeypatch)
    verifier = TokenVerifier(jwks_json=jwks_json())
    token = mint(scopes=["ledger:read"])
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for _ in range(2):
        with pytest.raises(Unauthorized):
            verifier.verify(tampered)
    assert len(checks) == 2
    assert verifier.cached(tampered) is None


def test_a_cached_token_past_its_exp_goes_back_to_a_full_check(monkeypatch):
    checks = _counting_verifier(monkeypatch)
    verifier = TokenVerifier(jwks_json=jwks_json(), cache_max_age_s=None)
    token = mint(scopes=["ledger:read"], ttl_s=60)
    verifier.verify(token)
    later = time.time() + 61
    monkeypatch.setattr(auth.time, "time", lambda: later)
    assert verifier.cached(token) is None
    verifier.verify(token)  # PyJWT's clock is not moved: the check passes, but it ran
    assert len(checks) == 2


def test_an_expired_token_is_refused():
    verifier = TokenVerifier(jwks_json=jwks_json())
    token = mint(scopes=["ledger:read"], ttl_s=-1)
    with pytest.raises(Unauthorized):
        verifier.verify(token)
    assert verifier.cached(token) is None


def test_entries_expire_at_exp_and_at_max_age_whichever_comes_first(monkeypatch):
    now = 1_000_000.0
    monkeypatch.setattr(auth.time, "time", lambda: now)
    cache = VerifiedTokenCache(max_entries=10, max_age_s=30)
    cache.put(b"short", _principal(), exp=now + 10)
    cache.put(b"long", _principal(), exp=now + 3600)
    now += 10
    assert cache.get(b"short") is None  # at exp: already refused (exp is exclusive)
    assert cache.get(b"long") is not None
    now += 20
    assert cache.get(b"long") is None  # max age reached long before exp


def test_the_cache_is_bounded_and_forgets_the_least_recently_used():
    cache = VerifiedTokenCache(max_entries=2, max_age_s=None)
    exp = time.time() + 600
    cache.put(b"a", _principal("a"), exp=exp)
    cache.put(b"b", _principal("b"), exp=exp)
    assert cache.get(b"a") is not None  # a is now the most recently used
    cache.put(b"c", _principal("c"), exp=exp)
    assert len(cache) == 2
    assert cache.get(b"b") is None
    assert cache.get(b"a") is not None and cache.get(b"c") is not None


def test_clear_forgets_everything():
    cache = VerifiedTokenCache()
    cache.put(b"a", _principal(), exp=time.time() + 600)
    cache.clear()
    assert cache.get(b"a") is None


def test_a_zero_sized_cache_checks_every_time(monkeypatch):
    checks = _counting_verifier(monkeypatch)
    verifier = TokenVerifier(jwks_json=jwks_json(), cache_entries=0)
    token = mint(scopes=["ledger:read"])
    verifier.verify(token)
    verifier.verify(token)
    assert len(checks) == 2


def test_keys_are_digests_not_tokens():
    token = mint(scopes=["ledger:read"])
    key = VerifiedTokenCache.key(token)
    assert len(key) == 20 and token.encode() not in key
