"""Customers created, changed and deleted by the merchant (API, dashboard, import): validation, events, soft delete."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.config import Settings
from app.db import Database
from app.enums import EventSource, EventType, SubscriptionStatus
from app.errors import Conflict, LinkRevoked, NotFound, ValidationFailed
from app.models import Customer, Event, Subscription
from app.services import customer_records
from app.services.customer_records import (
    create_customer,
    delete_customer,
    get_customer,
    list_customer_objects,
    update_customer,
)
from app.services.events import Actor
from app.services.portal_links import issue_link, open_link
from app.views import Address
from app.views.inputs import CustomerInput, ShippingDetails
from tests.conftest import DEMO_NOW
from tests.unit.portal_support import access_to, merchant_id_of

API = Actor(source=EventSource.API)
BERLIN = Address(line1="Hauptstraße 5", city="Berlin", postal_code="10115", country="de")


def _clock():
    return DEMO_NOW


def _acme(database: Database) -> str:
    with database.transaction() as session:
        return merchant_id_of(session, "Acme Cloud")


def _create(database: Database, merchant_id: str, **fields: object):
    with database.transaction() as session:
        return create_customer(
            session=session, merchant_id=merchant_id, details=CustomerInput(**fields), actor=API, clock=_clock
        )


def _events(database: Database, object_id: str) -> list[Event]:
    with database.transaction() as session:
        return list(session.scalars(select(Event).where(Event.object_id == object_id).order_by(Event.created_at)))


def test_a_customer_is_created_with_every_detail_normalised_and_an_event(database: Database) -> None:
    acme = _acme(database)
    created = _create(
        database,
        acme,
        email=" Jenny.Rosen@Example.com ",
        name="Jenny Rosen",
        phone="+49 30 1234567",
        locale="de-DE",
        address=BERLIN,
        shipping=ShippingDetails(name="Jenny Rosen", address=BERLIN),
        tax_id_type="eu_vat",
        tax_id_value="de123456789",
        metadata={"user_id": "4711"},
    )
    assert (created.email, created.name, created.phone) == ("jenny.rosen@example.com", "Jenny Rosen", "+49 30 1234567")
    assert created.preferred_locales == ("de_DE",)
    assert created.address is not None and created.address.country == "DE"
    assert created.shipping is not None and created.shipping.address == created.address
    assert created.tax_id is not None and created.tax_id.value == "DE123456789"
    assert created.metadata == {"user_id": "4711"}
    [event] = _events(database, created.id)
    assert (event.type, event.source, event.data["object"]) == (
        EventType.CUSTOMER_CREATED,
        EventSource.API,
        created.model_dump(mode="json"),
    )


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({}, {"email"}),
        ({"email": "not-an-email"}, {"email"}),
        ({"email": "a@example.com", "phone": "12"}, {"phone"}),
        ({"email": "a@example.com", "locale": "xx"}, {"locale"}),
        ({"email": "a@example.com", "address": Address(line1="x", city="y", country="XX")}, {"address.country"}),
        (
            {"email": "a@example.com", "address": Address(line1="x", city="Berlin", country="DE")},
            {"address.postal_code"},
        ),
        ({"email": "a@example.com", "shipping": ShippingDetails(address=BERLIN)}, {"shipping.name"}),
        ({"email": "a@example.com", "tax_id_type": "eu_vat", "tax_id_value": "12"}, {"tax_id.value"}),
        ({"email": "a@example.com", "tax_id_type": "xx_vat", "tax_id_value": "12"}, {"tax_id.type"}),
        ({"email": "a@example.com", "metadata": {"k" * 41: "v"}}, {"metadata"}),
        ({"email": "a@example.com", "metadata": {str(n): "v" for n in range(51)}}, {"metadata"}),
        ({"email": "a@example.com", "name": "line\nbreak"}, {"name"}),
    ],
)
def test_bad_details_are_refused_field_by_field_and_nothing_is_written(
    database: Database, fields: dict, errors: set[str]
) -> None:
    acme = _acme(database)
    with pytest.raises(ValidationFailed) as refused:
        _create(database, acme, **fields)
    assert set(refused.value.field_errors) == errors
    with database.transaction() as session:
        assert session.scalar(select(Customer.id).where(Customer.email == "a@example.com")) is None


def test_an_email_in_use_by_another_live_customer_is_a_conflict(database: Database) -> None:
    acme = _acme(database)
    first = _create(database, acme, email="twice@example.com")
    with pytest.raises(Conflict, match=first.id):
        _create(database, acme, email="TWICE@example.com")
    other = _create(database, acme, email="other@example.com")
    with database.transaction() as session, pytest.raises(Conflict):
        update_customer(
            session=session,
            merchant_id=acme,
            customer_id=other.id,
            details=CustomerInput(email="twice@example.com"),
            actor=API,
            clock=_clock,
        )
    with database.transaction() as session:
        globex = merchant_id_of(session, "Globex")
    assert _create(database, globex, email="twice@example.com").email == "twice@example.com"  # per merchant


def test_an_update_changes_only_what_is_given_and_records_what_changed(database: Database) -> None:
    acme = _acme(database)
    created = _create(database, acme, email="pat@example.com", name="Pat", address=BERLIN, metadata={"a": "1"})
    with database.transaction() as session:
        arguments = {"session": session, "merchant_id": acme, "customer_id": created.id, "actor": API, "clock": _clock}
        updated = update_customer(**arguments, details=CustomerInput(name="Pat Doe", address=Address(), metadata={}))
        unchanged = update_customer(**arguments, details=CustomerInput(name="Pat Doe"))
    assert (updated.name, updated.email, updated.address, updated.metadata) == ("Pat Doe", "pat@example.com", None, {})
    assert unchanged == updated
    _, updated_event = _events(database, created.id)
    assert updated_event.type == EventType.CUSTOMER_UPDATED
    assert set(updated_event.data["previous_attributes"]) == {"name", "address", "metadata"}


def test_another_merchants_customer_is_not_found(database: Database) -> None:
    with database.transaction() as session:
        globex = merchant_id_of(session, "Globex")
    customer = _create(database, globex, email="globex-only@example.com")
    acme = _acme(database)
    with database.transaction() as session:
        with pytest.raises(NotFound):
            get_customer(session=session, merchant_id=acme, customer_id=customer.id)
        with pytest.raises(NotFound):
            update_customer(
                session=session,
                merchant_id=acme,
                customer_id=customer.id,
                details=CustomerInput(name="x"),
                actor=API,
                clock=_clock,
            )
        with pytest.raises(NotFound):
            delete_customer(session=session, merchant_id=acme, customer_id=customer.id, actor=API, clock=_clock)


def test_deleting_stops_the_portal_links_ends_live_subscriptions_and_keeps_the_history(
    database: Database, settings: Settings
) -> None:
    access = access_to(database)
    with database.transaction() as session:
        link = issue_link(
            session=session,
            settings=settings,
            merchant_id=access.merchant_id,
            customer_id=access.customer_id,
            created_by="test",
            clock=_clock,
        )
        deleted = delete_customer(
            session=session, merchant_id=access.merchant_id, customer_id=access.customer_id, actor=API, clock=_clock
        )
    assert deleted.id == access.customer_id
    with database.transaction() as session:
        with pytest.raises(LinkRevoked):
            open_link(session=session, settings=settings, token=link.url.rsplit("/", 1)[1], clock=_clock)
        statuses = session.scalars(select(Subscription.status).where(Subscription.customer_id == deleted.id)).all()
        assert statuses and set(statuses) <= set(SubscriptionStatus.ended())
        assert session.get_one(Customer, deleted.id).deleted_at == DEMO_NOW  # the row and its history stay
        with pytest.raises(NotFound):
            get_customer(session=session, merchant_id=access.merchant_id, customer_id=deleted.id)
        listed = list_customer_objects(session=session, merchant_id=access.merchant_id, limit=100)
        types = session.scalars(select(Event.type).where(Event.customer_id == deleted.id)).all()
    assert deleted.id not in {customer.id for customer in listed.data}
    assert {EventType.CUSTOMER_DELETED, EventType.CUSTOMER_SUBSCRIPTION_DELETED, EventType.PORTAL_LINK_REVOKED} <= set(
        types
    )
    assert _create(database, access.merchant_id, email=deleted.email).email == deleted.email  # the email is free again


def test_the_list_pages_newest_first_and_finds_by_email(database: Database) -> None:
    acme = _acme(database)
    for number in range(5):
        _create(database, acme, email=f"page{number}@example.com")
    with database.transaction() as session:
        seen: list[str] = []
        page = list_customer_objects(session=session, merchant_id=acme, limit=7)
        while True:
            seen.extend(customer.id for customer in page.data)
            if not page.has_more:
                break
            page = list_customer_objects(session=session, merchant_id=acme, limit=7, starting_after=seen[-1])
        rows = session.execute(
            select(Customer.id, Customer.created_at)
            .where(Customer.merchant_id == acme, Customer.deleted_at.is_(None))
            .order_by(Customer.created_at.desc(), Customer.id.desc())
        ).all()
        found = list_customer_objects(session=session, merchant_id=acme, email="PAGE3@example.com")
        with pytest.raises(NotFound):
            list_customer_objects(session=session, merchant_id=acme, starting_after="cus_unknown")
        with pytest.raises(ValidationFailed):
            list_customer_objects(session=session, merchant_id=acme, limit=101)
    assert seen == [row.id for row in rows]
    assert [customer.email for customer in found.data] == ["page3@example.com"]


def test_the_database_keeps_an_email_to_one_live_customer_of_a_merchant(database: Database) -> None:
    acme = _acme(database)
    with database.transaction() as session:
        globex = merchant_id_of(session, "Globex")
    taken = _create(database, acme, email="once@example.com")
    with pytest.raises(IntegrityError), database.transaction() as session:
        session.add(Customer(merchant_id=acme, email="once@example.com", created_at=DEMO_NOW))
    with database.transaction() as session:  # another merchant, and deleted customers, may have it
        session.add(Customer(merchant_id=globex, email="once@example.com", created_at=DEMO_NOW))
        session.get_one(Customer, taken.id).deleted_at = DEMO_NOW
        session.add(Customer(merchant_id=acme, email="once@example.com", created_at=DEMO_NOW))
        session.add(Customer(merchant_id=acme, email="once@example.com", created_at=DEMO_NOW, deleted_at=DEMO_NOW))


def test_a_create_or_update_that_raced_the_email_check_is_a_conflict(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests that both found the address free: the unique index turns the second into the same Conflict."""
    acme = _acme(database)
    first = _create(database, acme, email="race@example.com")
    other = _create(database, acme, email="other@example.com")
    monkeypatch.setattr(customer_records, "_check_email_is_free", lambda *_args: None)
    with pytest.raises(Conflict, match="Another customer has this email address"):
        _create(database, acme, email="RACE@example.com")
    with pytest.raises(Conflict, match="Another customer has this email address"), database.transaction() as session:
        update_customer(
            session=session,
            merchant_id=acme,
            customer_id=other.id,
            details=CustomerInput(email="race@example.com"),
            actor=API,
            clock=_clock,
        )
    with database.transaction() as session:
        emails = session.scalars(select(Customer.email).where(Customer.merchant_id == acme)).all()
        created = session.scalars(select(Event.object_id).where(Event.type == EventType.CUSTOMER_CREATED)).all()
    assert emails.count("race@example.com") == 1 and "other@example.com" in emails
    assert first.id in created and len(created) == len(set(created))
