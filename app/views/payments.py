"""Views of cards and payments: the card element's needs, a charge's outcome, payments and the active gateway."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.enums import ChargeStatus, PaymentStatus, SubscriptionStatus
from app.views import InvoiceView


@dataclass(frozen=True, slots=True)
class CardElementConfig:
    """What the browser needs to mount the active gateway's card element and talk to the gateway directly."""

    gateway: str  # "test" or "stripe"
    script_url: str  # the gateway's SDK to load first ("" for the built-in test gateway)
    publishable_key: str
    stand_in: bool = False  # the SDK is a test server's stand-in (localstripe), loaded in a scope of its own


@dataclass(frozen=True, slots=True)
class CardSetupView:
    """A started card setup: the browser confirms it with the gateway using `client_secret`."""

    element: CardElementConfig
    client_secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class PaymentAuthentication:
    """A payment waiting for the customer's 3-D Secure confirmation, as the browser confirms it with the gateway."""

    invoice_id: str
    element: CardElementConfig
    client_secret: str = field(repr=False)
    payment_method_id: str  # the card at the gateway


@dataclass(frozen=True, slots=True)
class ChargeOutcome:
    """What charging an invoice came to. `failure_message` (an English msgid) says why, for the customer."""

    status: ChargeStatus
    invoice: InvoiceView
    failure_message: str = ""
    payment_id: str | None = None  # the attempt; None when nothing was charged (already paid, nothing due)
    subscription_status: SubscriptionStatus | None = None  # the invoice's subscription afterwards


@dataclass(frozen=True, slots=True)
class PaymentView:
    """One attempt to charge an invoice, as the merchant's customer page lists it."""

    id: str
    invoice_number: str
    amount: int
    currency: str
    status: PaymentStatus
    gateway: str
    gateway_payment_id: str  # the payment intent at the gateway (`pi_…`); "" until the gateway answered
    failure_message: str
    off_session: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class GatewayStatusView:
    """The active payment gateway and when it last sent a webhook (None: never, or it sends none)."""

    name: str
    sends_webhooks: bool
    webhook_url: str
    webhook_events: tuple[str, ...]  # to register with the gateway for that URL
    last_webhook_at: datetime | None
