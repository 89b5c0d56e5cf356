# The one image pattern of every Proxima service.
#
# services/<name>/Dockerfile is this file with the SERVICE default filled in, written by
# `python deploy/docker/render_dockerfiles.py` (tests/contract/test_deploy_manifests.py
# fails when they drift). Edit this template, never the copies.
#
# Build from the repository root, e.g.
#   docker build -f services/ledger/Dockerfile -t proxima/ledger:dev .
#   docker build -f deploy/docker/service.Dockerfile --build-arg SERVICE=ledger -t proxima/ledger:dev .
# The same image runs the service (default CMD) and its migrations
# (`python -m shared.migrate <name>`).

ARG PYTHON_IMAGE=python:3.11-slim

# --- dependencies: pinned runtime requirements only (never requirements-dev.txt) ---------
FROM ${PYTHON_IMAGE} AS deps
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --require-virtualenv -r /tmp/requirements.txt

# --- runtime -------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
RUN test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=<ledger|funding|diagnostics|gateway>" >&2; exit 1; }

# Bytecode is compiled at build time below: the root filesystem is read-only at run time.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:${PATH} \
    PYTHONPATH=/app \
    PROXIMA_SERVICE_NAME=${SERVICE}

# A fixed numeric uid/gid so Kubernetes' runAsNonRoot can verify it without a passwd lookup.
RUN groupadd --system --gid 10001 proxima \
    && useradd --system --uid 10001 --gid proxima --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin proxima

COPY --from=deps /opt/venv /opt/venv

WORKDIR /app
# Only the shared package and this one service; the code stays root-owned and read-only.
COPY shared/ ./shared/
# The glob keeps the build working whether or not services/ has an __init__.py.
COPY services/__init__.p[y] ./services/
COPY services/${SERVICE}/ ./services/${SERVICE}/
RUN python -m compileall -q /app/shared /app/services

USER 10001:10001
EXPOSE 8000

# Liveness only (/healthz); readiness (/readyz) is probed by compose and Kubernetes.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]

# `exec` makes uvicorn PID 1 so it receives SIGTERM and shuts down gracefully.
# --no-proxy-headers: the app decides which X-Forwarded-For to believe (the gateway's
# PROXIMA_TRUSTED_PROXIES); uvicorn's own handling would trust 127.0.0.1 by default.
CMD ["sh", "-c", "exec uvicorn --factory \"services.${PROXIMA_SERVICE_NAME}.app:create_app\" --host 0.0.0.0 --port 8000 --no-proxy-headers"]
