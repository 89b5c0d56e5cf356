"""SQLAlchemy models of the diagnostics service: its own metadata, its own migration history."""

from shared.db import ServiceBase, make_metadata


class Base(ServiceBase):
    __abstract__ = True
    metadata = make_metadata()
