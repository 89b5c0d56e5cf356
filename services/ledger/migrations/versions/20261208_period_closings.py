"""Period closings (clôture): a currency's operator closes its books through a past date,
and the database refuses any transaction dated on or before the latest closing of a
currency it touches.

- ``period_closings``: one row per closing, append-only (``ledger_refuse_change``), each
  after the previous one of its currency and strictly before today (UTC), checked by
  ``tr_period_closings_follow``.
- ``tr_postings_period_open`` (AFTER INSERT on postings, per statement, over the rows
  inserted): refuses the statement when one of its transactions is dated on or before the
  latest closing of one of its postings' currencies, raising ``check_violation`` with
  ``ck_postings_period_open``. Postings, not transactions, because a transaction's
  currencies are those of its postings; per statement, so a 1,000-transfer batch pays for
  one query, not 2,000.

Why the advisory lock (class ``924695646``, key ``hashtext(currency)``): a transaction
checked before a closing commits could otherwise commit after it, into the closed period.
The posting trigger takes the currency's key shared (postings never wait for each other),
the closing exclusively: a closing waits for the postings in flight, and a posting that
waited for a closing sees it, since each query of a PL/pgSQL function takes a fresh
snapshot under READ COMMITTED (the ledger's isolation level).

Revision ID: ledger_0013
Revises: ledger_0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ledger_0013"
down_revision: str | None = "ledger_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCK_CLASS = 924695646
"""zlib.crc32(b"ledger-period-closings"); `services.ledger.closings.repository` uses it too."""

UPGRADE = (
    """
    CREATE TABLE period_closings (
        currency text NOT NULL CONSTRAINT fk_period_closings_currency
            REFERENCES currencies (code),
        through date NOT NULL,
        closed_by text NOT NULL CONSTRAINT ck_period_closings_closed_by CHECK (closed_by <> ''),
        closed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT pk_period_closings PRIMARY KEY (currency, through)
    )
    """,
    f"""
    CREATE FUNCTION ledger_closing_follows() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        latest date;
    BEGIN
        PERFORM pg_advisory_xact_lock({LOCK_CLASS}, hashtext(NEW.currency));
        IF NEW.through >= (clock_timestamp() AT TIME ZONE 'UTC')::date THEN
            RAISE EXCEPTION 'a period closes once over: % is not before today (UTC)',
                NEW.through
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_period_closings_past';
        END IF;
        SELECT max(through) INTO latest FROM period_closings WHERE currency = NEW.currency;
        IF latest IS NOT NULL AND NEW.through <= latest THEN
            RAISE EXCEPTION '% is already closed through %', NEW.currency, latest
                USING ERRCODE = 'check_violation',
                      CONSTRAINT = 'ck_period_closings_after_previous';
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER tr_period_closings_follow BEFORE INSERT ON period_closings
        FOR EACH ROW EXECUTE FUNCTION ledger_closing_follows()
    """,
    """
    CREATE TRIGGER tr_period_closings_immutable BEFORE UPDATE OR DELETE ON period_closings
        FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
    """,
    """
    CREATE TRIGGER tr_period_closings_no_truncate BEFORE TRUNCATE ON period_closings
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()
    """,
    f"""
    CREATE FUNCTION ledger_refuse_closed_period() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        touched text[];
        code text;
        hit record;
    BEGIN
        SELECT array_agg(DISTINCT currency ORDER BY currency) INTO touched FROM added;
        IF touched IS NULL THEN
            RETURN NULL;
        END IF;
        FOREACH code IN ARRAY touched LOOP
            PERFORM pg_advisory_xact_lock_shared({LOCK_CLASS}, hashtext(code));
        END LOOP;
        SELECT a.currency, t.id, t.effective_date, c.through INTO hit
            FROM (SELECT currency, max(through) AS through FROM period_closings
                  WHERE currency = ANY (touched) GROUP BY currency) c
            JOIN added a ON a.currency = c.currency
            JOIN transactions t ON t.id = a.transaction_id
            WHERE t.effective_date <= c.through
            LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'transaction % is dated %, in the period of % closed through %',
                hit.id, hit.effective_date, hit.currency, hit.through
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_postings_period_open';
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER tr_postings_period_open AFTER INSERT ON postings
        REFERENCING NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_closed_period()
    """,
)

DOWNGRADE = (
    "DROP TRIGGER tr_postings_period_open ON postings",
    "DROP FUNCTION ledger_refuse_closed_period()",
    "DROP TABLE period_closings",
    "DROP FUNCTION ledger_closing_follows()",
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
