"""``make bench``: run every benchmark module found under bench/ (each has ``main()``), and
write its JSON figures to bench/results/."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    wanted = set(argv)
    found = sorted(m.name for m in pkgutil.iter_modules([str(BENCH)]) if m.ispkg)
    failures = 0
    for name in found:
        if wanted and name not in wanted:
            continue
        module = importlib.import_module(f"bench.{name}")
        runner = getattr(module, "main", None)
        if runner is None:
            continue
        print(f"== bench {name}", flush=True)
        failures += int(runner() or 0)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
