"""Answers of the public, token-free reads that shared caches and browsers may keep.

The same document gives the same strong ``ETag`` on every replica (a hash of its canonical
JSON), so ``If-None-Match`` revalidates to ``304`` wherever it lands; ``Cache-Control``
lets any cache keep it a minute, then serve it stale for another while it revalidates.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=60"


def entity_tag(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether ``If-None-Match`` names ``tag`` (or ``*``); weak comparison, RFC 9110."""
    if not if_none_match:
        return False
    candidates = {c.strip().removeprefix("W/") for c in if_none_match.split(",")}
    return "*" in candidates or tag in candidates


def json_bytes(document: Any) -> bytes:
    """Canonical JSON (sorted keys, no spaces, UTF-8): equal documents, equal bytes."""
    return json.dumps(
        document, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    ).encode()


def cacheable(request: Request, content: bytes, media_type: str, **headers: str) -> Response:
    """``content`` with its validators, or an empty ``304`` when the caller has it."""
    tag = entity_tag(content)
    all_headers = {"Cache-Control": CACHE_CONTROL, "ETag": tag, **headers}
    if matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=all_headers)
    return Response(content=content, media_type=media_type, headers=all_headers)
