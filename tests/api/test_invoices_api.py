"""`/api/v1/invoices` and `/api/v1/payment_methods`: read-only, the merchant's own only; an invoice as a PDF."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from app.context import AppContext
from app.enums import InvoiceStatus
from app.models import Customer, Invoice, PaymentMethod
from app.services.api_objects import InvoiceObject, PaymentMethodObject
from tests.unit.portal_support import merchant_id_of


def _acme_customer_with_invoices(app_context: AppContext) -> str:
    with app_context.database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        return session.scalars(
            select(Invoice.customer_id)
            .join(Customer, Customer.id == Invoice.customer_id)
            .where(Invoice.merchant_id == acme, Customer.deleted_at.is_(None))
            .group_by(Invoice.customer_id)
            .order_by(func.count().desc(), Invoice.customer_id)
            .limit(1)
        ).one()


async def _walk(client: httpx.AsyncClient, headers: dict, url: str, **params: object) -> tuple[list[dict], int]:
    seen: list[dict] = []
    pages = 0
    while True:
        page = (await client.get(url, params=params, headers=headers)).json()
        pages += 1
        seen.extend(page["data"])
        if not page["has_more"]:
            return seen, pages
        params["starting_after"] = seen[-1]["id"]


async def test_a_customers_invoices_page_newest_first_and_filter_by_status(
    client: httpx.AsyncClient, acme: dict, app_context: AppContext
) -> None:
    customer = _acme_customer_with_invoices(app_context)
    invoices, pages = await _walk(client, acme, "/api/v1/invoices", customer=customer, limit=3)
    with app_context.database.transaction() as session:
        expected = session.scalars(
            select(Invoice.id)
            .where(Invoice.customer_id == customer)
            .order_by(Invoice.created_at.desc(), Invoice.id.desc())
        ).all()
    assert [invoice["id"] for invoice in invoices] == list(expected) and pages > 1
    assert set(invoices[0]) == set(InvoiceObject.model_fields)
    paid, _ = await _walk(client, acme, "/api/v1/invoices", customer=customer, status="paid", limit=100)
    assert paid and {invoice["status"] for invoice in paid} == {"paid"}
    subscription = invoices[0]["subscription"]
    by_subscription, _ = await _walk(client, acme, "/api/v1/invoices", subscription=subscription, limit=100)
    assert by_subscription and {invoice["subscription"] for invoice in by_subscription} == {subscription}
    everything = (await client.get("/api/v1/invoices", params={"status": "open"}, headers=acme)).json()
    assert everything["data"] and {invoice["status"] for invoice in everything["data"]} == {"open"}


async def test_retrieve_and_pdf_of_own_invoices_only(
    client: httpx.AsyncClient, acme: dict, globex: dict, app_context: AppContext
) -> None:
    customer = _acme_customer_with_invoices(app_context)
    with app_context.database.transaction() as session:
        invoice = session.scalars(
            select(Invoice).where(Invoice.customer_id == customer, Invoice.status == InvoiceStatus.PAID).limit(1)
        ).one()
        invoice_id, number = invoice.id, invoice.number
    retrieved = (await client.get(f"/api/v1/invoices/{invoice_id}", headers=acme)).json()
    assert (retrieved["id"], retrieved["number"], retrieved["lines"][0]["object"]) == (invoice_id, number, "line_item")
    pdf = await client.get(f"/api/v1/invoices/{invoice_id}/pdf", params={"locale": "de_DE"}, headers=acme)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    for url in (f"/api/v1/invoices/{invoice_id}", f"/api/v1/invoices/{invoice_id}/pdf", "/api/v1/invoices/in_nope"):
        response = await client.get(url, headers=globex)
        assert (response.status_code, response.json()["error"]["type"]) == (404, "not_found"), url


async def test_a_customers_cards_default_first(
    client: httpx.AsyncClient, acme: dict, globex: dict, app_context: AppContext
) -> None:
    with app_context.database.transaction() as session:
        card = session.scalars(select(PaymentMethod).where(PaymentMethod.is_default).limit(1)).one()
        customer, merchant = card.customer_id, session.get_one(Customer, card.customer_id).merchant_id
        session.add(PaymentMethod(customer_id=customer, brand="mastercard", last4="4444", exp_month=1, exp_year=2031))
        own = {"Authorization": acme["Authorization"]} if merchant == merchant_id_of(session, "Acme Cloud") else globex
        other = globex if own is not globex else acme
    listed = (await client.get("/api/v1/payment_methods", params={"customer": customer}, headers=own)).json()
    assert listed["data"][0]["id"] == card.id and len(listed["data"]) >= 2
    assert set(listed["data"][0]) == set(PaymentMethodObject.model_fields)
    assert "number" not in str(listed) and "cvc" not in str(listed)
    response = await client.get("/api/v1/payment_methods", params={"customer": customer}, headers=other)
    assert (response.status_code, response.json()["error"]["param"]) == (404, "customer")
    missing = await client.get("/api/v1/payment_methods", headers=own)
    assert (missing.status_code, missing.json()["error"]["param"]) == (422, "customer")


ENDPOINTS = [
    ("POST", "/api/v1/customers"),
    ("GET", "/api/v1/customers"),
    ("GET", "/api/v1/customers/cus_x"),
    ("PATCH", "/api/v1/customers/cus_x"),
    ("DELETE", "/api/v1/customers/cus_x"),
    ("POST", "/api/v1/subscriptions"),
    ("GET", "/api/v1/subscriptions"),
    ("GET", "/api/v1/subscriptions/sub_x"),
    ("PATCH", "/api/v1/subscriptions/sub_x"),
    ("DELETE", "/api/v1/subscriptions/sub_x"),
    ("GET", "/api/v1/invoices"),
    ("GET", "/api/v1/invoices/in_x"),
    ("GET", "/api/v1/invoices/in_x/pdf"),
    ("GET", "/api/v1/payment_methods"),
    ("POST", "/api/v1/portal_sessions"),
    ("POST", "/api/v1/products"),
    ("GET", "/api/v1/products"),
    ("GET", "/api/v1/products/prod_x"),
    ("PATCH", "/api/v1/products/prod_x"),
    ("POST", "/api/v1/prices"),
    ("GET", "/api/v1/prices"),
    ("GET", "/api/v1/prices/price_x"),
    ("PATCH", "/api/v1/prices/price_x"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
async def test_every_endpoint_wants_a_valid_key_and_answers_401_in_the_error_shape(
    client: httpx.AsyncClient, method: str, url: str
) -> None:
    for headers in ({}, {"Authorization": "Bearer sk_wrong"}):
        response = await client.request(method, url, headers=headers, json={} if method in ("POST", "PATCH") else None)
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "authentication_error"
        assert set(response.json()["error"]) == {"type", "message", "param"}


async def test_the_openapi_schema_documents_every_endpoint(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    for method, url in ENDPOINTS:
        path = (
            url.replace("cus_x", "{customer_id}")
            .replace("sub_x", "{subscription_id}")
            .replace("in_x", "{invoice_id}")
            .replace("prod_x", "{product_id}")
            .replace("price_x", "{price_id}")
        )
        operation = schema["paths"][path][method.lower()]
        assert "401" in operation["responses"], (method, path)
        if method == "POST":
            assert "Idempotency-Key" in [parameter["name"] for parameter in operation["parameters"]]
    assert "ApiError" in schema["components"]["schemas"]
