"""Settings of the ledger service (environment prefix PROXIMA_)."""

from shared.settings import DEFAULT_SECRET, ServiceSettings


class LedgerSettings(ServiceSettings):
    service_name: str = "ledger"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/proxima_ledger"
    # How often the background sweeper expires holds past their deadline.
    hold_sweep_interval_s: float = 1.0
    # Key of the HMAC that fingerprints card numbers and tokens (the numbers are never
    # stored); keep it outside the database. Changing it orphans every issued card.
    card_fingerprint_secret: str = DEFAULT_SECRET
    # How often the audit sealer appends newly committed transactions to the hash chains.
    audit_seal_interval_s: float = 1.0
    # Safety margin (seconds) when the sealer advances its watermark past settled rows.
    audit_seal_margin_s: float = 1.0
    # Group commit of `POST /transactions`: concurrent requests of one process are posted
    # together in one database transaction, at most this many (0: each request alone).
    group_commit_max_items: int = 64
    # Requests allowed to wait for a group per process; past it, 503 with Retry-After.
    group_commit_max_queue: int = 1024
    # Whether this replica runs the scheduler of operations (services/ledger/schedules);
    # of all replicas running one, one leads at a time (a PostgreSQL advisory lock), so
    # leaving it on everywhere is safe. Needs run_background_tasks too.
    scheduler_enabled: bool = True
    # How often (seconds) the scheduler looks for occurrences that fell due; it also looks
    # once at start, which is when a restart catches up the ones missed while down.
    scheduler_tick_interval_s: float = 30.0
