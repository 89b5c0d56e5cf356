"""The scopes the gateway's own endpoints require, as FastAPI dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.auth import ADMIN_SCOPE, Principal, require_scope

DASHBOARD_SCOPE = "dashboard:read"

Admin = Annotated[Principal, Depends(require_scope(ADMIN_SCOPE))]
Viewer = Annotated[Principal, Depends(require_scope(DASHBOARD_SCOPE))]
# EventSource cannot set headers: the stream also takes its token from ``?access_token=``.
StreamViewer = Annotated[Principal, Depends(require_scope(DASHBOARD_SCOPE, allow_query_token=True))]
