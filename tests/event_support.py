"""Events of any type for tests that need some: each carries a real resource of the merchant's demo data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.clock import Clock
from app.enums import EventType
from app.models import Customer, Event, Invoice, PaymentMethod, PortalLink, Subscription, SubscriptionItem
from app.services.api_objects import (
    ApiObject,
    CustomerObject,
    InvoiceObject,
    PaymentMethodObject,
    PortalSessionObject,
    SubscriptionObject,
)
from app.services.events import SYSTEM, Actor, record_event
from tests.conftest import DEMO_NOW


def sample_resource(session: Session, customer_id: str, event_type: EventType, now: datetime = DEMO_NOW) -> ApiObject:
    """The customer's resource of the kind `event_type` carries (a portal link is made when they have none)."""
    resource = event_type.resource
    if resource == "customer":
        return CustomerObject.from_row(session.get_one(Customer, customer_id), default_payment_method=None)
    if resource == "subscription":
        subscription = session.scalars(
            select(Subscription)
            .where(Subscription.customer_id == customer_id)
            .options(selectinload(Subscription.items).selectinload(SubscriptionItem.price))
            .limit(1)
        ).one()
        return SubscriptionObject.from_row(subscription)
    if resource == "invoice":
        invoice = session.scalars(
            select(Invoice).where(Invoice.customer_id == customer_id).options(selectinload(Invoice.lines)).limit(1)
        ).one()
        return InvoiceObject.from_row(invoice)
    if resource == "payment_method":
        method = session.scalars(select(PaymentMethod).where(PaymentMethod.customer_id == customer_id).limit(1)).one()
        return PaymentMethodObject.from_row(method)
    customer = session.get_one(Customer, customer_id)
    link = PortalLink(merchant_id=customer.merchant_id, customer_id=customer_id, created_at=now, expires_at=now)
    session.add(link)
    session.flush()
    return PortalSessionObject.from_row(link, now=now)


def record_sample_event(
    session: Session,
    customer_id: str,
    event_type: EventType,
    *,
    object_id: str | None = None,
    actor: Actor = SYSTEM,
    clock: Clock = lambda: DEMO_NOW,
) -> Event:
    """An event of `event_type` on the customer's account; `object_id` renames its object to tell events apart."""
    resource = sample_resource(session, customer_id, event_type, clock())
    if object_id is not None:
        resource = resource.model_copy(update={"id": object_id})
    customer = session.get_one(Customer, customer_id)
    event = record_event(
        session=session,
        merchant_id=customer.merchant_id,
        customer_id=customer_id,
        event_type=event_type,
        resource=resource,
        previous=resource if event_type.is_update else None,
        actor=actor,
        clock=clock,
    )
    session.flush()
    return event
