"""``python -m services.diagnostics.demo``: load the demo data into ``PROXIMA_DATABASE_URL``."""

from __future__ import annotations

import asyncio

from services.diagnostics.demo.service import load_demo_data
from services.diagnostics.settings import DiagnosticsSettings
from shared.db import make_engine, make_session_factory, unit_of_work


async def _main() -> None:
    settings = DiagnosticsSettings()
    engine = make_engine(settings.database_url)
    try:
        async for session in unit_of_work(make_session_factory(engine)):
            counts = await load_demo_data(session)
        print(f"demo data loaded (illustrative, not official): {counts}")
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(_main())
