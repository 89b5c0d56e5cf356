"""The base of the gateway's SQLAlchemy models: its own metadata, its own migration history.

Each concept declares its tables on it in its own ``models.py`` (``clients``, ``stream``);
``migrations/env.py`` imports them all.
"""

from __future__ import annotations

from shared.db import ServiceBase, make_metadata


class Base(ServiceBase):
    __abstract__ = True
    metadata = make_metadata()
