import services.gateway.clients.models  # noqa: F401  (declares its tables on Base)
import services.gateway.stream.models  # noqa: F401  (declares its tables on Base)
from services.gateway.models import Base
from shared.migrations_env import run_migrations

run_migrations(Base.metadata)
