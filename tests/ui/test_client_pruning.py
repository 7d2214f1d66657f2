import time

from nicegui import Client
from nicegui.testing import User

from pages.client_pruning import UNCONNECTED_CLIENT_SECONDS, prune_unconnected_clients


async def test_page_loads_that_never_connect_are_freed_after_the_grace_period(user: User) -> None:
    response = await user.http_client.get("/login")  # a plain GET: no websocket ever connects
    assert response.status_code == 200
    unconnected = [client for client in Client.instances.values() if not client.has_socket_connection]
    assert unconnected
    prune_unconnected_clients()
    assert all(client.id in Client.instances for client in unconnected)  # still within the grace period
    for client in unconnected:
        client.created = time.time() - UNCONNECTED_CLIENT_SECONDS - 1
    prune_unconnected_clients()
    assert all(client.id not in Client.instances for client in unconnected)
