"""The pure parts of the HTTP edge: which coercions the strict field types refuse, which
scrapers the /metrics allow-list lets in, and what ``Allow`` an app advertises."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from typing import Annotated

import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field, ValidationError

from shared.auth import TokenVerifier
from shared.edges import allowed_methods
from shared.metrics_access import peer_allowed
from shared.problems import Unauthorized
from shared.strict_types import WHOLE, IsoDate, IsoInstant, WholeNumber
from tests.support.tokens import KID, jwks_json


class Body(BaseModel):
    amount: WholeNumber = Field(ge=0)
    limit: Annotated[int, Field(gt=0), WHOLE] | None = None
    day: IsoDate | None = None
    at: IsoInstant | None = None


@pytest.mark.parametrize("value", [False, True, "5", 1.5, "1e3"])
def test_money_and_limits_refuse_booleans_text_and_fractions(value: object) -> None:
    with pytest.raises(ValidationError):
        Body.model_validate({"amount": value})
    with pytest.raises(ValidationError):
        Body.model_validate({"amount": 1, "limit": value})


def test_a_whole_float_is_the_integer_json_schema_says_it_is() -> None:
    assert Body.model_validate({"amount": 3.0}).amount == 3
    assert Body.model_validate_json('{"amount": 3.0, "limit": 2.0}').limit == 2


def test_constraints_stay_in_the_json_schema() -> None:
    properties = Body.model_json_schema()["properties"]
    assert properties["amount"]["minimum"] == 0
    assert properties["limit"]["anyOf"][0]["exclusiveMinimum"] == 0


@pytest.mark.parametrize("value", ["0", "0.5", "20260131", 0, 1.5, "2026-1-31"])
def test_dates_are_only_iso_text(value: object) -> None:
    with pytest.raises(ValidationError):
        Body.model_validate({"amount": 0, "day": value})


@pytest.mark.parametrize("value", ["0.5", "0", 0.5, 1_700_000_000, "2026-01-31"])
def test_instants_are_only_iso_text(value: object) -> None:
    with pytest.raises(ValidationError):
        Body.model_validate({"amount": 0, "at": value})


def test_iso_text_is_read_as_before() -> None:
    body = Body.model_validate({"amount": 0, "day": "2026-01-31", "at": "2026-01-31T12:00:00Z"})
    assert body.day == date(2026, 1, 31)
    assert body.at == datetime(2026, 1, 31, 12, tzinfo=UTC)


def test_the_metrics_allow_list_reads_networks_and_nothing_else() -> None:
    allowed = ("10.42.0.0/16", "::1/128")
    assert peer_allowed("10.42.7.9", allowed)
    assert peer_allowed("::1", allowed)
    assert not peer_allowed("10.43.0.1", allowed)
    assert not peer_allowed("127.0.0.1", allowed)
    assert not peer_allowed("not-an-address", allowed)
    assert not peer_allowed("10.42.7.9", ())


def test_allow_names_every_method_of_a_path_across_included_routers() -> None:
    app = FastAPI()
    things = APIRouter(prefix="/things")

    @things.get("")
    async def list_things() -> list[str]:
        return []

    @things.post("")
    async def create_thing() -> str:
        return ""

    @things.get("/{thing_id:uuid}")
    async def get_thing(thing_id: str) -> str:
        return thing_id

    @things.post("/{kind}/imports")
    async def import_things(kind: str) -> str:
        return kind

    app.include_router(things)
    assert allowed_methods(app, "/things") == ["GET", "HEAD", "OPTIONS", "POST"]
    assert allowed_methods(app, "/things/0b0e5c4e-7a8a-4b8e-9d5b-2d7f1c6f8e10") == [
        "GET",
        "HEAD",
        "OPTIONS",
    ]
    assert allowed_methods(app, "/things/not-a-uuid") == []
    assert allowed_methods(app, "/things/a/imports") == ["OPTIONS", "POST"]
    assert allowed_methods(app, "/elsewhere") == []


def test_a_token_whose_algorithm_does_not_fit_its_key_is_a_401() -> None:
    verifier = TokenVerifier(jwks_json=jwks_json())

    def segment(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    for alg in ("RS256", "EdDSA", "HS256", "none"):
        forged = f"{segment({'alg': alg, 'kid': KID})}.{segment({'sub': 'x'})}.c2ln"
        with pytest.raises(Unauthorized):
            verifier.verify(forged)
