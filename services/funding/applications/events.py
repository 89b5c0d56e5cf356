"""Events of the application workflow: one per accepted transition (decisions aside)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications.models import Application
from services.funding.applications.rules.workflow import TransitionResult
from services.funding.db import outbox
from services.funding.programmes.models import Envelope, Programme
from shared.events.catalog.funding import ApplicationTransitioned
from shared.events.registry import payload_model


async def application_event(
    session: AsyncSession,
    *,
    application: Application,
    envelope: Envelope,
    programme: Programme,
    actor: str,
    result: TransitionResult,
) -> None:
    model = payload_model(result.event_type)
    if model is None or not issubclass(model, ApplicationTransitioned):
        raise LookupError(f"event type {result.event_type!r} is not in the funding catalog")
    payload = model(
        application_id=str(application.id),
        programme_code=programme.code,
        envelope_code=envelope.code,
        territory=application.territory,
        action=str(result.action),
        from_state=str(result.previous_state),
        to_state=str(result.new_state),
        actor=actor,
        actor_role=str(result.actor_role),
        fields={k: v for k, v in result.fields.items() if isinstance(v, str | int | bool)},
    )
    await outbox.record(session, payload, subject=str(application.id))
