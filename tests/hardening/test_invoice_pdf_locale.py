"""The invoice PDF's `locale` comes from the address: anything the portal does not speak falls back to the customer's
language instead of failing (it was a 500 with two tracebacks for `xx`, `en-US`, an empty value or 5,000 letters)."""

from __future__ import annotations

from io import BytesIO

import pytest
from nicegui.testing import User
from pypdf import PdfReader
from sqlalchemy import select, update

from app.config import Settings
from app.db import Database
from app.models import Customer, Invoice, InvoiceStatus
from app.services.invoice_pdf import render_invoice_pdf
from app.services.portal_links import PortalAccess
from tests.ui.portal_setup import link_path
from tests.unit.portal_support import access_to

BAD_LOCALES = ("xx", "", "en-", "zz_ZZ", "x" * 5_000, "../../etc/passwd", "de\x00", "*")


def german_customer_with_an_invoice(database: Database) -> tuple[PortalAccess, str]:
    access = access_to(database)
    with database.transaction() as session:
        session.execute(update(Customer).where(Customer.id == access.customer_id).values(locale="de_DE"))
        invoice_id = session.scalars(
            select(Invoice.id).where(Invoice.customer_id == access.customer_id, Invoice.status == InvoiceStatus.PAID)
        ).first()
    assert invoice_id is not None
    return access, invoice_id


def pdf_text(database: Database, access: PortalAccess, invoice_id: str, locale: str) -> str:
    with database.transaction() as session:
        pdf = render_invoice_pdf(session=session, access=access, invoice_id=invoice_id, locale=locale)
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


@pytest.mark.parametrize("locale", BAD_LOCALES)
def test_a_locale_the_portal_does_not_speak_gives_the_customer_s_language(database: Database, locale: str) -> None:
    access, invoice_id = german_customer_with_an_invoice(database)
    assert "Rechnung" in pdf_text(database, access, invoice_id, locale)


@pytest.mark.parametrize(("locale", "word"), [("en-US", "Invoice"), ("fr-FR", "Facture"), ("de", "Rechnung")])
def test_a_locale_written_with_a_hyphen_or_without_region_is_understood(
    database: Database, locale: str, word: str
) -> None:
    access, invoice_id = german_customer_with_an_invoice(database)
    assert word in pdf_text(database, access, invoice_id, locale)


async def test_the_pdf_route_answers_any_locale_with_a_pdf(
    user: User, app_database: Database, settings: Settings
) -> None:
    """No 500 and no error in the log (the `user` fixture fails a test that logs an error)."""
    access, invoice_id = german_customer_with_an_invoice(app_database)
    portal = link_path(app_database, settings, access.customer_id)
    for locale in (*BAD_LOCALES[:-2], "en-US"):
        response = await user.http_client.get(f"{portal}/invoices/{invoice_id}/pdf", params={"locale": locale})
        assert response.status_code == 200, locale
        assert response.headers["content-type"] == "application/pdf"
