"""Cards and tokens, monthly load caps and the mutual-credit debt cap.

Both caps are enforced by the database, like the balance bounds, so that every posting
path (single transfers, atomic and independent batches, holds, programme movements,
grant payments) obeys them, and concurrent writers cannot both slip under a cap: each cap
is a counter row updated by a trigger in the posting's own transaction (its row lock
serialises writers). A breach fails the whole transaction; the API maps the constraint
name to a problem code.

- ``currency_debt``: one row per currency that allows credit (``mutual_credit``, ``time``),
  created by a trigger when the currency is created. ``total_debt`` is the sum of the
  negative parts of the posted balances of its bounded accounts (issuer accounts, the only
  ones without a lower bound, mirror issuance and are not debt). It is maintained by a
  trigger on ``account_balances`` that fires only when a negative balance is involved, so
  transfers between positive balances never touch the row. ``cap`` comes from the
  currency's ``credit_limit.max_total_debt`` (rules are immutable once created). The cap
  is checked by a deferred constraint trigger, not a CHECK: within one transfer the
  counter may pass above the cap between two postings (one debt grows before another
  shrinks); writers fire the check early with ``SET CONSTRAINTS … IMMEDIATE``, and commit
  fires it in any case.
- ``account_load_caps``: the monthly load cap of each member account of a currency that
  sets ``monthly_load_cap``, written by a trigger when the account is opened.
  ``account_monthly_loads``: per account and calendar month (UTC), the credits received,
  upserted by a trigger on postings for positive postings to capped accounts only, with a
  CHECK (loads only ever grow, so no intermediate state can be wrongly refused).
  Reversals are neutral: a reversal credit gives back what was taken, it is not a load,
  and a reversal debit does not give back room.
- ``cards``: a card or token maps to one account. Only a keyed fingerprint (HMAC-SHA256
  with a secret kept outside the database) and the last four characters are stored,
  never the number; a blocked card stays blocked (trigger).
- ``programme_reimbursement``, ``programme_funder_euro_accounts``, ``voucher_reimbursements``:
  voucher merchants are reimbursed in euros from each funder's euro account, for what that
  funder's lots paid them; each reimbursement row is append-only history.

Revision ID: ledger_0008
Revises: ledger_0007
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ledger_0008"
down_revision: str | None = "ledger_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATEMENTS = (
    # --- mutual-credit debt cap ---------------------------------------------------------
    """
    CREATE TABLE currency_debt (
        currency text PRIMARY KEY CONSTRAINT fk_currency_debt_currency_currencies
            REFERENCES currencies (code),
        total_debt bigint NOT NULL DEFAULT 0 CONSTRAINT ck_currency_debt_total
            CHECK (total_debt >= 0),
        cap bigint
    )
    """,
    # Checked once the transaction's postings are all in (at commit, or earlier when the
    # writer asks with SET CONSTRAINTS ... IMMEDIATE), not per posting: a transfer from a
    # member into one in debt raises one debt and lowers another, and the counter may pass
    # through a value above the cap between the two postings.
    """
    CREATE FUNCTION ledger_check_debt_cap() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        row currency_debt%ROWTYPE;
    BEGIN
        SELECT * INTO row FROM currency_debt WHERE currency = NEW.currency;
        IF row.cap IS NOT NULL AND row.total_debt > row.cap THEN
            RAISE EXCEPTION 'total debt of % would be %, above its cap %',
                row.currency, row.total_debt, row.cap
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_currency_debt_cap';
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE CONSTRAINT TRIGGER tr_currency_debt_cap AFTER UPDATE ON currency_debt
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN (NEW.total_debt > OLD.total_debt)
        EXECUTE FUNCTION ledger_check_debt_cap()
    """,
    """
    CREATE FUNCTION ledger_currency_debt_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.kind IN ('mutual_credit', 'time') THEN
            INSERT INTO currency_debt (currency, cap) VALUES (
                NEW.code, (NEW.rules -> 'credit_limit' ->> 'max_total_debt')::bigint
            );
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER tr_currencies_debt_row AFTER INSERT ON currencies
        FOR EACH ROW EXECUTE FUNCTION ledger_currency_debt_row()
    """,
    """
    CREATE FUNCTION ledger_track_debt() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        change bigint := GREATEST(0, -NEW.posted) - GREATEST(0, -OLD.posted);
    BEGIN
        IF change <> 0 THEN
            UPDATE currency_debt SET total_debt = total_debt + change
                WHERE currency = NEW.currency;
        END IF;
        RETURN NULL;
    END $$
    """,
    # The WHEN clause is evaluated without calling the function: balances that stay
    # non-negative (every euro-backed and voucher account) cost nothing.
    """
    CREATE TRIGGER tr_account_balances_debt AFTER UPDATE OF posted ON account_balances
        FOR EACH ROW
        WHEN (NEW.lower_bound IS NOT NULL AND (OLD.posted < 0 OR NEW.posted < 0))
        EXECUTE FUNCTION ledger_track_debt()
    """,
    """
    INSERT INTO currency_debt (currency, total_debt, cap)
    SELECT c.code,
           COALESCE((SELECT sum(-b.posted) FROM account_balances b
                     WHERE b.currency = c.code AND b.posted < 0
                       AND b.lower_bound IS NOT NULL), 0),
           (c.rules -> 'credit_limit' ->> 'max_total_debt')::bigint
    FROM currencies c WHERE c.kind IN ('mutual_credit', 'time')
    """,
    # --- monthly load cap ------------------------------------------------------------------
    """
    CREATE TABLE account_load_caps (
        account_id uuid PRIMARY KEY CONSTRAINT fk_account_load_caps_account_id_accounts
            REFERENCES accounts (id),
        cap bigint NOT NULL CONSTRAINT ck_account_load_caps_cap CHECK (cap > 0)
    )
    """,
    """
    CREATE TABLE account_monthly_loads (
        account_id uuid NOT NULL CONSTRAINT fk_account_monthly_loads_account_id
            REFERENCES account_load_caps (account_id),
        month date NOT NULL,
        loaded bigint NOT NULL CONSTRAINT ck_account_monthly_loads_loaded CHECK (loaded >= 0),
        cap bigint NOT NULL,
        CONSTRAINT pk_account_monthly_loads PRIMARY KEY (account_id, month),
        CONSTRAINT ck_account_monthly_loads_cap CHECK (loaded <= cap)
    )
    """,
    """
    CREATE FUNCTION ledger_account_load_cap() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        cap bigint;
    BEGIN
        IF NEW.type = 'member' THEN
            SELECT (rules ->> 'monthly_load_cap')::bigint INTO cap
                FROM currencies WHERE code = NEW.currency;
            IF cap IS NOT NULL THEN
                INSERT INTO account_load_caps (account_id, cap) VALUES (NEW.id, cap);
            END IF;
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER tr_accounts_load_cap AFTER INSERT ON accounts
        FOR EACH ROW EXECUTE FUNCTION ledger_account_load_cap()
    """,
    """
    INSERT INTO account_load_caps (account_id, cap)
    SELECT a.id, (c.rules ->> 'monthly_load_cap')::bigint
    FROM accounts a JOIN currencies c ON c.code = a.currency
    WHERE a.type = 'member' AND c.rules ? 'monthly_load_cap'
      AND c.rules ->> 'monthly_load_cap' IS NOT NULL
    """,
    """
    CREATE FUNCTION ledger_count_load() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        account_cap bigint;
    BEGIN
        SELECT cap INTO account_cap FROM account_load_caps WHERE account_id = NEW.account_id;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        IF EXISTS (SELECT 1 FROM transactions WHERE id = NEW.transaction_id
                   AND kind = 'reversal') THEN
            RETURN NULL;
        END IF;
        INSERT INTO account_monthly_loads AS l (account_id, month, loaded, cap)
        VALUES (NEW.account_id, date_trunc('month', now() AT TIME ZONE 'UTC')::date,
                NEW.amount, account_cap)
        ON CONFLICT (account_id, month) DO UPDATE SET loaded = l.loaded + EXCLUDED.loaded;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER tr_postings_count_load AFTER INSERT ON postings
        FOR EACH ROW WHEN (NEW.amount > 0) EXECUTE FUNCTION ledger_count_load()
    """,
    # --- cards and tokens --------------------------------------------------------------------
    """
    CREATE TABLE cards (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL,
        currency text NOT NULL,
        kind text NOT NULL CONSTRAINT ck_cards_kind CHECK (kind IN ('pan', 'token')),
        fingerprint text NOT NULL CONSTRAINT uq_cards_fingerprint UNIQUE,
        last4 text NOT NULL CONSTRAINT ck_cards_last4 CHECK (last4 ~ '^[0-9A-Za-z_-]{4}$'),
        label text NOT NULL DEFAULT '',
        status text NOT NULL DEFAULT 'active' CONSTRAINT ck_cards_status
            CHECK (status IN ('active', 'blocked')),
        block_reason text,
        blocked_at timestamptz,
        blocked_by text,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT fk_cards_account FOREIGN KEY (account_id, currency)
            REFERENCES accounts (id, currency),
        CONSTRAINT ck_cards_blocked CHECK (
            (status = 'blocked') = (blocked_at IS NOT NULL AND block_reason IS NOT NULL)
        )
    )
    """,
    "CREATE INDEX ix_cards_account_id ON cards (account_id, id)",
    """
    CREATE FUNCTION ledger_cards_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'cards are never deleted; block them' USING ERRCODE = 'raise_exception';
        END IF;
        IF OLD.status = 'blocked' THEN
            RAISE EXCEPTION 'card % is blocked for good', OLD.id USING ERRCODE = 'raise_exception';
        END IF;
        IF NEW.account_id <> OLD.account_id OR NEW.fingerprint <> OLD.fingerprint
           OR NEW.last4 <> OLD.last4 OR NEW.kind <> OLD.kind THEN
            RAISE EXCEPTION 'a card''s account and number are immutable'
                USING ERRCODE = 'raise_exception';
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER tr_cards_guard BEFORE UPDATE OR DELETE ON cards
        FOR EACH ROW EXECUTE FUNCTION ledger_cards_guard()
    """,
    # --- voucher merchants reimbursed in euros ------------------------------------------------
    """
    CREATE TABLE programme_reimbursement (
        currency text PRIMARY KEY CONSTRAINT fk_programme_reimbursement_currency
            REFERENCES voucher_programmes (currency) ON DELETE CASCADE,
        issuer_account uuid NOT NULL,
        CONSTRAINT fk_programme_reimbursement_issuer FOREIGN KEY (issuer_account, currency)
            REFERENCES accounts (id, currency)
    )
    """,
    """
    CREATE TABLE programme_funder_euro_accounts (
        currency text NOT NULL CONSTRAINT fk_programme_funder_euro_accounts_currency
            REFERENCES programme_reimbursement (currency) ON DELETE CASCADE,
        funder uuid NOT NULL,
        euro_account uuid NOT NULL CONSTRAINT fk_programme_funder_euro_accounts_euro
            REFERENCES accounts (id),
        PRIMARY KEY (currency, funder),
        CONSTRAINT fk_programme_funder_euro_accounts_funder FOREIGN KEY (funder, currency)
            REFERENCES accounts (id, currency)
    )
    """,
    """
    CREATE TABLE voucher_reimbursements (
        transaction_id uuid NOT NULL CONSTRAINT fk_voucher_reimbursements_transaction
            REFERENCES transactions (id),
        currency text NOT NULL,
        merchant uuid NOT NULL CONSTRAINT fk_voucher_reimbursements_merchant
            REFERENCES accounts (id),
        funder uuid NOT NULL CONSTRAINT fk_voucher_reimbursements_funder REFERENCES accounts (id),
        euro_account uuid NOT NULL CONSTRAINT fk_voucher_reimbursements_euro
            REFERENCES accounts (id),
        units bigint NOT NULL CONSTRAINT ck_voucher_reimbursements_units CHECK (units > 0),
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (transaction_id, funder)
    )
    """,
    "CREATE INDEX ix_voucher_reimbursements_merchant ON voucher_reimbursements (merchant, funder)",
    "CREATE INDEX ix_voucher_reimbursements_funder ON voucher_reimbursements (currency, funder)",
    # History, like lot draws: never changed or removed.
    """
    CREATE TRIGGER tr_voucher_reimbursements_append_only
        BEFORE UPDATE OR DELETE ON voucher_reimbursements
        FOR EACH ROW EXECUTE FUNCTION lot_draws_immutable()
    """,
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS voucher_reimbursements")
    op.execute("DROP TABLE IF EXISTS programme_funder_euro_accounts")
    op.execute("DROP TABLE IF EXISTS programme_reimbursement")
    op.execute("DROP TABLE IF EXISTS cards")
    op.execute("DROP FUNCTION IF EXISTS ledger_cards_guard()")
    op.execute("DROP TRIGGER IF EXISTS tr_postings_count_load ON postings")
    op.execute("DROP FUNCTION IF EXISTS ledger_count_load()")
    op.execute("DROP TRIGGER IF EXISTS tr_accounts_load_cap ON accounts")
    op.execute("DROP FUNCTION IF EXISTS ledger_account_load_cap()")
    op.execute("DROP TABLE IF EXISTS account_monthly_loads")
    op.execute("DROP TABLE IF EXISTS account_load_caps")
    op.execute("DROP TRIGGER IF EXISTS tr_account_balances_debt ON account_balances")
    op.execute("DROP FUNCTION IF EXISTS ledger_track_debt()")
    op.execute("DROP TRIGGER IF EXISTS tr_currencies_debt_row ON currencies")
    op.execute("DROP FUNCTION IF EXISTS ledger_currency_debt_row()")
    op.execute("DROP TABLE IF EXISTS currency_debt")
    op.execute("DROP FUNCTION IF EXISTS ledger_check_debt_cap()")
