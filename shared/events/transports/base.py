"""The transport interface the outbox relay and the consumer runner are written against."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OutgoingRecord:
    topic: str
    key: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Record:
    """A delivered message; ``offset`` is per (topic, partition).

    ``producer`` is the service that wrote it when the transport knows it (the embedded
    log records it on each row; ``""`` for rows written before it did); ``None`` on Kafka,
    where the broker authenticated the writer and its ACLs already decided.
    """

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = field(default=())
    producer: str | None = None


class Producer(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send_many(self, records: Sequence[OutgoingRecord]) -> None:
        """Return only once every record is durably acknowledged, in order per key."""

    async def ping(self) -> None:
        """Raise if the bus is unreachable (used by ``/readyz``)."""


class Consumer(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def fetch(self, *, max_records: int, timeout_s: float) -> list[Record]:
        """Next records of this group's share of its topics (possibly none)."""

    async def commit(self, record: Record) -> None:
        """Mark ``record`` and everything before it in its partition as processed."""
