from services.ledger.database.tables import metadata
from shared.migrations_env import run_migrations

run_migrations(metadata)
