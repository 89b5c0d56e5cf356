"""Every event payload Proxima publishes. Importing this package registers them all, so any
process can decode any event it meets (and dead-letter a type nobody declared)."""

from shared.events.catalog import diagnostics, funding, gateway, ledger, platform

__all__ = ["diagnostics", "funding", "gateway", "ledger", "platform"]
