"""NiceGUI's socket.io connection opens for pages of this site only: another site's handshake is refused.

Before, the socket.io server accepted any `Origin` (cross-site websocket hijacking: a page's actions travel over it).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.e2e.conftest import Server, running_server

SOCKET = "/_nicegui_ws/socket.io/?EIO=4&transport="


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("origin")) as running:
        yield running


def websocket_status(server: Server, origin: str | None) -> int:
    url = server.url.replace("http://", "ws://") + SOCKET + "websocket"
    try:
        with connect(url, origin=origin, open_timeout=10):  # type: ignore[arg-type]
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1.evil.example", "file://"])
def test_another_origin_cannot_open_the_socket(server: Server, origin: str) -> None:
    assert websocket_status(server, origin) == 403
    polling = httpx.get(server.url + SOCKET + "polling", headers={"Origin": origin})
    assert polling.status_code == 403


def test_this_site_and_clients_without_an_origin_can(server: Server) -> None:
    assert websocket_status(server, server.url) == 101
    assert websocket_status(server, None) == 101
    assert httpx.get(server.url + SOCKET + "polling", headers={"Origin": server.url}).status_code == 200
