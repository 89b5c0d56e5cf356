"""Settings of the ledger service (environment prefix PROXIMA_)."""

from shared.settings import ServiceSettings


class LedgerSettings(ServiceSettings):
    service_name: str = "ledger"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/proxima_ledger"
    # How often the background sweeper expires holds past their deadline.
    hold_sweep_interval_s: float = 1.0
