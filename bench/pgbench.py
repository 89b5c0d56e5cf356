"""Run PostgreSQL's own load tool against a bench server and read its rate."""

from __future__ import annotations

import re
import subprocess

from deploy.local.postgres import LocalPostgres


def pgbench_tps(server: LocalPostgres, database: str, *options: str) -> float:
    """Transactions per second that ``pgbench options… database`` reports (connections
    excluded from the time, as pgbench counts them)."""
    out = subprocess.run(
        [
            server.bin("pgbench"),
            *("-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres"),
            *options,
            database,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"tps = ([\d.]+)", out)
    assert match, out
    return float(match.group(1))
