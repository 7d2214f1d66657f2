"""Scoping of every portal use case: the verified link's customer, their objects, the merchant's switches."""

from __future__ import annotations

import logging

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from app.clock import Clock
from app.enums import (
    EventType,
    InvoiceStatus,
)
from app.errors import Forbidden, NotFound
from app.i18n import N_
from app.models import (
    Customer,
    Invoice,
    Price,
    Subscription,
    SubscriptionItem,
)
from app.services.api_objects import ApiObject, SubscriptionObject
from app.services.events import Actor, record_event
from app.services.portal_links import PortalAccess
from app.services.portal_settings import get_portal_settings
from app.views import (
    PortalSettingsView,
)

log = logging.getLogger(__name__)


DISABLED_MESSAGE = N_("This action is not available in this portal.")


def require_feature(settings: PortalSettingsView, feature: str) -> None:
    """Refuse an action whose portal toggle (a `PortalSettingsView` flag name) the merchant switched off."""
    if not getattr(settings, feature):
        raise Forbidden(DISABLED_MESSAGE)


def enabled_settings(*, session: Session, access: PortalAccess, feature: str) -> PortalSettingsView:
    """The merchant's saved settings, after checking that `feature` is on."""
    settings = get_portal_settings(session=session, merchant_id=access.merchant_id)
    require_feature(settings, feature)
    return settings


def not_owned(access: PortalAccess, kind: str, object_id: str) -> NotFound:
    """The NotFound for an id the link's customer does not own, logged: a guessed or foreign id is worth a look.

    Logged as a warning, not an event: the refused action's transaction is rolled back, and nothing may change.
    """
    log.warning(
        "Portal link %s of customer %s was refused %s %r: not the customer's",
        access.link_id,
        access.customer_id,
        kind,
        object_id[:64],
    )
    return NotFound(kind)


def owned_customer(session: Session, access: PortalAccess) -> Customer:
    customer = session.get(Customer, access.customer_id)
    if customer is None or customer.merchant_id != access.merchant_id or customer.deleted_at is not None:
        raise NotFound("customer")
    return customer


def owned_subscription(session: Session, access: PortalAccess, subscription_id: str) -> Subscription:
    subscription = session.scalar(
        _subscriptions_query(access).where(Subscription.id == subscription_id).with_for_update()
    )
    if subscription is None:
        raise not_owned(access, "subscription", subscription_id)
    return subscription


def owned_invoice(session: Session, access: PortalAccess, invoice_id: str, *, lock: bool = False) -> Invoice:
    query = (
        select(Invoice)
        .where(
            Invoice.id == invoice_id,
            Invoice.customer_id == access.customer_id,
            Invoice.merchant_id == access.merchant_id,
            Invoice.status.in_(InvoiceStatus.customer_visible()),
        )
        .options(selectinload(Invoice.lines))
    )
    invoice = session.scalar(query.with_for_update() if lock else query)
    if invoice is None:
        raise not_owned(access, "invoice", invoice_id)
    return invoice


def payable_or_history_invoice(session: Session, access: PortalAccess, invoice_id: str) -> Invoice:
    """One of the customer's invoices as the portal may show it: any of them with Invoice history on; with it off,
    only an open one. What the customer still owes stays viewable and payable (from the subscription's card), so a
    history switched off is never a dead end for a past-due or waiting subscription."""
    invoice = owned_invoice(session, access, invoice_id)
    if invoice.status != InvoiceStatus.OPEN:
        enabled_settings(session=session, access=access, feature="invoice_history")
    return invoice


def _subscriptions_query(access: PortalAccess) -> Select[Subscription]:
    return (
        select(Subscription)
        .where(Subscription.customer_id == access.customer_id, Subscription.merchant_id == access.merchant_id)
        .options(selectinload(Subscription.items).selectinload(SubscriptionItem.price).selectinload(Price.product))
    )


def record_portal_event(
    session: Session,
    access: PortalAccess,
    event_type: EventType,
    resource: ApiObject,
    actor: Actor,
    clock: Clock,
    *,
    previous: ApiObject | None = None,
) -> None:
    """Record what the customer did, on their account, with who did it (link, IP, user agent)."""
    record_event(
        session=session,
        merchant_id=access.merchant_id,
        customer_id=access.customer_id,
        event_type=event_type,
        resource=resource,
        previous=previous,
        actor=actor,
        clock=clock,
    )


def record_subscription_update(
    session: Session,
    access: PortalAccess,
    subscription: Subscription,
    before: SubscriptionObject,
    actor: Actor,
    clock: Clock,
) -> None:
    """Record `customer.subscription.updated`: the subscription now, and what changed since `before`."""
    after = SubscriptionObject.from_row(subscription)
    record_portal_event(session, access, EventType.CUSTOMER_SUBSCRIPTION_UPDATED, after, actor, clock, previous=before)
