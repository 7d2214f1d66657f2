"""Hostile text in every text field of account details, portal settings, billing, shipping, cards and cancellations.

Free-text fields store it exactly as typed (surrounding spaces trimmed), enforce their length and refuse control
characters; structured fields (emails, phones, URLs, postal codes, tax IDs) refuse it. A refusal saves nothing.
How the text is shown (escaped, no script runs) is checked in the UI tests and in Chromium.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import select

from app.config import load_settings
from app.db import Database
from app.errors import ValidationFailed
from app.gateways import build_gateway
from app.models import PaymentMethod, Subscription
from app.services.merchants import get_account_details, update_account_details
from app.services.portal import cancel_subscription, update_billing_details, update_shipping
from app.services.portal_links import PortalAccess
from app.services.portal_settings import get_portal_settings, save_portal_settings
from app.validation import CONTROL_CHARACTERS_MESSAGE
from app.views import Address, BillingDetailsInput, ShippingInput
from tests.conftest import DEMO_NOW, TEST_SECRET_KEY
from tests.hardening.payloads import (
    CONTROL_CHARACTER_PAYLOADS,
    LINE_BREAK_PAYLOADS,
    XSS_PAYLOADS,
    fits,
    too_long,
)
from tests.hardening.support import snapshot
from tests.payment_support import add_card_through
from tests.unit.portal_support import ACTOR, access_to

# Writes `value` into one field through its service and returns what was stored (raises ValidationFailed).
Writer = Callable[[Database, PortalAccess, str], str]
ADDRESS = Address(line1="1 Main Street", line2="", city="Berlin", postal_code="10115", state="", country="DE")


def _clock() -> datetime:
    return DEMO_NOW


def account(field: str) -> Writer:
    def write(database: Database, access: PortalAccess, value: str) -> str:
        with database.transaction() as session:
            details = get_account_details(session=session, merchant_id=access.merchant_id)
            return getattr(update_account_details(session=session, details=replace(details, **{field: value})), field)

    return write


def portal_settings(field: str) -> Writer:
    def write(database: Database, access: PortalAccess, value: str) -> str:
        with database.transaction() as session:
            saved = get_portal_settings(session=session, merchant_id=access.merchant_id)
            draft = replace(saved, **{field: value})
            return getattr(save_portal_settings(session=session, draft=draft, expected_version=saved.version), field)

    return write


def billing(field: str) -> Writer:
    def write(database: Database, access: PortalAccess, value: str) -> str:
        if field.startswith("address."):
            part = field.removeprefix("address.")
            details = BillingDetailsInput(address=replace(ADDRESS, **{part: value}))
        else:
            details = BillingDetailsInput(**{field: value})
        with database.transaction() as session:
            customer = update_billing_details(
                session=session, access=access, details=details, actor=ACTOR, clock=_clock
            )
        if field.startswith("address."):
            return getattr(customer.address, field.removeprefix("address."))
        return getattr(customer, field)

    return write


def shipping(field: str) -> Writer:
    def write(database: Database, access: PortalAccess, value: str) -> str:
        name, phone, address = "Jenny Rosen", "", ADDRESS
        if field == "name":
            name = value
        elif field == "phone":
            phone = value
        else:
            address = replace(ADDRESS, **{field.removeprefix("address."): value})
        with database.transaction() as session:
            customer = update_shipping(
                session=session,
                access=access,
                shipping=ShippingInput(name=name, phone=phone, address=address),
                actor=ACTOR,
                clock=_clock,
            )
        if field == "name":
            return customer.shipping_name
        if field == "phone":
            return customer.shipping_phone
        return getattr(customer.shipping_address, field.removeprefix("address."))

    return write


def cancellation_comment(database: Database, access: PortalAccess, value: str) -> str:
    with database.transaction() as session:
        subscription_id = session.scalars(
            select(Subscription.id).where(Subscription.customer_id == access.customer_id)
        ).one()
        cancel_subscription(
            session=session,
            access=access,
            subscription_id=subscription_id,
            reason="other",
            comment=value,
            actor=ACTOR,
            clock=_clock,
        )
        stored = session.get_one(Subscription, subscription_id)
        comment = stored.cancellation_comment
        stored.cancel_at_period_end, stored.canceled_at = False, None  # ready for the next value
    return comment


GATEWAY = build_gateway(load_settings(secret_key=TEST_SECRET_KEY, _env_file=None))


def cardholder_name(database: Database, access: PortalAccess, value: str) -> str:
    method = add_card_through(GATEWAY, database, access, "4242 4242 4242 4242", cardholder_name=value, clock=_clock)
    with database.transaction() as session:
        stored = session.get_one(PaymentMethod, method.id)
        name = stored.cardholder_name
        session.delete(stored)  # the same card is added again with the next value
    return name


# Free-text fields and their length limits.
FREE_TEXT: dict[str, tuple[Writer, int]] = {
    "account public business name": (account("public_business_name"), 60),
    "account legal name": (account("legal_name"), 120),
    "account address line 1": (account("address_line1"), 120),
    "account address line 2": (account("address_line2"), 120),
    "account city": (account("address_city"), 80),
    "account state": (account("address_state"), 80),
    "settings headline": (portal_settings("headline"), 120),
    "settings address": (portal_settings("address"), 300),
    "billing name": (billing("name"), 120),
    "billing address line 1": (billing("address.line1"), 120),
    "billing address line 2": (billing("address.line2"), 120),
    "billing city": (billing("address.city"), 80),
    "billing state": (billing("address.state"), 80),
    "shipping name": (shipping("name"), 120),
    "shipping address line 1": (shipping("address.line1"), 120),
    "shipping city": (shipping("address.city"), 80),
    "cancellation comment": (cancellation_comment, 500),
    "cardholder name": (cardholder_name, 120),
}


@pytest.mark.parametrize("field", list(FREE_TEXT))
def test_free_text_is_stored_as_typed_within_its_length(database: Database, field: str) -> None:
    write, limit = FREE_TEXT[field]
    access = access_to(database)
    for payload in XSS_PAYLOADS:
        assert write(database, access, fits(payload, limit)) == fits(payload, limit).strip(), payload
    assert write(database, access, "y" * limit) == "y" * limit
    before = snapshot(database)
    for refused in (too_long(limit), *CONTROL_CHARACTER_PAYLOADS):
        with pytest.raises(ValidationFailed) as failed:
            write(database, access, refused)
        (message,) = failed.value.field_errors.values()
        assert "at most" in message or "control characters" in message
    assert snapshot(database) == before


MULTI_LINE = ("settings address", "cancellation comment")


@pytest.mark.parametrize("field", [field for field in FREE_TEXT if field not in MULTI_LINE])
def test_single_line_fields_refuse_line_breaks_and_tabs(database: Database, field: str) -> None:
    """SECURITY.md says control characters are refused: tab, line feed and carriage return are control characters."""
    write, _limit = FREE_TEXT[field]
    access = access_to(database)
    # An accepted value first: a first card registers the customer at the gateway, which is not the refusal's doing.
    write(database, access, "Plain value")
    before = snapshot(database)
    for payload in LINE_BREAK_PAYLOADS:
        with pytest.raises(ValidationFailed) as failed:
            write(database, access, payload)
        assert list(failed.value.field_errors.values()) == [CONTROL_CHARACTERS_MESSAGE], payload
    assert snapshot(database) == before


@pytest.mark.parametrize("field", MULTI_LINE)
def test_multi_line_fields_keep_their_line_breaks(database: Database, field: str) -> None:
    write, _limit = FREE_TEXT[field]
    assert write(database, access_to(database), "Main Street 1\nBerlin\tDE") == "Main Street 1\nBerlin\tDE"


# Structured fields: no payload is a valid email, phone number, https URL, postal code or tax ID.
STRUCTURED: dict[str, Writer] = {
    "account support email": account("support_email"),
    "account support phone": account("support_phone"),
    "account website": account("website"),
    "settings support email": portal_settings("support_email"),
    "settings support phone": portal_settings("support_phone"),
    "settings website": portal_settings("website_url"),
    "settings terms url": portal_settings("terms_url"),
    "settings privacy url": portal_settings("privacy_url"),
    "settings default return url": portal_settings("default_return_url"),
    "billing email": billing("email"),
    "billing phone": billing("phone"),
    "billing postal code": billing("address.postal_code"),
    "shipping phone": shipping("phone"),
}


@pytest.mark.parametrize("field", list(STRUCTURED))
def test_structured_fields_refuse_markup_and_script_urls(database: Database, field: str) -> None:
    write = STRUCTURED[field]
    access = access_to(database)
    before = snapshot(database)
    for payload in (*XSS_PAYLOADS, *CONTROL_CHARACTER_PAYLOADS, "https://x.test/\x00", "https://x.test/a b"):
        with pytest.raises(ValidationFailed):
            write(database, access, payload)
    assert snapshot(database) == before


def test_a_tax_id_is_checked_against_its_type(database: Database) -> None:
    access = access_to(database)
    before = snapshot(database)
    for payload in XSS_PAYLOADS:
        details = BillingDetailsInput(tax_id_type="eu_vat", tax_id_value=payload)
        with pytest.raises(ValidationFailed) as failed, database.transaction() as session:
            update_billing_details(session=session, access=access, details=details, actor=ACTOR, clock=_clock)
        assert set(failed.value.field_errors) == {"tax_id_value"}
    assert snapshot(database) == before
