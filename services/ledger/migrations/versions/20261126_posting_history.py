"""Posting history: running balance per posting, so the balance at any instant is one index
lookup instead of a sum over the account's whole history.

Each posting now carries, set by the database and never by the caller:

- ``balance_after``: the account's posted balance right after this posting;
- ``account_seq``: its rank among the account's postings (1, 2, …);
- ``posted_at``: its transaction's ``inserted_at``, raised if needed to the account's
  previous ``posted_at`` so that, per account, ``posted_at`` never decreases along
  ``account_seq``.

All three come from the ``account_balances`` row the posting trigger already updates. That
UPDATE takes the row lock, so postings of one account are numbered in exactly the order
their amounts are added: ``balance_after`` is exact under any concurrency. Because
``posted_at`` is monotonic along ``account_seq``, the postings with ``posted_at <= t`` are a
prefix of the account's history and the balance at ``t`` is the ``balance_after`` of the
last one: ``ix_postings_account_posted_at`` answers it with one index descent.

The balance update moves from an AFTER to a BEFORE INSERT trigger (it must write NEW's
columns); everything it checked still holds (bound CHECKs on the balance row, the
unknown-account refusal). Postings stay append-only: the UPDATE/DELETE/TRUNCATE guards are
untouched, and a caller-supplied value of the new columns is overwritten.

The per-posting zero-sum check now runs only for a posting added outside the (sub)transaction
that created its transaction, the one case the per-transaction check cannot see (a posting
slipped into an already committed transaction). The BEFORE trigger copies the transaction
row's ``xmin`` into ``transaction_xmin``; the constraint trigger's ``WHEN (NEW.xmin <>
NEW.transaction_xmin)`` is evaluated at insert time (PostgreSQL does not defer WHEN), so a
posting written with its transaction, which is every posting the API writes, queues no
deferred event at all: one zero-sum check per transaction instead of one per posting plus
one. Xids are never reused while a row can still be inserted against them, and a frozen
``xmin`` never equals a running xid, so the shortcut cannot skip a late posting.

Revision ID: ledger_0006
Revises: ledger_0005
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ledger_0006"
down_revision: str | None = "ledger_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = (
    r"""
    ALTER TABLE account_balances
        ADD COLUMN postings bigint NOT NULL DEFAULT 0,
        ADD COLUMN last_posted_at timestamptz
    """,
    r"""
    ALTER TABLE postings
        ADD COLUMN balance_after bigint,
        ADD COLUMN account_seq bigint,
        ADD COLUMN posted_at timestamptz,
        ADD COLUMN transaction_xmin xid
    """,
    r"""
    -- Backfill: number each account's postings in ``seq`` order (the order their amounts were
    -- added, since every writer so far locked the balance row before inserting) and take
    -- running sums. Postings are append-only, so the guard is lifted for this one statement.
    ALTER TABLE postings DISABLE TRIGGER tr_postings_immutable
    """,
    r"""
    WITH ranked AS (
        SELECT p.seq,
               sum(p.amount) OVER w AS balance_after,
               row_number() OVER w AS account_seq,
               max(t.inserted_at) OVER w AS posted_at
        FROM postings p JOIN transactions t ON t.id = p.transaction_id
        WINDOW w AS (PARTITION BY p.account_id ORDER BY p.seq
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )
    UPDATE postings p SET balance_after = r.balance_after, account_seq = r.account_seq,
                          posted_at = r.posted_at
    FROM ranked r WHERE r.seq = p.seq
    """,
    r"""
    ALTER TABLE postings ENABLE TRIGGER tr_postings_immutable
    """,
    r"""
    UPDATE account_balances b SET postings = s.n, last_posted_at = s.last
    FROM (SELECT account_id, count(*) AS n, max(posted_at) AS last
          FROM postings GROUP BY account_id) s
    WHERE s.account_id = b.account_id
    """,
    r"""
    ALTER TABLE postings
        ALTER COLUMN balance_after SET NOT NULL,
        ALTER COLUMN account_seq SET NOT NULL,
        ALTER COLUMN posted_at SET NOT NULL
    """,
    # Not UNIQUE on (account_id, account_seq): the row lock already makes it so, and a
    # second index to maintain on every posting is what this revision is trying to avoid.
    r"""
    CREATE INDEX ix_postings_account_posted_at ON postings (account_id, posted_at, account_seq)
        INCLUDE (balance_after)
    """,
    r"""
    DROP TRIGGER tr_postings_apply ON postings
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
    r"""
    CREATE TRIGGER tr_postings_apply BEFORE INSERT ON postings
        FOR EACH ROW EXECUTE FUNCTION ledger_apply_posting()
    """,
    r"""
    DROP TRIGGER tr_postings_balanced ON postings
    """,
    r"""
    CREATE CONSTRAINT TRIGGER tr_postings_balanced AFTER INSERT ON postings
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN (NEW.xmin IS DISTINCT FROM NEW.transaction_xmin)
        EXECUTE FUNCTION ledger_check_transaction_balanced()
    """,
)

DOWNGRADE = (
    r"""
    DROP TRIGGER tr_postings_balanced ON postings
    """,
    r"""
    CREATE CONSTRAINT TRIGGER tr_postings_balanced AFTER INSERT ON postings
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        EXECUTE FUNCTION ledger_check_transaction_balanced()
    """,
    r"""
    DROP TRIGGER tr_postings_apply ON postings
    """,
    r"""
    CREATE OR REPLACE FUNCTION ledger_apply_posting() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE account_balances SET posted = posted + NEW.amount WHERE account_id = NEW.account_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'account % has no balance row', NEW.account_id
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
    END $$
    """,
    r"""
    CREATE TRIGGER tr_postings_apply AFTER INSERT ON postings
        FOR EACH ROW EXECUTE FUNCTION ledger_apply_posting()
    """,
    r"""
    DROP INDEX ix_postings_account_posted_at
    """,
    r"""
    ALTER TABLE postings DROP COLUMN balance_after, DROP COLUMN account_seq,
        DROP COLUMN posted_at, DROP COLUMN transaction_xmin
    """,
    r"""
    ALTER TABLE account_balances DROP COLUMN postings, DROP COLUMN last_posted_at
    """,
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
