"""``python -m services.diagnostics.demo [--region]``: load the illustrative demo data (or,
with ``--region``, the Auvergne-Rhône-Alpes skeleton with synthetic economics) into
``PROXIMA_DATABASE_URL``."""

from __future__ import annotations

import asyncio
import sys

from services.diagnostics.demo.region import load_region_demo
from services.diagnostics.demo.service import load_demo_data
from services.diagnostics.settings import DiagnosticsSettings
from shared.db import make_engine, make_session_factory, unit_of_work


async def _main(region: bool) -> None:
    settings = DiagnosticsSettings()
    engine = make_engine(settings.database_url)
    try:
        async for session in unit_of_work(make_session_factory(engine)):
            counts = await (load_region_demo(session) if region else load_demo_data(session))
        print(f"demo data loaded (illustrative, not official): {counts}")
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(_main("--region" in sys.argv[1:]))
