"""Settings of the diagnostics service (environment prefix PROXIMA_)."""

from shared.settings import ServiceSettings


class DiagnosticsSettings(ServiceSettings):
    service_name: str = "diagnostics"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/proxima_diagnostics"
