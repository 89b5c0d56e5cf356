"""aiohttp's failures, as the kinds of upstream failure the proxy answers differently."""

from __future__ import annotations

import aiohttp
import pytest

from services.gateway.traffic.upstream_http import (
    ConnectFailed,
    ConnectionBroken,
    ConnectTimedOut,
    ReadTimedOut,
    _translated,
)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (aiohttp.ConnectionTimeoutError("Connection timeout to host"), ConnectTimedOut),
        (aiohttp.SocketTimeoutError("Timeout on reading data from socket"), ReadTimedOut),
        (
            aiohttp.ClientConnectorError(
                aiohttp.client_reqrep.ConnectionKey("127.0.0.1", 9, False, True, None, None, None),
                ConnectionRefusedError(111, "Connection refused"),
            ),
            ConnectFailed,
        ),
        (aiohttp.ServerDisconnectedError(), ConnectionBroken),
        (aiohttp.ClientPayloadError("Response payload is not completed"), ConnectionBroken),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), ConnectionBroken),
    ],
)
def test_each_failure_has_its_kind(error: Exception, kind: type[Exception]) -> None:
    assert type(_translated(error)) is kind
