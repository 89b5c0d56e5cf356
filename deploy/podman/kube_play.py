"""The Kubernetes base (``deploy/k8s/base``) made playable by Debian's podman 4.3.1
``kube play``, so the Deployments we ship are started for real on a machine with no
cluster.

podman 4.3.1 is not a cluster, and three things have to be given to it differently; the
rest of each Deployment (command, security context, ``envFrom`` the ConfigMap, every
``secretKeyRef``, the ``emptyDir`` and Secret volumes, the PVC) is played as written:

- **No Service DNS.** ``http://ledger:8000`` resolves nowhere, so the pods share the host's
  network (``hostNetwork``) and each service listens on its own port, given in place of the
  ``--port 8000`` of its command (and of the named port its probes use); the gateway's
  upstream URLs and the JWKS URL point there.
- **No Jobs.** The migration Jobs are not played; the caller runs each migration as a
  one-off container from the same image (``python -m shared.migrate <service>``), as the
  Job's command does.
- **Secrets live in podman's store.** ``secretKeyRef`` and ``envFrom`` read a podman secret
  whose content is the JSON object of the Secret's ``data`` (base64 values), which
  :func:`podman_secret` writes. Their names get the caller's prefix, so two plays on one
  machine never share one. A Secret *volume* crashes 4.3.1 (a nil pointer in its
  ``VolumeFromSecret``), so the one we mount (the gateway's signing keys) becomes a
  read-only ``hostPath`` to a directory holding the same files.

Pure functions: the test that plays the result lives in
``tests/containers/test_kube_play.py``.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

BASE = Path(__file__).resolve().parents[1] / "k8s" / "base"
SERVICES = ("gateway", "ledger", "funding", "diagnostics")
UPSTREAM_URL_VARIABLES = ("PROXIMA_LEDGER_URL", "PROXIMA_FUNDING_URL", "PROXIMA_DIAGNOSTICS_URL")


def base_deployment(service: str) -> dict[str, Any]:
    """The Deployment of ``service`` exactly as the base ships it."""
    document = yaml.safe_load((BASE / service / "deployment.yaml").read_text(encoding="utf-8"))
    if document.get("kind") != "Deployment":
        raise ValueError(f"{service}: deployment.yaml holds a {document.get('kind')}")
    return dict(document)


def base_config() -> dict[str, str]:
    """The ``proxima-config`` ConfigMap's literals, from the base's configMapGenerator."""
    kustomization = yaml.safe_load((BASE / "common" / "kustomization.yaml").read_text("utf-8"))
    for generator in kustomization.get("configMapGenerator", []):
        if generator["name"] == "proxima-config":
            return dict(literal.split("=", 1) for literal in generator["literals"])
    raise ValueError("the base has no proxima-config ConfigMap")


def config_map(name: str, data: Mapping[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": dict(data)}


def podman_secret(data: Mapping[str, str]) -> str:
    """What ``podman secret create`` must hold for podman 4.3's ``secretKeyRef``: the
    Secret's ``data`` as a JSON object of base64 values (not a Secret manifest)."""
    encoded = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
    return json.dumps(encoded)


def secret_names(deployment: Mapping[str, Any]) -> set[str]:
    """Every Secret a Deployment reads, by env, envFrom or volume."""
    pod = deployment["spec"]["template"]["spec"]
    names: set[str] = set()
    for container in pod["containers"]:
        for variable in container.get("env", []):
            ref = variable.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                names.add(ref["name"])
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                names.add(source["secretRef"]["name"])
    for volume in pod.get("volumes", []):
        if "secret" in volume:
            names.add(volume["secret"]["secretName"])
    return names


def playable(
    service: str,
    *,
    image: str,
    port: int,
    prefix: str,
    upstream_urls: Mapping[str, str],
    secret_directories: Mapping[str, Path] | None = None,
) -> dict[str, Any]:
    """``service``'s base Deployment as podman 4.3.1 can play it (module docstring):
    ``image`` for its image, host network on ``port``, and every Secret, ConfigMap and
    claim name, and the Deployment's own, prefixed with ``prefix``."""
    deployment = copy.deepcopy(base_deployment(service))
    deployment["metadata"]["name"] = f"{prefix}-{service}"
    pod = deployment["spec"]["template"]["spec"]
    pod["hostNetwork"] = True
    pod.pop("topologySpreadConstraints", None)  # one node: nothing to spread over
    (container,) = pod["containers"]
    container["image"] = image
    container["command"] = _listening_on(container["command"], port)
    # On the host's network a port is whatever the process listens on: podman 4.3.1
    # refuses port mappings there, so the declared port goes, and the probes (which
    # podman does not run without systemd) name the number instead of ``http``.
    container.pop("ports", None)
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        if probe in container and "httpGet" in container[probe]:
            container[probe]["httpGet"]["port"] = port
    for source in container.get("envFrom", []):
        for kind in ("configMapRef", "secretRef"):
            if kind in source:
                source[kind]["name"] = f"{prefix}-{source[kind]['name']}"
    for variable in container.get("env", []):
        ref = variable.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            ref["name"] = f"{prefix}-{ref['name']}"
        if variable["name"] in upstream_urls:
            variable["value"] = upstream_urls[variable["name"]]
    for volume in pod.get("volumes", []):
        if "secret" in volume:
            directory = (secret_directories or {}).get(volume["secret"]["secretName"])
            if directory is None:
                raise ValueError(f"{service}: no directory for the Secret volume {volume}")
            del volume["secret"]
            volume["hostPath"] = {"path": str(directory), "type": "Directory"}
            _read_only_mounts(container, volume["name"])
        if "persistentVolumeClaim" in volume:
            claim = volume["persistentVolumeClaim"]
            claim["claimName"] = f"{prefix}-{claim['claimName']}"
    return deployment


def _read_only_mounts(container: dict[str, Any], volume: str) -> None:
    for mount in container.get("volumeMounts", []):
        if mount["name"] == volume:
            mount["readOnly"] = True


def _listening_on(command: list[str], port: int) -> list[str]:
    """The base command with ``--host 127.0.0.1 --port <port>`` in place of 0.0.0.0:8000
    (on the host's network, each pod needs its own port; loopback keeps it private)."""
    rewritten = list(command)
    for flag, value in (("--host", "127.0.0.1"), ("--port", str(port))):
        if flag not in rewritten:
            raise ValueError(f"the base command has no {flag}: {command}")
        rewritten[rewritten.index(flag) + 1] = value
    return rewritten


def manifest(*documents: Mapping[str, Any]) -> str:
    """Documents as one multi-document YAML file for ``podman kube play``."""
    return yaml.safe_dump_all([dict(d) for d in documents], sort_keys=False)
