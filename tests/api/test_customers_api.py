"""`/api/v1/customers`: create, retrieve, update, soft delete, list with cursor pages; errors in the one shape."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import httpx
import pytest
from sqlalchemy import select, update

from app.context import AppContext
from app.models import Customer, Event, EventSource, IdempotencyKey, PaymentMethod
from app.services import customer_records
from app.services.api_objects import CustomerObject, ListObject
from tests.conftest import DEMO_NOW
from tests.unit.portal_support import merchant_id_of

URL = "/api/v1/customers"
JENNY = {
    "email": "Jenny.Rosen@example.com",
    "name": "Jenny Rosen",
    "phone": "+49 30 1234567",
    "locale": "de_DE",
    "address": {"line1": "Hauptstraße 5", "city": "Berlin", "postal_code": "10115", "country": "DE"},
    "shipping": {
        "name": "Jenny Rosen",
        "address": {"line1": "Hauptstraße 5", "city": "Berlin", "postal_code": "10115", "country": "DE"},
    },
    "tax_id": {"type": "eu_vat", "value": "DE123456789"},
    "metadata": {"user_id": "4711"},
}


async def _create(client: httpx.AsyncClient, headers: dict[str, str], **fields: object) -> dict:
    response = await client.post(URL, json={"email": "new@example.com", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_retrieve_update_delete(client: httpx.AsyncClient, acme: dict, app_context: AppContext) -> None:
    created = await _create(client, acme, **JENNY)
    assert set(created) == set(CustomerObject.model_fields)
    assert (created["email"], created["preferred_locales"], created["metadata"]) == (
        "jenny.rosen@example.com",
        ["de_DE"],
        {"user_id": "4711"},
    )
    assert created["shipping"]["address"]["city"] == "Berlin" and created["tax_id"]["value"] == "DE123456789"
    assert (await client.get(f"{URL}/{created['id']}", headers=acme)).json() == created

    response = await client.patch(f"{URL}/{created['id']}", json={"name": "Jenny R.", "shipping": None}, headers=acme)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["name"], updated["shipping"], updated["address"]) == ("Jenny R.", None, created["address"])

    response = await client.delete(f"{URL}/{created['id']}", headers=acme)
    assert response.status_code == 200 and response.json()["id"] == created["id"]
    for method in ("GET", "PATCH", "DELETE"):
        again = await client.request(
            method, f"{URL}/{created['id']}", headers=acme, json={} if method == "PATCH" else None
        )
        assert again.status_code == 404, method
    with app_context.database.transaction() as session:
        assert session.get_one(Customer, created["id"]).deleted_at == DEMO_NOW
        events = session.execute(select(Event.type, Event.source).where(Event.object_id == created["id"])).all()
    assert [type_ for type_, _ in events] == ["customer.created", "customer.updated", "customer.deleted"]
    assert {source for _, source in events} == {EventSource.API}


async def test_another_merchants_customer_is_404_everywhere(
    client: httpx.AsyncClient, acme: dict, globex: dict
) -> None:
    theirs = await _create(client, globex, email="globex@example.com")
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(
            method, f"{URL}/{theirs['id']}", headers=acme, json={"name": "x"} if method == "PATCH" else None
        )
        assert response.status_code == 404
        assert response.json() == {"error": {"type": "not_found", "message": "No such customer.", "param": None}}
    listed = (await client.get(URL, params={"email": "globex@example.com"}, headers=acme)).json()
    assert listed == {"object": "list", "data": [], "has_more": False}
    response = await client.get(URL, params={"starting_after": theirs["id"]}, headers=acme)
    assert (response.status_code, response.json()["error"]["param"]) == (404, "starting_after")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"email": "a@example.com", "nickname": "x"}, "nickname"),
        ({"email": "a@example.com", "address": {"line1": "x", "city": "y", "country": "XX"}}, "address.country"),
        (
            {"email": "a@example.com", "address": {"line1": "x", "city": "y", "country": "US", "zip": "1"}},
            "address.zip",
        ),
        ({"email": "not an email"}, "email"),
        ({"name": "No Email"}, "email"),
        ({"email": "a@example.com", "phone": "0123"}, "phone"),
        ({"email": "a@example.com", "locale": "tlh"}, "locale"),
        ({"email": "a@example.com", "tax_id": {"type": "eu_vat", "value": "12"}}, "tax_id.value"),
        ({"email": "a@example.com", "metadata": {"k": 1}}, "metadata.k"),
        ({"email": "a@example.com", "metadata": {"x" * 41: "v"}}, "metadata"),
        (
            {"email": "a@example.com", "shipping": {"address": {"line1": "x", "city": "y", "country": "FR"}}},
            "shipping.name",
        ),
    ],
)
async def test_bad_input_is_422_naming_the_field(
    client: httpx.AsyncClient, acme: dict, app_context: AppContext, body: dict, param: str
) -> None:
    response = await client.post(URL, json=body, headers=acme)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert param in [e["param"] for e in error["errors"]]
    assert set(error) == {"type", "message", "param", "errors"}
    with app_context.database.transaction() as session:
        assert session.scalar(select(Customer.id).where(Customer.email == "a@example.com")) is None


async def test_a_422_echoes_at_most_an_excerpt_of_what_was_sent(client: httpx.AsyncClient, acme: dict) -> None:
    secret = "s3cr3t-" * 20
    response = await client.post(URL, json={"email": "a@example.com", secret: "x"}, headers=acme)
    assert response.status_code == 422
    assert secret not in response.text and secret[:40] in response.text


async def test_an_email_in_use_is_a_409(client: httpx.AsyncClient, acme: dict) -> None:
    first = await _create(client, acme, email="taken@example.com")
    response = await client.post(URL, json={"email": "TAKEN@example.com"}, headers=acme)
    assert response.status_code == 409
    assert response.json()["error"]["type"] == "conflict" and first["id"] in response.json()["error"]["message"]


async def test_pages_walk_every_customer_once_newest_first(
    client: httpx.AsyncClient, acme: dict, app_context: AppContext
) -> None:
    for number in range(3):
        await _create(client, acme, email=f"walk{number}@example.com")
    seen: list[str] = []
    pages = 0
    params: dict[str, object] = {"limit": 7}
    while True:
        page = (await client.get(URL, params=params, headers=acme)).json()
        pages += 1
        seen.extend(customer["id"] for customer in page["data"])
        if not page["has_more"]:
            break
        params["starting_after"] = seen[-1]
    with app_context.database.transaction() as session:
        acme_id = merchant_id_of(session, "Acme Cloud")
        expected = session.scalars(
            select(Customer.id)
            .where(Customer.merchant_id == acme_id, Customer.deleted_at.is_(None))
            .order_by(Customer.created_at.desc(), Customer.id.desc())
        ).all()
    assert seen == list(expected) and pages > 2
    default = (await client.get(URL, headers=acme)).json()
    assert len(default["data"]) == 10 and default["has_more"]
    found = (await client.get(URL, params={"email": "WALK1@example.com"}, headers=acme)).json()
    assert [customer["email"] for customer in found["data"]] == ["walk1@example.com"]


@pytest.mark.parametrize("limit", [0, 101, "ten"])
async def test_a_limit_outside_1_to_100_is_422(client: httpx.AsyncClient, acme: dict, limit: object) -> None:
    response = await client.get(URL, params={"limit": limit}, headers=acme)
    assert (response.status_code, response.json()["error"]["param"]) == (422, "limit")


async def test_the_same_idempotency_key_and_body_gives_the_first_answer_and_one_customer(
    client: httpx.AsyncClient, acme: dict, globex: dict, app_context: AppContext
) -> None:
    headers = {**acme, "Idempotency-Key": "signup-4711"}
    first = await client.post(URL, json={"email": "once@example.com", "name": "Once"}, headers=headers)
    # The same body with its keys in another order and other spacing is the same request.
    again = await client.post(
        URL,
        content=b'{ "name": "Once",  "email": "once@example.com" }',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    different = await client.post(URL, json={"email": "twice@example.com"}, headers=headers)
    assert different.status_code == 409 and "Idempotency-Key" in different.json()["error"]["message"]
    # Keys are per merchant: Globex's own "signup-4711" is another key.
    theirs = await client.post(
        URL, json={"email": "once@example.com"}, headers={**globex, "Idempotency-Key": "signup-4711"}
    )
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    with app_context.database.transaction() as session:
        assert len(session.scalars(select(Customer.id).where(Customer.email == "once@example.com")).all()) == 2
        # After 24 hours the key is forgotten: the request is new again (and then conflicts on the email).
        session.execute(update(IdempotencyKey).values(created_at=DEMO_NOW.replace(day=25)))
    later = await client.post(URL, json={"email": "once@example.com", "name": "Once"}, headers=headers)
    assert later.status_code == 409 and "Idempotent-Replayed" not in later.headers


async def test_a_refused_request_keeps_no_answer_for_its_key(client: httpx.AsyncClient, acme: dict) -> None:
    headers = {**acme, "Idempotency-Key": "fix-and-retry"}
    assert (await client.post(URL, json={"email": "bad"}, headers=headers)).status_code == 422
    first = await _create(client, acme, email="taken-later@example.com")
    assert (await client.post(URL, json={"email": "taken-later@example.com"}, headers=headers)).status_code == 409
    response = await client.post(URL, json={"email": "fixed@example.com"}, headers=headers)
    assert response.status_code == 201 and response.json()["id"] != first["id"]


async def test_an_empty_or_overlong_idempotency_key_is_422(client: httpx.AsyncClient, acme: dict) -> None:
    for key in ("", "k" * 256):
        response = await client.post(URL, json={"email": "k@example.com"}, headers={**acme, "Idempotency-Key": key})
        assert (response.status_code, response.json()["error"]["param"]) == (422, "Idempotency-Key"), key


async def test_lists_and_retrieves_answer_the_documented_models_json_byte_for_byte(
    client: httpx.AsyncClient, acme: dict, app_context: AppContext
) -> None:
    """Customers are encoded from plain data without the models (speed): the bytes must be the models' own JSON."""
    await _create(client, acme, **JENNY)
    await _create(client, acme, email="bare@example.com", metadata={"plan": "ünïcode ✓"})
    page = await client.get(URL, params={"limit": 100}, headers=acme)
    listed = ListObject[CustomerObject].model_validate_json(page.content)
    assert listed.model_dump_json().encode() == page.content
    with app_context.database.transaction() as session:
        acme_id = merchant_id_of(session, "Acme Cloud")
        default_cards = dict(
            session.execute(
                select(PaymentMethod.customer_id, PaymentMethod.id)
                .join(Customer)
                .where(Customer.merchant_id == acme_id, PaymentMethod.is_default)
            ).all()
        )
    assert default_cards and all(
        customer.invoice_settings.default_payment_method == default_cards.get(customer.id) for customer in listed.data
    )
    kinds = {(c.address is None, c.shipping is None, c.tax_id is None, not c.metadata) for c in listed.data}
    assert len(kinds) >= 3  # customers with and without each part
    for customer in listed.data:
        retrieved = await client.get(f"{URL}/{customer.id}", headers=acme)
        assert retrieved.content == customer.model_dump_json().encode()


async def test_two_creates_racing_for_one_email_make_one_customer_and_a_409(
    client: httpx.AsyncClient, acme: dict, app_context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both requests find the address free before either writes: the database lets one through. (Two processes:
    within one, SQLite's writers take turns, see Database.writer_turn.)"""
    monkeypatch.setattr(app_context.database, "writer_turn", contextlib.nullcontext)
    both_checked = threading.Barrier(2, timeout=10)
    check = customer_records._check_email_is_free

    def check_then_wait_for_the_other(*args: object) -> None:
        check(*args)
        both_checked.wait()

    monkeypatch.setattr(customer_records, "_check_email_is_free", check_then_wait_for_the_other)
    answers = await asyncio.gather(
        *(client.post(URL, json={"email": "race@example.com", "name": name}, headers=acme) for name in "AB")
    )
    assert sorted(answer.status_code for answer in answers) == [201, 409], [answer.text for answer in answers]
    refused = next(answer for answer in answers if answer.status_code == 409)
    assert refused.json() == {
        "error": {"type": "conflict", "message": "Another customer has this email address already.", "param": None}
    }
    found = (await client.get(URL, params={"email": "race@example.com"}, headers=acme)).json()["data"]
    assert [customer["id"] for customer in found] == [
        next(answer for answer in answers if answer.status_code == 201).json()["id"]
    ]


async def test_idempotency_keys_are_per_merchant(client: httpx.AsyncClient, acme: dict, globex: dict) -> None:
    """Another merchant's request with the same key is not a replay or a conflict: keys are per merchant."""
    key = {"Idempotency-Key": "signup-42"}
    mine = await client.post(URL, json={"email": "one@example.com"}, headers={**acme, **key})
    theirs = await client.post(URL, json={"email": "two@example.com"}, headers={**globex, **key})
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in theirs.headers and theirs.json()["email"] == "two@example.com"
    again = await client.post(URL, json={"email": "one@example.com"}, headers={**acme, **key})
    assert (again.status_code, again.headers["Idempotent-Replayed"], again.json()) == (201, "true", mine.json())
