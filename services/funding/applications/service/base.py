"""The base of the application use cases: the application as its reader may see it, and
its audit trail. Other concepts reach an application through `load`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications import repository
from services.funding.applications.models import Application, Transition
from services.funding.applications.rules.audit import GENESIS, content_of, entry_hash
from services.funding.db.repository import add
from services.funding.programmes import service as programmes
from services.funding.programmes.models import Envelope, Programme
from services.funding.tenancy.checks import ensure_application
from shared.auth import Principal


async def load(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, *, lock: bool = False
) -> tuple[Application, Envelope, Programme]:
    """The application with its envelope and programme, after the tenancy check."""
    application = await repository.application(session, application_id, lock=lock)
    envelope = await programmes.envelope(session, application.envelope_id)
    programme = await programmes.programme(session, application.programme_id)
    ensure_application(principal, application, envelope, programme)
    return application, envelope, programme


async def locked(session: AsyncSession, application_id: uuid.UUID) -> Application:
    """The application under its row lock, without a tenancy check (event handlers)."""
    return await repository.application(session, application_id, lock=True)


async def record_audit(
    session: AsyncSession,
    application: Application,
    *,
    actor: str,
    role: str,
    action: str,
    from_state: str | None,
    to_state: str,
    fields: Mapping[str, Any],
) -> Transition:
    """Append one audit entry chained to the application's previous one."""
    last = await repository.last_transition(session, application.id)
    row = Transition(
        application_id=application.id,
        sequence=1 if last is None else last.sequence + 1,
        actor_client_id=actor,
        actor_role=role,
        action=action,
        from_state=from_state,
        to_state=to_state,
        fields=json.loads(json.dumps(dict(fields), default=str)),
        at=datetime.now(UTC),
        previous_hash=GENESIS if last is None else last.hash,
    )
    row.hash = entry_hash(row.previous_hash, content_of(row))
    await add(session, row)
    return row
