"""The retention offer: a coupon a customer is offered once per subscription when they choose to cancel."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import Clock
from app.enums import DiscountKind, EventType, SubscriptionStatus
from app.errors import ValidationFailed
from app.i18n import N_
from app.models import Merchant, Subscription
from app.services.api_objects import SubscriptionObject
from app.services.events import Actor
from app.services.portal.access import enabled_settings, owned_subscription, record_portal_event
from app.services.portal_links import PortalAccess
from app.services.portal_settings import get_portal_settings
from app.services.resource_views import subscription_view
from app.views import Discount, PortalSettingsView, RetentionOfferView, SubscriptionView

OFFER_GONE = N_("This offer is no longer available.")


def offer_of(settings: PortalSettingsView, currency: str, merchant_currency: str) -> Discount | None:
    """The coupon the settings offer on a subscription in `currency` (an amount off only in the merchant's
    default currency, which it is set in); None when the offer is off."""
    if not settings.retention_offer or not settings.cancel_subscriptions:
        return None
    if settings.retention_discount_kind == DiscountKind.AMOUNT and currency != merchant_currency:
        return None
    return Discount(
        kind=DiscountKind(settings.retention_discount_kind),
        value=settings.retention_discount_value,
        invoices=settings.retention_periods,
    )


def _eligible(subscription: Subscription) -> bool:
    """Live, not already canceling, and never offered before."""
    return (
        subscription.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING)
        and not subscription.cancel_at_period_end
        and subscription.retention_offered_at is None
    )


def make_retention_offer(
    *, session: Session, access: PortalAccess, subscription_id: str, actor: Actor, clock: Clock
) -> RetentionOfferView | None:
    """The customer chose to cancel: the merchant's coupon, if this subscription may have it (recorded as
    `customer.subscription.retention_offered`); None when there is nothing to offer (go on to the cancellation).

    Offered at most once per subscription: asking again gives None.
    """
    settings = get_portal_settings(session=session, merchant_id=access.merchant_id)
    subscription = owned_subscription(session, access, subscription_id)
    currency = subscription.items[0].price.currency
    merchant_currency = session.scalar(select(Merchant.default_currency).where(Merchant.id == access.merchant_id))
    discount = offer_of(settings, currency, merchant_currency or "")
    if discount is None or not _eligible(subscription):
        return None
    subscription.retention_offered_at = clock()
    offered = SubscriptionObject.from_row(subscription)
    record_portal_event(session, access, EventType.CUSTOMER_SUBSCRIPTION_RETENTION_OFFERED, offered, actor, clock)
    return RetentionOfferView(subscription_id=subscription.id, discount=discount, currency=currency)


def accept_retention_offer(
    *, session: Session, access: PortalAccess, subscription_id: str, actor: Actor, clock: Clock
) -> SubscriptionView:
    """Take the offer: the subscription stays, and its next invoices carry the discount (the billing clock takes it
    off). Only an offer made and not yet answered can be accepted; accepting twice changes nothing."""
    settings = enabled_settings(session=session, access=access, feature="retention_offer")
    subscription = owned_subscription(session, access, subscription_id)
    if subscription.retention_accepted_at is not None:
        return subscription_view(subscription)
    live = subscription.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING)
    if subscription.retention_offered_at is None or not live or subscription.cancel_at_period_end:
        raise ValidationFailed({"subscription": OFFER_GONE})
    currency = subscription.items[0].price.currency
    merchant_currency = session.scalar(select(Merchant.default_currency).where(Merchant.id == access.merchant_id))
    discount = offer_of(settings, currency, merchant_currency or "")
    if discount is None:
        raise ValidationFailed({"subscription": OFFER_GONE})
    subscription.retention_accepted_at = clock()
    subscription.discount_kind, subscription.discount_value = discount.kind, discount.value
    subscription.discount_invoices_left = discount.invoices
    accepted = SubscriptionObject.from_row(subscription)
    record_portal_event(session, access, EventType.CUSTOMER_SUBSCRIPTION_RETENTION_ACCEPTED, accepted, actor, clock)
    return subscription_view(subscription)
