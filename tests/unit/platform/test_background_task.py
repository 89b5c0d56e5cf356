"""Background loops start with the app, stop when asked, and never outlive a shutdown."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

from structlog.testing import capture_logs

from shared.background import background_task, pause


async def test_a_loop_runs_until_the_app_stops_it() -> None:
    rounds: list[int] = []

    async def run(app: Any, stop: asyncio.Event) -> None:
        while not stop.is_set():
            rounds.append(1)
            await pause(stop, 60)

    start, finish = background_task("ticker", run, enabled=True)
    app = SimpleNamespace()
    await start(app)
    await asyncio.sleep(0.01)
    began = time.monotonic()
    await finish(app)

    assert rounds == [1]
    assert time.monotonic() - began < 1  # the 60 s pause was cut short


async def test_a_disabled_loop_never_starts() -> None:
    started: list[int] = []

    async def run(app: Any, stop: asyncio.Event) -> None:
        started.append(1)

    start, finish = background_task("off", run, enabled=False)
    app = SimpleNamespace()
    await start(app)
    await asyncio.sleep(0.01)
    await finish(app)

    assert started == []


async def test_a_loop_that_ignores_stop_does_not_block_shutdown() -> None:
    async def run(app: Any, stop: asyncio.Event) -> None:
        await asyncio.sleep(0.3)

    start, finish = background_task("stubborn", run, enabled=True, stop_timeout_s=0.05)
    app = SimpleNamespace()
    await start(app)
    began = time.monotonic()
    await finish(app)

    assert time.monotonic() - began < 1


async def test_a_crashing_loop_is_logged_not_raised_at_shutdown() -> None:
    async def run(app: Any, stop: asyncio.Event) -> None:
        raise RuntimeError("boom")

    start, finish = background_task("crasher", run, enabled=True)
    app = SimpleNamespace()
    with capture_logs() as logs:
        await start(app)
        await asyncio.sleep(0.01)
        await finish(app)

    assert [e["event"] for e in logs] == ["background_task_crashed"]
