"""One status badge for the portal and the dashboard: a pale pill with dark text of the same hue, as Stripe shows.

The pills stay readable (WCAG AA) whatever the merchant's brand colour. Labels are English msgids: the portal
passes its translator, the dashboard (English) shows them as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import TypeVar

from nicegui import ui

from app.enums import InvoiceStatus, PortalLinkStatus, SubscriptionStatus, WebhookDeliveryStatus
from components.presets import preset

S = TypeVar("S", bound=StrEnum)


class Tone(StrEnum):
    POSITIVE = "positive"
    WARNING = "warning"
    NEGATIVE = "negative"
    INFO = "info"
    NEUTRAL = "neutral"


_TONE_COLORS: dict[Tone, tuple[str, str]] = {  # (background, text) from Quasar's palette
    Tone.POSITIVE: ("green-1", "green-10"),
    Tone.WARNING: ("amber-2", "brown-10"),
    Tone.NEGATIVE: ("red-1", "red-10"),
    Tone.INFO: ("blue-1", "blue-10"),
    Tone.NEUTRAL: ("grey-3", "grey-9"),
}
_SHAPE = "rounded-full q-px-sm text-caption text-weight-medium whitespace-nowrap"
# A styled label rather than Quasar's badge: it looks the same and costs half as much to build, which counts in
# the invoice list of every portal page.
_BADGES = {
    tone: preset(ui.label, classes=f"bg-{background} text-{foreground} {_SHAPE}")
    for tone, (background, foreground) in _TONE_COLORS.items()
}

SUBSCRIPTION_LABELS: dict[SubscriptionStatus, tuple[str, Tone]] = {
    SubscriptionStatus.ACTIVE: ("Active", Tone.POSITIVE),
    SubscriptionStatus.TRIALING: ("Trial", Tone.INFO),
    SubscriptionStatus.PAST_DUE: ("Past due", Tone.WARNING),
    SubscriptionStatus.UNPAID: ("Unpaid", Tone.NEGATIVE),
    SubscriptionStatus.CANCELED: ("Canceled", Tone.NEUTRAL),
    SubscriptionStatus.INCOMPLETE: ("Incomplete", Tone.NEUTRAL),
    SubscriptionStatus.PAUSED: ("Paused", Tone.INFO),
}
INVOICE_LABELS: dict[InvoiceStatus, tuple[str, Tone]] = {
    InvoiceStatus.OPEN: ("Open", Tone.WARNING),
    InvoiceStatus.PAID: ("Paid", Tone.POSITIVE),
    InvoiceStatus.VOID: ("Void", Tone.NEUTRAL),
    InvoiceStatus.UNCOLLECTIBLE: ("Uncollectible", Tone.NEUTRAL),
    InvoiceStatus.DRAFT: ("Draft", Tone.NEUTRAL),
}
LINK_LABELS: dict[PortalLinkStatus, tuple[str, Tone]] = {
    PortalLinkStatus.ACTIVE: ("Active", Tone.POSITIVE),
    PortalLinkStatus.EXPIRED: ("Expired", Tone.NEUTRAL),
    PortalLinkStatus.REVOKED: ("Revoked", Tone.NEGATIVE),
}
DELIVERY_LABELS: dict[WebhookDeliveryStatus, tuple[str, Tone]] = {
    WebhookDeliveryStatus.PENDING: ("Retrying", Tone.WARNING),
    WebhookDeliveryStatus.DELIVERED: ("Delivered", Tone.POSITIVE),
    WebhookDeliveryStatus.FAILED: ("Failed", Tone.NEGATIVE),
}


def status_badge(text: str, tone: Tone) -> ui.label:
    """A small pill with `text` in the colours of `tone`."""
    return _BADGES[tone](text)


def badge_for(status: S, labels: Mapping[S, tuple[str, Tone]], translate: Callable[[str], str] = str) -> ui.label:
    """The badge of a status from one of the label tables above; an unknown status is shown neutral, as it is."""
    label, tone = labels.get(status, (status, Tone.NEUTRAL))
    return status_badge(translate(label), tone)
