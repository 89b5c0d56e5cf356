"""The gateway's signing keys: one signs, all are published in the JWKS.

Two sources. A directory (``make run``, tests): one PEM private key per file, the newest
(modification time) signs; empty at first start, it gets an ES256 key. Rotation writes a
new file: from then on new tokens carry the new ``kid`` while every older key stays in the
JWKS, so tokens already issued verify until they expire, and services refetch the JWKS
when they meet the unknown ``kid``. A key is retired only once every token it signed has
expired. Or one PEM bundle file (Kubernetes Secret, compose volume): the first key signs.

Key ids are RFC 7638 thumbprints, so the same key always has the same ``kid`` on every
replica without any coordination.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from services.gateway.settings import LENIENT_ENVIRONMENTS, GatewaySettings

log = structlog.get_logger(__name__)

PEM_BLOCK = re.compile(
    rb"-----BEGIN (?:EC |RSA )?PRIVATE KEY-----.+?-----END (?:EC |RSA )?PRIVATE KEY-----",
    re.DOTALL,
)
# At most one re-scan per this many seconds when a token names an unknown key id, so a
# flood of forged kids cannot turn into a flood of directory listings.
RESCAN_MIN_INTERVAL_S = 1.0


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str
    private_key: Any
    public_jwk: dict[str, Any]
    created: float
    path: Path | None = None


def _algorithm_of(key: Any) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name != "secp256r1":
            raise ValueError(f"unsupported curve {key.curve.name}: use P-256 (ES256)")
        return "ES256"
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise ValueError("RSA signing keys need at least 2048 bits")
        return "RS256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    raise ValueError(f"unsupported signing key type {type(key).__name__}")


def _public_jwk(key: Any, algorithm: str) -> dict[str, Any]:
    public = key.public_key()
    if algorithm == "ES256":
        return dict(ECAlgorithm.to_jwk(public, as_dict=True))
    if algorithm == "RS256":
        return dict(RSAAlgorithm.to_jwk(public, as_dict=True))
    return dict(OKPAlgorithm.to_jwk(public, as_dict=True))


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 over the required members, sorted, without whitespace."""
    required = {
        "EC": ("crv", "kty", "x", "y"),
        "RSA": ("e", "kty", "n"),
        "OKP": ("crv", "kty", "x"),
    }
    members = {name: jwk[name] for name in required[jwk["kty"]]}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode())
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def load_key(pem: bytes, *, created: float, path: Path | None = None) -> SigningKey:
    private = serialization.load_pem_private_key(pem, password=None)
    algorithm = _algorithm_of(private)
    jwk = _public_jwk(private, algorithm)
    kid = thumbprint(jwk)
    jwk.update(kid=kid, alg=algorithm, use="sig")
    return SigningKey(kid, algorithm, private, jwk, created, path)


def new_es256_pem() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class KeyRing:
    def __init__(
        self,
        *,
        keys_dir: str = "",
        bundle_file: str = "",
        token_ttl_s: int = 900,
        rescan_interval_s: float = RESCAN_MIN_INTERVAL_S,
    ) -> None:
        if bool(keys_dir) == bool(bundle_file):
            raise ValueError("set exactly one of signing_keys_dir and jwt_private_keys_file")
        self.keys_dir = Path(keys_dir) if keys_dir else None
        self.bundle_file = Path(bundle_file) if bundle_file else None
        self.token_ttl_s = token_ttl_s
        self.rescan_interval_s = rescan_interval_s
        self._keys: list[SigningKey] = []  # signing key first
        self._fingerprint: tuple[tuple[str, float], ...] = ()
        self._last_scan = 0.0
        self._lock = threading.Lock()
        # Bumped whenever the published set changes, so caches of verified tokens know to
        # forget tokens whose key was withdrawn (a leaked key is removed at once).
        self.version = 0

    @property
    def writable(self) -> bool:
        return self.keys_dir is not None

    def load(self) -> None:
        """Read the keys; create the first one if the directory is empty."""
        if self.keys_dir is not None:
            self.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self._pem_files():
                self._write_new_key()
        self.refresh(force=True)
        if not self._keys:
            raise RuntimeError("no signing key found")

    def _pem_files(self) -> list[Path]:
        assert self.keys_dir is not None
        return sorted(self.keys_dir.glob("*.pem"))

    def refresh(self, *, force: bool = False) -> bool:
        """Re-read keys if files changed; True if the key set changed."""
        with self._lock:
            self._last_scan = time.monotonic()
            if self.bundle_file is not None:
                stat = self.bundle_file.stat()
                fingerprint: tuple[tuple[str, float], ...] = ((str(stat.st_size), stat.st_mtime),)
            else:
                fingerprint = tuple((p.name, p.stat().st_mtime) for p in self._pem_files())
            if fingerprint == self._fingerprint and not force:
                return False
            keys = self._read_bundle() if self.bundle_file is not None else self._read_dir()
            if not keys:
                log.error("signing_keys_missing", source=str(self.keys_dir or self.bundle_file))
                return False
            changed = [k.kid for k in keys] != [k.kid for k in self._keys]
            self._keys, self._fingerprint = keys, fingerprint
            if changed:
                self.version += 1
        if changed:
            log.info("signing_keys_loaded", signing=keys[0].kid, published=[k.kid for k in keys])
        return changed

    def _read_dir(self) -> list[SigningKey]:
        keys = []
        for path in self._pem_files():
            try:
                keys.append(load_key(path.read_bytes(), created=path.stat().st_mtime, path=path))
            except (ValueError, TypeError, OSError) as exc:
                log.error("signing_key_unreadable", path=str(path), error=str(exc))
        return sorted(keys, key=lambda k: (k.created, k.path.name if k.path else ""), reverse=True)

    def _read_bundle(self) -> list[SigningKey]:
        assert self.bundle_file is not None
        created = self.bundle_file.stat().st_mtime
        blocks = PEM_BLOCK.findall(self.bundle_file.read_bytes())
        return [load_key(block, created=created) for block in blocks]

    def _write_new_key(self) -> Path:
        assert self.keys_dir is not None
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.keys_dir / f"signing-{stamp}.pem"
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(new_es256_pem())
        tmp.replace(path)
        return path

    @property
    def signing_key(self) -> SigningKey:
        return self._keys[0]

    @property
    def keys(self) -> list[SigningKey]:
        return list(self._keys)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk for k in self._keys]}

    def public_key_for(self, kid: str | None) -> Any:
        """The verification key for ``kid``; re-scans once if it is unknown (another replica
        may have rotated), then refuses."""
        for attempt in range(2):
            for key in self._keys:
                if key.kid == kid:
                    return key.private_key.public_key()
            if attempt == 0 and time.monotonic() - self._last_scan >= self.rescan_interval_s:
                self.refresh()
            else:
                break
        raise jwt.InvalidKeyError(f"unknown key id {kid!r}")

    def rotate(self) -> tuple[SigningKey, list[str]]:
        """Add a new signing key; retire keys whose tokens have all expired."""
        if self.keys_dir is None:
            raise RuntimeError("keys come from a bundle file: rotate by editing the Secret")
        self._write_new_key()
        self.refresh(force=True)
        retired = self._retire_expired(now=time.time())
        if retired:
            self.refresh(force=True)
        return self.signing_key, retired

    def withdraw(self, kid: str) -> SigningKey | None:
        """Remove ``kid`` from the ring at once (a leaked key): its file is deleted, it leaves
        the JWKS, and the gateway refuses its tokens. If it was the signing key, a new key
        is created first and signs from now on; it is returned (else None)."""
        if self.keys_dir is None:
            raise RuntimeError("keys come from a bundle file: withdraw by editing the Secret")
        key = next((k for k in self._keys if k.kid == kid), None)
        if key is None:
            raise KeyError(kid)
        created = None
        if key.kid == self.signing_key.kid:
            self._write_new_key()
            self.refresh(force=True)
            created = self.signing_key
            if created.kid == kid:  # same modification time: make sure the new key wins
                raise RuntimeError("the new signing key does not sort first")
        assert key.path is not None
        key.path.unlink(missing_ok=True)
        self.refresh(force=True)
        return created

    def _retire_expired(self, *, now: float) -> list[str]:
        """Key i stopped signing when key i-1 (newer) appeared; its last token expires
        ``token_ttl_s`` later. One minute of margin covers clock skew between replicas."""
        retired = []
        keys = self._keys
        for newer, older in zip(keys, keys[1:], strict=False):
            if older.path is not None and now - newer.created > self.token_ttl_s + 60:
                older.path.unlink(missing_ok=True)
                retired.append(older.kid)
        return retired


def key_ring_for(settings: GatewaySettings) -> KeyRing:
    """The ring the settings name: a PEM bundle file, else a key directory (in development
    and tests, a temporary one if none is set; production must name one)."""
    keys_dir, bundle = settings.signing_keys_dir, settings.jwt_private_keys_file
    if not keys_dir and not bundle:
        if settings.env not in LENIENT_ENVIRONMENTS:
            raise RuntimeError(
                "set PROXIMA_JWT_PRIVATE_KEYS_FILE or PROXIMA_SIGNING_KEYS_DIR in production"
            )
        keys_dir = str(Path(tempfile.gettempdir()) / "proxima-gateway-keys")
        log.warning("signing_keys_dir_defaulted", path=keys_dir)
    # A bundle wins when both are set: it is what the deployment manifests provide.
    if bundle:
        keys_dir = ""
    return KeyRing(keys_dir=keys_dir, bundle_file=bundle, token_ttl_s=settings.token_ttl_s)
