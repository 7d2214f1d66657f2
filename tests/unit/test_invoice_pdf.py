"""Invoice PDFs: a real PDF with the number, totals, billing details and logo, in the customer's language."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from app.db import Database
from app.errors import Forbidden, NotFound
from app.models import Customer, Invoice, InvoiceStatus, PortalSettings, SubscriptionStatus
from app.money import format_money
from app.services.invoice_pdf import render_invoice_pdf
from app.services.portal_links import PortalAccess
from tests.unit.portal_support import access_to, set_portal_settings


def _invoice(database: Database, access: PortalAccess, status: InvoiceStatus = InvoiceStatus.PAID) -> Invoice:
    with database.transaction() as session:
        return session.scalars(
            select(Invoice)
            .where(Invoice.customer_id == access.customer_id, Invoice.status == status)
            .order_by(Invoice.created_at.desc())
            .limit(1)
        ).one()


def _render(database: Database, access: PortalAccess, invoice_id: str, locale: str = "en_US") -> bytes:
    with database.transaction() as session:
        return render_invoice_pdf(session=session, access=access, invoice_id=invoice_id, locale=locale)


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def test_the_pdf_names_the_invoice_its_total_and_the_customer(database: Database) -> None:
    access = access_to(database)
    invoice = _invoice(database, access)
    with database.transaction() as session:
        customer = session.get_one(Customer, access.customer_id)
        customer.tax_id_type, customer.tax_id_value = "eu_vat", "DE123456789"
        name, email = customer.name, customer.email
    pdf = _render(database, access, invoice.id)
    assert pdf.startswith(b"%PDF-")
    text = _text(pdf)
    assert invoice.number in text and format_money(invoice.total, invoice.currency, "en_US") in text
    for expected in ("Invoice", "Acme Cloud", name, email, "DE123456789", "Amount paid", "support@acme.test"):
        assert expected in text
    assert PdfReader(BytesIO(pdf)).metadata.title == f"Invoice {invoice.number}"


def test_an_open_invoice_shows_what_is_due(database: Database) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    invoice = _invoice(database, access, InvoiceStatus.OPEN)
    text = _text(_render(database, access, invoice.id))
    assert f"{format_money(invoice.amount_due, invoice.currency, 'en_US')} due" in text and "Paid on" not in text


def test_labels_money_and_names_follow_the_locale(database: Database) -> None:
    access = access_to(database)
    invoice = _invoice(database, access)
    with database.transaction() as session:
        session.get_one(Customer, access.customer_id).name = "王小明"
    german = _text(_render(database, access, invoice.id, "de_DE"))
    chinese = _text(_render(database, access, invoice.id, "zh_Hans_CN"))
    assert "Rechnung" in german and format_money(invoice.total, invoice.currency, "de_DE") in german
    assert "发票" in chinese and "王小明" in chinese and invoice.number in chinese


def test_the_merchants_logo_is_drawn(database: Database) -> None:
    access = access_to(database)
    buffer = BytesIO()
    Image.new("RGB", (120, 40), "#635bff").save(buffer, format="PNG")
    with database.transaction() as session:
        settings = session.get_one(PortalSettings, access.merchant_id)
        settings.logo_png, settings.has_logo = buffer.getvalue(), True
    pdf = _render(database, access, _invoice(database, access).id)
    assert len(PdfReader(BytesIO(pdf)).pages[0].images) == 1


def test_only_the_owner_gets_the_pdf_and_only_an_open_one_with_invoice_history_off(database: Database) -> None:
    access = access_to(database)
    neighbour_invoice = _invoice(database, access_to(database, skip=1))
    globex_invoice = _invoice(database, access_to(database, "Globex"))
    for foreign in (neighbour_invoice.id, globex_invoice.id):
        with pytest.raises(NotFound):
            _render(database, access, foreign)
    set_portal_settings(database, access.merchant_id, invoice_history=False)
    with pytest.raises(Forbidden):
        _render(database, access, _invoice(database, access).id)
    owing = access_to(database, status=SubscriptionStatus.PAST_DUE)
    assert _render(database, owing, _invoice(database, owing, InvoiceStatus.OPEN).id).startswith(b"%PDF")
