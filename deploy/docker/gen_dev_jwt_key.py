"""Create the gateway's JWT signing key file for docker compose, once.

Run by the one-shot `gateway-keys` compose service (gateway image, so `cryptography` is
there). It writes a PEM private key to the path given as first argument unless the file
already exists, so restarts keep the key and tokens stay valid. Never used in Kubernetes:
there the key file is a Secret managed by the operator (see docs/operations.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

OWNER_UID = OWNER_GID = 10001  # the `proxima` user of the service images


def main(path: str) -> int:
    """Write a new RSA key to path if none is there yet."""
    target = Path(path)
    if target.exists() and target.stat().st_size > 0:
        print(f"gateway-keys: keeping existing {target}")
        return 0
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    pem = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(pem)
    os.chmod(tmp, 0o400)
    if os.geteuid() == 0:
        os.chown(tmp, OWNER_UID, OWNER_GID)
    tmp.replace(target)
    print(f"gateway-keys: wrote a new signing key to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "/etc/proxima/jwt/jwt-private-keys.pem"))
