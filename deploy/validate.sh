#!/usr/bin/env bash
# Static validation of the deployment files, without Docker or a cluster:
#   docker-compose.yml against the compose-spec schema, and every kustomization rendered
#   offline and validated (strict) against the Kubernetes schemas.
# The full contract, with the cross-checks, is tests/contract/test_deploy_manifests.py.
# Usage: deploy/validate.sh   (uses .venv/bin if present; needs kubectl from kubernetes-client)
set -euo pipefail

cd "$(dirname "$0")/.."
bin=".venv/bin"
[ -x "$bin/check-jsonschema" ] || bin="$(dirname "$(command -v check-jsonschema)")"
command -v kubectl >/dev/null || {
    echo "kubectl not found: apt-get install -y kubernetes-client" >&2
    exit 1
}

"$bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml

rendered="$(mktemp -d)"
trap 'rm -rf "$rendered"' EXIT
for dir in deploy/k8s/base deploy/k8s/overlays/*/; do
    dir="${dir%/}"
    out="$rendered/$(echo "$dir" | tr '/' '_').yaml"
    kubectl kustomize "$dir" > "$out"
    for version in 1.32.0 1.35.0; do
        "$bin/kubernetes-validate" --strict --quiet -k "$version" "$out"
    done
    echo "ok -- $dir renders and validates"
done
