"""`/api/v1/subscriptions`: start (trial, charged, declined), retrieve, change with proration, cancel, list."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select

from app.context import AppContext
from app.enums import PriceInterval
from app.models import Event, EventSource, Payment, Price, Subscription
from app.services.portal_links import PortalAccess
from tests.payment_support import add_card_through
from tests.unit.portal_support import merchant_id_of

URL = "/api/v1/subscriptions"
GOOD_CARD, DECLINED_CARD = "4242 4242 4242 4242", "4000 0000 0000 0341"


def _prices(app_context: AppContext) -> dict[str, str]:
    with app_context.database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        return {p.nickname: p.id for p in session.scalars(select(Price).where(Price.merchant_id == acme))}


async def _customer(client: httpx.AsyncClient, acme: dict, app_context: AppContext, card: str | None = None) -> str:
    """A new customer made through the API, with `card` saved as the portal saves it (a real setup)."""
    response = await client.post("/api/v1/customers", json={"email": "subscriber@example.com"}, headers=acme)
    customer = response.json()["id"]
    if card:
        with app_context.database.transaction() as session:
            merchant = merchant_id_of(session, "Acme Cloud")
        access = PortalAccess(link_id="pl_test", merchant_id=merchant, customer_id=customer, return_url="")
        # The card element's requests run their own event loop: off this test's.
        await asyncio.to_thread(
            add_card_through, app_context.gateway, app_context.database, access, card, make_default=True
        )
    return customer


async def _invoices(client: httpx.AsyncClient, acme: dict, subscription: str) -> list[dict]:
    response = await client.get("/api/v1/invoices", params={"subscription": subscription}, headers=acme)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_a_paid_first_invoice_makes_it_active(
    client: httpx.AsyncClient, acme: dict, app_context: AppContext
) -> None:
    customer = await _customer(client, acme, app_context, GOOD_CARD)
    body = {"customer": customer, "items": [{"price": _prices(app_context)["Team monthly"], "quantity": 2}]}
    response = await client.post(URL, json=body, headers=acme)
    assert response.status_code == 201, response.text
    subscription = response.json()
    assert (subscription["status"], subscription["items"][0]["quantity"]) == ("active", 2)
    [invoice] = await _invoices(client, acme, subscription["id"])
    assert (invoice["status"], invoice["amount_paid"], invoice["billing_reason"]) == (
        "paid",
        5800,
        "subscription_create",
    )
    assert (await client.get(f"{URL}/{subscription['id']}", headers=acme)).json() == subscription


async def test_a_declined_first_charge_leaves_it_incomplete_with_an_open_invoice(
    client: httpx.AsyncClient, acme: dict, app_context: AppContext
) -> None:
    customer = await _customer(client, acme, app_context, DECLINED_CARD)
    body = {"customer": customer, "items": [{"price": _prices(app_context)["Starter monthly"]}]}
    response = await client.post(URL, json=body, headers=acme)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "incomplete"
    [invoice] = await _invoices(client, acme, response.json()["id"])
    assert (invoice["status"], invoice["amount_due"]) == ("open", 900)
    assert invoice["last_payment_error"]["message"]
    with app_context.database.transaction() as session:
        assert session.scalars(select(Payment.status).where(Payment.invoice_id == invoice["id"])).all() == ["failed"]
        types = session.scalars(select(Event.type).where(Event.customer_id == customer)).all()
    assert {"customer.subscription.created", "invoice.created", "invoice.payment_failed"} <= set(types)


async def test_without_a_card_it_is_incomplete_and_with_a_trial_trialing(
    client: httpx.AsyncClient, acme: dict, app_context: AppContext
) -> None:
    customer = await _customer(client, acme, app_context)
    starter = _prices(app_context)["Starter monthly"]
    incomplete = (
        await client.post(URL, json={"customer": customer, "items": [{"price": starter}]}, headers=acme)
    ).json()
    assert incomplete["status"] == "incomplete"
    assert [i["status"] for i in await _invoices(client, acme, incomplete["id"])] == ["open"]
    body = {"customer": customer, "items": [{"price": starter}], "trial_period_days": 14, "cancel_at_period_end": True}
    trialing = (await client.post(URL, json=body, headers=acme)).json()
    assert (trialing["status"], trialing["cancel_at_period_end"]) == ("trialing", True)
    assert trialing["trial_end"] == trialing["current_period_end"]
    assert await _invoices(client, acme, trialing["id"]) == []


async def test_bad_subscriptions_are_422_or_404(
    client: httpx.AsyncClient, acme: dict, globex: dict, app_context: AppContext
) -> None:
    customer = await _customer(client, acme, app_context)
    prices = _prices(app_context)
    with app_context.database.transaction() as session:
        team = session.get_one(Price, prices["Team monthly"])
        euro = Price(
            merchant_id=team.merchant_id,
            product_id=team.product_id,
            unit_amount=100,
            currency="EUR",
            interval=PriceInterval.MONTH,
        )
        session.add(euro)
        session.flush()
        euro_id = euro.id
    starter = prices["Starter monthly"]
    cases = [
        ({"customer": customer, "items": [{"price": starter}, {"price": euro_id}]}, "items[1].price"),
        ({"customer": customer, "items": [{"price": starter, "quantity": 0}]}, "items[0].quantity"),
        ({"customer": customer, "items": [{"price": starter, "quantity": -2}]}, "items[0].quantity"),
        ({"customer": customer, "items": [{"price": starter, "quantity": 1.5}]}, "items[0].quantity"),
        ({"customer": customer, "items": [{"price": "price_nope"}]}, "items[0].price"),
        ({"customer": customer, "items": []}, "items"),
        ({"customer": customer, "items": [{"price": starter}], "trial_period_days": -1}, "trial_period_days"),
        ({"customer": customer, "items": [{"price": starter}], "coupon": "FREE"}, "coupon"),
    ]
    for body, param in cases:
        response = await client.post(URL, json=body, headers=acme)
        assert response.status_code == 422, (body, response.text)
        assert param in [e["param"] for e in response.json()["error"]["errors"]], (param, response.text)
    response = await client.post(URL, json={"customer": customer, "items": [{"price": starter}]}, headers=globex)
    assert response.status_code == 404 and response.json()["error"]["param"] == "customer"
    with app_context.database.transaction() as session:
        assert session.scalars(select(Subscription.id).where(Subscription.customer_id == customer)).all() == []


async def test_change_cancel_at_period_end_and_cancel_now(
    client: httpx.AsyncClient, acme: dict, globex: dict, app_context: AppContext
) -> None:
    customer = await _customer(client, acme, app_context, GOOD_CARD)
    prices = _prices(app_context)
    body = {"customer": customer, "items": [{"price": prices["Starter monthly"]}]}
    subscription = (await client.post(URL, json=body, headers=acme)).json()
    url = f"{URL}/{subscription['id']}"
    assert (await client.patch(url, json={"quantity": 1}, headers=globex)).status_code == 404
    changed = await client.patch(url, json={"price": prices["Team monthly"], "quantity": 3}, headers=acme)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["items"][0]["price"]["id"], changed.json()["items"][0]["quantity"]) == (
        prices["Team monthly"],
        3,
    )
    proration = [
        i for i in await _invoices(client, acme, subscription["id"]) if i["billing_reason"] == "subscription_update"
    ]
    assert proration and proration[0]["status"] == "open" and proration[0]["amount_due"] > 0
    assert (await client.patch(url, json={"quantity": 0}, headers=acme)).status_code == 422
    assert (await client.patch(url, json={"cancel_at_period_end": True}, headers=acme)).json()["cancel_at_period_end"]
    canceled = await client.delete(url, headers=acme)
    assert (canceled.status_code, canceled.json()["status"]) == (200, "canceled")
    conflict = await client.patch(url, json={"quantity": 2}, headers=acme)
    assert (conflict.status_code, conflict.json()["error"]["type"]) == (409, "conflict")


async def test_the_same_idempotency_key_starts_and_charges_once(
    client: httpx.AsyncClient, acme: dict, app_context: AppContext
) -> None:
    customer = await _customer(client, acme, app_context, GOOD_CARD)
    body = {"customer": customer, "items": [{"price": _prices(app_context)["Starter monthly"]}]}
    headers = {**acme, "Idempotency-Key": "checkout-1"}
    first, again = [await client.post(URL, json=body, headers=headers) for _ in range(2)]
    assert (first.status_code, again.status_code, again.json()) == (201, 201, first.json())
    different = await client.post(URL, json={**body, "cancel_at_period_end": True}, headers=headers)
    assert different.status_code == 409
    with app_context.database.transaction() as session:
        assert len(session.scalars(select(Subscription.id).where(Subscription.customer_id == customer)).all()) == 1
        assert len(session.scalars(select(Payment.id).where(Payment.customer_id == customer)).all()) == 1


async def test_lists_by_customer_and_status_over_several_pages(
    client: httpx.AsyncClient, acme: dict, app_context: AppContext
) -> None:
    customer = await _customer(client, acme, app_context)
    starter = _prices(app_context)["Starter monthly"]
    ids = [
        (
            await client.post(
                URL, json={"customer": customer, "items": [{"price": starter}], "trial_period_days": 7}, headers=acme
            )
        ).json()["id"]
        for _ in range(5)
    ]
    seen: list[str] = []
    params: dict[str, object] = {"customer": customer, "limit": 2}
    while True:
        page = (await client.get(URL, params=params, headers=acme)).json()
        seen.extend(s["id"] for s in page["data"])
        if not page["has_more"]:
            break
        params["starting_after"] = seen[-1]
    assert seen == sorted(ids, reverse=True)  # created at one moment: newest first, then by id
    trialing = (await client.get(URL, params={"status": "trialing", "limit": 100}, headers=acme)).json()["data"]
    assert set(ids) <= {s["id"] for s in trialing} and {s["status"] for s in trialing} == {"trialing"}
    bad = await client.get(URL, params={"status": "sleeping"}, headers=acme)
    assert (bad.status_code, bad.json()["error"]["param"]) == (422, "status")


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_an_unknown_subscription_is_404(client: httpx.AsyncClient, acme: dict, method: str) -> None:
    response = await client.request(method, f"{URL}/sub_nope", headers=acme, json={} if method == "PATCH" else None)
    assert response.status_code == 404


async def test_a_trial_can_end_at_a_given_moment_in_the_future(
    client: httpx.AsyncClient, acme: dict, app_context: AppContext
) -> None:
    customer = await _customer(client, acme, app_context)
    starter = _prices(app_context)["Starter monthly"]
    body = {"customer": customer, "items": [{"price": starter}]}
    trial_end = "2026-12-10T12:00:00Z"  # DEMO_NOW is 2026-11-26 12:00 UTC
    trialing = await client.post(URL, json={**body, "trial_end": trial_end}, headers=acme)
    assert trialing.status_code == 201, trialing.text
    assert (trialing.json()["status"], trialing.json()["trial_end"]) == ("trialing", trial_end)
    assert trialing.json()["current_period_end"] == trial_end
    for bad in (
        {"trial_end": "2026-11-01T12:00:00Z"},  # in the past
        {"trial_end": "2026-12-10T12:00:00"},  # no time zone
        {"trial_end": trial_end, "trial_period_days": 7},  # both
    ):
        response = await client.post(URL, json={**body, **bad}, headers=acme)
        assert response.status_code == 422, (bad, response.text)
        assert "trial_end" in [error["param"] for error in response.json()["error"]["errors"]], bad


async def test_an_archived_price_cannot_start_a_subscription(
    client: httpx.AsyncClient, acme: dict, app_context: AppContext
) -> None:
    customer = await _customer(client, acme, app_context)
    starter = _prices(app_context)["Starter monthly"]
    archived = await client.patch(f"/api/v1/prices/{starter}", json={"active": False}, headers=acme)
    assert archived.status_code == 200 and archived.json()["active"] is False
    response = await client.post(URL, json={"customer": customer, "items": [{"price": starter}]}, headers=acme)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == "items[0].price"


async def test_every_change_through_the_api_is_an_event_from_the_api(
    client: httpx.AsyncClient, acme: dict, app_context: AppContext
) -> None:
    customer = await _customer(client, acme, app_context, GOOD_CARD)
    prices = _prices(app_context)
    body = {"customer": customer, "items": [{"price": prices["Starter monthly"]}]}
    subscription = (await client.post(URL, json=body, headers=acme)).json()
    url = f"{URL}/{subscription['id']}"
    assert (await client.patch(url, json={"price": prices["Team monthly"]}, headers=acme)).status_code == 200
    assert (await client.patch(url, json={"cancel_at_period_end": True}, headers=acme)).status_code == 200
    assert (await client.delete(url, headers=acme)).status_code == 200
    with app_context.database.transaction() as session:
        events = session.execute(
            select(Event.type, Event.source).where(Event.object_id == subscription["id"]).order_by(Event.created_at)
        ).all()
    assert {source for _, source in events} == {EventSource.API}
    types = [event_type for event_type, _ in events]
    assert types[0] == "customer.subscription.created" and types[-1] == "customer.subscription.deleted"
    assert types.count("customer.subscription.updated") >= 2  # the plan change and cancel_at_period_end


async def test_another_merchants_ids_in_bodies_and_filters_are_answered_as_unknown_ones(
    client: httpx.AsyncClient, acme: dict, globex: dict, app_context: AppContext
) -> None:
    """No hint that an id exists at another merchant: the same answer as for an id that exists nowhere."""
    with app_context.database.transaction() as session:
        globex_id = merchant_id_of(session, "Globex")
        theirs = session.scalars(select(Subscription).where(Subscription.merchant_id == globex_id).limit(1)).one()
        their_price = session.scalars(select(Price.id).where(Price.merchant_id == globex_id).limit(1)).one()
        their_subscription, their_customer = theirs.id, theirs.customer_id
    customer = await _customer(client, acme, app_context)

    def answer(response: httpx.Response) -> tuple[int, dict]:
        error = response.json()["error"]
        return response.status_code, {"type": error["type"], "message": error["message"], "param": error["param"]}

    start = [{"customer": customer, "items": [{"price": price}]} for price in (their_price, "price_nope")]
    assert answer(await client.post(URL, json=start[0], headers=acme)) == answer(
        await client.post(URL, json=start[1], headers=acme)
    )
    for path, param, value in (
        (URL, "customer", their_customer),
        ("/api/v1/invoices", "customer", their_customer),
        ("/api/v1/invoices", "subscription", their_subscription),
        ("/api/v1/payment_methods", "customer", their_customer),
    ):
        theirs_answer = answer(await client.get(path, params={param: value}, headers=acme))
        assert theirs_answer[0] == 404 and theirs_answer[1]["param"] == param, (path, param)
        assert theirs_answer == answer(await client.get(path, params={param: f"{value[:4]}nope"}, headers=acme))
