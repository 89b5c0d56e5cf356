"""What a soak watches while it runs: each service process's resident memory and open file
descriptors (from /proc), each service's PostgreSQL connections (``pg_stat_activity``,
by the service's own roles) and each Kafka work group's lag (committed offsets
against the partitions' end offsets, read with aiokafka's admin client as the broker's
``admin`` principal). A leak shows as a slope, so every series gets a least-squares fit
(``statistics.linear_regression``: numpy is not a dependency of the project).

Why these four: they are the resources a long-running Python service exhausts first when
something is wrong (a task or a response never released, a connection checked out and
forgotten, a consumer that stops committing), and none of them shows in a short test."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.proc_cpu import cpu_s
from deploy.local.stack import BACKEND_SERVICES, Stack

SERVICES = ("gateway", *BACKEND_SERVICES)


def rss_mib(pid: int) -> float:
    """Resident set size of ``pid`` in MiB (``VmRSS`` of /proc/<pid>/status)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def db_connections(stack: Stack) -> dict[str, int]:
    """Server backends connected as each service's roles (app and owner), per service."""
    rows = stack.postgres.psql(
        "SELECT usename, count(*) FROM pg_stat_activity "
        f"WHERE usename LIKE '{stack.db_prefix}\\_%' GROUP BY usename"
    )
    counts = dict.fromkeys(SERVICES, 0)
    for row in rows.splitlines():
        role, count = row.split("|")
        service = role.removeprefix(f"{stack.db_prefix}_").rsplit("_", 1)[0]
        if service in counts:
            counts[service] += int(count)
    return counts


def is_work_group(group: str) -> bool:
    """A consumer group the stack's services share their work in (``ledger``,
    ``gateway-stream``…). Left out: the broadcast followers (``<service>-token-events-<id>``,
    one group per process start, left behind when the process stops: the session's broker
    holds those of every earlier stack) and other tests' probe groups. Which groups have
    live members would need DescribeGroups, whose answer aiokafka 0.14 fails to decode
    from this broker."""
    return group.split("-")[0] in SERVICES and "-token-events-" not in group


class LagReader:
    """Consumer lag per work group: sum over its partitions of end offset − committed."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.admin = AIOKafkaAdminClient(**options)
        self.offsets = AIOKafkaConsumer(**options, enable_auto_commit=False)

    async def __aenter__(self) -> LagReader:
        await self.admin.start()
        await self.offsets.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.offsets.stop()
        await self.admin.close()

    async def lag(self) -> dict[str, int]:
        listed = await self.admin.list_consumer_groups()
        groups = sorted(str(g[0]) for g in listed if is_work_group(str(g[0])))
        lags: dict[str, int] = {}
        for group in groups:
            committed = await self.admin.list_consumer_group_offsets(group)
            partitions = [tp for tp in committed if isinstance(tp, TopicPartition)]
            if not partitions:
                lags[group] = 0
                continue
            ends = await self.offsets.end_offsets(partitions)
            lags[group] = sum(max(0, ends[tp] - max(0, committed[tp].offset)) for tp in partitions)
        return lags


@dataclass
class Samples:
    """One row per sample: seconds since the start, then a value per series name
    (``rss_mib.ledger``, ``fds.gateway``, ``db_connections.funding``, ``lag.<group>``)."""

    rows: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    def series(self, name: str, *, after_s: float = 0.0) -> list[tuple[float, float]]:
        return [(t, values[name]) for t, values in self.rows if t >= after_s and name in values]

    def names(self) -> list[str]:
        return sorted({name for _, values in self.rows for name in values})

    def maximum(self, name: str) -> float:
        return max(v for _, v in self.series(name))

    def last(self, name: str) -> float:
        return self.series(name)[-1][1]

    def slope_per_hour(self, name: str, *, after_s: float = 0.0) -> float | None:
        """Least-squares slope of the series, per hour; None under 3 distinct points."""
        points = self.series(name, after_s=after_s)
        if len({t for t, _ in points}) < 3:
            return None
        xs = [t for t, _ in points]
        ys = [v for _, v in points]
        if len(set(ys)) == 1:
            return 0.0
        return statistics.linear_regression(xs, ys).slope * 3600


async def sample_until(
    stack: Stack,
    kafka_options: dict[str, Any],
    samples: Samples,
    stop: asyncio.Event,
    *,
    every_s: float,
    started: float,
) -> None:
    """Take a sample every ``every_s`` seconds until ``stop`` is set (and one at the end)."""
    async with LagReader(kafka_options) as lag:
        while True:
            values: dict[str, float] = {}
            for name in SERVICES:
                process = stack.services[name].process
                assert process is not None and process.poll() is None, f"{name} died"
                values[f"rss_mib.{name}"] = rss_mib(process.pid)
                values[f"fds.{name}"] = open_fds(process.pid)
                # CPU used so far and the machine's load: whether a slope comes from the
                # service itself or from a machine too busy to run it (2 shared cores).
                values[f"cpu_s.{name}"] = cpu_s(process.pid) or 0.0
            values["load1"] = os.getloadavg()[0]
            connections = await asyncio.to_thread(db_connections, stack)
            values.update({f"db_connections.{k}": v for k, v in connections.items()})
            values.update({f"lag.{k}": v for k, v in (await lag.lag()).items()})
            samples.rows.append((round(time.monotonic() - started, 2), values))
            if stop.is_set():
                return
            try:
                await asyncio.wait_for(stop.wait(), every_s)
            except TimeoutError:
                pass


async def lag_now(kafka_options: dict[str, Any]) -> dict[str, int]:
    async with LagReader(kafka_options) as lag:
        return await lag.lag()
