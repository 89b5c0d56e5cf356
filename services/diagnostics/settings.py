"""Settings of the diagnostics service (environment prefix PROXIMA_)."""

from shared.settings import ServiceSettings


class DiagnosticsSettings(ServiceSettings):
    service_name: str = "diagnostics"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/proxima_diagnostics"
    # A new group name replays the ledger's log from offset 0 into an empty database:
    # that is how the live aggregates are rebuilt from the event log.
    consumer_group: str = "diagnostics"
    # Live aggregates are published at most once per row per interval (coalesced).
    aggregate_publish_interval_s: float = 1.0
