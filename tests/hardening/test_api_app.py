"""The REST API as the site serves it: ahead of NiceGUI's page middleware, so without a browser session, and with
every answer in the API's error shape, even for a route that does not exist or a failure nobody expected."""

from __future__ import annotations

import httpx
import pytest
from nicegui import core
from nicegui.testing import User

import app.api.customers
from app.db import Database
from app.services.api_keys import create_api_key
from tests.ui.portal_setup import acme


@pytest.fixture
def key(user: User, database: Database) -> dict[str, str]:
    with database.transaction() as session:
        return {"Authorization": f"Bearer {create_api_key(session=session, merchant_id=acme(session).id).secret}"}


def site() -> httpx.AsyncClient:
    """A client of the whole site's app; a failure inside it is answered, not raised into the test."""
    transport = httpx.ASGITransport(core.app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_api_answers_start_no_browser_session(key: dict[str, str]) -> None:
    async with site() as client:
        page = await client.get("/login")
        created = await client.post("/api/v1/customers", json={"email": "no.cookie@example.com"}, headers=key)
        listed = await client.get("/api/v1/customers?limit=1", headers=key)
        refused = await client.get("/api/v1/customers")
    assert "set-cookie" in page.headers  # a page does start one
    assert (created.status_code, listed.status_code, refused.status_code) == (201, 200, 401)
    for response in (created, listed, refused):
        assert "set-cookie" not in response.headers, response.request.url


async def test_an_unknown_api_route_or_method_is_answered_in_the_error_shape(key: dict[str, str]) -> None:
    async with site() as client:
        unknown = await client.get("/api/v1/customer", headers=key)
        wrong_method = await client.put("/api/v1/customers", json={}, headers=key)
    assert unknown.status_code == 404
    assert unknown.json() == {
        "error": {"type": "not_found", "message": "No such API route: GET /api/v1/customer.", "param": None}
    }
    assert wrong_method.status_code == 405
    assert "allow" in wrong_method.headers
    assert wrong_method.json()["error"]["type"] == "invalid_request_error"


async def test_an_unexpected_failure_is_a_500_with_a_reference_and_no_details(
    key: dict[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(**_: object) -> None:
        raise RuntimeError("the secret internals of the failure")

    monkeypatch.setattr(app.api.customers, "customer_json", broken)
    async with site() as client:
        response = await client.get("/api/v1/customers/cus_anything", headers=key)
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["type"] == "api_error"
    assert "secret internals" not in response.text
    reference = error["message"].rsplit(" ", 1)[-1].rstrip(".")
    assert any(reference in record.getMessage() and record.exc_info for record in caplog.records)
    caplog.clear()  # the error logged is this test's point, not a failure of the `user` fixture's app
