"""Group commit, the queue: concurrent `POST /transactions` requests of one process wait in
a bounded queue; one worker takes up to ``max_items`` of them, posts them together
(`group.post_group`, one database transaction) and answers each, then takes the next
group as soon as that commit returns.

So an idle ledger adds no wait (a lone request is a group of one, taken at once), and under
load the groups grow by themselves to what arrived during the previous commit: the database
does the work of one transaction, in one round trip, for many requests. A full queue refuses
at once with 503 and ``Retry-After`` (`PostingQueueFull`) rather than letting a backlog grow
that no client waits for.

The same (client, key) twice among waiting requests is never in one group: the second
waits for the next, where it sees the first's committed answer (a replay) exactly as two
concurrent requests see each other without group commit.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, ClassVar

import structlog
from prometheus_client import Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.ledger.transactions.service.group import (
    Isolate,
    Item,
    Outcome,
    post_alone,
    post_group,
)
from shared.problems import ServiceUnavailable

log = structlog.get_logger(__name__)


class PostingQueueFull(ServiceUnavailable):
    """More posting requests wait in this process than it lets queue: the client retries
    after ``Retry-After`` seconds rather than waiting in a growing backlog. An overload,
    not a rule of the ledger: a `Problem` of the HTTP layer, declared where it is raised."""

    status, code, title = 503, "posting-queue-full", "Too many postings waiting"
    headers: ClassVar[dict[str, str]] = {"Retry-After": "1"}


GROUP_SIZES = Histogram(
    "proxima_ledger_group_commit_size",
    "Single posting requests committed together in one database transaction",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
GROUPS_ISOLATED = Counter(
    "proxima_ledger_group_commit_isolated_total",
    "Groups the database refused as a whole, then posted one request per transaction",
)
QUEUE_REFUSED = Counter(
    "proxima_ledger_group_commit_refused_total",
    "Posting requests refused with 503 because the group commit queue was full",
)

Waiting = tuple[Item, "asyncio.Future[Outcome]"]


class GroupCommitter:
    """One per process (`committer_of`); see the module's docstring."""

    def __init__(
        self, factory: async_sessionmaker[AsyncSession], *, max_items: int, max_queue: int
    ) -> None:
        self.factory = factory
        self.max_items = max(1, max_items)
        self.max_queue = max(1, max_queue)
        self._queue: deque[Waiting] = deque()
        self._worker: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        """Requests queued for a group not taken yet."""
        return len(self._queue)

    async def submit(self, item: Item) -> Outcome:
        """Queue ``item`` and wait for its answer."""
        if len(self._queue) >= self.max_queue:
            QUEUE_REFUSED.inc()
            raise PostingQueueFull(
                "trop de virements en attente sur ce processus : réessayez dans un instant",
                queued=len(self._queue),
            )
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name="ledger-group-commit")
        return await future

    def _take(self) -> list[Waiting]:
        """The next group: up to ``max_items`` waiting requests, in arrival order, skipping
        those whose client went away and holding back a key already in the group."""
        group: list[Waiting] = []
        held: list[Waiting] = []
        claims: set[tuple[str, str]] = set()
        while self._queue and len(group) < self.max_items:
            waiting = self._queue.popleft()
            if waiting[1].done():
                continue
            claim = waiting[0].claim
            if claim is not None and claim in claims:
                held.append(waiting)
                continue
            if claim is not None:
                claims.add(claim)
            group.append(waiting)
        self._queue.extendleft(reversed(held))
        return group

    async def _run(self) -> None:
        while self._queue:
            group = self._take()
            if not group:
                continue
            GROUP_SIZES.observe(len(group))
            try:
                outcomes = await self._post([item for item, _ in group])
            except BaseException as exc:
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                log.exception("group_commit_failed", size=len(group))
                continue
            for (_, future), outcome in zip(group, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)

    async def _post(self, items: list[Item]) -> list[Outcome]:
        """The group in one transaction; each item alone if the database refuses it."""
        try:
            return await post_group(self.factory, items)
        except Exception as exc:
            if len(items) == 1 and not isinstance(exc, Isolate):
                raise
            GROUPS_ISOLATED.inc()
            log.info("group_commit_isolating", size=len(items), reason=type(exc).__name__)
        return [await post_alone(self.factory, item) for item in items]


def committer_of(state: Any) -> GroupCommitter:
    """The process's committer, kept on the application's ``state`` (created on first use,
    from its session factory and settings)."""
    committer: GroupCommitter | None = getattr(state, "group_committer", None)
    if committer is None:
        settings = state.settings
        committer = state.group_committer = GroupCommitter(
            state.session_factory,
            max_items=getattr(settings, "group_commit_max_items", 64),
            max_queue=getattr(settings, "group_commit_max_queue", 1024),
        )
    return committer
