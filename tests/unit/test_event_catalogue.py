"""The event catalogue: every flow that records events does so in the one shape of its type, and every type occurs.

The flows run for real (billing clock, portal actions, links); then every stored event's `data` must validate against
the schema of its type: `{"object": <the type's API object>}`, plus `previous_attributes` on `*.updated` types.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings, load_settings
from app.db import Database
from app.enums import CancelMode, EventSource, EventType, PauseDuration, SubscriptionStatus
from app.errors import LinkExpired
from app.gateways import build_gateway
from app.models import Event, Invoice, InvoiceStatus, PaymentMethod, Price, Subscription
from app.services.api_objects import EVENT_OBJECTS, InvoiceObject, SubscriptionObject
from app.services.billing import advance
from app.services.catalog import PriceTerms, create_price, create_product, update_price, update_product
from app.services.customer_records import create_customer, delete_customer, update_customer
from app.services.events import SYSTEM, Actor, event_data, record_event
from app.services.payments import pay_invoice, remove_card, set_default_card
from app.services.portal import (
    accept_retention_offer,
    cancel_scheduled_change,
    cancel_subscription,
    change_plan,
    make_retention_offer,
    pause_subscription,
    resubscribe,
    resume_subscription,
    undo_cancellation,
    update_billing_details,
    update_shipping,
)
from app.services.portal_links import (
    PortalAccess,
    issue_link,
    open_link,
    request_new_link,
    revoke_all_links,
    revoke_link,
)
from app.services.subscription_records import start_subscription
from app.services.webhooks import event_payload
from app.views import Address, BillingDetailsInput, ShippingInput
from app.views.inputs import CustomerInput, SubscriptionInput, SubscriptionItemInput
from tests.conftest import DEMO_NOW, TEST_SECRET_KEY
from tests.payment_support import add_card_through
from tests.unit.portal_support import ACTOR, access_to, set_portal_settings
from tests.unit.test_billing import PERIOD_END, add_subscription

GOOD_CARD = "4242 4242 4242 4242"
GATEWAY = build_gateway(load_settings(secret_key=TEST_SECRET_KEY, _env_file=None))  # the built-in test gateway


def _clock() -> datetime:
    return DEMO_NOW


def data_schema(event_type: EventType) -> type[BaseModel]:
    """The one schema of an event type's `data`."""
    fields: dict[str, Any] = {"object": (EVENT_OBJECTS[event_type.resource], ...)}
    if event_type.is_update:
        fields["previous_attributes"] = (dict[str, Any], ...)
    return create_model(f"{event_type.name.title()}Data", __config__=ConfigDict(extra="forbid"), **fields)


def _billing_clock(database: Database) -> None:
    """A renewal that is paid, one whose card is declined, a subscription that ends at its period end, and one that
    the customer pauses (it pauses at the period end, then they resume it)."""
    for options in ({}, {"last4": "0002"}, {"cancel_at_period_end": True}):
        add_subscription(database, **options)
    pausing = add_subscription(database)
    with database.transaction() as session:
        subscription = session.get_one(Subscription, pausing)
        access = PortalAccess(
            link_id="pl_test", merchant_id=subscription.merchant_id, customer_id=subscription.customer_id, return_url=""
        )
    set_portal_settings(database, access.merchant_id, pause_subscriptions=True)
    arguments: dict[str, Any] = {"access": access, "subscription_id": pausing, "actor": ACTOR}
    with database.transaction() as session:
        pause_subscription(session=session, **arguments, duration=PauseDuration.UNTIL_RESUMED, clock=_clock)
    advance(database=database, now=PERIOD_END, gateway=GATEWAY)
    with database.transaction() as session:
        resume_subscription(session=session, **arguments, clock=lambda: PERIOD_END + timedelta(days=1))


def _lifecycle(database: Database) -> None:
    """A subscription that ended is resubscribed; another customer is made the retention offer and accepts it."""
    ended = add_subscription(database, cancel_at_period_end=True)
    advance(database=database, now=PERIOD_END, gateway=GATEWAY)
    with database.transaction() as session:
        subscription = session.get_one(Subscription, ended)
        access = PortalAccess(
            link_id="pl_test", merchant_id=subscription.merchant_id, customer_id=subscription.customer_id, return_url=""
        )
    set_portal_settings(database, access.merchant_id, resubscribe=True, retention_offer=True)
    resubscribe(
        database=database,
        access=access,
        subscription_id=ended,
        price_id=None,
        gateway=GATEWAY,
        actor=ACTOR,
        clock=lambda: PERIOD_END + timedelta(days=2),
    )
    keeping = add_subscription(database)
    with database.transaction() as session:
        customer_id = session.get_one(Subscription, keeping).customer_id
    access = PortalAccess(link_id="pl_test", merchant_id=access.merchant_id, customer_id=customer_id, return_url="")
    with database.transaction() as session:
        arguments: dict[str, Any] = {"session": session, "access": access, "actor": ACTOR, "clock": _clock}
        make_retention_offer(**arguments, subscription_id=keeping)
        accept_retention_offer(**arguments, subscription_id=keeping)


def _subscription_of(session: Session, access: PortalAccess) -> Subscription:
    return session.scalars(select(Subscription).where(Subscription.customer_id == access.customer_id)).one()


def _portal_subscriptions(database: Database) -> None:
    """Cancel at period end and undo it; switch to a dearer plan (an invoice due now); schedule a downgrade and drop
    it; cancel immediately."""
    access = access_to(database)
    with database.transaction() as session:
        subscription_id = _subscription_of(session, access).id
        arguments: dict[str, Any] = {"session": session, "access": access, "actor": ACTOR, "clock": _clock}
        cancel_subscription(**arguments, subscription_id=subscription_id, reason="too_expensive", comment="Budget")
        undo_cancellation(**arguments, subscription_id=subscription_id)
    switching = access_to(database, skip=1)
    with database.transaction() as session:
        prices = {
            price.nickname: price
            for price in session.scalars(select(Price).where(Price.merchant_id == access.merchant_id))
        }
        subscription = _subscription_of(session, switching)
        subscription.current_period_start = DEMO_NOW - timedelta(days=10)
        subscription.current_period_end = DEMO_NOW + timedelta(days=20)
        subscription.items[0].price_id, subscription.items[0].quantity = prices["Team monthly"].id, 1
        subscription_id = subscription.id
    business, team = prices["Business monthly"].id, prices["Team monthly"].id
    set_portal_settings(database, access.merchant_id, plan_switching=True, switchable_price_ids=[business, team])
    set_portal_settings(database, access.merchant_id, cancel_mode=CancelMode.IMMEDIATELY, downgrades_at_period_end=True)
    with database.transaction() as session:
        arguments = {"session": session, "access": switching, "actor": ACTOR, "clock": _clock}
        change_plan(**arguments, subscription_id=subscription_id, price_id=business, quantity=2)
        change_plan(**arguments, subscription_id=subscription_id, price_id=team, quantity=1)  # scheduled
        cancel_scheduled_change(**arguments, subscription_id=subscription_id)
        cancel_subscription(**arguments, subscription_id=subscription_id, reason="", comment="")


def _portal_customer(database: Database) -> None:
    """Billing details, shipping, a card added as the default, the old default back, the new card removed."""
    access = access_to(database)
    berlin = Address(line1="Hauptstraße 5", city="Berlin", postal_code="10115", country="DE")
    with database.transaction() as session:
        arguments: dict[str, Any] = {"session": session, "access": access, "actor": ACTOR, "clock": _clock}
        update_billing_details(**arguments, details=BillingDetailsInput(name="Jenny Rosen", address=berlin))
        update_shipping(**arguments, shipping=ShippingInput(name="Jenny Rosen", address=berlin))
        old_default = session.scalars(
            select(PaymentMethod.id).where(PaymentMethod.customer_id == access.customer_id, PaymentMethod.is_default)
        ).one()
    added = add_card_through(GATEWAY, database, access, GOOD_CARD, make_default=True, clock=_clock)
    with database.transaction() as session:
        arguments = {"session": session, "access": access, "actor": ACTOR, "clock": _clock}
        set_default_card(**arguments, payment_method_id=old_default)
        remove_card(**arguments, payment_method_id=added.id, gateway=GATEWAY)


def _portal_payments(database: Database) -> None:
    """A past-due customer's invoice: its bank asks for 3-D Secure with one card, another is declined, a third pays
    it (the subscription recovers)."""
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    with database.transaction() as session:
        invoice_id = session.scalars(
            select(Invoice.id).where(Invoice.customer_id == access.customer_id, Invoice.status == InvoiceStatus.OPEN)
        ).one()
        card = session.scalars(
            select(PaymentMethod).where(PaymentMethod.customer_id == access.customer_id, PaymentMethod.is_default)
        ).one()
        card.exp_year = 2030
    for last4 in ("3155", "0341", "4242"):
        with database.transaction() as session:
            session.get_one(PaymentMethod, card.id).last4 = last4
        pay_invoice(database=database, access=access, invoice_id=invoice_id, gateway=GATEWAY, actor=ACTOR, clock=_clock)


def _links(database: Database, settings: Settings) -> None:
    """Links issued, opened, revoked one by one and all at once, and a new one emailed for an expired one."""
    access = access_to(database)
    with database.transaction() as session:
        arguments: dict[str, Any] = {
            "session": session,
            "settings": settings,
            "merchant_id": access.merchant_id,
            "customer_id": access.customer_id,
            "created_by": "test",
            "clock": _clock,
        }
        first = issue_link(**arguments)
        for _ in range(2):
            issue_link(**arguments)
        open_link(session=session, settings=settings, token=first.url.rsplit("/", 1)[1], clock=_clock)
        revoke_link(session=session, merchant_id=access.merchant_id, link_id=first.id, clock=_clock)
        revoke_all_links(session=session, merchant_id=access.merchant_id, customer_id=access.customer_id, clock=_clock)
        expired = LinkExpired(merchant_id=access.merchant_id, customer_id=access.customer_id)
        request_new_link(session=session, settings=settings, error=expired, actor=SYSTEM, clock=_clock)


def _merchant_records(database: Database) -> None:
    """A customer made, changed and deleted by the merchant, with a subscription started and canceled."""
    access = access_to(database)
    api = Actor(source=EventSource.API)
    with database.transaction() as session:
        arguments: dict[str, Any] = {
            "session": session,
            "merchant_id": access.merchant_id,
            "actor": api,
            "clock": _clock,
        }
        created = create_customer(**arguments, details=CustomerInput(email="records@example.com"))
        update_customer(**arguments, customer_id=created.id, details=CustomerInput(metadata={"user_id": "4711"}))
        price = session.scalars(select(Price.id).where(Price.merchant_id == access.merchant_id).limit(1)).one()
    started = start_subscription(
        database=database,
        merchant_id=access.merchant_id,
        subscription=SubscriptionInput(customer_id=created.id, items=(SubscriptionItemInput(price),)),
        gateway=GATEWAY,
        actor=api,
        clock=_clock,
    )
    with database.transaction() as session:
        delete_customer(
            session=session, merchant_id=access.merchant_id, customer_id=started.customer, actor=api, clock=_clock
        )


def _catalogue(database: Database) -> None:
    """A product and a price made through the API, renamed, and the product archived (its price with it)."""
    api = Actor(source=EventSource.API)
    with database.transaction() as session:
        arguments: dict[str, Any] = {"session": session, "merchant_id": access_to(database).merchant_id}
        product = create_product(**arguments, name="Catalogue plan", actor=api, clock=_clock)
        price = create_price(
            **arguments, product_id=product.id, terms=PriceTerms(900, "USD", "month"), actor=api, clock=_clock
        )
        update_price(**arguments, price_id=price.id, nickname="Launch price", actor=api, clock=_clock)
        update_product(**arguments, product_id=product.id, description="For small teams", actor=api, clock=_clock)
        update_product(**arguments, product_id=product.id, active=False, actor=api, clock=_clock)


@pytest.fixture
def recorded_events(database: Database, settings: Settings) -> list[Event]:
    _billing_clock(database)
    _lifecycle(database)
    _portal_subscriptions(database)
    _portal_customer(database)
    _portal_payments(database)
    _links(database, settings)
    _merchant_records(database)
    _catalogue(database)
    with database.transaction() as session:
        return list(session.scalars(select(Event).order_by(Event.created_at)))


def test_every_event_of_a_type_has_the_one_shape_of_its_type(recorded_events: list[Event]) -> None:
    by_type: dict[str, list[Event]] = defaultdict(list)
    for event in recorded_events:
        by_type[event.type].append(event)
    assert set(by_type) == set(EventType), "every type of the catalogue is recorded by some flow"

    for event in recorded_events:
        event_type = EventType(event.type)
        model = EVENT_OBJECTS[event_type.resource]
        data_schema(event_type).model_validate(event.data)
        resource = event.data["object"]
        # Exactly the API object's JSON: every field present, no other, each in its canonical form.
        assert model.model_validate(resource).model_dump(mode="json") == resource
        assert resource["object"] == event_type.resource and resource["id"] == event.object_id
        if event_type.is_update:
            previous = event.data["previous_attributes"]
            assert previous, f"{event.type} changed something"
            assert all(resource[name] != value for name, value in previous.items())
            model.model_validate({**resource, **previous})  # the object as it was


def test_events_carry_no_card_number_security_code_or_link(recorded_events: list[Event]) -> None:
    text = json.dumps([event.data for event in recorded_events])
    for secret in ("4242424242424242", GOOD_CARD, '"cvc"', "cardholder", "/portal/"):
        assert secret not in text
    cards = [event.data["object"]["card"] for event in recorded_events if event.type.startswith("payment_method.")]
    assert cards and all(set(card) == {"brand", "last4", "exp_month", "exp_year"} for card in cards)
    assert {event.data["object"]["url"] for event in recorded_events if event.type.startswith("portal.")} == {None}


def test_the_webhook_body_wraps_the_data_unchanged(recorded_events: list[Event]) -> None:
    event = recorded_events[-1]
    body = json.loads(event_payload(event))
    assert set(body) == {"id", "type", "created", "data", "source"}
    assert body["data"] == event.data and body["type"] == event.type


def test_a_wrong_shape_cannot_be_recorded(database: Database) -> None:
    with database.transaction() as session:
        invoice = session.scalars(select(Invoice).limit(1)).one()
        subscription = session.get_one(Subscription, invoice.subscription_id)
        invoice_object, subscription_object = InvoiceObject.from_row(invoice), SubscriptionObject.from_row(subscription)
        updated = EventType.CUSTOMER_SUBSCRIPTION_UPDATED
        with pytest.raises(TypeError, match="carries a subscription"):
            event_data(updated, invoice_object, invoice_object)
        with pytest.raises(TypeError, match="needs previous"):
            event_data(updated, subscription_object)
        with pytest.raises(TypeError, match="takes no previous"):
            event_data(EventType.INVOICE_PAID, invoice_object, invoice_object)
        other = subscription_object.model_copy(update={"id": "sub_other"})
        with pytest.raises(TypeError, match="same resource"):
            event_data(updated, subscription_object, other)
        with pytest.raises(TypeError):
            record_event(  # type: ignore[call-arg]
                session=session, merchant_id=invoice.merchant_id, customer_id=None, event_type=updated, actor=SYSTEM
            )


def test_an_object_with_a_field_too_many_or_too_few_is_refused() -> None:
    schema = data_schema(EventType.INVOICE_PAID)
    with pytest.raises(ValidationError):
        schema.model_validate({"object": {"id": "in_1", "object": "invoice"}})
    with pytest.raises(ValidationError):
        data_schema(EventType.CUSTOMER_UPDATED).model_validate({"object": {}, "changed": ["email"]})


def test_each_type_has_a_label_a_description_and_an_object_model() -> None:
    for event_type in EventType:
        assert event_type.label and event_type.description.endswith(".")
        assert EVENT_OBJECTS[event_type.resource].model_fields["object"].default == event_type.resource
    assert [t for t in EventType if t.is_update] == [
        EventType.CUSTOMER_UPDATED,
        EventType.CUSTOMER_SUBSCRIPTION_UPDATED,
        EventType.PRODUCT_UPDATED,
        EventType.PRICE_UPDATED,
    ]


def _readme_webhooks() -> str:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    return readme.split("\n## Webhooks\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_lists_every_type_and_its_examples_are_objects_as_sent() -> None:
    section = _readme_webhooks()
    for event_type in EventType:
        assert f"| `{event_type}` | {event_type.description} | {event_type.resource} |" in section
    examples = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", section, flags=re.DOTALL)]
    data_examples = [example.get("data", example) for example in examples]  # a whole body, or its data
    assert sorted(data["object"]["object"] for data in data_examples) == sorted(EVENT_OBJECTS)  # one per resource
    for data in data_examples:
        model = EVENT_OBJECTS[data["object"]["object"]]
        assert model.model_validate(data["object"]).model_dump(mode="json") == data["object"]
        if "previous_attributes" in data:
            model.model_validate({**data["object"], **data["previous_attributes"]})
