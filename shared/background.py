"""A periodic task that runs beside a service app and stops cleanly with it.

Why a stop event rather than cancellation: cancelling a task in the middle of a query can
leave its pooled connection half-closed and stall the engine's disposal at shutdown, so the
loop finishes its round and returns when asked.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

log = structlog.get_logger(__name__)

Hook = Callable[[Any], Awaitable[None]]


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep up to ``seconds``, waking at once when ``stop`` is set."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()


def background_task(
    name: str,
    run: Callable[[Any, asyncio.Event], Awaitable[None]],
    *,
    enabled: bool,
    stop_timeout_s: float = 30,
) -> tuple[Hook, Hook]:
    """(on_startup, on_shutdown) hooks running ``run(app, stop)`` while the app lives.

    ``run`` must return soon after ``stop`` is set; a task still running ``stop_timeout_s``
    after that is left behind with a warning rather than blocking the shutdown.
    """
    stop = asyncio.Event()
    running: list[asyncio.Task[None]] = []  # the one task of the app these hooks serve

    async def start(app: Any) -> None:
        if enabled:
            stop.clear()
            running.append(asyncio.create_task(_guarded(run(app, stop)), name=name))

    async def finish(app: Any) -> None:
        if not running:
            return
        task = running.pop()
        stop.set()
        done, _ = await asyncio.wait({task}, timeout=stop_timeout_s)
        if not done:
            log.warning("background_task_did_not_stop", task=name)

    return start, finish


async def _guarded(loop: Awaitable[None]) -> None:
    try:
        await loop
    except Exception:
        log.exception("background_task_crashed")
