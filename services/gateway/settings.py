"""Settings of the gateway service (environment prefix PROXIMA_)."""

from shared.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/proxima_gateway"
