"""The four services as processes on a durable PostgreSQL and a real Kafka broker of their
own, for the benches that need the whole regional loop (``bench.loop``, ``bench.soak``):
started fresh, stopped and wiped after, with the rate limits lifted so the gateway's
limiter is not what gets measured."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from deploy.local.kafka_broker import KafkaBroker
from deploy.local.postgres import LocalPostgres
from deploy.local.stack import Stack, running_stack


@contextmanager
def kafka_stack(
    work: Path,
    *,
    postgres_port: int,
    kafka_port: int,
    base_port: int,
    db_prefix: str,
    admin_secret: str,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[tuple[Stack, KafkaBroker]]:
    postgres = LocalPostgres(data_dir=work / "postgres", port=postgres_port)
    broker = KafkaBroker(port=kafka_port, data_dir=work / "kafka")
    postgres.destroy()
    postgres.start()
    try:
        broker.start()
        stack = Stack(
            postgres=postgres,
            run_dir=work / "run",
            event_bus="kafka",
            kafka_bootstrap=broker.bootstrap,
            kafka_client_env=broker.client_env,
            base_port=base_port,
            db_prefix=db_prefix,
            extra_env={
                "PROXIMA_ENV": "test",
                "PROXIMA_BOOTSTRAP_ADMIN_SECRET": admin_secret,
                "PROXIMA_RATE_LIMIT_PER_MINUTE": "10000000",
                "PROXIMA_RATE_LIMIT_BURST": "1000000",
                "PROXIMA_LOG_LEVEL": "WARNING",
                **(extra_env or {}),
            },
        )
        with running_stack(stack):
            yield stack, broker
    finally:
        broker.stop()
        postgres.destroy()
