"""An act on the currency of the path answered once per idempotency key: what the reserve's
issuances and reconversions and the programmes' credits, purchases and reimbursements share,
so each concept's router only says what its act runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.http.idempotency import IdempotencyContext, idempotent_request
from shared.auth import Principal


@dataclass(frozen=True, slots=True)
class KeyedAct:
    """The currency code of the path, the acting principal (with the scope its route asks),
    the request's unit of work and its idempotency key and route."""

    code: str
    principal: Principal
    session: AsyncSession
    idempotency: IdempotencyContext

    async def answer_once(
        self,
        body: BaseModel,
        *,
        model: type[BaseModel],
        run: Callable[[], Awaitable[Any]],
        status_code: int = 201,
    ) -> Any:
        """``run``'s answer as ``model``, or the stored answer when the key (header or
        body) was already used for this route and body."""
        return await idempotent_request(
            self.session,
            model=model,
            status_code=status_code,
            principal=self.principal,
            header_key=self.idempotency.header,
            request=body,
            route=self.idempotency.route,
            run=run,
        )
