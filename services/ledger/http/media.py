"""Response classes whose media type FastAPI writes into the OpenAPI document, so the
200 of a file endpoint is documented as that file type rather than as JSON."""

from __future__ import annotations

from fastapi.responses import Response

FEC_MEDIA_TYPE = "text/tab-separated-values"
CSV_MEDIA_TYPE = "text/csv"


class FecResponse(Response):
    media_type = FEC_MEDIA_TYPE


class CsvResponse(Response):
    media_type = CSV_MEDIA_TYPE


def attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}
