"""Fan-out: bounded queues, slow clients dropped, the others untouched."""

import asyncio

import pytest

from services.gateway.stream.errors import TooManyStreams
from services.gateway.stream.hub import StreamHub, StreamItem
from services.gateway.stream.rules import Tags
from shared.auth import Principal

EVERYONE = Principal(client_id="a", role="admin", scopes=frozenset({"admin"}))


def _items(first: int, count: int, territory: str = "38185") -> list[StreamItem]:
    return [
        StreamItem(p, Tags(territory=territory), f'{{"position":{p}}}')
        for p in range(first, first + count)
    ]


def test_a_client_that_does_not_read_is_dropped_and_the_others_get_everything():
    async def scenario() -> None:
        hub = StreamHub(queue_size=3)
        slow = hub.subscribe(EVERYONE)
        fast = hub.subscribe(EVERYONE)
        received = []
        for item in _items(1, 10):
            hub.dispatch([item])
            received.append(fast.queue.get_nowait())
        assert [i.position for i in received] == list(range(1, 11))
        assert slow.dropped and slow not in hub.subscribers
        assert slow.queue.get_nowait() is None  # its generator wakes up and ends the stream
        assert fast in hub.subscribers and not fast.dropped

    asyncio.run(scenario())


def test_dispatch_never_waits_for_a_full_queue():
    async def scenario() -> None:
        hub = StreamHub(queue_size=1, max_per_client=100)
        for _ in range(100):
            hub.subscribe(EVERYONE)
        hub.dispatch(_items(1, 50))  # returns at once although nobody reads
        assert hub.subscribers == set()
        assert hub.last_position == 50

    asyncio.run(scenario())


def test_clients_receive_only_what_their_tenants_allow():
    async def scenario() -> None:
        hub = StreamHub(queue_size=10)
        local = Principal(
            client_id="l",
            role="dashboard",
            scopes=frozenset({"dashboard:read"}),
            tenants={"territories": frozenset({"38185"})},
        )
        subscriber = hub.subscribe(local)
        hub.dispatch(_items(1, 2, "69123") + _items(3, 2, "38185"))
        got = [subscriber.queue.get_nowait().position for _ in range(subscriber.queue.qsize())]
        assert got == [3, 4]

    asyncio.run(scenario())


def test_a_client_may_open_only_so_many_streams_and_a_closed_one_frees_its_place():
    async def scenario() -> None:
        hub = StreamHub(queue_size=10, max_per_client=2)
        other = Principal(client_id="b", role="dashboard", scopes=frozenset({"dashboard:read"}))
        first, second = hub.subscribe(EVERYONE), hub.subscribe(EVERYONE)
        with pytest.raises(TooManyStreams):
            hub.subscribe(EVERYONE)
        hub.subscribe(other)  # another client is not affected
        hub.unsubscribe(first)
        hub.unsubscribe(first)  # twice (dropped, then the generator ends): counted once
        third = hub.subscribe(EVERYONE)
        assert hub.per_client == {"a": 2, "b": 1}
        hub.unsubscribe(second)
        hub.unsubscribe(third)
        assert hub.per_client == {"b": 1}

    asyncio.run(scenario())


def test_a_dropped_slow_client_frees_its_place():
    async def scenario() -> None:
        hub = StreamHub(queue_size=1, max_per_client=1)
        hub.subscribe(EVERYONE)
        hub.dispatch(_items(1, 2))  # the second item overflows its queue: dropped
        assert hub.per_client == {}
        hub.subscribe(EVERYONE)

    asyncio.run(scenario())
