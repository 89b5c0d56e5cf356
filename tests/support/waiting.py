"""Polling for an asynchronous outcome, with a deadline instead of a sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    timeout: float = 60,
    every: float = 0.1,
) -> T:
    """Poll ``probe`` until ``done`` holds; fail with the last value seen."""
    deadline = asyncio.get_running_loop().time() + timeout
    value = await probe()
    while not done(value):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(every)
        value = await probe()
    return value
