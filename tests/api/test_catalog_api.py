"""`/api/v1/products` and `/api/v1/prices`: create, retrieve, list with cursor pages, update; a price's terms never
change; another merchant's ids are 404; idempotent creation; errors in the one shape."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from app.context import AppContext
from app.models import Event, EventSource

PRODUCTS, PRICES = "/api/v1/products", "/api/v1/prices"


async def _product(client: httpx.AsyncClient, headers: dict[str, str], name: str = "Pro plan") -> dict:
    response = await client.post(PRODUCTS, json={"name": name}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_retrieve_update_a_product_and_its_price(client: httpx.AsyncClient, acme: dict) -> None:
    product = await _product(client, acme)
    assert (product["object"], product["name"], product["active"]) == ("product", "Pro plan", True)
    assert product["id"].startswith("prod_")
    assert (await client.get(f"{PRODUCTS}/{product['id']}", headers=acme)).json() == product

    body = {"product": product["id"], "unit_amount": 2900, "currency": "usd", "interval": "week", "interval_count": 2}
    response = await client.post(PRICES, json=body, headers=acme)
    assert response.status_code == 201, response.text
    price = response.json()
    assert (price["object"], price["unit_amount"], price["currency"], price["product"]) == (
        "price",
        2900,
        "USD",
        product["id"],
    )
    assert price["recurring"] == {"interval": "week", "interval_count": 2} and price["active"] is True
    assert (await client.get(f"{PRICES}/{price['id']}", headers=acme)).json() == price

    renamed = await client.patch(f"{PRICES}/{price['id']}", json={"nickname": "Fortnightly"}, headers=acme)
    assert renamed.status_code == 200 and renamed.json()["nickname"] == "Fortnightly"
    archived = await client.patch(f"{PRODUCTS}/{product['id']}", json={"active": False}, headers=acme)
    assert archived.status_code == 200 and archived.json()["active"] is False
    assert (await client.get(f"{PRICES}/{price['id']}", headers=acme)).json()["active"] is False


async def test_a_price_cannot_change_its_terms(client: httpx.AsyncClient, acme: dict) -> None:
    product = await _product(client, acme)
    body = {"product": product["id"], "unit_amount": 900, "currency": "USD", "interval": "month"}
    price = (await client.post(PRICES, json=body, headers=acme)).json()
    response = await client.patch(f"{PRICES}/{price['id']}", json={"unit_amount": 1200}, headers=acme)
    assert response.status_code == 422
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_bad_prices_are_422_with_the_field(client: httpx.AsyncClient, acme: dict) -> None:
    product = await _product(client, acme)
    cases = [
        ({"unit_amount": -5}, "unit_amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"interval_count": 13}, "interval_count"),
        ({"interval": "fortnight"}, "interval"),
        ({"product": "prod_nope"}, "product"),
        ({"surprise": 1}, "surprise"),
    ]
    for change, param in cases:
        body = {"product": product["id"], "unit_amount": 900, "currency": "USD", "interval": "month", **change}
        response = await client.post(PRICES, json=body, headers=acme)
        assert response.status_code == 422, (change, response.text)
        assert param in response.text, (change, response.text)


async def test_another_merchants_product_and_price_are_404(client: httpx.AsyncClient, acme: dict, globex: dict) -> None:
    product = await _product(client, globex)
    body = {"product": product["id"], "unit_amount": 900, "currency": "EUR", "interval": "year"}
    price = (await client.post(PRICES, json=body, headers=globex)).json()
    for url in (f"{PRODUCTS}/{product['id']}", f"{PRICES}/{price['id']}"):
        assert (await client.get(url, headers=acme)).status_code == 404
        assert (await client.patch(url, json={"active": False}, headers=acme)).status_code == 404
    assert (await client.get(PRICES, params={"product": product["id"]}, headers=acme)).status_code == 404
    assert (await client.get(PRODUCTS)).status_code == 401


async def test_lists_page_newest_first(client: httpx.AsyncClient, acme: dict) -> None:
    made = [(await _product(client, acme, f"Plan {number}"))["id"] for number in range(3)]
    seen: list[str] = []
    created: list[str] = []
    after = None
    while True:
        params = {"limit": 2, **({"starting_after": after} if after else {})}
        page = (await client.get(PRODUCTS, params=params, headers=acme)).json()
        seen += [product["id"] for product in page["data"]]
        created += [product["created"] for product in page["data"]]
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    assert set(made) <= set(seen) and len(seen) == len(set(seen)) > 3  # every product once, the demo's too
    assert created == sorted(created, reverse=True)
    prices = (await client.get(PRICES, params={"limit": 100, "active": "true"}, headers=acme)).json()
    assert prices["data"] and all(price["active"] for price in prices["data"])


async def test_the_same_idempotency_key_creates_one_product(client: httpx.AsyncClient, acme: dict) -> None:
    headers = {**acme, "Idempotency-Key": "product-1"}
    first = await client.post(PRODUCTS, json={"name": "Once"}, headers=headers)
    again = await client.post(PRODUCTS, json={"name": "Once"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201) and first.json() == again.json()
    other = await client.post(PRODUCTS, json={"name": "Other"}, headers=headers)
    assert other.status_code == 409


async def test_catalogue_changes_are_events_from_the_api(
    client: httpx.AsyncClient, acme: dict, app_context: AppContext
) -> None:
    product = await _product(client, acme)
    body = {"product": product["id"], "unit_amount": 900, "currency": "USD", "interval": "month"}
    price = (await client.post(PRICES, json=body, headers=acme)).json()
    await client.patch(f"{PRICES}/{price['id']}", json={"nickname": "Launch"}, headers=acme)
    await client.patch(f"{PRICES}/{price['id']}", json={"nickname": "Launch"}, headers=acme)  # no change, no event
    archived = (await client.patch(f"{PRODUCTS}/{product['id']}", json={"active": False}, headers=acme)).json()
    with app_context.database.transaction() as session:
        events = session.scalars(
            select(Event).where(Event.object_id.in_([product["id"], price["id"]])).order_by(Event.created_at, Event.id)
        ).all()
        found = [(e.type, e.source, e.customer_id, e.data.get("previous_attributes")) for e in events]
        objects = {(e.type, str(e.data.get("previous_attributes"))): e.data["object"] for e in events}
    assert sorted(found, key=lambda event: (event[0], str(event[3]))) == [
        ("price.created", EventSource.API, None, None),
        ("price.updated", EventSource.API, None, {"active": True}),
        ("price.updated", EventSource.API, None, {"nickname": None}),
        ("product.created", EventSource.API, None, None),
        ("product.updated", EventSource.API, None, {"active": True}),
    ]
    assert objects["product.updated", "{'active': True}"] == archived  # the object as the API returns it
    assert (
        objects["price.updated", "{'active': True}"]
        == (await client.get(f"{PRICES}/{price['id']}", headers=acme)).json()
    )
