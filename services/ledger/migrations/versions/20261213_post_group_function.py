"""A posting group in one round trip: ``ledger_post_group``, a PL/pgSQL function over
arrays that claims the group's idempotency keys, locks its balance rows (account order)
and the debit mandates it needs, checks every item in arrival order against the running
state (authority, accounts, bounds, caps), writes the accepted items' transactions,
postings, authority rows, outbox rows and key answers, and returns one answer per item.

Why a function (docs/decisions/ledger-group-commit.md): a group cost five round trips
(BEGIN, claim+lock, mandates, write, COMMIT); called outside a transaction block, the
function is its own transaction, so one. Python still decides who asks and on what basis
(the principal, whether it operates every currency or which ones); the function verifies
against the rows it locked. Every invariant stays in the triggers and constraints it
writes through: the function's own checks only let it refuse one item rather than have
the database abort the whole group.

Revision ID: ledger_0021
Revises: ledger_0017
Create Date: 2026-12-13
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ledger_0021"
down_revision: str | None = "ledger_0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = (
    "ledger_post_group(text[], text[], text[], boolean[], boolean[], uuid[], text[], date[], "
    "text[], jsonb[], int[], int[], int[], uuid[], text[], bigint[], int[], text[], int[], "
    "text[], text[], text[], text[], text[], timestamptz)"
)

# Items are numbered from 1; the legs of item i are p_leg_from[i]..p_leg_to[i] (each leg
# also names its item in p_leg_item), in canonical order. An item's outcome:
#   posted        written, with its transaction row;
#   replay        its key was claimed before (the stored hash and answer returned);
#   invalid       refused by Python before the call (its claim taken, then given back);
#   deferred      touches a currency reserve's account: posted alone by the caller, where
#                 the reserve check runs in the same transaction;
#   a refusal     the code of the first check it failed (its claim given back); the caller
#                 answers it with today's one-request path, which words the refusal.
# Outbox templates carry the envelope with "postings" as the string "@@postings@@": the
# function puts the legs of that currency there, each with its account's type and
# territory as locked, in json.dumps' own layout (the bytes `posted_rows` writes).
FUNCTION = r"""
CREATE FUNCTION ledger_post_group(
    p_client text[], p_key text[], p_digest text[], p_valid boolean[], p_op_all boolean[],
    p_tx uuid[], p_kind text[], p_effective date[], p_description text[], p_metadata jsonb[],
    p_leg_from int[], p_leg_to int[], p_leg_item int[], p_leg_account uuid[],
    p_leg_currency text[], p_leg_amount bigint[], p_op_item int[], p_op_currency text[],
    p_ev_item int[], p_ev_id text[], p_ev_type text[], p_ev_topic text[],
    p_ev_currency text[], p_ev_template text[], p_now timestamptz
) RETURNS TABLE (
    item int, outcome text, id uuid, seq bigint, kind text, effective_date date,
    inserted_at timestamptz, description text, metadata jsonb, reverses uuid,
    earlier_hash text, earlier_response jsonb
) LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
    n int := coalesce(cardinality(p_tx), 0);
    fresh boolean[];
    verdict text[] := array_fill(NULL::text, ARRAY[n]);
    accepted boolean[] := array_fill(false, ARRAY[n]);
    acc uuid[] := '{}';
    acc_currency text[]; acc_type text[]; acc_status text[]; acc_holder text[];
    acc_territory text[]; acc_posted bigint[]; acc_held bigint[]; acc_lower bigint[];
    acc_upper bigint[]; acc_voucher boolean[]; acc_reserve boolean[]; acc_cap bigint[];
    acc_loaded bigint[];
    leg_acc int[];
    leg_basis text[];
    leg_mandate int[];
    m_per_payment bigint[] := '{}'; m_per_period bigint[] := '{}';
    m_used bigint[] := '{}'; m_id uuid[] := '{}'; m_grantee text[] := '{}';
    m_account uuid[] := '{}';
    d_currency text[] := '{}'; d_total bigint[] := '{}'; d_cap bigint[] := '{}';
    d_change bigint[];
    a_tx uuid[] := '{}'; a_account uuid[] := '{}'; a_basis text[] := '{}';
    a_principal text[] := '{}'; a_mandate uuid[] := '{}'; a_amount bigint[] := '{}';
    i int; j int; k int; m int; d int;
    amount bigint;
    refusal text;
BEGIN
    IF n = 0 THEN
        RETURN;
    END IF;
    -- Keys first, in (client, key) order, as every posting path takes them.
    WITH claimed AS (
        INSERT INTO idempotency_keys (client_id, key, request_hash)
        SELECT u.c, u.k, u.d FROM unnest(p_client, p_key, p_digest) AS u (c, k, d)
        WHERE u.k IS NOT NULL ORDER BY 1, 2
        ON CONFLICT DO NOTHING RETURNING client_id, key
    )
    SELECT array_agg(u.k IS NULL OR EXISTS (
               SELECT 1 FROM claimed c WHERE c.client_id = u.c AND c.key = u.k)
           ORDER BY u.o)
    INTO fresh FROM unnest(p_client, p_key) WITH ORDINALITY AS u (c, k, o);

    -- Then the balance rows of the items to post, in account order.
    SELECT coalesce(array_agg(l.id ORDER BY l.id), '{}'),
           array_agg(l.currency ORDER BY l.id), array_agg(l.type ORDER BY l.id),
           array_agg(l.status ORDER BY l.id), array_agg(l.holder ORDER BY l.id),
           array_agg(l.territory ORDER BY l.id), array_agg(l.posted ORDER BY l.id),
           array_agg(l.held ORDER BY l.id), array_agg(l.lower_bound ORDER BY l.id),
           array_agg(l.upper_bound ORDER BY l.id),
           array_agg(coalesce(cur.kind = 'voucher', false) ORDER BY l.id),
           array_agg(EXISTS (SELECT 1 FROM currency_reserves r
                             WHERE r.issuer_account = l.id OR r.reserve_account = l.id)
                     ORDER BY l.id),
           array_agg(lc.cap ORDER BY l.id), array_agg(coalesce(ml.loaded, 0) ORDER BY l.id)
    INTO acc, acc_currency, acc_type, acc_status, acc_holder, acc_territory, acc_posted,
         acc_held, acc_lower, acc_upper, acc_voucher, acc_reserve, acc_cap, acc_loaded
    FROM (
        SELECT a.id, a.currency, a.type, a.status, a.holder, a.territory,
               b.posted, b.held, b.lower_bound, b.upper_bound
        FROM account_balances b JOIN accounts a ON a.id = b.account_id
        WHERE b.account_id IN (
            SELECT l.a FROM unnest(p_leg_item, p_leg_account) AS l (i, a)
            WHERE p_valid[l.i] AND fresh[l.i])
        ORDER BY b.account_id
        FOR UPDATE OF b
    ) l
    LEFT JOIN currencies cur ON cur.code = l.currency
    LEFT JOIN account_load_caps lc ON lc.account_id = l.id
    LEFT JOIN account_monthly_loads ml
        ON ml.account_id = l.id AND ml.month = date_trunc('month', now() AT TIME ZONE 'UTC')::date;

    SELECT array_agg(array_position(acc, u.a) ORDER BY u.o) INTO leg_acc
    FROM unnest(p_leg_account) WITH ORDINALITY AS u (a, o);

    -- The basis of each debit leg that needs no mandate: holder, or operator.
    SELECT array_agg(CASE
               WHEN u.amt >= 0 OR u.k IS NULL THEN NULL
               WHEN acc_holder[u.k] = p_client[u.i] THEN 'holder'
               WHEN p_op_all[u.i] OR EXISTS (
                   SELECT 1 FROM unnest(p_op_item, p_op_currency) AS o (i, c)
                   WHERE o.i = u.i AND o.c = acc_currency[u.k]) THEN 'operator'
               ELSE 'mandate' END ORDER BY u.o)
    INTO leg_basis
    FROM unnest(p_leg_item, p_leg_amount, leg_acc) WITH ORDINALITY AS u (i, amt, k, o);

    -- Then the debit mandates those legs need, locked in (grantee, account) order, the
    -- order the one-request path locks them in; the newest active one of each pair, with
    -- what was debited under it this period.
    WITH wanted AS (
        SELECT DISTINCT p_client[u.i] AS grantee, acc[u.k] AS account
        FROM unnest(p_leg_item, leg_acc, leg_basis) AS u (i, k, basis)
        WHERE u.basis = 'mandate' AND p_valid[u.i] AND fresh[u.i]
    ), locked AS (
        SELECT m.id, m.grantee, m.account_id, m.created_at, m.max_per_payment,
               m.max_per_period, m.period
        FROM account_mandates m JOIN wanted w
            ON w.grantee = m.grantee AND w.account = m.account_id
        WHERE m.may_debit AND m.revoked_at IS NULL AND m.expires_at > p_now
        ORDER BY m.grantee COLLATE "C", m.account_id, m.created_at DESC, m.id
        FOR UPDATE OF m
    ), newest AS (
        SELECT DISTINCT ON (l.grantee, l.account_id) l.*
        FROM locked l ORDER BY l.grantee, l.account_id, l.created_at DESC, l.id
    )
    SELECT coalesce(array_agg(x.id ORDER BY x.grantee, x.account_id), '{}'),
           coalesce(array_agg(x.grantee ORDER BY x.grantee, x.account_id), '{}'),
           coalesce(array_agg(x.account_id ORDER BY x.grantee, x.account_id), '{}'),
           coalesce(array_agg(x.max_per_payment ORDER BY x.grantee, x.account_id), '{}'),
           coalesce(array_agg(x.max_per_period ORDER BY x.grantee, x.account_id), '{}'),
           coalesce(array_agg(coalesce((
               SELECT sum(pa.amount) FROM posting_authorities pa
               WHERE pa.mandate_id = x.id
                 AND pa.recorded_at >= date_trunc(x.period, p_now, 'UTC')), 0)::bigint
               ORDER BY x.grantee, x.account_id), '{}')
    INTO m_id, m_grantee, m_account, m_per_payment, m_per_period, m_used
    FROM newest x;

    SELECT array_agg(CASE WHEN u.basis = 'mandate' THEN (
               SELECT x.o::int FROM unnest(m_grantee, m_account) WITH ORDINALITY AS x (g, a, o)
               WHERE x.g = p_client[u.i] AND x.a = acc[u.k]) END ORDER BY u.o)
    INTO leg_mandate
    FROM unnest(p_leg_item, leg_acc, leg_basis) WITH ORDINALITY AS u (i, k, basis, o);

    -- The debt of each currency touched, and its cap.
    SELECT coalesce(array_agg(cd.currency), '{}'), coalesce(array_agg(cd.total_debt), '{}'),
           coalesce(array_agg(cd.cap), '{}')
    INTO d_currency, d_total, d_cap
    FROM currency_debt cd WHERE cd.currency = ANY(acc_currency);

    -- Each item in arrival order, against the running state the accepted ones leave.
    FOR i IN 1..n LOOP
        IF NOT fresh[i] THEN
            verdict[i] := 'replay';
            CONTINUE;
        ELSIF NOT p_valid[i] THEN
            verdict[i] := 'invalid';
            CONTINUE;
        END IF;
        refusal := NULL;
        FOR j IN p_leg_from[i]..p_leg_to[i] LOOP
            k := leg_acc[j];
            IF k IS NOT NULL AND acc_reserve[k] THEN
                refusal := 'deferred';
                EXIT;
            END IF;
        END LOOP;
        IF refusal IS NULL THEN  -- authority first, as the one-request path checks it
            FOR j IN p_leg_from[i]..p_leg_to[i] LOOP
                CONTINUE WHEN leg_basis[j] IS DISTINCT FROM 'mandate';
                m := leg_mandate[j];
                IF m IS NULL THEN
                    refusal := 'no-debit-authority';
                ELSIF m_per_payment[m] IS NULL OR m_per_period[m] IS NULL
                      OR -p_leg_amount[j] > m_per_payment[m]
                      OR m_used[m] - p_leg_amount[j] > m_per_period[m] THEN
                    refusal := 'mandate-limit-exceeded';
                END IF;
                EXIT WHEN refusal IS NOT NULL;
            END LOOP;
        END IF;
        IF refusal IS NULL THEN
            d_change := array_fill(0::bigint, ARRAY[cardinality(d_currency) + 1]);
            FOR j IN p_leg_from[i]..p_leg_to[i] LOOP
                k := leg_acc[j];
                amount := p_leg_amount[j];
                IF k IS NULL THEN
                    refusal := 'unknown-account';
                ELSIF acc_currency[k] <> p_leg_currency[j] THEN
                    refusal := 'currency-mismatch';
                ELSIF acc_status[k] = 'closed' THEN
                    refusal := 'account-closed';
                ELSIF acc_status[k] = 'frozen' AND amount < 0 THEN
                    refusal := 'account-frozen';
                ELSIF amount < 0 AND acc_lower[k] IS NOT NULL
                      AND acc_posted[k] + amount - acc_held[k] < acc_lower[k] THEN
                    refusal := 'insufficient-funds';
                ELSIF amount > 0 AND acc_upper[k] IS NOT NULL
                      AND acc_posted[k] + amount > acc_upper[k] THEN
                    refusal := 'balance-limit-exceeded';
                ELSIF amount < 0 AND acc_type[k] = 'member' AND acc_voucher[k] THEN
                    refusal := 'voucher-credit-restricted';
                ELSIF amount > 0 AND acc_cap[k] IS NOT NULL AND p_kind[i] <> 'reversal'
                      AND acc_loaded[k] + amount > acc_cap[k] THEN
                    refusal := 'monthly-load-cap-exceeded';
                END IF;
                EXIT WHEN refusal IS NOT NULL;
                IF acc_lower[k] IS NOT NULL THEN
                    d := array_position(d_currency, acc_currency[k]);
                    IF d IS NOT NULL THEN
                        d_change[d] := d_change[d] + greatest(0, -(acc_posted[k] + amount))
                                       - greatest(0, -acc_posted[k]);
                    END IF;
                END IF;
            END LOOP;
        END IF;
        IF refusal IS NULL THEN
            FOR d IN 1..cardinality(d_currency) LOOP
                IF d_change[d] > 0 AND d_cap[d] IS NOT NULL
                   AND d_total[d] + d_change[d] > d_cap[d] THEN
                    refusal := 'debt-cap-exceeded';
                END IF;
            END LOOP;
        END IF;
        IF refusal IS NOT NULL THEN
            verdict[i] := refusal;
            CONTINUE;
        END IF;
        -- Accepted: the running state moves, its debits' authority is recorded.
        FOR d IN 1..cardinality(d_currency) LOOP
            d_total[d] := d_total[d] + d_change[d];
        END LOOP;
        FOR j IN p_leg_from[i]..p_leg_to[i] LOOP
            k := leg_acc[j];
            amount := p_leg_amount[j];
            acc_posted[k] := acc_posted[k] + amount;
            IF amount > 0 AND acc_cap[k] IS NOT NULL AND p_kind[i] <> 'reversal' THEN
                acc_loaded[k] := acc_loaded[k] + amount;
            END IF;
            IF amount < 0 THEN
                m := CASE WHEN leg_basis[j] = 'mandate' THEN leg_mandate[j] END;
                IF m IS NOT NULL THEN
                    m_used[m] := m_used[m] - amount;
                END IF;
                a_tx := a_tx || p_tx[i];
                a_account := a_account || acc[k];
                a_basis := a_basis || leg_basis[j];
                a_principal := a_principal || p_client[i];
                a_mandate := a_mandate || CASE WHEN m IS NULL THEN NULL ELSE m_id[m] END;
                a_amount := a_amount || -amount;
            END IF;
        END LOOP;
        accepted[i] := true;
        verdict[i] := 'posted';
    END LOOP;

    -- The claims of the items not posted now are given back (a replay's was not taken).
    DELETE FROM idempotency_keys ik
    USING generate_series(1, n) AS g (i)
    WHERE p_key[g.i] IS NOT NULL AND fresh[g.i] AND NOT accepted[g.i]
      AND ik.client_id = p_client[g.i] AND ik.key = p_key[g.i] AND ik.response IS NULL;

    IF true = ANY(accepted) THEN
        INSERT INTO transactions
            (id, kind, effective_date, description, metadata, client_id, idempotency_key)
        SELECT p_tx[g.i], p_kind[g.i], p_effective[g.i], p_description[g.i], p_metadata[g.i],
               p_client[g.i], p_key[g.i]
        FROM generate_series(1, n) AS g (i) WHERE accepted[g.i] ORDER BY g.i;

        INSERT INTO postings (transaction_id, account_id, currency, amount)
        SELECT p_tx[p_leg_item[g.j]], p_leg_account[g.j], p_leg_currency[g.j], p_leg_amount[g.j]
        FROM generate_series(1, cardinality(p_leg_item)) AS g (j)
        WHERE accepted[p_leg_item[g.j]] ORDER BY g.j;

        INSERT INTO posting_authorities
            (transaction_id, account_id, basis, principal, mandate_id, amount)
        SELECT * FROM unnest(a_tx, a_account, a_basis, a_principal, a_mandate, a_amount);

        INSERT INTO outbox (event_id, event_type, topic, key, payload)
        SELECT p_ev_id[g.e], p_ev_type[g.e], p_ev_topic[g.e], p_tx[p_ev_item[g.e]]::text,
               convert_to(replace(p_ev_template[g.e], '"@@postings@@"', (
                   SELECT '[' || string_agg(format(
                       '{"account_id": %s, "account_type": %s, "territory": %s, "amount": %s}',
                       to_json(p_leg_account[l.j]::text), to_json(acc_type[leg_acc[l.j]]),
                       coalesce(to_json(acc_territory[leg_acc[l.j]])::text, 'null'),
                       p_leg_amount[l.j]), ', ' ORDER BY l.j) || ']'
                   FROM generate_series(p_leg_from[p_ev_item[g.e]], p_leg_to[p_ev_item[g.e]])
                       AS l (j)
                   WHERE p_leg_currency[l.j] = p_ev_currency[g.e])), 'UTF8')
        FROM generate_series(1, coalesce(cardinality(p_ev_item), 0)) AS g (e)
        WHERE accepted[p_ev_item[g.e]] ORDER BY g.e;

        UPDATE idempotency_keys ik
        SET response = jsonb_build_object('replay', 'transaction', 'id', p_tx[g.i])
        FROM generate_series(1, n) AS g (i)
        WHERE accepted[g.i] AND p_key[g.i] IS NOT NULL
          AND ik.client_id = p_client[g.i] AND ik.key = p_key[g.i] AND ik.response IS NULL;
    END IF;

    RETURN QUERY
    SELECT g.i, verdict[g.i], t.id, t.seq, t.kind, t.effective_date, t.inserted_at,
           t.description, t.metadata, t.reverses, ek.request_hash, ek.response
    FROM generate_series(1, n) AS g (i)
    LEFT JOIN transactions t ON accepted[g.i] AND t.id = p_tx[g.i]
    LEFT JOIN idempotency_keys ek
        ON verdict[g.i] = 'replay' AND ek.client_id = p_client[g.i] AND ek.key = p_key[g.i]
    ORDER BY g.i;
END
$fn$
"""


def upgrade() -> None:
    op.execute(FUNCTION)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE}")
