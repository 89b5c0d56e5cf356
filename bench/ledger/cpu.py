"""CPU per request of the ledger and of PostgreSQL, phase by phase: the figure to compare
between two versions on a shared machine, where rates move with the neighbours' load.

    python -m bench.ledger.cpu [single half batch read at] (BENCH_LEDGER_SECONDS, _CLIENTS, …)

Starts the same stack as ``make bench-ledger`` (embedded PostgreSQL, migrated database, the
ledger under uvicorn, ``ACCOUNTS`` funded members), then for each phase named runs wrk and
reads from /proc the CPU seconds used by the ledger's processes and by PostgreSQL's (the
postmaster and its children: backends, walwriter, checkpointer), divided by the requests
answered. ``BENCH_LEDGER_PYSPY=/path/to/py-spy`` also records a sampling profile of each
phase into ``.cache/bench/ledger/profile-<mode>.txt`` (collapsed stacks) and the
phase's ledger CPU per request by stage (`bench.ledger.stages`);
``BENCH_LEDGER_AS_WALLET=1`` posts as the member wallet app under mandates;
``BENCH_LEDGER_NO_BACKGROUND=1`` runs the ledger without its background tasks (relay,
consumers, hold sweeper, audit sealer), to tell their share of the latency; ``half`` runs
single transfers paced at half the preceding ``single`` phase's rate.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from bench import ledger as b
from bench.ledger import stages
from bench.proc_cpu import tree_cpu_s as _tree_cpu_s
from deploy.local.postgres import LocalPostgres
from shared.migrate import upgrade

# Where PostgreSQL's time went in the phase (``BENCH_LEDGER_PGSS=1``): statements, nested
# ones (trigger bodies) included, by total execution time.
TOP_STATEMENTS = """
SELECT round(total_exec_time::numeric, 0) AS ms, calls, toplevel,
       left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query
FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25
"""

# The round trips of the phase (``BENCH_LEDGER_PGSS=1``): the statements the clients sent
# (top level, BEGIN and COMMIT included), by number of calls. Divided by the calls of the
# group's own statement, it gives the round trips one group (or one batch) costs.
TOP_CALLS = """
SELECT calls, round(total_exec_time::numeric, 0) AS ms,
       left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query
FROM pg_stat_statements WHERE toplevel ORDER BY calls DESC LIMIT 15
"""


def phase(port: int, ledger: int, pg: int, mode: str, **params: Any) -> dict[str, Any]:
    spy = None
    out_path = b.ROOT / f"profile-{mode}.txt"
    if (tool := os.environ.get("BENCH_LEDGER_PYSPY")) is not None:
        # Sampling profile of the phase, as collapsed stacks (flamegraph.pl or speedscope)
        spy = stages.record(tool, ledger, params["seconds"], out_path)
        time.sleep(0.5)
    c0, p0, t0 = _tree_cpu_s(ledger), _tree_cpu_s(pg), time.perf_counter()
    out = b.wrk(port, mode, **params)
    wall = time.perf_counter() - t0
    c1, p1 = _tree_cpu_s(ledger), _tree_cpu_s(pg)
    if spy is not None:
        spy.wait()
    n = max(1, out["requests"])
    by_stage = (
        {"request_cpu_us_by_stage": stages.by_stage(out_path.read_text(), 1e6 * (c1 - c0) / n)}
        if spy is not None and out_path.exists()
        else {}
    )
    return {
        "mode": mode,
        "requests": out["requests"],
        "errors": out["errors"],
        "per_s": round(out["per_s"], 1),
        "p50_ms": round(out["p50_ms"], 2),
        "p99_ms": round(out["p99_ms"], 2),
        "ledger_cpu_ms_per_req": round(1000 * (c1 - c0) / n, 3),
        "pg_cpu_ms_per_req": round(1000 * (p1 - p0) / n, 3),
        "ledger_cores": round((c1 - c0) / wall, 2),
        "pg_cores": round((p1 - p0) / wall, 2),
        **by_stage,
    }


def main(modes: list[str]) -> int:
    modes = modes or ["single", "batch", "read"]
    root = b.ROOT.parent / "ledger-cpu"
    server = LocalPostgres(data_dir=root / "postgres", port=b.free_port())
    statements = bool(os.environ.get("BENCH_LEDGER_PGSS"))
    if statements:
        server.init()
        with (server.pgdata / "postgresql.auto.conf").open("a") as conf:
            conf.write(
                "shared_preload_libraries = 'pg_stat_statements'\n"
                "pg_stat_statements.track = 'all'\n"
            )
    server.start()
    proc = None
    try:
        for name in ("bench_ledger", "bench_events"):
            server.create_database(name, recreate=True)
        upgrade("ledger", server.database_url("bench_ledger"))
        if statements:
            server.psql("CREATE EXTENSION pg_stat_statements", database="bench_ledger")
        jwks, token, wallet = b.signing_material()
        port = b.free_port()
        proc = b.start_ledger(
            server, jwks, port, background=not os.environ.get("BENCH_LEDGER_NO_BACKGROUND")
        )
        b.wait_ready(f"http://127.0.0.1:{port}", proc)
        accounts = b.prepare_ledger(f"http://127.0.0.1:{port}", token)
        pg = b.postmaster_pid(server)
        b.ROOT.mkdir(parents=True, exist_ok=True)
        # ``BENCH_LEDGER_AS_WALLET=1``: post as the member wallet app (under mandates), as
        # ``make bench-ledger`` does, rather than as the operator.
        poster = wallet if os.environ.get("BENCH_LEDGER_AS_WALLET") else token
        common = {"token": poster, "accounts": accounts, "currency": b.CURRENCY}
        run = {"connections": b.CLIENTS, "seconds": b.SECONDS}
        print(json.dumps({"pid": proc.pid, "port": port, "workers": b.WORKERS}), flush=True)
        last_single: dict[str, Any] = {}
        for mode in modes:
            b.settle(proc.pid, pg)
            if statements:  # the phase's statements only, not the set-up's
                server.psql("SELECT pg_stat_statements_reset()", database="bench_ledger")
            extra = {"batch": b.BATCH} if mode == "batch" else {}
            if mode == "at":
                result = phase(
                    port,
                    proc.pid,
                    pg,
                    "balance_at",
                    **run,
                    **common,
                    hot=accounts[0],
                    **{"from": time.time() - 3600, "to": time.time()},
                )
            elif mode == "half":
                # Single transfers paced at half the last single phase's rate, as the
                # bench's half-rate run does (needs a ``single`` phase before it).
                extra = {"delay_ms": b.half_rate_delay_ms(port, last_single, common)}
                result = phase(port, proc.pid, pg, "single", **run, **extra, **common)
            else:
                result = phase(port, proc.pid, pg, mode, **run, **extra, **common)
                if mode == "single":
                    last_single = result
            print(json.dumps(result), flush=True)
            if statements:
                print(server.psql(TOP_STATEMENTS, database="bench_ledger"), flush=True)
                print(server.psql(TOP_CALLS, database="bench_ledger"), flush=True)
                server.psql("SELECT pg_stat_statements_reset()", database="bench_ledger")
        return 0
    finally:
        if proc is not None:
            b.stop_ledger(proc)
        server.destroy()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
