"""Settings of the funding service (environment prefix PROXIMA_)."""

from pathlib import Path

from shared.settings import ServiceSettings


class FundingSettings(ServiceSettings):
    service_name: str = "funding"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/proxima_funding"
    # Where attached documents are stored (content-addressed by SHA-256).
    documents_dir: Path = Path(".cache/funding-documents")
    # SIRET of the awarding body, published in the SCDL open-data export of grants.
    attribuant_siret: str = ""
