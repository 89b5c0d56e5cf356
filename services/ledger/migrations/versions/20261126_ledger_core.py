"""Ledger core: currencies, accounts, balances, transactions, postings, holds, idempotency.

The invariants that make money safe live here, in the database, so no code path (a bug, a
manual psql session, a future service) can break them:

- postings of each currency sum to zero per transaction, and a transaction has at least two
  postings: DEFERRABLE INITIALLY DEFERRED constraint triggers, checked at commit;
- transactions and postings are append-only: triggers refuse UPDATE, DELETE and TRUNCATE;
- a posting's currency is its account's currency (composite foreign key), amounts non-zero;
- ``account_balances.posted`` is maintained by a trigger on postings, and ``held`` by a
  trigger on holds, so they always equal the sum of postings and of authorized holds;
- balance bounds are CHECK constraints on the balance row.

Revision ID: ledger_0002
Revises: ledger_0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ledger_0002"
down_revision: str | None = "ledger_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = r"""
CREATE TABLE currencies (
    code text PRIMARY KEY CONSTRAINT ck_currencies_code CHECK (code ~ '^[A-Z][A-Z0-9_]{1,15}$'),
    kind text NOT NULL CONSTRAINT ck_currencies_kind
        CHECK (kind IN ('euro_backed', 'mutual_credit', 'time', 'voucher', 'eur')),
    scale smallint NOT NULL CONSTRAINT ck_currencies_scale CHECK (scale BETWEEN 0 AND 6),
    operator text NOT NULL,
    rules jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
    id uuid PRIMARY KEY,
    currency text NOT NULL CONSTRAINT fk_accounts_currency_currencies
        REFERENCES currencies (code),
    type text NOT NULL CONSTRAINT ck_accounts_type
        CHECK (type IN ('member', 'merchant', 'issuer', 'reserve', 'fund', 'programme')),
    status text NOT NULL DEFAULT 'active' CONSTRAINT ck_accounts_status
        CHECK (status IN ('active', 'frozen', 'closed')),
    name text NOT NULL DEFAULT '',
    credit_limit bigint NOT NULL DEFAULT 0 CONSTRAINT ck_accounts_credit_limit
        CHECK (credit_limit >= 0),
    territory text CONSTRAINT ck_accounts_territory
        CHECK (territory ~ '^(\d{5}|2[AB]\d{3})$'),
    merchant_category text,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_accounts_id_currency UNIQUE (id, currency)
);
CREATE INDEX ix_accounts_currency_id ON accounts (currency, id);

CREATE TABLE account_limit_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id uuid NOT NULL CONSTRAINT fk_account_limit_changes_account_id_accounts
        REFERENCES accounts (id),
    old_limit bigint NOT NULL,
    new_limit bigint NOT NULL,
    reason text NOT NULL DEFAULT '',
    changed_by text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_account_limit_changes_account_id ON account_limit_changes (account_id, id);

CREATE TABLE account_balances (
    account_id uuid PRIMARY KEY,
    currency text NOT NULL,
    posted bigint NOT NULL DEFAULT 0,
    held bigint NOT NULL DEFAULT 0 CONSTRAINT ck_account_balances_held CHECK (held >= 0),
    lower_bound bigint,
    upper_bound bigint,
    CONSTRAINT fk_account_balances_account_id_accounts FOREIGN KEY (account_id, currency)
        REFERENCES accounts (id, currency),
    CONSTRAINT ck_account_balances_lower_bound
        CHECK (lower_bound IS NULL OR posted - held >= lower_bound),
    CONSTRAINT ck_account_balances_upper_bound
        CHECK (upper_bound IS NULL OR posted <= upper_bound)
);

CREATE TABLE transactions (
    id uuid PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT uq_transactions_seq UNIQUE,
    kind text NOT NULL,
    effective_date date NOT NULL,
    inserted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    description text NOT NULL DEFAULT '',
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    client_id text NOT NULL,
    idempotency_key text,
    reverses uuid CONSTRAINT fk_transactions_reverses_transactions REFERENCES transactions (id),
    -- a transaction is reversed at most once
    CONSTRAINT uq_transactions_reverses UNIQUE (reverses),
    CONSTRAINT ck_transactions_not_self_reversal CHECK (reverses IS DISTINCT FROM id)
);

CREATE TABLE postings (
    seq bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT uq_postings_seq UNIQUE,
    transaction_id uuid NOT NULL CONSTRAINT fk_postings_transaction_id_transactions
        REFERENCES transactions (id),
    account_id uuid NOT NULL,
    currency text NOT NULL,
    amount bigint NOT NULL CONSTRAINT ck_postings_amount_not_zero CHECK (amount <> 0),
    CONSTRAINT pk_postings PRIMARY KEY (transaction_id, account_id),
    CONSTRAINT fk_postings_account_id_accounts FOREIGN KEY (account_id, currency)
        REFERENCES accounts (id, currency)
);
CREATE INDEX ix_postings_account_id_seq ON postings (account_id, seq);

CREATE TABLE holds (
    id uuid PRIMARY KEY,
    payer uuid NOT NULL,
    payee uuid NOT NULL,
    currency text NOT NULL,
    amount bigint NOT NULL CONSTRAINT ck_holds_amount CHECK (amount > 0),
    captured bigint NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'authorized' CONSTRAINT ck_holds_status
        CHECK (status IN ('authorized', 'captured', 'voided', 'expired')),
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    transaction_id uuid CONSTRAINT fk_holds_transaction_id_transactions
        REFERENCES transactions (id),
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    CONSTRAINT fk_holds_payer_accounts FOREIGN KEY (payer, currency)
        REFERENCES accounts (id, currency),
    CONSTRAINT fk_holds_payee_accounts FOREIGN KEY (payee, currency)
        REFERENCES accounts (id, currency),
    CONSTRAINT ck_holds_distinct_parties CHECK (payer <> payee),
    CONSTRAINT ck_holds_captured CHECK (captured >= 0 AND captured <= amount),
    CONSTRAINT ck_holds_captured_status CHECK ((status = 'captured') = (captured > 0))
);
CREATE INDEX ix_holds_due ON holds (expires_at) WHERE status = 'authorized';
CREATE INDEX ix_holds_currency_id ON holds (currency, id);

CREATE TABLE idempotency_keys (
    client_id text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    response jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_idempotency_keys PRIMARY KEY (client_id, key)
);

-- Immutability: posted rows are never changed or removed, corrections are new rows.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'raise_exception', HINT = 'post a reversal instead';
END $$;
CREATE TRIGGER tr_transactions_immutable BEFORE UPDATE OR DELETE ON transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER tr_transactions_no_truncate BEFORE TRUNCATE ON transactions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER tr_postings_immutable BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER tr_postings_no_truncate BEFORE TRUNCATE ON postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

-- Double entry, checked at commit once every posting of the transaction is in.
CREATE FUNCTION ledger_check_transaction_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tx uuid;
    n integer;
    off record;
BEGIN
    IF TG_TABLE_NAME = 'transactions' THEN
        tx := NEW.id;
    ELSE
        tx := NEW.transaction_id;
    END IF;
    SELECT count(*) INTO n FROM postings WHERE transaction_id = tx;
    IF n < 2 THEN
        RAISE EXCEPTION 'transaction % has % posting(s), needs at least 2', tx, n
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_transaction_balanced';
    END IF;
    SELECT currency, sum(amount) AS total INTO off FROM postings
        WHERE transaction_id = tx GROUP BY currency HAVING sum(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'transaction % does not balance: % sums to %', tx, off.currency, off.total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_transaction_balanced';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER tr_postings_balanced AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION ledger_check_transaction_balanced();
CREATE CONSTRAINT TRIGGER tr_transactions_have_postings AFTER INSERT ON transactions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION ledger_check_transaction_balanced();

-- posted = sum of postings, on the row whose CHECK constraints hold the bounds.
CREATE FUNCTION ledger_apply_posting() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE account_balances SET posted = posted + NEW.amount WHERE account_id = NEW.account_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account % has no balance row', NEW.account_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tr_postings_apply AFTER INSERT ON postings
    FOR EACH ROW EXECUTE FUNCTION ledger_apply_posting();

-- held = sum of authorized holds.
CREATE FUNCTION ledger_apply_hold() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    before_held bigint := 0;
    after_held bigint := 0;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'authorized' THEN
        before_held := OLD.amount;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'authorized' THEN
        after_held := NEW.amount;
    END IF;
    IF TG_OP = 'UPDATE' AND (OLD.payer <> NEW.payer OR OLD.amount <> NEW.amount
                             OR OLD.currency <> NEW.currency) THEN
        RAISE EXCEPTION 'a hold''s payer, currency and amount are immutable'
            USING ERRCODE = 'raise_exception';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status <> 'authorized' AND NEW.status <> OLD.status THEN
        RAISE EXCEPTION 'hold % is already %', OLD.id, OLD.status
            USING ERRCODE = 'raise_exception';
    END IF;
    IF after_held <> before_held THEN
        UPDATE account_balances SET held = held + after_held - before_held
            WHERE account_id = COALESCE(NEW.payer, OLD.payer);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tr_holds_apply AFTER INSERT OR UPDATE OR DELETE ON holds
    FOR EACH ROW EXECUTE FUNCTION ledger_apply_hold();
"""

DOWNGRADE = """
DROP TABLE IF EXISTS idempotency_keys, holds, postings, transactions, account_balances,
    account_limit_changes, accounts, currencies CASCADE;
DROP FUNCTION IF EXISTS ledger_refuse_change, ledger_check_transaction_balanced,
    ledger_apply_posting, ledger_apply_hold;
"""


def statements(script: str) -> list[str]:
    """Split on semicolons outside ``$$`` bodies: asyncpg runs one statement at a time."""
    parts: list[str] = []
    current: list[str] = []
    in_body = False
    for chunk in script.split("$$"):
        if in_body:
            current.append("$$" + chunk + "$$")
        else:
            *done, rest = chunk.split(";")
            if done:
                parts.append("".join(current) + done[0])
                parts.extend(done[1:])
                current = []
            current.append(rest)
        in_body = not in_body
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def upgrade() -> None:
    for statement in statements(UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    for statement in statements(DOWNGRADE):
        op.execute(statement)
