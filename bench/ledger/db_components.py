"""What each part of the single-transfer posting SQL costs PostgreSQL, in microseconds per
transfer: the issue's "posting SQL's own cost", measured rather than guessed.

`bench.ledger.db_floor`'s single-transfer script (the repository's own statements, run by
pgbench with no Python) is run once as is, then once per component with that component
removed or replaced, each on a fresh scratch copy of the bench database (``CREATE DATABASE
… TEMPLATE``): the real schema is never weakened, and no variant sees another's leftovers.
A component's cost is the difference with the full script, in PostgreSQL CPU per transfer
(backends, WAL writer, checkpointer: the postmaster's process tree, read from /proc, so
the neighbours' load on a shared machine moves it less than a rate) and in wall time per
transfer at the bench's client count (1 / tps). Each variant is paired with a run of the
full script just before it (a drift of the machine's load moves both alike); the spread
of the full script's runs (``noise_*``) is the band a difference must clear to mean
anything, and more rounds (``BENCH_LEDGER_COMPONENT_ROUNDS``) take the median.

The audit chain is not a component here: the sealer writes it in the background, after
commit (docs/decisions/ledger-audit-sealer.md), so the posting SQL writes nothing for it
but the ``seq`` identity columns it seals in order.

    python -m bench.ledger.db_components   (BENCH_LEDGER_ACCOUNTS, _CLIENTS,
        BENCH_LEDGER_COMPONENT_SECONDS: 5 per variant, BENCH_LEDGER_COMPONENT_ROUNDS: 1)
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.ledger.db_floor import single_script
from bench.proc_cpu import tree_cpu_s
from deploy.local.postgres import LocalPostgres

SECONDS = float(os.environ.get("BENCH_LEDGER_COMPONENT_SECONDS", "5"))
# More rounds (each: full, every variant, full) give each figure as the median of them.
ROUNDS = max(1, int(os.environ.get("BENCH_LEDGER_COMPONENT_ROUNDS", "1")))
SCRATCH = "bench_floor_scratch"

# Every foreign key of the tables a transfer writes, dropped on the scratch copy.
_DROP_FOREIGN_KEYS = """
DO $$
DECLARE c record;
BEGIN
    FOR c IN SELECT conrelid::regclass AS tab, conname FROM pg_constraint
             WHERE contype = 'f' AND conrelid::regclass::text IN
                 ('transactions', 'postings', 'posting_authorities', 'outbox', 'idempotency_keys')
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.tab, c.conname);
    END LOOP;
END $$
"""
# Without ``tr_postings_apply`` nothing fills the running-balance columns.
_BALANCE_COLUMNS_NULLABLE = (
    "ALTER TABLE postings ALTER COLUMN balance_after DROP NOT NULL,"
    " ALTER COLUMN account_seq DROP NOT NULL, ALTER COLUMN posted_at DROP NOT NULL"
)


@dataclass(frozen=True)
class Variant:
    """The single-transfer script with one component removed or replaced."""

    name: str
    removed: str
    script: dict[str, bool] = field(default_factory=dict)
    setup: tuple[str, ...] = ()


VARIANTS = (
    Variant(
        "idempotency_claim",
        "the key's claim row in idempotency_keys (INSERT … ON CONFLICT, then the answer's"
        " UPDATE finds no row); the key is still written on the transaction",
        script={"claim_key": False},
    ),
    Variant(
        "idempotency_on_transaction",
        "the claim replaced by a unique index on transactions (client_id, idempotency_key)",
        script={"claim_key": False},
        setup=(
            "CREATE UNIQUE INDEX bench_uq_transactions_key"
            " ON transactions (client_id, idempotency_key)",
        ),
    ),
    Variant(
        "lock_statement",
        "the explicit lock of the two balance rows (its own statement and round trip; the"
        " postings' trigger still locks each row)",
        script={"lock": False},
    ),
    Variant(
        "authority_row",
        "the debit's posting_authorities row and its deferred check (tg_postings_debit_authority)",
        script={"authority": False},
        setup=("ALTER TABLE postings DISABLE TRIGGER tg_postings_debit_authority",),
    ),
    Variant("outbox_row", "the transaction.posted outbox row", script={"outbox": False}),
    Variant(
        "zero_sum_check",
        "the deferred double-entry checks (tr_transactions_have_postings, tr_postings_balanced)",
        setup=(
            "ALTER TABLE transactions DISABLE TRIGGER tr_transactions_have_postings",
            "ALTER TABLE postings DISABLE TRIGGER tr_postings_balanced",
        ),
    ),
    Variant(
        "period_and_load_checks",
        "the closed-period check (statement trigger, advisory lock) and the monthly load"
        " count (row trigger)",
        setup=(
            "ALTER TABLE postings DISABLE TRIGGER tr_postings_period_open",
            "ALTER TABLE postings DISABLE TRIGGER tr_postings_count_load",
        ),
    ),
    Variant(
        "running_balance",
        "the running balance: tr_postings_apply (row: balance_after, account_seq,"
        " posted_at) and tr_postings_apply_totals (statement: balance row, bounds); the"
        " per-posting balanced check its xmin shortcut skips is off too, the"
        " per-transaction one stays",
        setup=(
            "ALTER TABLE postings DISABLE TRIGGER tr_postings_apply",
            "ALTER TABLE postings DISABLE TRIGGER tr_postings_apply_totals",
            "ALTER TABLE postings DISABLE TRIGGER tr_postings_balanced",
            _BALANCE_COLUMNS_NULLABLE,
        ),
    ),
    Variant(
        "foreign_keys",
        "every foreign key of transactions, postings, posting_authorities, outbox and"
        " idempotency_keys",
        setup=(_DROP_FOREIGN_KEYS,),
    ),
    Variant(
        "everything",
        "all of the above at once: plain inserts of the transaction and its two postings,"
        " no claim, lock, authority or outbox row, no user trigger, no foreign key",
        script={"claim_key": False, "lock": False, "authority": False, "outbox": False},
        setup=(
            "ALTER TABLE postings DISABLE TRIGGER USER",
            "ALTER TABLE transactions DISABLE TRIGGER USER",
            _BALANCE_COLUMNS_NULLABLE,
            _DROP_FOREIGN_KEYS,
        ),
    ),
)


def postmaster_pid(server: LocalPostgres) -> int:
    return int((server.pgdata / "postmaster.pid").read_text().split()[0])


def server_cpu_s(postmaster: int) -> float:
    """CPU seconds of the whole server so far: its live processes (`tree_cpu_s`) and the
    backends that already exited, which the postmaster reaped into its own ``cutime`` and
    ``cstime`` (fields 16 and 17 of proc(5)): pgbench's backends are gone by the time it
    returns, so the live processes alone would miss their work."""
    fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    reaped = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    return tree_cpu_s(postmaster) + reaped


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the rounds (the run itself with one round)."""
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def run_variant(
    server: LocalPostgres,
    template: str,
    variant: Variant | None,
    *,
    currency: str,
    clients: int,
    seconds: float,
    accounts: int,
    workdir: Path,
) -> dict[str, float]:
    """The script of ``variant`` (None: the full one) on a fresh copy of ``template``:
    transfers per second, PostgreSQL CPU and wall microseconds per transfer."""
    server.psql(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")
    server.psql(f"CREATE DATABASE {SCRATCH} TEMPLATE {template}")
    for statement in variant.setup if variant else ():
        server.psql(statement, database=SCRATCH)
    server.psql("CHECKPOINT", database=SCRATCH)
    name = variant.name if variant else "full"
    script = workdir / f"floor-single-{name}.sql"
    script.write_text(single_script(currency, **(variant.script if variant else {})))
    pg = postmaster_pid(server)
    before = server_cpu_s(pg)
    out = subprocess.run(
        [
            server.bin("pgbench"),
            *("-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres"),
            *("-n", "-M", "prepared", "-f", str(script), "-D", f"accounts={accounts}"),
            *("-c", str(clients), "-j", str(min(clients, 4)), "-T", str(max(1, round(seconds)))),
            SCRATCH,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    time.sleep(0.3)  # the backends' exit reaped by the postmaster
    cpu = server_cpu_s(pg) - before
    tps = re.search(r"tps = ([\d.]+)", out)
    done = re.search(r"number of transactions actually processed: (\d+)", out)
    failed = re.search(r"number of failed transactions: (\d+)", out)
    assert tps and done, out
    transfers = max(1, int(done.group(1)))
    return {
        "tps": round(float(tps.group(1)), 1),
        "transfers": transfers,
        "failed": int(failed.group(1)) if failed else 0,
        "pg_cpu_us": round(1e6 * cpu / transfers, 1),
        "wall_us": round(1e6 / float(tps.group(1)), 1),
    }


def measure(
    server: LocalPostgres,
    template: str,
    *,
    currency: str,
    clients: int,
    accounts: int,
    workdir: Path,
    seconds: float = SECONDS,
) -> dict[str, Any]:
    """Every variant on ``template`` (a migrated bench database whose accounts `db_floor`
    numbered; not changed here): the cost of each component and the raw runs."""
    run = {
        "currency": currency,
        "clients": clients,
        "seconds": seconds,
        "accounts": accounts,
        "workdir": workdir,
    }
    workdir.mkdir(parents=True, exist_ok=True)

    def full_run() -> dict[str, float]:
        return run_variant(server, template, None, **run)

    try:
        # Paired: the full script runs just before each variant, so a drift in the
        # machine's load (other engineers' suites) moves both sides of a difference alike.
        rounds = [
            {v.name: (full_run(), run_variant(server, template, v, **run)) for v in VARIANTS}
            for _ in range(ROUNDS)
        ]
    finally:
        server.psql(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")
    fulls = [pair[0] for r in rounds for pair in r.values()]
    cost = {
        v.name: {
            k: round(statistics.median(r[v.name][0][k] - r[v.name][1][k] for r in rounds), 1)
            for k in ("pg_cpu_us", "wall_us")
        }
        for v in VARIANTS
    }
    return {
        "posting_sql_us_by_component": cost,
        "posting_sql_full_us": {
            k: round(statistics.median(f[k] for f in fulls), 1) for k in ("pg_cpu_us", "wall_us")
        }
        | {
            # the spread of the full script's runs: differences inside it are noise
            f"noise_{k}": round(max(f[k] for f in fulls) - min(f[k] for f in fulls), 1)
            for k in ("pg_cpu_us", "wall_us")
        },
        "posting_sql_variants": {
            "method": (
                "pgbench -M prepared, the single-transfer posting SQL of db_floor on a fresh"
                " scratch copy of the bench database per run; each variant (one component"
                " removed) paired with a run of the full script just before it; cost ="
                " full minus variant, median over the rounds"
            ),
            "clients": clients,
            "seconds_per_run": seconds,
            "rounds": ROUNDS,
            **{
                v.name: {
                    "removed": v.removed,
                    **_median([r[v.name][1] for r in rounds]),
                    "full_before": _median([r[v.name][0] for r in rounds]),
                }
                for v in VARIANTS
            },
        },
    }


def main() -> int:
    """A bench stack of its own (as `bench.ledger.cpu` starts it), its accounts numbered,
    the ledger stopped, then every variant; the figures on stdout."""
    from bench import ledger as b
    from bench.ledger import db_floor
    from shared.migrate import upgrade

    root = b.ROOT.parent / "ledger-components"
    server = LocalPostgres(data_dir=root / "postgres", port=b.free_port())
    server.start()
    proc = None
    try:
        for name in ("bench_ledger", "bench_events"):
            server.create_database(name, recreate=True)
        upgrade("ledger", server.database_url("bench_ledger"))
        jwks, token, _ = b.signing_material()
        port = b.free_port()
        proc = b.start_ledger(server, jwks, port, background=False)
        b.wait_ready(f"http://127.0.0.1:{port}", proc)
        accounts = b.prepare_ledger(f"http://127.0.0.1:{port}", token)
        b.stop_ledger(proc)
        proc = None
        db_floor.number_accounts(server, "bench_ledger", accounts)
        load = os.getloadavg()
        result = measure(
            server,
            "bench_ledger",
            currency=b.CURRENCY,
            clients=b.CLIENTS,
            accounts=len(accounts),
            workdir=root,
        )
        result["load_average"] = {"at_start": load, "at_end": os.getloadavg()}
        print(json.dumps(result, indent=2), flush=True)
        return 0
    finally:
        if proc is not None:
            b.stop_ledger(proc)
        server.destroy()


if __name__ == "__main__":
    sys.exit(main())
