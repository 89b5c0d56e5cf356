"""CPU seconds used by the processes a bench measures, read from /proc (Linux only).

Why /proc: the processes measured (the gateway, the ledger's uvicorn and its workers,
PostgreSQL's postmaster and backends) are not the bench's own, and most are not its
children, so ``resource.getrusage`` cannot see them (``RUSAGE_CHILDREN`` counts only
children already waited for); ``/proc/<pid>/stat`` gives any live process's counters at
any moment, with nothing to install. A bench reads them before and after a phase and
divides the difference by the requests answered.

What is counted: user + system CPU time the process itself has used so far (``utime`` and
``stime``, fields 14 and 15 of proc(5), in clock ticks of ``SC_CLK_TCK``), not the
``cutime``/``cstime`` of children it has reaped. :func:`cpu_s` reads one process;
:func:`tree_cpu_s` adds its live direct children (parent pid = the root: uvicorn's
workers, PostgreSQL's backends and auxiliary processes), not grandchildren.
"""

from __future__ import annotations

import os
from pathlib import Path

_PROC = Path("/proc")


def _stat_fields(stat: Path) -> list[str]:
    """Fields of a ``/proc/<pid>/stat`` after the command name, which may hold spaces and
    parentheses: [0] is the state (field 3 of proc(5)), [1] the parent pid, [11] utime,
    [12] stime. Raises OSError when the file cannot be read (process gone, no /proc)."""
    return stat.read_text().rsplit(")", 1)[1].split()


def _seconds(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of one process so far, children not included (None when
    its stat cannot be read: the process is gone, or there is no /proc)."""
    try:
        fields = _stat_fields(_PROC / str(pid) / "stat")
    except OSError:
        return None
    return _seconds(fields)


def tree_cpu_s(root: int) -> float:
    """User + system CPU seconds so far of ``root`` and of its live direct children (0.0
    when none is left; processes that vanish during the scan are skipped). Raises OSError
    where there is no /proc."""
    total = 0.0
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat_fields(entry / "stat")
        except OSError:
            continue
        if int(entry.name) == root or int(fields[1]) == root:
            total += _seconds(fields)
    return total
