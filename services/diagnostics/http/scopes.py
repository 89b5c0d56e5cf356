"""The scopes of the diagnostics API, as endpoint parameters that require them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.auth import Principal, require_scope

READ = "diagnostics:read"
IMPORT = "diagnostics:import"
ADMIN = "diagnostics:admin"

Reader = Annotated[Principal, Depends(require_scope(READ))]
Importer = Annotated[Principal, Depends(require_scope(IMPORT))]
Admin = Annotated[Principal, Depends(require_scope(ADMIN))]
