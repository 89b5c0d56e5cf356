"""The ledger's schema as it stands: one definition of every table, function and trigger.

Nothing was deployed before this baseline, so the history that built it (thirteen
revisions, the posting trigger written three times) was folded into this one revision. It
keeps the id of the last of them, ``ledger_0013``, so later revisions chain on it; a
database built by the old chain is already at this revision, with the same schema.

The invariants that make money safe live here, in the database, so that no code path (a
bug, a manual psql session, a future service) can break them; the API maps the constraint
names to problem codes. By table:

- ``transactions``, ``postings``, ``audit_chain``, ``period_closings``, ``lot_draws``,
  ``voucher_reimbursements`` are append-only (UPDATE, DELETE and TRUNCATE refused).
- Double entry: each currency's postings sum to zero per transaction, which has at least
  two postings, checked at commit by deferred constraint triggers.
- ``account_balances`` carries ``posted`` (the sum of postings) and ``held`` (the sum of
  authorized holds), maintained by triggers, with the bounds as CHECK constraints.
- Each posting carries ``balance_after``, ``account_seq`` and ``posted_at`` set by the
  database, so the balance at an instant is one index descent.
- Mutual-credit debt cap and monthly load caps: counter rows updated by triggers in the
  posting's own transaction (their row locks serialise writers).
- Every debit leg has its ``posting_authorities`` row (checked at commit).
- No transaction is dated on or before a closed period of a currency it touches.

Revision ID: ledger_0013
Revises:
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

from shared.events.tables import create_event_tables, drop_event_tables

revision: str = "ledger_0013"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCK_CLASS = 924695646
"""zlib.crc32(b"ledger-period-closings"); `services.ledger.closings.repository` uses it too."""

TABLES = (
    # --- currencies and accounts ------------------------------------------------------------
    r"""
    CREATE TABLE currencies (
        code text PRIMARY KEY CONSTRAINT ck_currencies_code CHECK (code ~ '^[A-Z][A-Z0-9_]{1,15}$'),
        kind text NOT NULL CONSTRAINT ck_currencies_kind
            CHECK (kind IN ('euro_backed', 'mutual_credit', 'time', 'voucher', 'eur')),
        scale smallint NOT NULL CONSTRAINT ck_currencies_scale CHECK (scale BETWEEN 0 AND 6),
        operator text NOT NULL,
        rules jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    # ``holder``: the principal who holds the account; mandates let others debit or read it.
    r"""
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
        holder text NOT NULL CONSTRAINT ck_accounts_holder CHECK (holder <> ''),
        CONSTRAINT uq_accounts_id_currency UNIQUE (id, currency)
    )
    """,
    "CREATE INDEX ix_accounts_currency_id ON accounts (currency, id)",
    "CREATE INDEX ix_accounts_holder ON accounts (holder, currency)",
    """
    CREATE TABLE account_limit_changes (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id uuid NOT NULL CONSTRAINT fk_account_limit_changes_account_id_accounts
            REFERENCES accounts (id),
        old_limit bigint NOT NULL,
        new_limit bigint NOT NULL,
        reason text NOT NULL DEFAULT '',
        changed_by text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX ix_account_limit_changes_account_id ON account_limit_changes (account_id, id)",
    # ``postings`` and ``last_posted_at``: the count and latest instant of the account's
    # postings, moved once per statement by ``tr_postings_apply_totals``.
    """
    CREATE TABLE account_balances (
        account_id uuid PRIMARY KEY,
        currency text NOT NULL,
        posted bigint NOT NULL DEFAULT 0,
        held bigint NOT NULL DEFAULT 0 CONSTRAINT ck_account_balances_held CHECK (held >= 0),
        lower_bound bigint,
        upper_bound bigint,
        postings bigint NOT NULL DEFAULT 0,
        last_posted_at timestamptz,
        CONSTRAINT fk_account_balances_account_id_accounts FOREIGN KEY (account_id, currency)
            REFERENCES accounts (id, currency),
        CONSTRAINT ck_account_balances_lower_bound
            CHECK (lower_bound IS NULL OR posted - held >= lower_bound),
        CONSTRAINT ck_account_balances_upper_bound
            CHECK (upper_bound IS NULL OR posted <= upper_bound)
    )
    """,
    """
    CREATE TABLE account_mandates (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL CONSTRAINT fk_account_mandates_account
            REFERENCES accounts (id),
        grantee text NOT NULL CONSTRAINT ck_account_mandates_grantee CHECK (grantee <> ''),
        may_debit boolean NOT NULL,
        may_read boolean NOT NULL,
        max_per_payment bigint CONSTRAINT ck_account_mandates_max_per_payment
            CHECK (max_per_payment > 0),
        max_per_period bigint CONSTRAINT ck_account_mandates_max_per_period
            CHECK (max_per_period > 0),
        period text NOT NULL CONSTRAINT ck_account_mandates_period
            CHECK (period IN ('day', 'week', 'month', 'year')),
        expires_at timestamptz NOT NULL,
        purpose text NOT NULL DEFAULT '',
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        revoked_at timestamptz,
        revoked_by text,
        CONSTRAINT ck_account_mandates_revocation
            CHECK ((revoked_at IS NULL) = (revoked_by IS NULL)),
        CONSTRAINT ck_account_mandates_debit_limits
            CHECK (NOT may_debit OR (max_per_payment IS NOT NULL AND max_per_period IS NOT NULL))
    )
    """,
    """
    CREATE INDEX ix_account_mandates_grantee ON account_mandates (grantee, account_id)
        WHERE revoked_at IS NULL
    """,
    "CREATE INDEX ix_account_mandates_account ON account_mandates (account_id, created_at, id)",
    # --- transactions, postings, holds ----------------------------------------------------
    """
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
        reverses uuid CONSTRAINT fk_transactions_reverses_transactions
            REFERENCES transactions (id),
        -- a transaction is reversed at most once
        CONSTRAINT uq_transactions_reverses UNIQUE (reverses),
        CONSTRAINT ck_transactions_not_self_reversal CHECK (reverses IS DISTINCT FROM id)
    )
    """,
    # ``balance_after``, ``account_seq``, ``posted_at`` and ``transaction_xmin`` are set by
    # ``tr_postings_apply``, never by the caller (a value given is overwritten).
    """
    CREATE TABLE postings (
        seq bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT uq_postings_seq UNIQUE,
        transaction_id uuid NOT NULL CONSTRAINT fk_postings_transaction_id_transactions
            REFERENCES transactions (id),
        account_id uuid NOT NULL,
        currency text NOT NULL,
        amount bigint NOT NULL CONSTRAINT ck_postings_amount_not_zero CHECK (amount <> 0),
        balance_after bigint NOT NULL,
        account_seq bigint NOT NULL,
        posted_at timestamptz NOT NULL,
        transaction_xmin xid,
        CONSTRAINT pk_postings PRIMARY KEY (transaction_id, account_id),
        CONSTRAINT fk_postings_account_id_accounts FOREIGN KEY (account_id, currency)
            REFERENCES accounts (id, currency)
    )
    """,
    "CREATE INDEX ix_postings_account_id_seq ON postings (account_id, seq)",
    # The balance at an instant: postings with ``posted_at <= t`` are a prefix of the
    # account's history (``posted_at`` never decreases along ``account_seq``), so it is the
    # ``balance_after`` of the last one, one descent of this index. Not UNIQUE on
    # (account_id, account_seq): the balance row lock already makes it so.
    """
    CREATE INDEX ix_postings_account_posted_at ON postings (account_id, posted_at, account_seq)
        INCLUDE (balance_after)
    """,
    # Holds carry the authority they were placed under: the capture debits under it.
    """
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
        authorized_by text NOT NULL DEFAULT 'ledger',
        basis text NOT NULL DEFAULT 'operator'
            CONSTRAINT ck_holds_basis CHECK (basis IN ('holder', 'mandate', 'operator', 'card')),
        mandate_id uuid CONSTRAINT fk_holds_mandate REFERENCES account_mandates (id),
        CONSTRAINT fk_holds_payer_accounts FOREIGN KEY (payer, currency)
            REFERENCES accounts (id, currency),
        CONSTRAINT fk_holds_payee_accounts FOREIGN KEY (payee, currency)
            REFERENCES accounts (id, currency),
        CONSTRAINT ck_holds_distinct_parties CHECK (payer <> payee),
        CONSTRAINT ck_holds_captured CHECK (captured >= 0 AND captured <= amount),
        CONSTRAINT ck_holds_captured_status CHECK ((status = 'captured') = (captured > 0))
    )
    """,
    "CREATE INDEX ix_holds_due ON holds (expires_at) WHERE status = 'authorized'",
    "CREATE INDEX ix_holds_currency_id ON holds (currency, id)",
    """
    CREATE TABLE idempotency_keys (
        client_id text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        response jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_idempotency_keys PRIMARY KEY (client_id, key)
    )
    """,
    # Every debit leg carries the authority it was posted under (checked at commit by
    # ``tg_postings_debit_authority``), so a code path that forgets the check in
    # `services.ledger.authority` cannot move money anyway.
    """
    CREATE TABLE posting_authorities (
        transaction_id uuid NOT NULL CONSTRAINT fk_posting_authorities_transaction
            REFERENCES transactions (id) DEFERRABLE INITIALLY DEFERRED,
        account_id uuid NOT NULL,
        basis text NOT NULL CONSTRAINT ck_posting_authorities_basis
            CHECK (basis IN ('holder', 'mandate', 'operator', 'card')),
        principal text NOT NULL CONSTRAINT ck_posting_authorities_principal
            CHECK (principal <> ''),
        mandate_id uuid CONSTRAINT fk_posting_authorities_mandate
            REFERENCES account_mandates (id),
        amount bigint NOT NULL CONSTRAINT ck_posting_authorities_amount CHECK (amount > 0),
        recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (transaction_id, account_id),
        CONSTRAINT ck_posting_authorities_mandate
            CHECK ((basis = 'mandate') = (mandate_id IS NOT NULL))
    )
    """,
    """
    CREATE INDEX ix_posting_authorities_mandate ON posting_authorities (mandate_id, recorded_at)
        WHERE mandate_id IS NOT NULL
    """,
    # Grant beneficiaries link the account they hold to their application.
    """
    CREATE TABLE grant_links (
        programme_code text NOT NULL,
        application_id text NOT NULL,
        account_id uuid NOT NULL CONSTRAINT fk_grant_links_account REFERENCES accounts (id),
        linked_by text NOT NULL,
        linked_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (programme_code, application_id)
    )
    """,
    # --- reserves, demurrage ------------------------------------------------------------------
    # Which accounts of a euro-backed currency issue units, mirror the euro guarantee fund,
    # stand for the bank outside, and receive fees or pay bonuses.
    """
    CREATE TABLE currency_reserves (
        currency text PRIMARY KEY CONSTRAINT fk_currency_reserves_currency_currencies
            REFERENCES currencies (code),
        issuer_account uuid NOT NULL,
        reserve_account uuid NOT NULL CONSTRAINT uq_currency_reserves_reserve_account UNIQUE,
        external_account uuid NOT NULL,
        fund_account uuid,
        CONSTRAINT fk_currency_reserves_issuer FOREIGN KEY (issuer_account, currency)
            REFERENCES accounts (id, currency),
        CONSTRAINT fk_currency_reserves_reserve FOREIGN KEY (reserve_account)
            REFERENCES accounts (id),
        CONSTRAINT fk_currency_reserves_external FOREIGN KEY (external_account)
            REFERENCES accounts (id),
        CONSTRAINT fk_currency_reserves_fund FOREIGN KEY (fund_account, currency)
            REFERENCES accounts (id, currency),
        CONSTRAINT uq_currency_reserves_issuer_account UNIQUE (issuer_account)
    )
    """,
    # One row per (currency, period), with progress: a run is idempotent per period and
    # resumes after a crash (each account's charge is keyed in idempotency_keys).
    """
    CREATE TABLE demurrage_runs (
        run_key text PRIMARY KEY,
        currency text NOT NULL CONSTRAINT fk_demurrage_runs_currency_currencies
            REFERENCES currencies (code),
        period_start date NOT NULL,
        period_end date NOT NULL,
        fund_account uuid NOT NULL CONSTRAINT fk_demurrage_runs_fund_account_accounts
            REFERENCES accounts (id),
        status text NOT NULL DEFAULT 'running' CONSTRAINT ck_demurrage_runs_status
            CHECK (status IN ('running', 'completed')),
        accounts_total integer NOT NULL DEFAULT 0,
        accounts_done integer NOT NULL DEFAULT 0,
        charged_total bigint NOT NULL DEFAULT 0,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        CONSTRAINT uq_demurrage_runs_currency UNIQUE (currency, period_start)
    )
    """,
    # --- voucher programmes -------------------------------------------------------------------
    # Rules per voucher currency, the approved merchants and funders, credit lots with an
    # expiry, which lot paid for what, and merchants reimbursed in euros from each funder's
    # euro account for what that funder's lots paid them.
    """
    CREATE TABLE voucher_programmes (
        currency text PRIMARY KEY CONSTRAINT fk_voucher_programmes_currency_currencies
            REFERENCES currencies (code),
        allowed_categories text[] NOT NULL CONSTRAINT ck_voucher_programmes_categories
            CHECK (cardinality(allowed_categories) > 0),
        category_caps jsonb NOT NULL DEFAULT '{}'::jsonb,
        cap_period text NOT NULL CONSTRAINT ck_voucher_programmes_cap_period
            CHECK (cap_period IN ('month', 'year', 'programme')),
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )
    """,
    """
    CREATE TABLE programme_merchants (
        currency text NOT NULL CONSTRAINT fk_programme_merchants_currency
            REFERENCES voucher_programmes (currency) ON DELETE CASCADE,
        account_id uuid NOT NULL,
        PRIMARY KEY (currency, account_id),
        CONSTRAINT fk_programme_merchants_account FOREIGN KEY (account_id, currency)
            REFERENCES accounts (id, currency)
    )
    """,
    """
    CREATE TABLE programme_funders (
        currency text NOT NULL CONSTRAINT fk_programme_funders_currency
            REFERENCES voucher_programmes (currency) ON DELETE CASCADE,
        account_id uuid NOT NULL,
        PRIMARY KEY (currency, account_id),
        CONSTRAINT fk_programme_funders_account FOREIGN KEY (account_id, currency)
            REFERENCES accounts (id, currency)
    )
    """,
    """
    CREATE TABLE credit_lots (
        id uuid PRIMARY KEY,
        currency text NOT NULL,
        beneficiary uuid NOT NULL,
        funder uuid NOT NULL,
        amount bigint NOT NULL CONSTRAINT ck_credit_lots_amount CHECK (amount > 0),
        remaining bigint NOT NULL CONSTRAINT ck_credit_lots_remaining
            CHECK (remaining >= 0 AND remaining <= amount),
        expires_at timestamptz NOT NULL,
        categories text[],
        grant_transaction uuid NOT NULL CONSTRAINT fk_credit_lots_grant_transaction
            REFERENCES transactions (id),
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT fk_credit_lots_beneficiary FOREIGN KEY (beneficiary, currency)
            REFERENCES accounts (id, currency),
        CONSTRAINT fk_credit_lots_funder FOREIGN KEY (funder, currency)
            REFERENCES accounts (id, currency),
        CONSTRAINT ck_credit_lots_parties CHECK (beneficiary <> funder)
    )
    """,
    "CREATE INDEX ix_credit_lots_beneficiary ON credit_lots (beneficiary, expires_at)",
    """
    CREATE INDEX ix_credit_lots_expiring ON credit_lots (currency, expires_at)
        WHERE remaining > 0
    """,
    """
    CREATE TABLE lot_draws (
        transaction_id uuid NOT NULL CONSTRAINT fk_lot_draws_transaction
            REFERENCES transactions (id),
        lot_id uuid NOT NULL CONSTRAINT fk_lot_draws_lot REFERENCES credit_lots (id),
        kind text NOT NULL CONSTRAINT ck_lot_draws_kind CHECK (kind IN ('purchase', 'expiry')),
        amount bigint NOT NULL CONSTRAINT ck_lot_draws_amount CHECK (amount > 0),
        category text,
        merchant uuid CONSTRAINT fk_lot_draws_merchant REFERENCES accounts (id),
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (transaction_id, lot_id),
        CONSTRAINT ck_lot_draws_purchase CHECK (
            (kind = 'purchase') = (category IS NOT NULL AND merchant IS NOT NULL)
        )
    )
    """,
    "CREATE INDEX ix_lot_draws_lot ON lot_draws (lot_id)",
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
    # --- audit chain --------------------------------------------------------------------------
    # A per-currency SHA-256 hash chain appended after commit by the sealer, in short
    # transactions of its own, rather than a chain head locked by every transfer
    # (docs/decisions/ledger-audit-sealer.md). Positions are contiguous from 1 per
    # currency. ``audit_sealer_state`` is the sealer's low watermark: a cursor, mutable.
    """
    CREATE TABLE audit_chain (
        currency text NOT NULL CONSTRAINT fk_audit_chain_currency_currencies
            REFERENCES currencies (code),
        position bigint NOT NULL CONSTRAINT ck_audit_chain_position CHECK (position >= 1),
        transaction_id uuid NOT NULL CONSTRAINT fk_audit_chain_transaction_id_transactions
            REFERENCES transactions (id),
        prev_hash text NOT NULL CONSTRAINT ck_audit_chain_prev_hash
            CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
        hash text NOT NULL CONSTRAINT ck_audit_chain_hash CHECK (hash ~ '^[0-9a-f]{64}$'),
        sealed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT pk_audit_chain PRIMARY KEY (currency, position),
        -- (transaction_id, currency) rather than the reverse: the sealer asks "is this
        -- transaction sealed?" without knowing its currencies.
        CONSTRAINT uq_audit_chain_transaction_id_currency UNIQUE (transaction_id, currency)
    )
    """,
    """
    CREATE TABLE audit_sealer_state (
        id smallint PRIMARY KEY CONSTRAINT ck_audit_sealer_state_single CHECK (id = 1),
        watermark_seq bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "INSERT INTO audit_sealer_state (id) VALUES (1)",
    # --- caps -----------------------------------------------------------------------------
    # ``currency_debt``: one row per currency that allows credit (``mutual_credit``,
    # ``time``), created with the currency; ``total_debt`` is the sum of the negative parts
    # of the posted balances of its bounded accounts (issuer accounts, the only ones without
    # a lower bound, mirror issuance and are not debt); ``cap`` comes from the currency's
    # ``credit_limit.max_total_debt`` (rules are immutable once created).
    """
    CREATE TABLE currency_debt (
        currency text PRIMARY KEY CONSTRAINT fk_currency_debt_currency_currencies
            REFERENCES currencies (code),
        total_debt bigint NOT NULL DEFAULT 0 CONSTRAINT ck_currency_debt_total
            CHECK (total_debt >= 0),
        cap bigint
    )
    """,
    # The monthly load cap of each member account of a currency that sets
    # ``monthly_load_cap``, and per account and calendar month (UTC) the credits received.
    # Loads only ever grow, so a CHECK cannot wrongly refuse an intermediate state.
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
    # --- cards ------------------------------------------------------------------------------
    # A card or token maps to one account. Only a keyed fingerprint (HMAC-SHA256 with a
    # secret kept outside the database) and the last four characters are stored, never the
    # number (docs/decisions/ledger-card-fingerprints.md).
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
    # --- operator acts ----------------------------------------------------------------------
    # Four eyes: issuances and reconversions above a currency's threshold wait for a second
    # operator; the database refuses a decision by the principal who asked.
    """
    CREATE TABLE operator_approvals (
        id uuid PRIMARY KEY,
        currency text NOT NULL CONSTRAINT fk_operator_approvals_currency
            REFERENCES currencies (code),
        act text NOT NULL CONSTRAINT ck_operator_approvals_act
            CHECK (act IN ('issuance', 'reconversion')),
        account_id uuid NOT NULL CONSTRAINT fk_operator_approvals_account
            REFERENCES accounts (id),
        amount bigint NOT NULL CONSTRAINT ck_operator_approvals_amount CHECK (amount > 0),
        requested_by text NOT NULL,
        requested_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        status text NOT NULL DEFAULT 'pending' CONSTRAINT ck_operator_approvals_status
            CHECK (status IN ('pending', 'approved', 'rejected')),
        decided_by text,
        decided_at timestamptz,
        transaction_id uuid CONSTRAINT fk_operator_approvals_transaction
            REFERENCES transactions (id) DEFERRABLE INITIALLY DEFERRED,
        CONSTRAINT ck_operator_approvals_four_eyes
            CHECK (decided_by IS NULL OR decided_by <> requested_by),
        CONSTRAINT ck_operator_approvals_decided
            CHECK ((status = 'pending') = (decided_by IS NULL AND decided_at IS NULL)),
        CONSTRAINT ck_operator_approvals_posted
            CHECK ((status = 'approved') = (transaction_id IS NOT NULL))
    )
    """,
    "CREATE INDEX ix_operator_approvals_currency ON operator_approvals (currency, id)",
    # A payee asks, the payer's principal accepts (the transfer is posted then, under the
    # payer's own authority), declines, or the payee cancels; one decision each.
    """
    CREATE TABLE payment_requests (
        id uuid PRIMARY KEY,
        currency text NOT NULL CONSTRAINT fk_payment_requests_currency
            REFERENCES currencies (code),
        payee_account uuid NOT NULL CONSTRAINT fk_payment_requests_payee
            REFERENCES accounts (id),
        payer_account uuid NOT NULL CONSTRAINT fk_payment_requests_payer
            REFERENCES accounts (id),
        amount bigint NOT NULL CONSTRAINT ck_payment_requests_amount CHECK (amount > 0),
        description text NOT NULL DEFAULT '',
        requested_by text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CONSTRAINT ck_payment_requests_status
            CHECK (status IN ('pending', 'accepted', 'declined', 'cancelled', 'expired')),
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        decided_by text,
        decided_at timestamptz,
        transaction_id uuid CONSTRAINT fk_payment_requests_transaction
            REFERENCES transactions (id) DEFERRABLE INITIALLY DEFERRED,
        CONSTRAINT ck_payment_requests_parties CHECK (payer_account <> payee_account),
        CONSTRAINT ck_payment_requests_decided CHECK (
            (status IN ('pending', 'expired')) = (decided_by IS NULL AND decided_at IS NULL)
        ),
        CONSTRAINT ck_payment_requests_posted
            CHECK ((status = 'accepted') = (transaction_id IS NOT NULL))
    )
    """,
    "CREATE INDEX ix_payment_requests_payer ON payment_requests (payer_account, id)",
    "CREATE INDEX ix_payment_requests_payee ON payment_requests (payee_account, id)",
    # A currency's operator closes its books through a past date: one row per closing, each
    # after the previous one of its currency and strictly before today (UTC).
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
)

APPEND_ONLY = (
    # Posted rows are never changed or removed: corrections are new rows.
    """
    CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'ledger rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'raise_exception', HINT = 'post a reversal instead';
    END $$
    """,
    *(
        statement
        for table in ("transactions", "postings", "audit_chain", "period_closings")
        for statement in (
            f"""
            CREATE TRIGGER tr_{table}_immutable BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
            """,
            f"""
            CREATE TRIGGER tr_{table}_no_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()
            """,
        )
    ),
    # Voucher history (lot draws, reimbursements): never changed or removed either.
    """
    CREATE FUNCTION lot_draws_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'lot_draws are append-only' USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER lot_draws_append_only BEFORE UPDATE OR DELETE ON lot_draws
        FOR EACH ROW EXECUTE FUNCTION lot_draws_immutable()
    """,
    """
    CREATE TRIGGER tr_voucher_reimbursements_append_only
        BEFORE UPDATE OR DELETE ON voucher_reimbursements
        FOR EACH ROW EXECUTE FUNCTION lot_draws_immutable()
    """,
)

# Double entry, checked at commit once every posting of the transaction is in. The
# per-posting check runs only for a posting added outside the (sub)transaction that created
# its transaction, the one case the per-transaction check cannot see (a posting slipped into
# an already committed transaction): ``tr_postings_apply`` copies the transaction row's
# ``xmin`` into ``transaction_xmin``, and the WHEN clause, evaluated at insert time
# (PostgreSQL does not defer WHEN), queues no deferred event for a posting written with its
# transaction. Xids are never reused while a row can still be inserted against them, and a
# frozen ``xmin`` never equals a running xid, so the shortcut cannot skip a late posting.
DOUBLE_ENTRY = (
    """
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
            RAISE EXCEPTION 'transaction % does not balance: % sums to %',
                tx, off.currency, off.total
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_transaction_balanced';
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE CONSTRAINT TRIGGER tr_transactions_have_postings AFTER INSERT ON transactions
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        EXECUTE FUNCTION ledger_check_transaction_balanced()
    """,
    """
    CREATE CONSTRAINT TRIGGER tr_postings_balanced AFTER INSERT ON postings
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN (NEW.xmin IS DISTINCT FROM NEW.transaction_xmin)
        EXECUTE FUNCTION ledger_check_transaction_balanced()
    """,
)

# Balances: one balance-row update per account and statement, not one per posting (a row
# updated once per posting of a big batch leaves a chain of versions no one can prune while
# the batch runs, each update walking it).
#
# - ``tr_postings_apply`` (BEFORE INSERT, per row) locks the account's balance row (so one
#   account's postings are numbered in exactly the order they are added, under any
#   concurrency) and reads its latest posting, including rows the same statement inserted
#   before this one: ``balance_after`` = its ``balance_after`` + amount, ``account_seq`` +
#   1, ``posted_at`` = the transaction's ``inserted_at`` raised to its ``posted_at`` (zero,
#   1 and the transaction's instant for a first posting).
# - ``tr_postings_apply_totals`` (AFTER INSERT, per statement, over the rows inserted)
#   moves each touched balance row once (``posted``, ``postings``, ``last_posted_at``), then
#   refuses the statement if any posting's ``balance_after`` (with ``held``) crossed a bound,
#   under the name of that bound's CHECK, so a breach inside a statement is refused as a
#   per-posting update's CHECK would; the CHECKs still guard the final row.
#
# So ``posted`` is the sum of the account's postings after every statement and equals the
# ``balance_after`` of its latest posting; ``posted_at`` never decreases along
# ``account_seq``. ``held`` is the sum of authorized holds, kept by ``tr_holds_apply``.
BALANCES = (
    r"""
    CREATE FUNCTION ledger_apply_posting() RETURNS trigger LANGUAGE plpgsql AS $$
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
    """
    CREATE TRIGGER tr_postings_apply BEFORE INSERT ON postings
        FOR EACH ROW EXECUTE FUNCTION ledger_apply_posting()
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
    """
    CREATE TRIGGER tr_postings_apply_totals AFTER INSERT ON postings
        REFERENCING NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_apply_posting_totals()
    """,
    """
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
    END $$
    """,
    """
    CREATE TRIGGER tr_holds_apply AFTER INSERT OR UPDATE OR DELETE ON holds
        FOR EACH ROW EXECUTE FUNCTION ledger_apply_hold()
    """,
)

# Caps, enforced by the database like the balance bounds so every posting path obeys them
# and concurrent writers cannot both slip under a cap; a breach fails the whole transaction.
#
# The debt counter moves only when a negative balance is involved (the WHEN clause costs no
# function call), once per account and statement. The cap is checked by a deferred
# constraint trigger, not a CHECK: within one transfer the counter may pass above the cap
# between two postings (one debt grows before another shrinks); writers fire the check early
# with ``SET CONSTRAINTS ... IMMEDIATE``, and commit fires it in any case. Monthly loads count
# positive postings to capped accounts; reversals are neutral (a reversal credit gives back
# what was taken, it is not a load, and a reversal debit does not give back room).
CAPS = (
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
    """
    CREATE TRIGGER tr_account_balances_debt AFTER UPDATE OF posted ON account_balances
        FOR EACH ROW
        WHEN (NEW.lower_bound IS NOT NULL AND (OLD.posted < 0 OR NEW.posted < 0))
        EXECUTE FUNCTION ledger_track_debt()
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
)

# A blocked card stays blocked; a card is never deleted; its account and number never change.
CARDS = (
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
)

# Defence in depth: a debit posting without its authority row of the same amount is refused
# at commit.
AUTHORITY = (
    """
    CREATE FUNCTION ledger_debit_needs_authority() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF NOT EXISTS (
            SELECT 1 FROM posting_authorities
            WHERE transaction_id = NEW.transaction_id AND account_id = NEW.account_id
              AND amount = -NEW.amount
        ) THEN
            RAISE EXCEPTION 'debit of % on account % in transaction % has no authority row',
                -NEW.amount, NEW.account_id, NEW.transaction_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_postings_debit_authority';
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE CONSTRAINT TRIGGER tg_postings_debit_authority AFTER INSERT ON postings
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.amount < 0)
        EXECUTE FUNCTION ledger_debit_needs_authority()
    """,
)

# Closed periods: ``tr_postings_period_open`` (per statement, over the rows inserted, so a
# 1,000-transfer batch pays for one query) refuses a transaction dated on or before the
# latest closing of one of its postings' currencies. The advisory lock (class
# ``LOCK_CLASS``, key ``hashtext(currency)``) stops a transaction checked before a closing
# commits from committing after it, into the closed period: postings take the key shared
# (they never wait for each other), a closing exclusively, so a closing waits for the
# postings in flight and a posting that waited for a closing sees it (each query of a
# PL/pgSQL function takes a fresh snapshot under READ COMMITTED, the ledger's level).
CLOSINGS = (
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

DROPPED_TABLES = (
    "period_closings, payment_requests, operator_approvals, cards, account_monthly_loads, "
    "account_load_caps, currency_debt, audit_sealer_state, audit_chain, voucher_reimbursements, "
    "programme_funder_euro_accounts, programme_reimbursement, lot_draws, credit_lots, "
    "programme_funders, programme_merchants, voucher_programmes, demurrage_runs, "
    "currency_reserves, grant_links, posting_authorities, idempotency_keys, holds, postings, "
    "transactions, account_mandates, account_balances, account_limit_changes, accounts, "
    "currencies"
)
DROPPED_FUNCTIONS = (
    "ledger_refuse_change, lot_draws_immutable, ledger_check_transaction_balanced, "
    "ledger_apply_posting, ledger_apply_posting_totals, ledger_apply_hold, "
    "ledger_check_debt_cap, ledger_currency_debt_row, ledger_track_debt, "
    "ledger_account_load_cap, ledger_count_load, ledger_cards_guard, "
    "ledger_debit_needs_authority, ledger_closing_follows, ledger_refuse_closed_period"
)


def upgrade() -> None:
    create_event_tables(op.get_bind())
    for group in (TABLES, APPEND_ONLY, DOUBLE_ENTRY, BALANCES, CAPS, CARDS, AUTHORITY, CLOSINGS):
        for statement in group:
            op.execute(statement)


def downgrade() -> None:
    op.execute(f"DROP TABLE {DROPPED_TABLES} CASCADE")
    op.execute(f"DROP FUNCTION {DROPPED_FUNCTIONS}")
    drop_event_tables(op.get_bind())
