"""``python -m services.diagnostics.demo`` loads the demo data into PROXIMA_DATABASE_URL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[3]


def test_the_demo_command_loads_the_data_and_can_run_twice(
    migrated_database: Callable[[str], str],
) -> None:
    url = migrated_database("diagnostics")
    env = {**os.environ, "PROXIMA_DATABASE_URL": url, "PROXIMA_LOG_JSON": "false"}
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "services.diagnostics.demo"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "illustrative, not official" in done.stdout
    engine = create_engine(url.replace("+asyncpg", "+psycopg"))
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM territory_years")) == 28
            assert conn.scalar(text("SELECT version FROM data_version")) == 2
    finally:
        engine.dispose()
