"""Posting path: one balance-row update per account and statement, not one per posting.

Until now the BEFORE INSERT trigger on postings (ledger_0006) updated the account's
``account_balances`` row once per posting, to number the posting and carry its running
balance. A 1,000-transfer batch on 200 accounts wrote 2,000 versions of 200 rows in one
transaction; none of them can be pruned while the transaction runs (nor while concurrent
batches, waiting for the same rows, hold snapshots older than it), so each update walked a
longer chain of versions: on the bench, 70 µs of PostgreSQL per posting in that UPDATE
alone, the largest cost of a batch.

Now:

- ``tr_postings_apply`` (BEFORE INSERT, per row) locks the account's balance row
  (``FOR UPDATE``: the same lock the UPDATE took, so postings of one account are still
  numbered in exactly the order they are added, under any concurrency) and reads the
  account's latest posting, which includes rows the same statement inserted before this
  one (PostgreSQL shows a row trigger's queries the command's earlier rows). From it:
  ``balance_after`` = its ``balance_after`` + amount, ``account_seq`` + 1, ``posted_at`` =
  the transaction's ``inserted_at`` raised to its ``posted_at``; zero, 0 and the
  transaction's instant for an account's first posting. Nothing else is written per row.
- ``tr_postings_apply_totals`` (AFTER INSERT, per statement, over the transition table of
  the rows inserted) moves each touched balance row once: ``posted`` by the sum of its
  postings, ``postings`` by their count, ``last_posted_at`` to the latest. It then refuses
  the statement if any posting's ``balance_after`` (with the account's ``held``) crossed a
  bound, raising ``check_violation`` with the name of the bound's CHECK, so an
  intermediate breach inside a statement is refused exactly as the per-posting update's
  CHECK refused it; the CHECKs themselves still guard the final row.

What stays exact: ``posted`` is the sum of the account's postings after every statement,
and equals the ``balance_after`` of its latest posting (each statement starts from the
latest posting, which the previous statement left equal to ``posted``); ``account_seq``
runs 1, 2, … per account; ``posted_at`` never decreases along it. The debt counter
(``tr_account_balances_debt``, ledger_0008) fires once per account and statement with the
balance before and after it, so ``total_debt`` stays the sum of the negative balances;
its cap is checked deferred as before. Caller-supplied values of the computed columns are
still overwritten; the zero-sum, immutability and load-cap triggers are unchanged.

Revision ID: ledger_0009
Revises: ledger_0008
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ledger_0009"
down_revision: str | None = "ledger_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = (
    r"""
    CREATE OR REPLACE FUNCTION ledger_apply_posting() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        tx_at timestamptz;
        prev record;
    BEGIN
        SELECT inserted_at, xmin INTO tx_at, NEW.transaction_xmin
            FROM transactions WHERE id = NEW.transaction_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no transaction %', NEW.transaction_id
                USING ERRCODE = 'foreign_key_violation',
                      CONSTRAINT = 'fk_postings_transaction_id_transactions';
        END IF;
        PERFORM FROM account_balances WHERE account_id = NEW.account_id FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'account % has no balance row', NEW.account_id
                USING ERRCODE = 'foreign_key_violation',
                      CONSTRAINT = 'fk_postings_account_id_accounts';
        END IF;
        SELECT balance_after, account_seq, posted_at INTO prev FROM postings
            WHERE account_id = NEW.account_id
            ORDER BY posted_at DESC, account_seq DESC LIMIT 1;
        IF FOUND THEN
            NEW.balance_after := prev.balance_after + NEW.amount;
            NEW.account_seq := prev.account_seq + 1;
            NEW.posted_at := GREATEST(prev.posted_at, tx_at);
        ELSE
            NEW.balance_after := NEW.amount;
            NEW.account_seq := 1;
            NEW.posted_at := tx_at;
        END IF;
        RETURN NEW;
    END $$
    """,
    r"""
    CREATE FUNCTION ledger_apply_posting_totals() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        crossed record;
    BEGIN
        WITH totals AS (
            SELECT account_id, sum(amount) AS total, count(*) AS n, max(posted_at) AS last,
                   min(balance_after) AS lowest, max(balance_after) AS highest
            FROM added GROUP BY account_id
        ), moved AS (
            UPDATE account_balances b
                SET posted = b.posted + t.total,
                    postings = b.postings + t.n,
                    last_posted_at = GREATEST(b.last_posted_at, t.last)
                FROM totals t WHERE b.account_id = t.account_id
                RETURNING b.account_id, b.held, b.lower_bound, b.upper_bound,
                          t.lowest, t.highest
        )
        SELECT * INTO crossed FROM moved
            WHERE (lower_bound IS NOT NULL AND lowest - held < lower_bound)
               OR (upper_bound IS NOT NULL AND highest > upper_bound)
            LIMIT 1;
        IF FOUND THEN
            IF crossed.lower_bound IS NOT NULL
               AND crossed.lowest - crossed.held < crossed.lower_bound THEN
                RAISE EXCEPTION 'new row for relation "account_balances" violates check '
                    'constraint "ck_account_balances_lower_bound" (account %)', crossed.account_id
                    USING ERRCODE = 'check_violation',
                          CONSTRAINT = 'ck_account_balances_lower_bound',
                          TABLE = 'account_balances';
            END IF;
            RAISE EXCEPTION 'new row for relation "account_balances" violates check '
                'constraint "ck_account_balances_upper_bound" (account %)', crossed.account_id
                USING ERRCODE = 'check_violation',
                      CONSTRAINT = 'ck_account_balances_upper_bound',
                      TABLE = 'account_balances';
        END IF;
        RETURN NULL;
    END $$
    """,
    r"""
    CREATE TRIGGER tr_postings_apply_totals AFTER INSERT ON postings
        REFERENCING NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_apply_posting_totals()
    """,
)

# ledger_0006's per-posting update, as it was.
DOWNGRADE = (
    r"""
    DROP TRIGGER tr_postings_apply_totals ON postings
    """,
    r"""
    DROP FUNCTION ledger_apply_posting_totals()
    """,
    r"""
    CREATE OR REPLACE FUNCTION ledger_apply_posting() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        tx_at timestamptz;
    BEGIN
        SELECT inserted_at, xmin INTO tx_at, NEW.transaction_xmin
            FROM transactions WHERE id = NEW.transaction_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no transaction %', NEW.transaction_id
                USING ERRCODE = 'foreign_key_violation',
                      CONSTRAINT = 'fk_postings_transaction_id_transactions';
        END IF;
        UPDATE account_balances
            SET posted = posted + NEW.amount,
                postings = postings + 1,
                last_posted_at = GREATEST(last_posted_at, tx_at)
            WHERE account_id = NEW.account_id
            RETURNING posted, postings, last_posted_at
            INTO NEW.balance_after, NEW.account_seq, NEW.posted_at;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'account % has no balance row', NEW.account_id
                USING ERRCODE = 'foreign_key_violation',
                      CONSTRAINT = 'fk_postings_account_id_accounts';
        END IF;
        RETURN NEW;
    END $$
    """,
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
