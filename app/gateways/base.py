"""The payment gateway seam: what the portal asks of a card processor, in tokens, as processors work.

Card numbers never reach the portal's Python code. The browser enters the card into the gateway's card element and
confirms a setup with the gateway directly (3-D Secure included); the app only gets a payment method id with its
brand, last 4 and expiry. Charges are payment intents on that id (off-session for the billing clock); one that
needs the customer's authentication comes back as `requires_action` and is confirmed in the browser later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from fastapi import APIRouter

from app.errors import DomainError
from app.i18n import N_

# What customers are told, whichever gateway refused (English msgids, translated by the portal).
DECLINED = N_("Your card was declined.")
INSUFFICIENT_FUNDS = N_("Your card has insufficient funds.")
EXPIRED = N_("Your card has expired.")
AUTHENTICATION_FAILED = N_("Your bank could not confirm this payment. Try again, or use another card.")
INVALID_NUMBER = N_("Your card number is invalid.")
INVALID_EXPIRY = N_("Your card's expiry date is invalid.")
INVALID_CVC = N_("Your card's security code is invalid.")
NOT_PROCESSED = N_("Your card could not be processed. Try again, or use another card.")
UNREACHABLE = N_("We could not reach the payment processor, so nothing was charged yet. Try again in a moment.")

# Stripe's error codes (and decline codes), which the built-in test gateway speaks too.
_MESSAGES = {
    "insufficient_funds": INSUFFICIENT_FUNDS,
    "expired_card": EXPIRED,
    "card_declined": DECLINED,
    "incorrect_number": INVALID_NUMBER,
    "invalid_number": INVALID_NUMBER,
    "invalid_expiry_month": INVALID_EXPIRY,
    "invalid_expiry_year": INVALID_EXPIRY,
    "incorrect_cvc": INVALID_CVC,
    "invalid_cvc": INVALID_CVC,
    "authentication_required": AUTHENTICATION_FAILED,
    "payment_intent_authentication_failure": AUTHENTICATION_FAILED,
    "setup_intent_authentication_failure": AUTHENTICATION_FAILED,
}


def customer_message(code: str, decline_code: str = "") -> str:
    """The customer's message for a gateway error code (the decline code is more precise when there is one)."""
    return _MESSAGES.get(decline_code) or _MESSAGES.get(code) or NOT_PROCESSED


class CardRefused(DomainError):
    """The gateway refused a card or a setup; the message is for the customer (one of the constants above)."""


class GatewayUnavailable(DomainError):
    """The gateway could not be reached or answered with an error that is not about the card: try again later."""


class InvalidWebhook(DomainError):
    """A webhook request that does not carry a valid signature of the gateway (or is not for this gateway)."""


@dataclass(frozen=True, slots=True)
class BrowserSources:
    """Origins the browser must reach for the gateway's card element (Content-Security-Policy sources)."""

    script: tuple[str, ...] = ()
    frame: tuple[str, ...] = ()
    connect: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GatewayCard:
    """A card the gateway saved for a customer: its id at the gateway and what may be shown of it."""

    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    """One payment intent: a stored card (with what we know of it), an amount, and a key that never charges twice."""

    customer_reference: str
    payment_method_id: str
    last4: str
    exp_month: int
    exp_year: int
    amount_minor: int
    currency: str
    idempotency_key: str
    off_session: bool
    metadata: dict[str, str] = field(default_factory=dict)
    now: datetime | None = None


PaymentState = Literal["succeeded", "failed", "requires_action", "processing", "canceled"]


@dataclass(frozen=True, slots=True)
class GatewayPayment:
    """Where a payment intent stands at the gateway."""

    gateway_payment_id: str
    state: PaymentState
    failure_message: str = ""  # a customer message when failed


@dataclass(frozen=True, slots=True)
class GatewayEvent:
    """A webhook event, reduced to what the portal applies. `kind` is the gateway's event type."""

    id: str
    kind: str
    payment: GatewayPayment | None = None
    payment_id: str = ""  # our payment's id, from the payment intent's metadata
    payment_method_id: str = ""  # a card detached at the gateway


class PaymentGateway(Protocol):
    """A card processor behind tokens. Built by `app.gateways.build_gateway`; nothing else names an implementation."""

    @property
    def name(self) -> str:
        """ "test" or "stripe": stored beside every gateway id, so ids of another gateway are never sent to this one."""
        ...

    @property
    def script_url(self) -> str:
        """The gateway's browser SDK to load before the card element ("" when the app's own file has it all)."""
        ...

    @property
    def publishable_key(self) -> str: ...

    @property
    def script_is_stand_in(self) -> bool:
        """The SDK is a test server's stand-in (localstripe's Stripe.js mock), not the gateway's own script."""
        ...

    @property
    def sends_webhooks(self) -> bool: ...

    @property
    def webhook_event_types(self) -> tuple[str, ...]:
        """The event types to register for the gateway's webhook endpoint (the ones the portal applies)."""
        ...

    def browser_sources(self) -> BrowserSources: ...

    def router(self) -> APIRouter | None:
        """Routes the gateway serves from the app itself (the test gateway's tokenisation), or None."""
        ...

    def customer_reference(self, *, customer_id: str, email: str, name: str) -> str:
        """Create the gateway's customer for a portal customer (called once; the caller stores the reference)."""
        ...

    def start_setup(self, *, customer_reference: str) -> str:
        """A setup intent for saving a card; returns its client secret for the browser."""
        ...

    def finish_setup(self, *, customer_reference: str, setup_result: str) -> GatewayCard:
        """The card a confirmed setup saved (`setup_result` as the card element returned it); raise CardRefused."""
        ...

    def charge(self, request: ChargeRequest) -> GatewayPayment:
        """Create and confirm a payment intent; raise GatewayUnavailable when the outcome is unknown."""
        ...

    def payment_status(self, *, gateway_payment_id: str, confirmation: str) -> GatewayPayment:
        """The payment intent after the browser confirmed it (`confirmation` as the card element returned it)."""
        ...

    def authentication_secret(self, *, gateway_payment_id: str) -> str:
        """The client secret the browser confirms a `requires_action` payment intent with."""
        ...

    def cancel_payment(self, *, gateway_payment_id: str) -> None: ...

    def detach(self, *, payment_method_id: str) -> None:
        """Remove a saved card at the gateway."""
        ...

    def webhook_events(self, *, payload: bytes, headers: Mapping[str, str]) -> tuple[GatewayEvent, ...]:
        """The events of a webhook request after checking its signature; raise InvalidWebhook."""
        ...
