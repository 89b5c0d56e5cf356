"""Replay dead letters: ``python -m shared.events.replay --service <name> [--id N ...]``.

A replayed event goes back to its original topic. Every consumer group sees it again, and
the groups that had applied it skip it through their inbox, so only the group that gave up
on it applies it now (once its bug or data is fixed).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import make_engine
from shared.events.envelope import CONTENT_TYPE
from shared.events.tables import dead_letters
from shared.events.transports import OutgoingRecord, Producer, make_producer
from shared.settings import ServiceSettings


async def replay_dead_letters(
    engine: AsyncEngine, producer: Producer, *, ids: Sequence[int] = (), consumer: str | None = None
) -> int:
    """Republish pending dead letters (all, or the given ids); return how many."""
    query = (
        select(dead_letters).where(dead_letters.c.replayed_at.is_(None)).order_by(dead_letters.c.id)
    )
    if ids:
        query = query.where(dead_letters.c.id.in_(list(ids)))
    if consumer:
        query = query.where(dead_letters.c.consumer == consumer)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    if not rows:
        return 0
    headers = (("content-type", CONTENT_TYPE.encode()), ("replayed-from-dead-letter", b"1"))
    await producer.send_many(
        [
            OutgoingRecord(topic=r.topic, key=r.key or str(r.id), value=r.payload, headers=headers)
            for r in rows
        ]
    )
    async with engine.begin() as conn:
        await conn.execute(
            update(dead_letters)
            .where(dead_letters.c.id.in_([r.id for r in rows]))
            .values(replayed_at=func.now())
        )
    return len(rows)


async def _main(args: argparse.Namespace) -> None:
    settings = ServiceSettings(service_name=args.service)
    engine = make_engine(settings.database_url)
    producer = make_producer(settings)
    await producer.start()
    try:
        count = await replay_dead_letters(engine, producer, ids=args.id, consumer=args.consumer)
        print(f"replayed {count} dead letter(s) of {args.service}")
    finally:
        await producer.stop()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--service", required=True, help="whose database holds the dead letters")
    parser.add_argument("--id", type=int, action="append", default=[], help="replay only these")
    parser.add_argument("--consumer", default=None, help="replay only this consumer group's")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
