"""Run a real single-node Apache Kafka (KRaft, broker+controller) for dev and CI.

Why Python does the work and ``deploy/local/kafka/kafka.sh`` only forwards to
``python -m deploy.local.kafka_broker``: "ready" means the broker answers a Kafka
metadata request listing itself, which needs a Kafka client, and the project's client
is aiokafka. The pytest fixtures and the ``make run`` orchestrator also need a typed
object they can start, SIGKILL, restart and inspect in-process. Doing it in shell
would mean a second implementation (or shell calling Python anyway), so there is one
implementation here and one thin CLI.

Layout: jars in ``.cache/kafka/libs`` (resolved once by Maven from
``deploy/local/kafka/pom.xml``); everything of one broker in its data dir:
``server.properties``, ``kafka.pid``, ``broker.log`` and the Kafka log dirs in
``kraft/``. Starting again on the same data dir reuses the formatted storage, so topics
and committed offsets survive a restart.

Security is on, as in production: the client listener speaks SASL/SCRAM-SHA-512 (no
TLS on localhost; production adds it, see docs/operations.md), every service has its own
principal (``ledger``, ``funding``, ``diagnostics``, ``gateway``), ``admin`` is the
tooling's and the tests' super user and ``broker`` the broker's own (inter-broker) one.
Their random passwords live in the data dir (``credentials.json``, mode 0600) and are
created in the storage at format time; principals added later go in through the admin API.
The StandardAuthorizer denies by default, topics are never auto-created, and the ACLs of
``deploy.kafka_acls`` (generated from the event registry and the services'
subscriptions) are applied with Kafka's own ``AclCommand`` whenever they changed. The
controller listener stays PLAINTEXT, bound to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

REPO_ROOT = Path(__file__).resolve().parents[2]
KAFKA_DIR = REPO_ROOT / "deploy" / "local" / "kafka"
POM = KAFKA_DIR / "pom.xml"
LOG4J_CONFIG = KAFKA_DIR / "log4j2.properties"
TOOLS_LOG4J_CONFIG = KAFKA_DIR / "log4j2-tools.properties"
CACHE_DIR = REPO_ROOT / ".cache" / "kafka"
LIBS_DIR = CACHE_DIR / "libs"
DEFAULT_DATA_DIR = CACHE_DIR / "data"
NODE_ID = 1
READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0
# Small enough to share a 2-core CI box with Postgres and the services.
JVM_OPTS = ("-Xms256m", "-Xmx512m", "-XX:+UseG1GC", "-Djava.awt.headless=true")
# The command-line tools run for a second: a small heap and the quick JIT start them faster.
TOOL_JVM_OPTS = ("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")

SCRAM_MECHANISM = "SCRAM-SHA-512"
SECURITY_PROTOCOL = "SASL_PLAINTEXT"
BROKER_PRINCIPAL = "broker"
"""The broker's own principal, for inter-broker requests: a super user."""
ADMIN_PRINCIPAL = "admin"
"""Tooling and tests (topic creation for probes, ACL management): a super user."""
SERVICE_PRINCIPALS = ("ledger", "funding", "diagnostics", "gateway")
PRINCIPALS = (BROKER_PRINCIPAL, ADMIN_PRINCIPAL, *SERVICE_PRINCIPALS)
# Over the PLAINTEXT controller listener the broker registers with its controller as
# ANONYMOUS: without being a super user it could not register, and the authorizer would
# keep it fenced. That listener is bound to 127.0.0.1 and serves the controller only.
SUPER_USERS = (BROKER_PRINCIPAL, ADMIN_PRINCIPAL, "ANONYMOUS")

_STAMP = ".complete"


class KafkaBrokerError(RuntimeError):
    """Raised when the broker cannot be fetched, started or stopped."""


def free_port() -> int:
    """Return a currently free TCP port on 127.0.0.1 (the OS picks it; racy but fine for tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fetch(libs_dir: Path = LIBS_DIR) -> Path:
    """Resolve the broker jars with Maven into ``libs_dir`` once; later calls are no-ops.

    A stamp holding the pom's hash marks a complete download, so a changed pom (new
    Kafka version) refetches and an interrupted download never looks complete. Maven
    writes into a temporary sibling that is renamed into place, under a file lock, so
    parallel CI jobs or test workers sharing the cache cannot see a half-filled folder.
    """
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()
    stamp = libs_dir / _STAMP
    if stamp.is_file() and stamp.read_text() == digest:
        return libs_dir
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaBrokerError("mvn not found on PATH; Maven resolves the Kafka jars")
    libs_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(libs_dir.parent / "fetch.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text() == digest:
            return libs_dir
        tmp = libs_dir.with_name(f"{libs_dir.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        cmd = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={tmp}",
            "-DincludeScope=runtime",
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise KafkaBrokerError(f"mvn failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        (tmp / _STAMP).write_text(digest)
        shutil.rmtree(libs_dir, ignore_errors=True)
        tmp.rename(libs_dir)
    return libs_dir


def _java() -> str:
    """Prefer $JAVA_HOME (CI setup-java sets it), else the ``java`` on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise KafkaBrokerError("java not found (Kafka 4.x needs Java 17+)")
    return found


def _cluster_id() -> str:
    """A Kafka cluster id (base64url UUID), made here to skip a JVM launch of ``random-uuid``."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):  # Kafka's own generator avoids these too (CLI-hostile)
            return text


def _port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


async def _broker_listed(options: dict[str, Any]) -> bool:
    """True once a metadata request succeeds and lists this node: the broker is unfenced."""
    admin = AIOKafkaAdminClient(**options, request_timeout_ms=3000)
    try:
        await admin.start()
        info = await admin.describe_cluster()
        return any(b["node_id"] == NODE_ID for b in info["brokers"])
    except Exception:  # any failure just means "not ready yet"
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


def _ps(pid: int) -> str:
    """``ps`` state and full command line of ``pid`` ('' if gone); works on Linux and macOS."""
    done = subprocess.run(
        ["ps", "-ww", "-o", "stat=,args=", "-p", str(pid)],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip()


class KafkaBroker:
    """One Apache Kafka 4.x process in KRaft combined mode, bound to 127.0.0.1.

    The pid file lets a later process (``kafka.sh stop``) manage a broker started by an
    earlier one; the command line is checked before signalling so a recycled pid is
    never killed.
    """

    def __init__(self, *, port: int, data_dir: Path, controller_port: int | None = None) -> None:
        self.port = port
        self.controller_port = controller_port if controller_port is not None else free_port()
        self.data_dir = Path(data_dir).resolve()
        self.config = self.data_dir / "server.properties"
        self.pid_file = self.data_dir / "kafka.pid"
        self.log_file = self.data_dir / "broker.log"
        self.credentials_file = self.data_dir / "credentials.json"
        self.admin_config = self.data_dir / "admin.properties"
        self.acl_stamp = self.data_dir / "acls.json"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def credentials(self) -> dict[str, str]:
        """Password of each principal (read from the data dir, so a broker started by
        another process, ``kafka.sh start``, is usable too)."""
        try:
            stored = json.loads(self.credentials_file.read_text())
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in stored.items()}

    def client_settings(self, principal: str) -> dict[str, str]:
        """The ``ServiceSettings`` fields a client of ``principal`` needs."""
        password = self.credentials.get(principal)
        if password is None:
            raise KafkaBrokerError(f"no Kafka principal {principal!r} on this broker")
        return {
            "kafka_bootstrap": self.bootstrap,
            "kafka_security_protocol": SECURITY_PROTOCOL,
            "kafka_sasl_mechanism": SCRAM_MECHANISM,
            "kafka_username": principal,
            "kafka_password": password,
        }

    def client_env(self, principal: str) -> dict[str, str]:
        """The same as ``PROXIMA_*`` environment variables, for a service process."""
        return {f"PROXIMA_{k.upper()}": v for k, v in self.client_settings(principal).items()}

    def client_options(self, principal: str) -> dict[str, Any]:
        """Keyword arguments of an aiokafka client authenticated as ``principal``."""
        settings = self.client_settings(principal)
        return {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": SECURITY_PROTOCOL,
            "sasl_mechanism": SCRAM_MECHANISM,
            "sasl_plain_username": principal,
            "sasl_plain_password": settings["kafka_password"],
        }

    def __enter__(self) -> KafkaBroker:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def pid(self) -> int | None:
        """Pid of this data dir's live broker, or None (stale pid files are ignored)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        line = _ps(pid)
        if not line or line.startswith("Z") or str(self.config) not in line:
            return None
        return pid

    def is_running(self) -> bool:
        return self.pid() is not None

    def start(self) -> None:
        """Format storage on first use (with the SCRAM users), launch the JVM detached,
        block until it serves, then bring principals and ACLs up to date."""
        if self.is_running():
            return
        busy = [p for p in (self.port, self.controller_port) if _port_open(p)]
        if busy:
            raise KafkaBrokerError(f"port(s) {busy} already in use on 127.0.0.1")
        libs = fetch()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        formatted = (self.data_dir / "kraft" / "meta.properties").is_file()
        credentials = self.credentials
        if formatted and BROKER_PRINCIPAL not in credentials:
            # Formatted before security was turned on: no SCRAM user exists in it, and the
            # broker could not even authenticate to itself. Start from a fresh storage.
            shutil.rmtree(self.data_dir / "kraft")
            self.acl_stamp.unlink(missing_ok=True)
            formatted, credentials = False, {}
        missing = [p for p in PRINCIPALS if p not in credentials]
        credentials.update({p: secrets.token_hex(24) for p in missing})
        _write_private(self.credentials_file, json.dumps(credentials, indent=2) + "\n")
        self._write_config(credentials)
        classpath = str(libs / "*")
        java = [_java(), *JVM_OPTS, f"-Dlog4j2.configurationFile={LOG4J_CONFIG}", "-cp", classpath]
        if not formatted:
            users = [
                arg
                for name in PRINCIPALS
                for arg in (
                    "--add-scram",
                    f"{SCRAM_MECHANISM}=[name={name},password={credentials[name]}]",
                )
            ]
            fmt = subprocess.run(
                [
                    *java,
                    "kafka.tools.StorageTool",
                    "format",
                    "--ignore-formatted",
                    "-t",
                    _cluster_id(),
                    "-c",
                    str(self.config),
                    *users,
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if fmt.returncode != 0:
                raise KafkaBrokerError(f"storage format failed:\n{fmt.stdout}{fmt.stderr}")
        with open(self.log_file, "ab") as log:
            # New session: Ctrl-C in the caller's terminal must not hit the broker, and
            # `kafka.sh start` returns while the broker keeps running.
            self._proc = subprocess.Popen(
                [*java, "kafka.Kafka", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{self._proc.pid}\n")
        self._wait_ready()
        if formatted and missing:
            self._add_users({p: credentials[p] for p in missing})
        self._apply_acls()

    def _tool(self, main_class: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run one of Kafka's command-line tools against this broker as ``admin``."""
        java = [_java(), *TOOL_JVM_OPTS, f"-Dlog4j2.configurationFile={TOOLS_LOG4J_CONFIG}"]
        done = subprocess.run(
            [
                *java,
                "-cp",
                str(LIBS_DIR / "*"),
                main_class,
                "--bootstrap-server",
                self.bootstrap,
                "--command-config",
                str(self.admin_config),
                *args,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if done.returncode != 0 or "Error while executing" in done.stdout:
            raise KafkaBrokerError(
                f"{main_class} {' '.join(args)} failed ({done.returncode}):\n"
                f"{done.stdout}{done.stderr}"
            )
        return done

    def _add_users(self, users: dict[str, str]) -> None:
        """SCRAM users created after the first format go in through the admin API."""
        for name, password in users.items():
            self._tool(
                "kafka.admin.ConfigCommand",
                "--alter",
                "--entity-type",
                "users",
                "--entity-name",
                name,
                "--add-config",
                f"{SCRAM_MECHANISM}=[password={password}]",
            )

    def _apply_acls(self) -> None:
        """Make the broker's ACLs those of ``deploy.kafka_acls``: what was applied is kept
        in the data dir (the ACLs themselves live in the KRaft metadata and survive
        restarts), so only a changed plan costs JVM launches."""
        from deploy.kafka_acls import acl_plan

        wanted = [rule.command_args() for rule in acl_plan()]
        try:
            applied = json.loads(self.acl_stamp.read_text())
        except (OSError, ValueError):
            applied = []
        stale = [args for args in applied if args not in wanted]
        new = [args for args in wanted if args not in applied]
        if not stale and not new:
            return
        jobs = [("--remove", "--force", *args) for args in stale]
        jobs += [("--add", *args) for args in new]
        # A JVM per rule: three at a time keeps a 2-core machine busy without thrashing.
        acl_command = "org.apache.kafka.tools.AclCommand"
        with ThreadPoolExecutor(max_workers=3) as pool:
            list(pool.map(lambda job: self._tool(acl_command, *job), jobs))
        self.acl_stamp.write_text(json.dumps(wanted, indent=1) + "\n")

    def _write_config(self, credentials: dict[str, str]) -> None:
        """Rewritten on each start so port changes apply; the storage (cluster id) is kept."""
        listener = SECURITY_PROTOCOL
        scram = SCRAM_MECHANISM.lower()
        settings = {
            "process.roles": "broker,controller",
            "node.id": str(NODE_ID),
            "controller.quorum.voters": f"{NODE_ID}@127.0.0.1:{self.controller_port}",
            "listeners": f"{listener}://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"{listener}://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": listener,
            "listener.security.protocol.map": f"CONTROLLER:PLAINTEXT,{listener}:{listener}",
            # Clients (and the broker itself) authenticate with SCRAM on the one listener.
            "sasl.enabled.mechanisms": SCRAM_MECHANISM,
            "sasl.mechanism.inter.broker.protocol": SCRAM_MECHANISM,
            f"listener.name.{listener.lower()}.{scram}.sasl.jaas.config": _jaas(
                BROKER_PRINCIPAL, credentials[BROKER_PRINCIPAL]
            ),
            # Default deny: what a principal may do is what its ACLs say.
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found": "false",
            "super.users": ";".join(f"User:{name}" for name in SUPER_USERS),
            "log.dirs": str(self.data_dir / "kraft"),
            # One node: every replication factor / ISR must be 1 or topics can't be created.
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "num.partitions": "3",
            # Topics are created by their owner (deploy.kafka_acls grants CREATE to it only).
            "auto.create.topics.enable": "false",
            # Tests join groups constantly; the 3 s default delay would slow every one.
            "group.initial.rebalance.delay.ms": "0",
            # After a SIGKILL the controller refuses the restarted broker's registration
            # until the old session expires (default 9 s); 4 s keeps crash tests quick
            # while tolerating GC or CPU stalls on a busy 2-core CI box.
            "broker.heartbeat.interval.ms": "1000",
            "broker.session.timeout.ms": "4000",
        }
        _write_private(self.config, "".join(f"{k}={v}\n" for k, v in settings.items()))
        _write_private(
            self.admin_config,
            f"security.protocol={SECURITY_PROTOCOL}\n"
            f"sasl.mechanism={SCRAM_MECHANISM}\n"
            f"sasl.jaas.config={_jaas(ADMIN_PRINCIPAL, credentials[ADMIN_PRINCIPAL])}\n",
        )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                code = self._proc.returncode
                self.stop()  # reap it and drop the stale pid file
                raise KafkaBrokerError(f"broker exited with {code}\n{self._log_tail()}")
            if _port_open(self.port) and self._probe():
                return
            time.sleep(0.5)
        self.kill()
        raise KafkaBrokerError(f"broker not ready after {READY_TIMEOUT_S:.0f}s\n{self._log_tail()}")

    def _probe(self) -> bool:
        # A worker thread owns the event loop, so this also works when called from async
        # code (pytest-asyncio fixtures, the make-run orchestrator) with a loop running.
        with ThreadPoolExecutor(max_workers=1) as pool:
            options = self.client_options(ADMIN_PRINCIPAL)
            return pool.submit(asyncio.run, _broker_listed(options)).result()

    def _log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_file.read_text(errors="replace").splitlines()
        except OSError:
            return "(no broker log)"
        return "--- broker.log tail ---\n" + "\n".join(text[-lines:])

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM (clean shutdown, flushes logs), then SIGKILL if it hangs past ``timeout``."""
        self._signal_and_wait(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """SIGKILL, like a crash: tests use it to prove recovery from an unclean stop."""
        self._signal_and_wait(signal.SIGKILL, STOP_TIMEOUT_S)

    def restart(self) -> None:
        self.stop()
        self.start()

    def _signal_and_wait(self, sig: signal.Signals, timeout: float) -> None:
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            deadline = time.monotonic() + timeout
            while self._alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if self._alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                while self._alive(pid):
                    time.sleep(0.1)
        if self._proc is not None:
            self._proc.wait()  # reap, so no zombie is left behind in this process
            self._proc = None
        self.pid_file.unlink(missing_ok=True)

    def _alive(self, pid: int) -> bool:
        if self._proc is not None and self._proc.pid == pid:
            return self._proc.poll() is None
        line = _ps(pid)
        return bool(line) and not line.startswith("Z")


def _jaas(username: str, password: str) -> str:
    return (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{username}" password="{password}";'
    )


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read: it holds passwords."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    path.chmod(0o600)


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).resolve() if value else default


def main(argv: list[str]) -> int:
    """CLI behind kafka.sh: fetch | start | stop | kill | restart | status. Env configures it."""
    logging.basicConfig(level=logging.CRITICAL)  # aiokafka retries are noise while probing
    usage = "usage: kafka.sh fetch|start|stop|kill|restart|status"
    if len(argv) != 1:
        print(usage, file=sys.stderr)
        return 2
    command = argv[0]
    try:
        if command == "fetch":
            started = time.monotonic()
            print(f"kafka jars in {fetch()} ({time.monotonic() - started:.1f}s)")
            return 0
        broker = KafkaBroker(
            port=int(os.environ.get("KAFKA_PORT", "9092")),
            controller_port=int(os.environ.get("KAFKA_CONTROLLER_PORT", "9093")),
            data_dir=_env_path("KAFKA_DATA_DIR", DEFAULT_DATA_DIR),
        )
        if command in ("start", "restart"):
            started = time.monotonic()
            broker.restart() if command == "restart" else broker.start()
            print(
                f"kafka ready on {broker.bootstrap} pid {broker.pid()} "
                f"({time.monotonic() - started:.1f}s, log {broker.log_file})"
            )
        elif command in ("stop", "kill"):
            broker.stop() if command == "stop" else broker.kill()
            print("kafka stopped")
        elif command == "status":
            pid = broker.pid()
            print(f"kafka running on {broker.bootstrap} pid {pid}" if pid else "kafka not running")
            return 0 if pid else 3
        else:
            print(usage, file=sys.stderr)
            return 2
    except KafkaBrokerError as exc:
        print(f"kafka: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
