"""`POST /api/v1/portal_sessions` with `flow`: the link opens at one task; others' objects are refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.api import build_router
from app.context import AppContext
from app.models import Invoice, PortalLink, Subscription, SubscriptionStatus
from app.services.api_keys import create_api_key
from tests.unit.portal_support import merchant_id_of

URL = "/api/v1/portal_sessions"


@pytest.fixture
async def client(app_context: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    api = FastAPI()
    api.include_router(build_router(app_context))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def acme_key(app_context: AppContext) -> str:
    with app_context.database.transaction() as session:
        return create_api_key(session=session, merchant_id=merchant_id_of(session, "Acme Cloud")).secret


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _subscription(app_context: AppContext, *, other_than: str = "") -> Subscription:
    with app_context.database.transaction() as session:
        return session.scalars(
            select(Subscription)
            .where(
                Subscription.merchant_id == merchant_id_of(session, "Acme Cloud"),
                Subscription.status == SubscriptionStatus.ACTIVE,
                Subscription.customer_id != other_than,
                Subscription.cancel_at_period_end.is_(False),
            )
            .limit(1)
        ).one()


async def test_flows_are_added_to_the_link(client: httpx.AsyncClient, app_context: AppContext, acme_key: str) -> None:
    subscription = _subscription(app_context)
    customer = subscription.customer_id
    body = {"customer": customer, "flow": {"type": "subscription_cancel", "subscription": subscription.id}}
    response = await client.post(URL, json=body, headers=_auth(acme_key))
    assert response.status_code == 201, response.text
    assert response.json()["url"].endswith(f"?flow=subscription_cancel&subscription={subscription.id}")
    response = await client.post(
        URL, json={"customer": customer, "flow": {"type": "payment_method_update"}}, headers=_auth(acme_key)
    )
    assert response.json()["url"].endswith("?flow=payment_method_update")


async def test_another_customers_object_or_an_unknown_flow_is_refused_and_no_link_is_made(
    client: httpx.AsyncClient, app_context: AppContext, acme_key: str
) -> None:
    subscription = _subscription(app_context)
    other = _subscription(app_context, other_than=subscription.customer_id)
    with app_context.database.transaction() as session:
        links_before = len(session.scalars(select(PortalLink.id)).all())
        foreign_invoice = session.scalars(select(Invoice.id).where(Invoice.customer_id == other.customer_id)).first()
    for flow in (
        {"type": "subscription_cancel", "subscription": other.id},
        {"type": "invoice", "invoice": foreign_invoice},
    ):
        response = await client.post(
            URL, json={"customer": subscription.customer_id, "flow": flow}, headers=_auth(acme_key)
        )
        assert response.status_code == 400, response.text
        assert "No such" in response.json()["error"]["message"]
    response = await client.post(
        URL, json={"customer": subscription.customer_id, "flow": {"type": "bogus"}}, headers=_auth(acme_key)
    )
    assert response.status_code == 422
    with app_context.database.transaction() as session:
        assert len(session.scalars(select(PortalLink.id)).all()) == links_before
