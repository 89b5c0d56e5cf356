"""CPU per posting request by stage (the issue's "a lean request path"), from a py-spy
sampling profile of the ledger's processes.

py-spy (``py-spy record --format raw``: one line per distinct stack, frames root first,
separated by ``;``, then the sample count) samples only threads that are running, so the
samples of a stage over all samples is that stage's share of the ledger's CPU; times the
CPU per request measured from /proc over the same phase, it gives microseconds per request
by stage.

A stack belongs to the first *context* stage one of whose patterns any of its frames
contains (the group's work runs in the committer's own task; the token check and body
parsing inside the route's dependencies); a stack in none of them belongs to the *layer*
of its innermost frame that names one (so a response written by uvicorn under the
middleware is the server's, a pure middleware frame the middleware's).

    context stages             what the frames are
    group_work                 the group commit worker: claim and lock, rules, events,
                               the write, the commit (its asyncpg calls too)
    background                 outbox relay, audit sealer, consumers, hold sweeper
    token_check                bearer token verification, its cache, the scope check
    response_rendering         the answer's JSON (view_json, Response.render)
    body_parsing               the request body read and validated (parse_body)
    route_handler              the rest of the posting route (key, digest, queueing)
    dependencies               FastAPI's dependency solving around them (the session)
    layers (innermost frame)
    database_driver            SQLAlchemy and asyncpg frames whose caller py-spy cannot
                               see: SQLAlchemy runs them on a greenlet of their own;
                               mostly the group's session (begin, mandate query, checkout)
    middleware                 Starlette, FastAPI routing and shared/ middleware
    http_server                uvicorn's protocol and HTTP parser (reading, writing)
    event_loop_other           asyncio's loop itself, the garbage collector, the rest
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

CONTEXT: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("group_work", ("transactions/service/group.py", "transactions/service/committer.py")),
    (
        "background",
        ("outbox.py", "audit/", "sealer", "shared/background.py", "consumer", "sweep"),
    ),
    ("token_check", ("shared/auth.py", "jwt/", "auth_events.py", "ledger/http/scopes.py")),
    (
        "response_rendering",
        ("view_json", "json_text", "render (starlette", "serialize_response", "jsonable_encoder"),
    ),
    ("body_parsing", ("parse_body", "request_body_to_args", "body (starlette/requests.py")),
    ("route_handler", ("ledger/transactions/router.py", "ledger/http/")),
    ("dependencies", ("solve_dependencies",)),
)
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("database_driver", ("asyncpg/", "sqlalchemy/", "greenlet")),
    ("http_server", ("uvicorn/protocols", "httptools", "h11/")),
    ("middleware", ("middleware", "shared/", "starlette/", "fastapi/")),
)
OTHER = "event_loop_other"
STAGES = (*(name for name, _ in CONTEXT), *(name for name, _ in LAYERS), OTHER)


def stage_of(stack: str) -> str:
    """The stage of one collapsed stack (frames root first, joined by ``;``)."""
    for stage, patterns in CONTEXT:
        if any(pattern in stack for pattern in patterns):
            return stage
    for frame in reversed(stack.split(";")):
        for stage, patterns in LAYERS:
            if any(pattern in frame for pattern in patterns):
                return stage
    return OTHER


def shares(profile: str) -> dict[str, float]:
    """Each stage's share of the samples of a raw py-spy profile (0 for a stage unseen)."""
    counts: Counter[str] = Counter()
    for line in profile.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            counts[stage_of(stack)] += int(count)
    total = sum(counts.values()) or 1
    return {stage: counts[stage] / total for stage in STAGES}


def py_spy() -> str | None:
    """The py-spy executable (``BENCH_LEDGER_PYSPY``, else on PATH or beside this Python),
    None when there is none."""
    if tool := os.environ.get("BENCH_LEDGER_PYSPY"):
        return tool
    beside = Path(sys.executable).with_name("py-spy")
    return shutil.which("py-spy") or (str(beside) if beside.exists() else None)


def record(tool: str, pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    """Start sampling ``pid`` and its worker processes for ``seconds`` into ``out`` (raw
    collapsed stacks), without pausing them (``--nonblocking``), 250 samples a second."""
    return subprocess.Popen(
        [
            tool,
            "record",
            *("-p", str(pid), "--subprocesses", "--nonblocking"),
            *("-r", "250", "-d", str(max(1, round(seconds)))),
            *("--format", "raw", "-o", str(out)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def by_stage(profile: str, cpu_us_per_request: float) -> dict[str, float]:
    """Microseconds of ledger CPU per request in each stage."""
    return {stage: round(share * cpu_us_per_request, 1) for stage, share in shares(profile).items()}
