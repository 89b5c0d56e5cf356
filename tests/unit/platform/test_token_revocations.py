"""Revocations in `shared.auth`: what a service heard from the gateway's client and key
events is checked on every use of a token, cached or not, and the JWKS copy forgets a key
the gateway no longer publishes (PyJWT's PyJWKClient kept it forever)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from shared import auth
from shared.auth import (
    AUDIENCE,
    ISSUER,
    JwksCache,
    Principal,
    TokenRevocations,
    TokenVerifier,
)
from shared.auth_events import apply_token_event
from shared.events.catalog.gateway import ClientChanged, SigningKeyRotated, SigningKeyWithdrawn
from shared.events.envelope import Event, new_event
from shared.problems import Unauthorized

JWKS_URL = "http://gateway.test/.well-known/jwks.json"


class Keys:
    """Signing keys by kid, and the JWKS a fake gateway currently publishes."""

    def __init__(self, *kids: str) -> None:
        self.private = {kid: ec.generate_private_key(ec.SECP256R1()) for kid in kids}
        self.published = list(kids)
        self.fetches = 0
        self.fail = False

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid in self.published:
            jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private[kid].public_key()))
            jwk.update(kid=kid, use="sig", alg="ES256")
            keys.append(jwk)
        return {"keys": keys}

    def fetch(self, url: str, timeout_s: float) -> dict[str, Any]:
        assert url == JWKS_URL
        self.fetches += 1
        if self.fail:
            raise OSError("gateway unreachable")
        return self.jwks()

    def token(self, kid: str, *, client_id: str = "app", generation: int | None = None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": client_id,
            "scope": "ledger:read",
            "iat": now,
            "exp": now + 600,
        }
        if generation is not None:
            claims["cgen"] = generation
        return jwt.encode(claims, self.private[kid], algorithm="ES256", headers={"kid": kid})


def verifier_for(keys: Keys, **kwargs: Any) -> TokenVerifier:
    verifier = TokenVerifier(jwks_url=JWKS_URL, **kwargs)
    assert verifier.jwks is not None
    verifier.jwks._fetch = keys.fetch  # the fake gateway
    verifier.jwks.min_interval_s = 0.0
    return verifier


def event(payload: Any) -> Event:
    return new_event(payload, source="/proxima/gateway", subject="s")


def changed(client_id: str, *, generation: int = 0, revoked: bool = False) -> Event:
    now = datetime.now(UTC)
    return event(
        ClientChanged(
            client_id=client_id,
            changes=["revoked"] if revoked else ["scopes"],
            generation=generation,
            revoked=revoked,
            changed_at=now,
            tokens_expire_by=now + timedelta(minutes=16),
        )
    )


# --- TokenRevocations --------------------------------------------------------------------


def _principal(client_id: str = "app", generation: int = 0, kid: str | None = "k1") -> Principal:
    return Principal(client_id, "r", frozenset({"s"}), generation=generation, key_id=kid)


def test_a_revoked_client_is_refused_whatever_its_generation():
    revocations = TokenRevocations()
    revocations.client_changed("app", generation=3, revoked=True, until=time.time() + 60)
    assert revocations.refusal(_principal(generation=9)) == "the client has been revoked"
    assert revocations.refusal(_principal("other")) is None


def test_tokens_older_than_a_change_of_authority_are_refused_newer_ones_pass():
    revocations = TokenRevocations()
    revocations.client_changed("app", generation=2, revoked=False, until=time.time() + 60)
    assert revocations.refusal(_principal(generation=1)) is not None
    assert revocations.refusal(_principal(generation=2)) is None
    # An event replayed out of order never lowers the bar nor lifts a revocation.
    revocations.client_changed("app", generation=1, revoked=False, until=time.time() + 60)
    assert revocations.refusal(_principal(generation=1)) is not None


def test_a_client_entry_is_forgotten_once_every_token_it_concerns_has_expired(monkeypatch):
    now = 1_000_000.0
    monkeypatch.setattr(auth.time, "time", lambda: now)
    revocations = TokenRevocations()
    revocations.client_changed("app", generation=0, revoked=True, until=now + 10)
    assert revocations.refusal(_principal()) is not None
    now += 10
    assert revocations.refusal(_principal()) is None
    revocations.client_changed("late", generation=0, revoked=True, until=now - 1)
    assert len(revocations) == 1  # an event about tokens long expired adds nothing


def test_a_withdrawn_key_refuses_its_tokens():
    revocations = TokenRevocations()
    revocations.key_withdrawn("k1")
    assert revocations.refusal(_principal(kid="k1")) == "its signing key has been withdrawn"
    assert revocations.refusal(_principal(kid="k2")) is None


# --- JwksCache ---------------------------------------------------------------------------


def test_a_key_the_gateway_stopped_publishing_is_gone_at_the_next_fetch(monkeypatch):
    keys = Keys("k1", "k2")
    now = 100.0
    monkeypatch.setattr(auth.time, "monotonic", lambda: now)
    cache = JwksCache(JWKS_URL, ttl_s=60, min_interval_s=1, fetch=keys.fetch)
    assert cache.key_for("k1") is not None
    keys.published = ["k2"]
    now += 59
    assert cache.key_for("k1") is not None  # within the lifetime: the copy is kept
    now += 1
    with pytest.raises(jwt.InvalidKeyError):
        cache.key_for("k1")
    assert cache.key_ids == {"k2"}


def test_an_unknown_kid_fetches_again_at_most_once_per_interval(monkeypatch):
    keys = Keys("k1", "k2")
    keys.published = ["k1"]
    now = 100.0
    monkeypatch.setattr(auth.time, "monotonic", lambda: now)
    cache = JwksCache(JWKS_URL, ttl_s=60, min_interval_s=1, fetch=keys.fetch)
    cache.key_for("k1")
    keys.published = ["k1", "k2"]
    for _ in range(20):  # forged key ids within the interval: no fetch
        with pytest.raises(jwt.InvalidKeyError):
            cache.key_for("forged")
    assert keys.fetches == 1
    now += 1
    assert cache.key_for("k2") is not None  # a rotation is picked up by its first token
    assert keys.fetches == 2


def test_a_failed_fetch_keeps_the_previous_keys(monkeypatch):
    keys = Keys("k1")
    now = 100.0
    monkeypatch.setattr(auth.time, "monotonic", lambda: now)
    cache = JwksCache(JWKS_URL, ttl_s=60, min_interval_s=1, fetch=keys.fetch)
    cache.key_for("k1")
    keys.fail = True
    now += 120
    assert cache.key_for("k1") is not None
    assert keys.fetches == 2


def test_withdraw_drops_a_key_even_from_a_stale_jwks():
    keys = Keys("k1", "k2")
    cache = JwksCache(JWKS_URL, ttl_s=60, min_interval_s=0, fetch=keys.fetch)
    cache.key_for("k1")
    cache.withdraw("k1")
    with pytest.raises(jwt.InvalidKeyError):
        cache.key_for("k1")
    assert cache.key_for("k2") is not None  # fetched again: a replica still lists k1
    assert keys.fetches == 2
    assert cache.key_ids == {"k2"}


def test_jwks_urls_must_be_http():
    with pytest.raises(ValueError):
        JwksCache("file:///etc/passwd")


# --- the gateway's events, applied to a service's verifier --------------------------------


def test_revocation_refuses_a_token_already_verified_and_cached():
    keys = Keys("k1")
    verifier = verifier_for(keys)
    token = keys.token("k1", client_id="app")
    assert verifier.verify(token).client_id == "app"
    assert verifier.cached(token) is not None
    apply_token_event(verifier, changed("app", revoked=True))
    with pytest.raises(Unauthorized, match="revoked"):
        verifier.verify(token)
    assert len(verifier.cache) == 0


def test_a_change_of_authority_refuses_older_tokens_and_accepts_new_ones():
    keys = Keys("k1")
    verifier = verifier_for(keys)
    old, no_claim = keys.token("k1", generation=0), keys.token("k1")
    verifier.verify(old)
    apply_token_event(verifier, changed("app", generation=1))
    for token in (old, no_claim):
        with pytest.raises(Unauthorized, match="changed"):
            verifier.verify(token)
    assert verifier.verify(keys.token("k1", generation=1)).generation == 1


def test_a_withdrawn_key_is_refused_cached_or_not_and_the_jwks_is_fetched_again():
    keys = Keys("k1", "k2")
    verifier = verifier_for(keys)
    leaked = keys.token("k1")
    verifier.verify(leaked)
    fetches = keys.fetches
    assert apply_token_event(
        verifier,
        event(SigningKeyWithdrawn(kid="k1", reason="withdrawn", withdrawn_at=datetime.now(UTC))),
    )
    with pytest.raises(Unauthorized, match="withdrawn"):
        verifier.verify(leaked)
    with pytest.raises(Unauthorized):  # a token freshly forged with the leaked key
        verifier.verify(keys.token("k1", client_id="someone-else"))
    assert verifier.verify(keys.token("k2")).client_id == "app"
    assert keys.fetches > fetches


def test_a_rotation_drops_retired_keys_and_refetches():
    keys = Keys("k1", "k2")
    verifier = verifier_for(keys)
    verifier.verify(keys.token("k1"))
    rotated = SigningKeyRotated(kid="k2", retired=["k1"], rotated_at=datetime.now(UTC))
    assert apply_token_event(verifier, event(rotated))
    with pytest.raises(Unauthorized):
        verifier.verify(keys.token("k1"))
    assert verifier.verify(keys.token("k2")).key_id == "k2"
