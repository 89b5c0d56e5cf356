"""The scope each kind of funding endpoint requires, as endpoint parameter types."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.auth import Principal, require_scope

Reader = Annotated[Principal, Depends(require_scope("funding:read"))]
Applicant = Annotated[Principal, Depends(require_scope("funding:apply"))]
Instructor = Annotated[Principal, Depends(require_scope("funding:instruct"))]
Decider = Annotated[Principal, Depends(require_scope("funding:decide"))]
Payer = Annotated[Principal, Depends(require_scope("funding:pay"))]
Admin = Annotated[Principal, Depends(require_scope("funding:admin"))]
