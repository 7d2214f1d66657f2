import gc
import time

import pytest
from nicegui import Client
from nicegui.testing import User

from pages.client_pruning import UNCONNECTED_CLIENT_SECONDS, ClientPruner


async def test_page_loads_that_never_connect_are_freed_after_the_grace_period(user: User) -> None:
    pruner = ClientPruner()
    response = await user.http_client.get("/login")  # a plain GET: no websocket ever connects
    assert response.status_code == 200
    unconnected = [client for client in Client.instances.values() if not client.has_socket_connection]
    assert unconnected
    pruner.prune()
    assert all(client.id in Client.instances for client in unconnected)  # still within the grace period
    for client in unconnected:
        client.created = time.time() - UNCONNECTED_CLIENT_SECONDS - 1
    pruner.prune()
    assert all(client.id not in Client.instances for client in unconnected)


async def test_a_full_collection_follows_only_when_clients_went_away(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    collections: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: collections.append(generation) or 0)
    pruner = ClientPruner()
    await user.http_client.get("/login")
    pruner.prune()  # learns the clients; nothing went away yet
    pruner.prune()
    assert collections == []
    for client in list(Client.instances.values()):
        if not client.has_socket_connection:
            client.created = time.time() - UNCONNECTED_CLIENT_SECONDS - 1
    pruner.prune()
    assert collections == [2]
