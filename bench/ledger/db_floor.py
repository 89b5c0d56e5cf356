"""The database's floor under the ledger's posting rates: pgbench runs the ledger's own
posting statements, with nothing in front of them.

The statements are the repository's SQL constants themselves (`_CLAIM_KEY`,
`_LOCK_ACCOUNTS`, `_INSERT_TRANSACTION` for a single transfer; `_INSERT_TRANSACTIONS`,
`_INSERT_POSTINGS`, `_INSERT_OUTBOX` for a batch), so a change to the posting path changes
this floor too. Their ``$n`` parameters are filled by SQL expressions over the bench's
accounts (numbered in ``bench_floor_accounts``) and pgbench's random variables; the outbox
payload is a real ``transaction.posted`` envelope. Same database, same triggers and
constraints, same client count as the ledger phases, prepared statements as asyncpg uses.

Its rate bounds the ledger's: a transfer cannot be cheaper than its own SQL. Read next to
the pgbench TPC-B baseline, it tells whether a target is out of reach of any Python (or
other) code in front of this schema, on this machine.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from pathlib import Path

from bench.pgbench import pgbench_tps
from deploy.local.postgres import LocalPostgres
from services.ledger.idempotency import repository as keys_repo
from services.ledger.transactions import repository as repo
from services.ledger.transactions.events import posted_rows, posted_transaction
from services.ledger.transactions.rules import Posting

CLIENT = "bench-floor"
TABLE = "bench_floor_accounts"


def fill(sql: str, values: dict[int, str]) -> str:
    """``sql`` with each ``$n`` replaced by the SQL expression ``values[n]`` (every
    parameter must have one), as one pgbench command."""

    def one(match: re.Match[str]) -> str:
        return f"({values[int(match.group(1))]})"

    return re.sub(r"\$(\d+)", one, sql).strip() + ";"


def sample_event() -> tuple[str, str, str, bytes]:
    """(event type, topic, key, payload) of a real two-leg ``transaction.posted`` row."""
    a, b = uuid.uuid4(), uuid.uuid4()
    event = posted_transaction(
        tx_id=uuid.uuid4(),
        kind="transfer",
        effective_date=date.today(),
        reverses=None,
        legs=[Posting(account_id=a, currency="BENCH", amount=-1), Posting(b, "BENCH", 1)],
        accounts={
            a: {"type": "member", "territory": "69123"},
            b: {"type": "member", "territory": None},
        },
    )
    _, kind, topic, key, payload = posted_rows([event], source="/proxima/ledger")[0]
    return kind, topic, key, payload


OUTBOX_TYPES = ("text", "text", "text", "text", "bytea")
AUTHORITY_TYPES = ("uuid", "text", "text", "uuid", "bigint")


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def single_script(
    currency: str,
    *,
    claim_key: bool = True,
    lock: bool = True,
    authority: bool = True,
    outbox: bool = True,
) -> str:
    """One keyed two-leg transfer between two random accounts, as `POST /transactions`
    sends it: claim the key, lock the two balance rows, insert transaction, postings, the
    debit's authority row and the outbox row and record the key's answer, commit.

    Each keyword drops one part (`bench.ledger.db_components` measures what each costs):
    ``claim_key`` the key's claim in ``idempotency_keys`` (the key is still written on the
    transaction row), ``lock`` the explicit lock statement (the postings' trigger still
    locks each balance row), ``authority`` and ``outbox`` their rows."""
    kind, topic, _, payload = sample_event()
    pair = f"SELECT ARRAY[x.id, y.id] FROM {TABLE} x, {TABLE} y WHERE x.n = :a AND y.n = :b"
    key = "CAST(:k AS text)"
    claim = fill(keys_repo._CLAIM_KEY, {1: literal(CLIENT), 2: key, 3: "'h'"})
    locking = fill(repo._LOCK_ACCOUNTS, {1: pair})
    insert = fill(
        repo._INSERT_TRANSACTION,
        {
            1: "gen_random_uuid()",
            2: "'transfer'",
            3: "current_date",
            4: "''",
            5: "'{}'",
            6: literal(CLIENT),
            7: key,
            8: "NULL::uuid",
            9: pair,
            10: f"ARRAY[{literal(currency)}, {literal(currency)}]",
            11: "ARRAY[-1, 1]",
            **(
                {
                    12: "ARRAY[gen_random_uuid()::text]",
                    13: f"ARRAY[{literal(kind)}]",
                    14: f"ARRAY[{literal(topic)}]",
                    15: "ARRAY[gen_random_uuid()::text]",
                    16: f"ARRAY['\\x{payload.hex()}'::bytea]",
                }
                if outbox
                else {n: f"'{{}}'::{t}[]" for n, t in zip(range(12, 17), OUTBOX_TYPES, strict=True)}
            ),
            # the debit leg's authority (`services.ledger.authority`): the first account
            **(
                {
                    17: f"({pair})[1:1]",
                    18: "ARRAY['holder']",
                    19: f"ARRAY[{literal(CLIENT)}]",
                    20: "ARRAY[NULL::uuid]",
                    21: "ARRAY[1]",
                }
                if authority
                else {
                    n: f"'{{}}'::{t}[]" for n, t in zip(range(17, 22), AUTHORITY_TYPES, strict=True)
                }
            ),
        },
    )
    return "\n".join(
        [
            "\\set a random(1, :accounts)",
            "\\set b random(1, :accounts - 1)",
            "\\set b :b + (CASE WHEN :b >= :a THEN 1 ELSE 0 END)",
            "\\set k random(1, 9000000000000000)",
            "BEGIN;",
            *([claim] if claim_key else []),
            *([locking] if lock else []),
            insert,
            "COMMIT;",
            "",
        ]
    )


def batch_script(currency: str, size: int) -> str:
    """One keyed atomic batch of ``size`` random two-leg transfers, as `POST /batches` sends
    it: claim, lock every account involved, insert the transactions, then their postings,
    then their outbox rows, record the answer, commit. The random pairs are drawn in one
    statement first (its cost counts against the floor)."""
    kind, topic, _, payload = sample_event()
    draw = (
        "WITH t AS (SELECT gen_random_uuid() AS id, i,"
        " 1 + floor(random() * CAST(:accounts AS int))::int AS a,"
        " 1 + floor(random() * (CAST(:accounts AS int) - 1))::int AS b0"
        f" FROM generate_series(1, {size}) i),"
        " p AS (SELECT id, i, a, b0 + (b0 >= a)::int AS b FROM t),"
        " legs AS (SELECT p.id, p.i, l.leg, CASE l.leg WHEN 0 THEN p.a ELSE p.b END AS n,"
        " CASE l.leg WHEN 0 THEN -1 ELSE 1 END AS amount FROM p, (VALUES (0), (1)) l(leg))"
        " SELECT (SELECT array_agg(id ORDER BY i) FROM p)::text AS ids,"
        " array_agg(legs.id ORDER BY i, leg)::text AS leg_tx,"
        f" array_agg(acc.id ORDER BY i, leg)::text AS leg_account,"
        " array_agg(amount ORDER BY i, leg)::text AS leg_amount,"
        " (array_agg(legs.id ORDER BY i) FILTER (WHERE leg = 0))::text AS debit_tx,"
        " (array_agg(acc.id ORDER BY i) FILTER (WHERE leg = 0))::text AS debit_account"
        f" FROM legs JOIN {TABLE} acc ON acc.n = legs.n"
        " \\gset"
    )
    key = "CAST(:k AS text)"
    claim = fill(keys_repo._CLAIM_KEY, {1: literal(CLIENT), 2: key, 3: "'h'"})
    lock = fill(
        repo._LOCK_ACCOUNTS,
        {1: "SELECT array_agg(DISTINCT a) FROM unnest(CAST(:leg_account AS uuid[])) a"},
    )
    transactions = fill(
        repo._INSERT_TRANSACTIONS,
        {
            1: "CAST(:ids AS uuid[])",
            2: f"array_fill('transfer'::text, ARRAY[{size}])",
            3: f"array_fill(current_date, ARRAY[{size}])",
            4: f"array_fill(''::text, ARRAY[{size}])",
            5: f"array_fill('{{}}'::jsonb, ARRAY[{size}])",
            6: f"array_fill({literal(CLIENT)}::text, ARRAY[{size}])",
        },
    )
    postings = fill(
        repo._INSERT_POSTINGS,
        {
            1: "CAST(:leg_tx AS uuid[])",
            2: "CAST(:leg_account AS uuid[])",
            3: f"array_fill({literal(currency)}::text, ARRAY[{2 * size}])",
            4: "CAST(:leg_amount AS bigint[])",
            5: "CAST(:debit_tx AS uuid[])",
            6: "CAST(:debit_account AS uuid[])",
            7: f"array_fill('holder'::text, ARRAY[{size}])",
            8: f"array_fill({literal(CLIENT)}::text, ARRAY[{size}])",
            9: f"array_fill(NULL::uuid, ARRAY[{size}])",
            10: f"array_fill(1::bigint, ARRAY[{size}])",
        },
    )
    outbox = fill(
        repo._INSERT_OUTBOX,
        {
            1: f"SELECT array_agg(gen_random_uuid()::text) FROM generate_series(1, {size})",
            2: f"array_fill({literal(kind)}::text, ARRAY[{size}])",
            3: f"array_fill({literal(topic)}::text, ARRAY[{size}])",
            4: "CAST(:ids AS text[])",
            5: f"array_fill('\\x{payload.hex()}'::bytea, ARRAY[{size}])",
        },
    )
    remember = fill(keys_repo._REMEMBER, {1: literal(CLIENT), 2: key, 3: '\'{"replay": "batch"}\''})
    return "\n".join(
        [
            "\\set k random(1, 9000000000000000)",
            draw,
            "BEGIN;",
            claim,
            lock,
            transactions,
            postings,
            outbox,
            remember,
            "COMMIT;",
            "",
        ]
    )


def number_accounts(server: LocalPostgres, database: str, accounts: list[str]) -> None:
    """Number the bench's accounts in ``TABLE``, a thousand rows per psql call (10,000 in
    one command line are past the system's argument length)."""
    server.psql(
        f"DROP TABLE IF EXISTS {TABLE}; CREATE TABLE {TABLE} (n int PRIMARY KEY, id uuid NOT NULL)",
        database=database,
    )
    numbered = list(enumerate(accounts, 1))
    for start in range(0, len(numbered), 1000):
        values = ", ".join(f"({n}, '{a}')" for n, a in numbered[start : start + 1000])
        server.psql(f"INSERT INTO {TABLE} VALUES {values}", database=database)


def pgbench(
    server: LocalPostgres,
    database: str,
    script: Path,
    *,
    clients: int,
    seconds: float,
    accounts: int,
) -> float:
    return pgbench_tps(
        server,
        database,
        *("-n", "-M", "prepared", "-f", str(script), "-D", f"accounts={accounts}"),
        *("-c", str(clients), "-j", str(min(clients, 4)), "-T", str(max(1, round(seconds)))),
    )


def measure(
    server: LocalPostgres,
    database: str,
    accounts: list[str],
    *,
    currency: str,
    clients: int,
    seconds: float,
    batch: int,
    workdir: Path,
) -> dict[str, float]:
    """Transfers per second the posting SQL alone reaches, single and in batches."""
    number_accounts(server, database, accounts)
    workdir.mkdir(parents=True, exist_ok=True)
    single = workdir / "floor-single.sql"
    single.write_text(single_script(currency))
    batches = workdir / "floor-batch.sql"
    batches.write_text(batch_script(currency, batch))
    run = {"clients": clients, "seconds": seconds, "accounts": len(accounts)}
    single_tps = pgbench(server, database, single, **run)
    batch_tps = pgbench(server, database, batches, **run) * batch
    return {"single_tps": single_tps, "batch_tps": batch_tps}
