"""The public directory of accepting businesses: one profile per listed business.

A profile is listed only with the business's recorded consent (who gave it, when, and which
operator recorded it); it names a merchant account, never a member's. Withdrawal keeps a
tombstone (id, currencies, category, when) and erases every field that can identify a
person (a sole trader's name and address are personal data); CHECK constraints hold both
shapes whatever code path writes.

Revision ID: ledger_0016
Revises: ledger_0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ledger_0016"
down_revision: str | None = "ledger_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE directory_listings (
            id uuid PRIMARY KEY,
            account_id uuid REFERENCES accounts (id),
            currencies text[] NOT NULL CHECK (cardinality(currencies) BETWEEN 1 AND 20),
            category text NOT NULL,
            status text NOT NULL DEFAULT 'listed' CHECK (status IN ('listed', 'withdrawn')),
            name text,
            address text,
            latitude double precision CHECK (latitude BETWEEN -90 AND 90),
            longitude double precision CHECK (longitude BETWEEN -180 AND 180),
            opening_hours jsonb,
            consent_given_by text,
            consent_given_at timestamptz,
            consent_recorded_by text,
            withdrawn_at timestamptz,
            withdrawal_recorded_by text,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            CONSTRAINT listed_with_profile_and_consent CHECK (
                status <> 'listed' OR (
                    account_id IS NOT NULL AND name IS NOT NULL AND address IS NOT NULL
                    AND latitude IS NOT NULL AND longitude IS NOT NULL
                    AND opening_hours IS NOT NULL AND consent_given_by IS NOT NULL
                    AND consent_given_at IS NOT NULL AND consent_recorded_by IS NOT NULL
                    AND withdrawn_at IS NULL
                )
            ),
            CONSTRAINT withdrawn_without_personal_data CHECK (
                status <> 'withdrawn' OR (
                    account_id IS NULL AND name IS NULL AND address IS NULL
                    AND latitude IS NULL AND longitude IS NULL AND opening_hours IS NULL
                    AND consent_given_by IS NULL AND withdrawn_at IS NOT NULL
                )
            )
        )
        """
    )
    op.execute(
        "CREATE UNIQUE INDEX directory_listings_one_per_account ON directory_listings "
        "(account_id) WHERE status = 'listed'"
    )
    op.execute(
        "CREATE INDEX directory_listings_currencies ON directory_listings USING gin (currencies)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE directory_listings")
