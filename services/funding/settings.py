"""Settings of the funding service (environment prefix PROXIMA_)."""

from pathlib import Path

from pydantic import Field

from shared.settings import ServiceSettings


class FundingSettings(ServiceSettings):
    service_name: str = "funding"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/proxima_funding"
    # Where attached documents are stored (content-addressed by SHA-256).
    documents_dir: Path = Path(".cache/funding-documents")
    # SIRET of the awarding body, published in the SCDL open-data export of grants.
    attribuant_siret: str = ""
    payment_reconcile_interval_s: float = Field(
        default=60.0,
        gt=0,
        description="How often tranches ordered through the ledger and still unanswered are "
        "looked for (also once at startup).",
    )
    payment_reconcile_after_s: float = Field(
        default=300.0,
        gt=0,
        description="How long after its order an unanswered tranche's order is sent to the "
        "ledger again (same order id: paid at most once); recovers a saga that a restore "
        "of backups taken at different instants left half-done.",
    )
