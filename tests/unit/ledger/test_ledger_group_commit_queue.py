"""How the group commit queue forms groups (no database: `_take` only): arrival order, at
most ``max_items``, a key already in the group held back for the next one, requests whose
client went away skipped, and a full queue refused with 503 and Retry-After."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.ledger.transactions.service.committer import GroupCommitter, PostingQueueFull
from services.ledger.transactions.service.group import Item
from shared.auth import Principal


def item(client: str, key: str | None) -> Item:
    principal = Principal(client_id=client, role="client", scopes=frozenset({"ledger:post"}))
    return Item(principal=principal, body=None, key=key, digest=key)  # type: ignore[arg-type]


def queue(committer: GroupCommitter, *items: Item) -> list[asyncio.Future[Any]]:
    loop = asyncio.get_running_loop()
    futures = []
    for one in items:
        future: asyncio.Future[Any] = loop.create_future()
        committer._queue.append((one, future))
        futures.append(future)
    return futures


async def test_a_group_keeps_arrival_order_and_holds_back_a_repeated_key() -> None:
    committer = GroupCommitter(None, max_items=3, max_queue=10)  # type: ignore[arg-type]
    a, b, a_again, c, d = (
        item("app", "a"),
        item("app", "b"),
        item("app", "a"),
        item("other", "a"),
        item("app", None),
    )
    queue(committer, a, b, a_again, c, d)
    first = [one for one, _ in committer._take()]
    assert first == [a, b, c]  # the same key of another client is another claim
    second = [one for one, _ in committer._take()]
    assert second == [a_again, d]
    assert committer.waiting == 0


async def test_requests_whose_client_went_away_are_skipped() -> None:
    committer = GroupCommitter(None, max_items=8, max_queue=10)  # type: ignore[arg-type]
    gone, kept = item("app", "x"), item("app", "y")
    futures = queue(committer, gone, kept)
    futures[0].cancel()
    assert [one for one, _ in committer._take()] == [kept]


async def test_a_full_queue_is_refused_at_once() -> None:
    committer = GroupCommitter(None, max_items=8, max_queue=2)  # type: ignore[arg-type]
    queue(committer, item("app", "1"), item("app", "2"))
    with pytest.raises(PostingQueueFull) as refused:
        await committer.submit(item("app", "3"))
    assert refused.value.status == 503
    assert refused.value.headers == {"Retry-After": "1"}
    assert committer.waiting == 2
