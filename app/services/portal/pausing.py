"""Pausing a subscription from the portal, and resuming it: billing stops for whole periods, then starts afresh."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.clock import Clock
from app.enums import EventType, PauseDuration, SubscriptionStatus
from app.errors import ValidationFailed
from app.i18n import N_
from app.periods import add_interval
from app.services.api_objects import SubscriptionObject
from app.services.billing import start_period
from app.services.events import Actor
from app.services.portal.access import (
    enabled_settings,
    owned_subscription,
    record_portal_event,
    record_subscription_update,
)
from app.services.portal_links import PortalAccess
from app.services.resource_views import subscription_view
from app.views import SubscriptionView

NOT_PAUSABLE = N_("Only an active subscription that is not set to cancel can be paused.")


def pause_subscription(
    *, session: Session, access: PortalAccess, subscription_id: str, duration: str, actor: Actor, clock: Clock
) -> SubscriptionView:
    """Pause billing from the end of the paid period, for `duration` (a `PauseDuration` the merchant offers).

    The customer keeps what they paid for until the period ends; then no invoice is issued until the pause ends
    (the billing clock resumes it with a fresh period) or, for "until resumed", until they resume it. Choosing
    the same pause again changes nothing.
    """
    settings = enabled_settings(session=session, access=access, feature="pause_subscriptions")
    subscription = owned_subscription(session, access, subscription_id)
    if duration not in settings.pause_durations:
        raise ValidationFailed({"duration": N_("Choose one of the pause options.")})
    if subscription.status != SubscriptionStatus.ACTIVE or subscription.cancel_at_period_end:
        raise ValidationFailed({"subscription": NOT_PAUSABLE})
    price = subscription.items[0].price
    periods = PauseDuration(duration).periods
    starts_at = subscription.current_period_end
    resumes_at = None if periods is None else add_interval(starts_at, price.interval, price.interval_count * periods)
    if (subscription.pause_starts_at, subscription.pause_resumes_at) == (starts_at, resumes_at):
        return subscription_view(subscription)
    before = SubscriptionObject.from_row(subscription)
    subscription.pause_starts_at, subscription.pause_resumes_at = starts_at, resumes_at
    record_subscription_update(session, access, subscription, before, actor, clock)
    return subscription_view(subscription)


def resume_subscription(
    *, session: Session, access: PortalAccess, subscription_id: str, actor: Actor, clock: Clock
) -> SubscriptionView:
    """Resume billing: a pause that has not begun is dropped; a paused subscription starts a fresh period now, whose
    invoice the billing clock collects at once. Resuming what is not paused changes nothing.

    Allowed while the merchant offers pausing, and also after they stopped offering it: nobody stays paused because
    a switch was turned off.
    """
    subscription = owned_subscription(session, access, subscription_id)
    paused = subscription.status == SubscriptionStatus.PAUSED
    if subscription.pause_starts_at is None and not paused:
        return subscription_view(subscription)
    before = SubscriptionObject.from_row(subscription)
    subscription.pause_starts_at = subscription.pause_resumes_at = None
    if paused:
        subscription.status = SubscriptionStatus.ACTIVE
        resumed = SubscriptionObject.from_row(subscription)
        record_portal_event(session, access, EventType.CUSTOMER_SUBSCRIPTION_RESUMED, resumed, actor, clock)
        start_period(session, subscription, clock(), before=resumed)
    else:
        record_subscription_update(session, access, subscription, before, actor, clock)
    session.flush()
    return subscription_view(subscription)
