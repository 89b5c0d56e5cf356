"""The database itself refuses what would break the money and audit invariants, whatever
code path tries: raw SQL against a migrated funding database."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine


@pytest.fixture
async def db(funding_db: str, engine_for: Callable[[str], AsyncEngine]) -> AsyncEngine:
    engine = engine_for(funding_db)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO programmes (id, code, name, operator, eligible_territories,"
                " legal_forms, project_stages, convention_threshold_cents, advance_percent)"
                " VALUES (:id, 'P1', 'P', 'Region', '{38}', '{scic}', '{creation}', 2300000, 0)"
            ),
            {"id": PROGRAMME_ID},
        )
        await conn.execute(
            text(
                "INSERT INTO envelopes (id, code, programme_id, year, ap_cents, cp_cents,"
                " committed_cents, ordered_cents, paid_cents)"
                " VALUES (:id, 'E1', :p, 2026, 1000, 800, 500, 0, 300)"
            ),
            {"id": ENVELOPE_ID, "p": PROGRAMME_ID},
        )
        await conn.execute(
            text(
                "INSERT INTO applications (id, programme_id, envelope_id, applicant_client_id,"
                " applicant_name, legal_form, project_stage, title, commune_insee_code, territory,"
                " requested_amount_cents, granted_amount_cents, paid_cents, state, created_at,"
                " updated_at) VALUES (:id, :p, :e, 'c', 'n', 'scic', 'creation', 't', '38185',"
                " '38', 500, 500, 300, 'in_payment', now(), now())"
            ),
            {"id": APPLICATION_ID, "p": PROGRAMME_ID, "e": ENVELOPE_ID},
        )
        await conn.execute(
            text(
                "INSERT INTO application_transitions (application_id, sequence, actor_client_id,"
                " actor_role, action, from_state, to_state, fields, previous_hash, hash)"
                " VALUES (:a, 1, 'c', 'applicant', 'create', NULL, 'draft', '{}', :h, :h)"
            ),
            {"a": APPLICATION_ID, "h": "0" * 64},
        )
    return engine


PROGRAMME_ID = uuid.uuid4()
ENVELOPE_ID = uuid.uuid4()
APPLICATION_ID = uuid.uuid4()


async def _refused(engine: AsyncEngine, sql: str, constraint: str) -> None:
    with pytest.raises((IntegrityError, DBAPIError)) as caught:
        async with engine.begin() as conn:
            await conn.execute(text(sql))
    assert constraint in str(caught.value)


@pytest.mark.parametrize(
    ("sql", "constraint"),
    [
        ("UPDATE envelopes SET committed_cents = 1001", "ck_envelopes_committed_within_ap"),
        ("UPDATE envelopes SET paid_cents = 501", "ck_envelopes_paid_within_committed"),
        ("UPDATE envelopes SET ordered_cents = 201, paid_cents = 300", "paid_within_committed"),
        ("UPDATE envelopes SET cp_cents = 299", "ck_envelopes_paid_within_cp"),
        ("UPDATE envelopes SET ordered_cents = -1", "ck_envelopes_non_negative"),
        ("UPDATE applications SET paid_cents = 501", "ck_applications_paid_within_grant"),
        ("UPDATE applications SET state = 'lost'", "ck_applications_state_known"),
        ("UPDATE applications SET requested_amount_cents = 0", "requested_positive"),
    ],
)
async def test_the_database_refuses_money_that_breaks_the_envelope(
    db: AsyncEngine, sql: str, constraint: str
) -> None:
    await _refused(db, sql, constraint)


async def test_the_audit_trail_cannot_be_rewritten_or_deleted(db: AsyncEngine) -> None:
    await _refused(db, "UPDATE application_transitions SET to_state = 'closed'", "append-only")
    await _refused(db, "DELETE FROM application_transitions", "append-only")
    await _refused(db, "TRUNCATE application_transitions", "append-only")


async def test_the_database_refuses_the_vote_of_a_conflicted_member(db: AsyncEngine) -> None:
    session_id = uuid.uuid4()
    async with db.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO committee_sessions (id, programme_id, title, scheduled_at, quorum,"
                " status) VALUES (:s, :p, 'c', now(), 1, 'open')"
            ),
            {"s": session_id, "p": PROGRAMME_ID},
        )
        await conn.execute(
            text(
                "INSERT INTO committee_conflicts (session_id, application_id, member_id)"
                " VALUES (:s, :a, 'm1')"
            ),
            {"s": session_id, "a": APPLICATION_ID},
        )
    await _refused(
        db,
        "INSERT INTO committee_votes (session_id, application_id, member_id, choice)"
        f" VALUES ('{session_id}', '{APPLICATION_ID}', 'm1', 'for')",
        "conflict of interest",
    )


async def test_a_decision_needs_its_amount_reason_and_unique_deliberation(db: AsyncEngine) -> None:
    session_id = uuid.uuid4()
    async with db.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO committee_sessions (id, programme_id, title, scheduled_at, quorum,"
                " status) VALUES (:s, :p, 'c', now(), 1, 'open')"
            ),
            {"s": session_id, "p": PROGRAMME_ID},
        )
    insert = (
        "INSERT INTO committee_decisions (id, session_id, application_id, outcome, amount_cents,"
        " deliberation_number, reason, votes_for, votes_against, abstentions) VALUES"
        f" (gen_random_uuid(), '{session_id}', '{APPLICATION_ID}', "
    )
    await _refused(db, insert + "'approved', NULL, 'D1', NULL, 1, 0, 0)", "amount_iff_approved")
    await _refused(db, insert + "'rejected', NULL, 'D1', ' ', 0, 1, 0)", "reason_unless_approved")
    await _refused(db, insert + "'rejected', NULL, NULL, 'no', 0, 1, 0)", "deliberation_number")
    async with db.begin() as conn:
        await conn.execute(text(insert + "'approved', 100, 'D1', NULL, 1, 0, 0)"))
    other = uuid.uuid4()
    async with db.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO committee_sessions (id, programme_id, title, scheduled_at, quorum,"
                " status) VALUES (:s, :p, 'c', now(), 1, 'open')"
            ),
            {"s": other, "p": PROGRAMME_ID},
        )
    await _refused(
        db,
        insert.replace(str(session_id), str(other)) + "'approved', 100, 'D1', NULL, 1, 0, 0)",
        "uq_committee_decisions_deliberation_number",
    )


async def test_a_tranche_cannot_be_paid_without_an_order(db: AsyncEngine) -> None:
    await _refused(
        db,
        "INSERT INTO tranches (id, application_id, number, kind, amount_cents, payable_when,"
        f" status) VALUES (gen_random_uuid(), '{APPLICATION_ID}', 1, 'balance', 500,"
        " 'final_report_accepted', 'paid')",
        "ordered_has_order",
    )
