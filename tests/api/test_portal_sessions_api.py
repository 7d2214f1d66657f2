"""`POST /api/v1/portal_sessions`: 201 with a working link, 401 without a valid key, 404 for others' customers, 422."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from app.context import AppContext
from app.models import Customer, Event, EventSource, PortalLink
from app.services.api_keys import create_api_key, revoke_api_key
from app.services.api_objects import PortalSessionObject
from app.services.portal_links import open_link
from tests.conftest import DEMO_NOW
from tests.unit.portal_support import merchant_id_of

URL = "/api/v1/portal_sessions"


def _customer_of(app_context: AppContext, business_name: str) -> str:
    with app_context.database.transaction() as session:
        merchant_id = merchant_id_of(session, business_name)
        return session.scalars(select(Customer.id).where(Customer.merchant_id == merchant_id).limit(1)).one()


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_creates_a_link_that_opens_the_customers_portal(
    client: httpx.AsyncClient, app_context: AppContext, acme_key: str
) -> None:
    customer = _customer_of(app_context, "Acme Cloud")
    body = {"customer": customer, "return_url": "https://acme.test/account"}
    response = await client.post(URL, json=body, headers=_auth(acme_key))
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == set(PortalSessionObject.model_fields)  # the portal session object, with its URL
    assert (created["object"], created["customer"], created["status"]) == ("portal_session", customer, "active")
    assert created["expires_at"].startswith((DEMO_NOW + timedelta(days=1)).date().isoformat())
    with app_context.database.transaction() as session:
        access = open_link(
            session=session,
            settings=app_context.settings,
            token=created["url"].rsplit("/portal/", 1)[1],
            clock=lambda: DEMO_NOW,
        )
        assert session.get_one(PortalLink, created["id"]).created_by.startswith("api:key_")
        sources = session.scalars(select(Event.source).where(Event.object_id == created["id"])).all()
    assert (access.customer_id, access.return_url) == (customer, "https://acme.test/account")
    assert EventSource.API in sources


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sk_wrong"}, {"Authorization": "Basic abc"}])
async def test_a_missing_or_wrong_key_is_401(client: httpx.AsyncClient, app_context: AppContext, headers: dict) -> None:
    response = await client.post(URL, json={"customer": _customer_of(app_context, "Acme Cloud")}, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["type"] == "authentication_error"


async def test_a_revoked_key_is_401(client: httpx.AsyncClient, app_context: AppContext, acme_key: str) -> None:
    with app_context.database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        created = create_api_key(session=session, merchant_id=acme)
        revoke_api_key(session=session, merchant_id=acme, key_id=created.key.id)
    response = await client.post(
        URL, json={"customer": _customer_of(app_context, "Acme Cloud")}, headers=_auth(created.secret)
    )
    assert response.status_code == 401


async def test_another_merchants_customer_is_404_and_gets_no_link(
    client: httpx.AsyncClient, app_context: AppContext, acme_key: str
) -> None:
    globex_customer = _customer_of(app_context, "Globex")
    for customer in (globex_customer, "cus_doesnotexist"):
        response = await client.post(URL, json={"customer": customer}, headers=_auth(acme_key))
        assert response.status_code == 404
        assert response.json() == {"error": {"type": "not_found", "message": "No such customer.", "param": "customer"}}
    with app_context.database.transaction() as session:
        assert session.scalars(select(PortalLink)).all() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"customer": "cus_x", "return_url": "http://acme.test"}, "return_url"),
        ({"customer": "cus_x", "return_url": "javascript:alert(1)"}, "return_url"),
        ({"customer": "cus_x", "extra": 1}, "extra"),
        ({}, "customer"),
        ({"customer": ""}, "customer"),
    ],
)
async def test_bad_input_is_422_with_field_errors(
    client: httpx.AsyncClient, acme_key: str, body: dict, field: str
) -> None:
    response = await client.post(URL, json=body, headers=_auth(acme_key))
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", field)
    assert [e["param"] for e in error["errors"]] == [field]
    if field == "return_url":
        assert error["message"].startswith("Enter a full https:// address")


async def test_the_openapi_schema_documents_the_endpoint(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"][URL]["post"]
    assert set(operation["responses"]) >= {"201", "401", "404", "422"}
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
