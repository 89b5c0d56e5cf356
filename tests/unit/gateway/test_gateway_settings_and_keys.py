"""Refusing default secrets outside development; key ids that every replica agrees on."""

import jwt
import pytest
from pydantic import ValidationError

from services.gateway.settings import GatewaySettings
from services.gateway.tokens.keys import KeyRing, load_key, new_es256_pem, thumbprint


def test_the_default_bootstrap_secret_is_refused_in_production():
    with pytest.raises(ValidationError, match="BOOTSTRAP_ADMIN_SECRET"):
        GatewaySettings(env="production", bootstrap_admin_secret="change-me")


def test_a_short_bootstrap_secret_is_refused_in_production():
    with pytest.raises(ValidationError, match="at least 16"):
        GatewaySettings(env="production", bootstrap_admin_secret="short")


@pytest.mark.parametrize("env", ["development", "test"])
def test_the_default_secret_is_accepted_in_development_and_test(env: str):
    assert GatewaySettings(env=env).bootstrap_admin_secret == "change-me"


def test_the_key_id_is_the_rfc7638_thumbprint_and_stable():
    pem = new_es256_pem()
    first, second = load_key(pem, created=0), load_key(pem, created=1)
    assert first.kid == second.kid == thumbprint(first.public_jwk)
    assert first.public_jwk["alg"] == "ES256" and first.public_jwk["use"] == "sig"
    assert "d" not in first.public_jwk  # never the private part


def test_rfc7638_example_thumbprint():
    # The RSA example of RFC 7638 §3.1.
    jwk = {
        "kty": "RSA",
        "e": "AQAB",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tS"
            "oc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65Y"
            "GjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdk"
            "t-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqD"
            "Kgw"
        ),
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_a_replica_picks_up_a_key_another_replica_rotated_in(tmp_path):
    first = KeyRing(keys_dir=str(tmp_path), rescan_interval_s=0)
    first.load()
    second = KeyRing(keys_dir=str(tmp_path), rescan_interval_s=0)
    second.load()
    new_key, _ = first.rotate()
    assert second.public_key_for(new_key.kid) is not None  # re-scanned on the unknown kid
    assert second.signing_key.kid == new_key.kid
    with pytest.raises(jwt.InvalidKeyError):
        second.public_key_for("forged-kid")


def test_an_empty_directory_gets_a_private_key_readable_by_its_owner_only(tmp_path):
    ring = KeyRing(keys_dir=str(tmp_path / "keys"))
    ring.load()
    (pem,) = (tmp_path / "keys").glob("*.pem")
    assert pem.stat().st_mode & 0o077 == 0
    assert ring.signing_key.algorithm == "ES256"
