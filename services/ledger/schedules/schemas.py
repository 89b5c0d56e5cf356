"""Request and response bodies of schedules and their runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from services.ledger.http.schemas import Out, Schema
from services.ledger.schedules.rules import Cadence, Operation, Outcome
from shared.strict_types import AwareInstant


class ScheduleWrite(Schema):
    cadence: Cadence = Field(
        description="daily; weekly (Mondays); monthly (the 1st): the day after each period"
    )
    local_time: str = Field(
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="Time of day in Europe/Paris (HH:MM); a closing runs at 02:00 or later",
    )
    starts_at: AwareInstant | None = Field(
        default=None,
        description="First instant an occurrence may fall on (default: now); an earlier one "
        "makes every missed occurrence since then run, in order",
    )
    fund_account_id: UUID | None = Field(
        default=None, description="Demurrage only: the fund account charges go to"
    )


class ScheduleRead(Out):
    currency: str
    operation: Operation
    cadence: Cadence
    local_time: str
    time_zone: str
    starts_at: datetime
    fund_account_id: UUID | None
    authorised_by: str = Field(description="The operator whose standing authorisation it is")
    authorised_at: datetime
    last_run_for: datetime | None = Field(description="Occurrence of the latest run")
    next_run_at: datetime = Field(description="Next occurrence (in the past when overdue)")


class ScheduleList(Out):
    items: list[ScheduleRead]


class ScheduleRunRead(Out):
    id: UUID
    currency: str
    operation: Operation
    scheduled_for: datetime
    authorised_by: str
    started_at: datetime
    finished_at: datetime | None
    outcome: Outcome
    attempts: int
    progress: dict[str, Any]
    error: dict[str, Any] | None


class ScheduleRunPage(Out):
    items: list[ScheduleRunRead]
    next_cursor: str | None
