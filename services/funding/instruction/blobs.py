"""Where document contents live: on the filesystem, one file per content.

Contents are addressed by their SHA-256, so storing the same file twice costs nothing and a
reader can check that the bytes it gets back are the bytes that were attached.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path


def sha256_hex(content: bytes) -> str:
    """The lower-case hex SHA-256 of ``content``."""
    return hashlib.sha256(content).hexdigest()


class FilesystemBlobStore:
    """Blobs as files under ``root/ab/abcdef…``, written atomically (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def _write(self, digest: str, content: bytes) -> None:
        path = self._path(digest)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(content)
        os.replace(temporary, path)

    async def put(self, content: bytes) -> str:
        digest = sha256_hex(content)
        await asyncio.to_thread(self._write, digest, content)
        return digest

    async def get(self, sha256: str) -> bytes | None:
        path = self._path(sha256)
        if not path.is_file():
            return None
        content = await asyncio.to_thread(path.read_bytes)
        return content if sha256_hex(content) == sha256 else None
