"""Generate the event catalogue documents: one JSON Schema per event type and an AsyncAPI 3
document, under ``docs/events/``. ``--check`` fails if the committed files are stale
(``make lint`` runs it, so the documents can never drift from the models).

    python -m shared.events.docs [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from shared.events.registry import TYPE_PATTERN, dead_letter_topic, registered_types, topic_for

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events"

ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "CloudEvents 1.0, structured JSON mode (content-type application/cloudevents+json)."
    ),
    "required": [
        "specversion",
        "id",
        "source",
        "type",
        "time",
        "subject",
        "datacontenttype",
        "data",
    ],
    "properties": {
        "specversion": {"const": "1.0"},
        "id": {
            "type": "string",
            "description": "Unique per source; source + id is the de-duplication key",
        },
        "source": {"type": "string", "examples": ["/proxima/ledger"]},
        "type": {"type": "string", "pattern": TYPE_PATTERN.pattern},
        "time": {"type": "string", "format": "date-time"},
        "subject": {"type": "string", "description": "Aggregate id; also the Kafka message key"},
        "datacontenttype": {"const": "application/json"},
        "correlationid": {
            "type": "string",
            "description": "Extension: the originating request's correlation id",
        },
        "traceparent": {
            "type": "string",
            "description": (
                "Extension (CloudEvents distributed tracing): W3C trace context of the span "
                "that recorded the event, present when tracing is on"
            ),
        },
        "tracestate": {
            "type": "string",
            "description": "Extension (CloudEvents distributed tracing): W3C tracestate",
        },
        "data": {"type": "object"},
    },
}


def event_schemas() -> dict[str, dict[str, Any]]:
    return {name: model.model_json_schema() for name, model in registered_types().items()}


def asyncapi_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for name, model in registered_types().items():
        topic = topic_for(name)
        channel_id = topic.replace(".", "_")
        message_id = name.replace(".", "_")
        messages[message_id] = {
            "name": name,
            "title": model.__name__,
            "summary": model.description,
            "contentType": "application/cloudevents+json",
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/CloudEvent"},
                    {
                        "type": "object",
                        "properties": {"type": {"const": name}, "data": model.model_json_schema()},
                    },
                ]
            },
            "bindings": {
                "kafka": {"key": {"type": "string", "description": "aggregate id (= subject)"}}
            },
        }
        channel = channels.setdefault(
            channel_id,
            {
                "address": topic,
                "messages": {},
                "description": f"Events of the {topic} family, keyed by aggregate id",
            },
        )
        channel["messages"][message_id] = {"$ref": f"#/components/messages/{message_id}"}
        operations[f"publish_{channel_id}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"Published by the {topic.split('.')[1]} service through its outbox",
        }
    for channel_id in list(channels):
        family = channels[channel_id]["address"]
        channels[f"{channel_id}_dlq"] = {
            "address": dead_letter_topic("{consumer}", family),
            "description": (
                f"Dead letters of {family}: each consuming service writes its own, under its "
                "own prefix (only it may), with dlq-reason and dlq-consumer headers"
            ),
            "parameters": {
                "consumer": {"description": "the consuming service that gave up on the event"}
            },
            "messages": dict(channels[channel_id]["messages"]),
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Proxima events",
            "version": "1.0.0",
            "description": (
                "Every event is a CloudEvents 1.0 envelope in structured JSON mode. Topics are per "
                "aggregate family (proxima.<service>.<aggregate>); the key is the aggregate id. "
                "Producers use a transactional outbox and an idempotent producer (acks=all); "
                "consumers de-duplicate on source + id through an inbox table. Only the "
                "service <service> writes to proxima.<service>.* (Kafka ACLs, one SCRAM "
                "principal per service), under the source /proxima/<service>; consumers "
                "dead-letter any event whose source does not own its topic."
            ),
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": {
            "kafka": {
                "host": "kafka:9092",
                "protocol": "kafka",
                "description": "Apache Kafka (KRaft)",
            }
        },
        "channels": dict(sorted(channels.items())),
        "operations": dict(sorted(operations.items())),
        "components": {"schemas": {"CloudEvent": ENVELOPE_SCHEMA}, "messages": messages},
    }


def rendered() -> dict[Path, str]:
    files = {
        DOCS / "asyncapi.json": json.dumps(asyncapi_document(), indent=2, sort_keys=False) + "\n"
    }
    for name, schema in event_schemas().items():
        files[DOCS / "schemas" / f"{name}.json"] = json.dumps(schema, indent=2) + "\n"
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if docs/events is stale")
    args = parser.parse_args()
    files = rendered()
    existing = set((DOCS / "schemas").glob("*.json")) if (DOCS / "schemas").exists() else set()
    if args.check:
        stale = [str(p) for p, text in files.items() if not p.exists() or p.read_text() != text]
        stale += [str(p) for p in existing - set(files)]
        if stale:
            print(
                "event docs are stale; run `make docs`:\n  " + "\n  ".join(stale), file=sys.stderr
            )
            return 1
        return 0
    for path in existing - set(files):
        path.unlink()
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    print(f"wrote {len(files)} files under {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
