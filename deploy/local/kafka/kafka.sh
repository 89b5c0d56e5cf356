#!/usr/bin/env bash
# Real single-node Apache Kafka (KRaft) for dev and CI, no Docker.
#   kafka.sh fetch    resolve the broker jars via Maven into .cache/kafka/libs (once)
#   kafka.sh start    format storage if new, start in background, wait until it serves
#   kafka.sh stop     SIGTERM, wait, SIGKILL if needed     (also: kill, restart)
#   kafka.sh status   exit 0 if running, 3 if not
# Env: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_DATA_DIR (.cache/kafka/data),
#      PYTHON (default: <repo>/.venv/bin/python).
# The broker speaks SASL/SCRAM-SHA-512 with ACLs: each principal's password is in
# $KAFKA_DATA_DIR/credentials.json, and admin.properties there is a ready client config.
# The logic lives in deploy/local/kafka_broker.py (its docstring says why); this only
# forwards, so the pytest fixtures and this script can never drift apart.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
exec "$python" -m deploy.local.kafka_broker "$@"
