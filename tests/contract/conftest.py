"""The bus under test: every contract test runs once on each transport."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shared.settings import ServiceSettings
from tests.support.backbone import bus_settings


@pytest.fixture(params=["embedded", "kafka"])
def bus(request: pytest.FixtureRequest, new_database: Callable[[str], str]) -> ServiceSettings:
    if request.param == "kafka":
        broker = request.getfixturevalue("kafka")
        request.node.add_marker(pytest.mark.kafka)
        return bus_settings("kafka", kafka=broker)
    return bus_settings("embedded", events_url=new_database("events"))
