"""The scopes of the ledger's endpoints, as FastAPI dependencies that verify them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.auth import Principal, require_scope
from shared.problems import Forbidden, Unauthorized, problem_responses

ADMIN = "ledger:admin"
POST = "ledger:post"
READ = "ledger:read"
# Operator acts, each under its own scope; the caller must also operate the currency
# (``ledger:admin`` bound to it), which `authority` checks.
ISSUE = "ledger:issue"
RECONVERT = "ledger:reconvert"
DEMURRAGE = "ledger:demurrage"
SWEEP = "ledger:sweep"
REVERSE = "ledger:reverse"

Admin = Annotated[Principal, Depends(require_scope(ADMIN))]
Poster = Annotated[Principal, Depends(require_scope(POST))]
Reader = Annotated[Principal, Depends(require_scope(READ))]
Issuer = Annotated[Principal, Depends(require_scope(ISSUE))]
Reconverter = Annotated[Principal, Depends(require_scope(RECONVERT))]
DemurrageOperator = Annotated[Principal, Depends(require_scope(DEMURRAGE))]
Sweeper = Annotated[Principal, Depends(require_scope(SWEEP))]
Reverser = Annotated[Principal, Depends(require_scope(REVERSE))]

AUTH_ERRORS = problem_responses(Unauthorized, Forbidden)
"""What every endpoint may answer before it runs: no valid token, or a missing scope."""
