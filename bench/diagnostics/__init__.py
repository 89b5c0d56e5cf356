"""``make bench-diagnostics``: the whole of France × 10 years imported into PostgreSQL
through the product's import path, every diagnostic computed and persisted, timed against
a plain COPY of the same rows, and report reads through the gateway (``pipeline.py``).

Figures are synthetic (the demo's documented model, ``demo/rules.py``), never official.
"""

from __future__ import annotations

from bench.diagnostics.pipeline import main

__all__ = ["main"]
