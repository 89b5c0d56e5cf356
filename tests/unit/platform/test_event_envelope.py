"""The envelope and the registry: round trips, and bad bytes never escape as anything but
`EnvelopeError` (so a consumer can always dead-letter them)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.events.catalog.platform import ProbeEmitted
from shared.events.docs import asyncapi_document, rendered
from shared.events.envelope import (
    EnvelopeError,
    PayloadInvalid,
    UnknownEventType,
    decode,
    encode,
    new_event,
)
from shared.events.registry import TYPE_PATTERN, registered_types, topic_for


def _probe_event(sequence: int = 1) -> bytes:
    return encode(
        new_event(
            ProbeEmitted(probe_id="p", sequence=sequence),
            source="/t",
            subject="p",
            correlation_id="corr-1",
        )
    )


def test_round_trip_keeps_attributes_and_typed_payload() -> None:
    event = decode(_probe_event(5))
    assert event.type == "proxima.platform.probe.emitted.v1"
    assert event.data == ProbeEmitted(probe_id="p", sequence=5)
    assert event.correlation_id == "corr-1"
    assert event.dedup_key.startswith("/t#")


def test_structured_mode_is_plain_cloudevents_json() -> None:
    doc = json.loads(_probe_event())
    assert doc["specversion"] == "1.0" and doc["datacontenttype"] == "application/json"
    assert doc["subject"] == "p" and doc["data"] == {"probe_id": "p", "sequence": 1, "note": ""}


def test_unknown_type_and_invalid_payload_have_their_own_reasons() -> None:
    raw = _probe_event()
    with pytest.raises(UnknownEventType):
        decode(raw.replace(b"probe.emitted", b"probe.vanished"))
    with pytest.raises(PayloadInvalid):
        decode(
            raw.replace(b'"sequence":1', b'"sequence":"x"').replace(
                b'"sequence": 1', b'"sequence": "x"'
            )
        )


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_ever_raise_envelope_error(raw: bytes) -> None:
    try:
        decode(raw)
    except EnvelopeError:
        pass


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=10), st.one_of(st.none(), st.integers(), st.text(max_size=20)), max_size=8
    )
)
def test_arbitrary_json_objects_only_ever_raise_envelope_error(doc: dict[str, object]) -> None:
    try:
        decode(json.dumps(doc).encode())
    except EnvelopeError:
        pass


def test_every_registered_type_is_well_named_and_in_the_asyncapi_document() -> None:
    types = registered_types()
    assert types, "the catalog registers event types"
    document = asyncapi_document()
    documented = {m["name"] for m in document["components"]["messages"].values()}
    for name in types:
        assert TYPE_PATTERN.match(name)
        assert name in documented
        assert topic_for(name) in {c["address"] for c in document["channels"].values()}


def test_committed_event_docs_are_up_to_date() -> None:
    stale = [str(p) for p, text in rendered().items() if not p.exists() or p.read_text() != text]
    assert not stale, f"run `make docs`: {stale}"
