"""Billing details and shipping from the portal: validation per field, the merchant's toggles, the event trail."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.errors import Forbidden, NotFound, ValidationFailed
from app.models import Customer, Event, EventSource
from app.services.portal import update_billing_details, update_shipping
from app.services.portal_links import PortalAccess
from app.views import Address, BillingDetailsInput, ShippingInput
from tests.conftest import DEMO_NOW
from tests.unit.portal_support import ACTOR, access_to, set_portal_settings

BERLIN = Address(line1="Hauptstraße 5", city="Berlin", postal_code="10115", country="DE")


def _clock() -> datetime:
    return DEMO_NOW


_SETTINGS: list[Settings] = []


@pytest.fixture(autouse=True)
def _settings(settings: Settings) -> None:
    """A new email is confirmed by a signed link, which needs the settings."""
    _SETTINGS[:] = [settings]


def _save(database: Database, access: PortalAccess, details: BillingDetailsInput):
    with database.transaction() as session:
        return update_billing_details(
            session=session, access=access, details=details, actor=ACTOR, clock=_clock, settings=_SETTINGS[0]
        )


def _ship(database: Database, access: PortalAccess, shipping: ShippingInput):
    with database.transaction() as session:
        return update_shipping(session=session, access=access, shipping=shipping, actor=ACTOR, clock=_clock)


def _row(database: Database, access: PortalAccess) -> dict[str, object]:
    with database.transaction() as session:
        customer = session.get_one(Customer, access.customer_id)
        return {column.key: getattr(customer, column.key) for column in Customer.__table__.columns}


def _events(database: Database, access: PortalAccess) -> list[Event]:
    with database.transaction() as session:
        return list(session.scalars(select(Event).where(Event.customer_id == access.customer_id)))


def test_valid_details_are_normalised_saved_and_recorded(database: Database) -> None:
    access = access_to(database)
    view = _save(
        database,
        access,
        BillingDetailsInput(
            name="  Jenny Rosen ",
            email="Jenny.Rosen@Example.com",
            phone="+49 30 901820",
            address=Address(line1="Hauptstraße 5", city="Berlin", postal_code="10115", country="de"),
            tax_id_type="eu_vat",
            tax_id_value="de123456789",
        ),
    )
    assert (view.name, view.phone) == ("Jenny Rosen", "+49 30 901820")
    # The new email waits for its confirmation (tests/unit/test_portal_email_change.py); the rest is saved.
    assert view.email != "jenny.rosen@example.com" and view.pending_email == "jenny.rosen@example.com"
    assert view.address == BERLIN and (view.tax_id_type, view.tax_id_value) == ("eu_vat", "DE123456789")
    assert _row(database, access)["address_city"] == "Berlin"
    [event] = _events(database, access)
    assert event.type == "customer.updated" and event.source == EventSource.PORTAL
    customer = event.data["object"]
    assert (customer["id"], customer["email"], customer["tax_id"]) == (
        access.customer_id,
        view.email,
        {"type": "eu_vat", "value": "DE123456789"},
    )
    assert {"name", "phone", "address", "tax_id"} >= set(event.data["previous_attributes"]) >= {"tax_id"}
    assert (event.portal_link_id, event.ip_address, event.user_agent) == ("pl_test", "203.0.113.9", "pytest-agent")


def test_saving_the_same_values_again_records_nothing(database: Database) -> None:
    access = access_to(database)
    details = BillingDetailsInput(name="Same Name")
    _save(database, access, details)
    _save(database, access, details)
    assert len(_events(database, access)) == 1


@pytest.mark.parametrize(
    ("details", "field"),
    [
        (BillingDetailsInput(email="not-an-email"), "email"),
        (BillingDetailsInput(email=""), "email"),
        (BillingDetailsInput(name="   "), "name"),
        (BillingDetailsInput(phone="030 901820"), "phone"),  # no country code
        (BillingDetailsInput(address=Address(line1="1 Main St", city="Boston", country="US")), "address.postal_code"),
        (BillingDetailsInput(address=Address(line1="1 Main", city="Boston", postal_code="1", country="US")),
         "address.postal_code"),
        (BillingDetailsInput(address=Address(line1="1 Main", city="Paris", postal_code="75002", country="XX")),
         "address.country"),
        (BillingDetailsInput(address=Address(city="Berlin", postal_code="10115", country="DE")), "address.line1"),
        (BillingDetailsInput(tax_id_type="eu_vat", tax_id_value="123"), "tax_id_value"),
        (BillingDetailsInput(tax_id_type="", tax_id_value="DE123456789"), "tax_id_type"),
    ],
)  # fmt: skip
def test_invalid_input_is_explained_and_nothing_is_saved(
    database: Database, details: BillingDetailsInput, field: str
) -> None:
    access = access_to(database)
    before = _row(database, access)
    # A valid change alongside the invalid one must not be saved either.
    with pytest.raises(ValidationFailed) as error:
        _save(database, access, BillingDetailsInput(**{**_fields(details), "name": details.name or "Changed Name"}))
    assert error.value.field_errors.get(field)
    assert _row(database, access) == before and _events(database, access) == []


def _fields(details: BillingDetailsInput) -> dict[str, object]:
    return {name: getattr(details, name) for name in BillingDetailsInput.__dataclass_fields__}


def test_countries_without_postal_codes_and_clearing_optional_fields(database: Database) -> None:
    access = access_to(database)
    view = _save(
        database,
        access,
        BillingDetailsInput(phone="", address=Address(line1="1 Queen's Road", city="Central", country="HK")),
    )
    assert view.phone == "" and view.address.country == "HK" and view.address.postal_code == ""
    cleared = _save(database, access, BillingDetailsInput(address=Address(), tax_id_type="", tax_id_value=""))
    assert cleared.address.is_empty and cleared.tax_id_type == ""


def test_billing_details_respect_the_merchants_toggles(database: Database) -> None:
    access = access_to(database)
    before = _row(database, access)
    set_portal_settings(database, access.merchant_id, billing_fields=["email"])
    assert _save(database, access, BillingDetailsInput(email="ok@example.com")).pending_email == "ok@example.com"
    with pytest.raises(Forbidden):
        _save(database, access, BillingDetailsInput(email="ok2@example.com", name="Someone Else"))
    with pytest.raises(Forbidden):
        _save(database, access, BillingDetailsInput(tax_id_value="DE123456789"))
    set_portal_settings(database, access.merchant_id, billing_details_update=False)
    with pytest.raises(Forbidden):
        _save(database, access, BillingDetailsInput(email="other@example.com"))
    after = _row(database, access)
    assert after["email"] == before["email"] and after["name"] == before["name"]


def test_shipping_is_saved_and_can_copy_the_billing_address(database: Database) -> None:
    access = access_to(database)
    view = _ship(database, access, ShippingInput(name="Jenny Rosen", phone="+1 415 555 0100", address=BERLIN))
    assert (view.shipping_name, view.shipping_phone, view.shipping_address) == (
        "Jenny Rosen",
        "+1 415-555-0100",
        BERLIN,
    )
    billing = _row(database, access)
    copied = _ship(database, access, ShippingInput(same_as_billing=True))
    assert copied.shipping_address == copied.address and copied.shipping_name == billing["name"]
    events = _events(database, access)
    assert len(events) == 2 and set(events[0].data["previous_attributes"]) == {"shipping"}
    assert events[0].data["object"]["shipping"]["address"]["city"] == "Berlin"


def test_invalid_or_disabled_shipping_changes_nothing(database: Database) -> None:
    access = access_to(database)
    before = _row(database, access)
    with pytest.raises(ValidationFailed) as error:
        _ship(database, access, ShippingInput(name="", address=Address(line1="x", city="Paris", country="FR")))
    assert {"name", "address.postal_code"} <= set(error.value.field_errors)
    set_portal_settings(database, access.merchant_id, shipping_information=False)
    with pytest.raises(Forbidden):
        _ship(database, access, ShippingInput(name="Jenny", address=BERLIN))
    assert _row(database, access) == before and _events(database, access) == []


def test_another_merchants_customer_cannot_be_updated(database: Database) -> None:
    access = access_to(database)
    globex = access_to(database, "Globex")
    with pytest.raises(NotFound):
        _save(database, replace(access, customer_id=globex.customer_id), BillingDetailsInput(email="x@example.com"))
    assert _events(database, globex) == []
