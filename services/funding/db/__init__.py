"""The funding database: the tables' base, the generic repository and the outbox."""
