"""The Stripe gateway: Stripe customers, SetupIntents confirmed by Stripe.js, PaymentIntents and signed webhooks.

Cards are entered into Stripe Elements and confirmed with `confirmCardSetup` in the browser, so card data goes to
Stripe and never to this app; the app learns the payment method's id, brand, last 4 and expiry from Stripe. Charges
are PaymentIntents confirmed at once (off-session for the billing clock), with the portal payment's id as the
idempotency key. Stripe's errors become the same customer messages as the test gateway's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import stripe

from app.gateways.base import (
    NOT_PROCESSED,
    UNREACHABLE,
    BrowserSources,
    CardRefused,
    ChargeRequest,
    GatewayCard,
    GatewayEvent,
    GatewayPayment,
    GatewayUnavailable,
    InvalidWebhook,
    customer_message,
)

log = logging.getLogger(__name__)

STRIPE_JS = "https://js.stripe.com/v3/"
WEBHOOK_TOLERANCE_SECONDS = 300
# The events the portal applies (register these for the webhook endpoint); others are acknowledged and kept as received.
PAYMENT_EVENTS = ("payment_intent.succeeded", "payment_intent.payment_failed")
CARD_EVENTS = ("payment_method.detached",)
_STATES = {
    "succeeded": "succeeded",
    "requires_action": "requires_action",
    "processing": "processing",
    "requires_confirmation": "processing",
    "requires_capture": "processing",
    "canceled": "canceled",
}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _payment(intent: stripe.StripeObject) -> GatewayPayment:
    """A PaymentIntent as the portal records it; one back at `requires_payment_method` has failed."""
    data = intent.to_dict()
    state = _STATES.get(data.get("status", ""))
    if state is not None:
        return GatewayPayment(data["id"], state)  # type: ignore[arg-type]
    return GatewayPayment(data["id"], "failed", _message(data.get("last_payment_error")))


def _message(error: dict[str, Any] | None) -> str:
    error = error or {}
    return customer_message(error.get("code") or "", error.get("decline_code") or "")


class StripeGateway:
    """Stripe through its official library; `api_base` and `js_url` point elsewhere only for tests (localstripe)."""

    name = "stripe"
    sends_webhooks = True
    webhook_event_types = (*PAYMENT_EVENTS, *CARD_EVENTS)

    def __init__(
        self, *, secret_key: str, publishable_key: str, webhook_secret: str, api_base: str, js_url: str
    ) -> None:
        self._client = stripe.StripeClient(secret_key, base_addresses={"api": api_base}, max_network_retries=2)
        self._webhook_secret = webhook_secret
        self.publishable_key = publishable_key
        self.script_url = js_url
        self.script_is_stand_in = js_url != STRIPE_JS

    def browser_sources(self) -> BrowserSources:
        if self.script_url == STRIPE_JS:  # what Stripe's CSP guide lists for Stripe.js with card Elements
            return BrowserSources(
                script=("https://js.stripe.com",),
                frame=("https://js.stripe.com", "https://hooks.stripe.com"),
                connect=("https://api.stripe.com",),
            )
        origin = _origin(self.script_url)  # a stand-in such as localstripe serves its script and API from one origin
        return BrowserSources(script=(origin,), frame=(origin,), connect=(origin,))

    def router(self) -> None:
        return None

    def _call(self, action: str, work: Any) -> Any:
        """Run a Stripe request; a connection, rate-limit or server error becomes GatewayUnavailable."""
        try:
            return work()
        except stripe.CardError:
            raise
        except stripe.StripeError as error:
            log.warning("Stripe %s failed: %s (%s)", action, type(error).__name__, error.code or error.http_status)
            raise GatewayUnavailable(UNREACHABLE) from None

    def customer_reference(self, *, customer_id: str, email: str, name: str) -> str:
        params: dict[str, Any] = {"name": name, "metadata": {"portal_customer": customer_id}}
        if email:
            params["email"] = email
        customer = self._call(
            "customer creation",
            lambda: self._client.v1.customers.create(params=params, options={"idempotency_key": f"cus:{customer_id}"}),
        )
        return str(customer.id)

    def start_setup(self, *, customer_reference: str) -> str:
        params = {"customer": customer_reference, "usage": "off_session", "payment_method_types": ["card"]}
        intent = self._call("setup", lambda: self._client.v1.setup_intents.create(params=params))  # type: ignore[arg-type]
        return str(intent.client_secret)

    def finish_setup(self, *, customer_reference: str, setup_result: str) -> GatewayCard:
        if not setup_result.startswith("seti_"):
            raise CardRefused(NOT_PROCESSED)
        try:
            intent = self._client.v1.setup_intents.retrieve(setup_result)
        except stripe.InvalidRequestError:
            raise CardRefused(NOT_PROCESSED) from None
        except stripe.StripeError:
            raise GatewayUnavailable(UNREACHABLE) from None
        data = intent.to_dict()
        if data.get("customer") != customer_reference or data.get("status") != "succeeded":
            raise CardRefused(_message(data.get("last_setup_error")))
        method = data.get("payment_method")
        method_id = str(method.get("id") if isinstance(method, dict) else method or "")
        if not method_id:
            raise CardRefused(NOT_PROCESSED)
        method = self._call("payment method", lambda: self._client.v1.payment_methods.retrieve(method_id))
        if method.customer != customer_reference:  # Stripe attaches it; a stand-in server may not
            method = self._call(
                "attach",
                lambda: self._client.v1.payment_methods.attach(method_id, params={"customer": customer_reference}),
            )
        card = method.card
        return GatewayCard(method.id, card.brand, card.last4, int(card.exp_month), int(card.exp_year))

    def charge(self, request: ChargeRequest) -> GatewayPayment:
        params: dict[str, Any] = {
            "amount": request.amount_minor,
            "currency": request.currency.lower(),
            "payment_method": request.payment_method_id,
            "payment_method_types": ["card"],
            "confirm": True,
            "metadata": request.metadata,
        }
        if request.customer_reference:
            params["customer"] = request.customer_reference
        if request.off_session:
            params["off_session"] = True
        options: dict[str, Any] = {"idempotency_key": request.idempotency_key}
        try:
            intent = self._client.v1.payment_intents.create(params=params, options=options)  # type: ignore[arg-type]
        except stripe.CardError as error:
            return self._card_error(error)
        except stripe.InvalidRequestError as error:  # refused before charging, e.g. a card removed at Stripe
            log.warning("Stripe refused a charge: %s (%s)", error.code, error.http_status)
            return GatewayPayment("", "failed", NOT_PROCESSED)
        except stripe.StripeError as error:  # the outcome is unknown: the next attempt asks with the same key
            log.warning("Stripe charge failed: %s (%s)", type(error).__name__, error.code or error.http_status)
            raise GatewayUnavailable(UNREACHABLE) from None
        return _payment(intent)

    @staticmethod
    def _card_error(error: stripe.CardError) -> GatewayPayment:
        body = (error.json_body or {}).get("error") or {}
        intent = body.get("payment_intent") or {}
        intent_id = str(intent.get("id", "")) if isinstance(intent, dict) else str(intent)
        if error.code == "authentication_required" and intent_id:
            return GatewayPayment(intent_id, "requires_action")  # off-session: the customer confirms it on-session
        return GatewayPayment(intent_id, "failed", _message(body))

    def payment_status(self, *, gateway_payment_id: str, confirmation: str) -> GatewayPayment:
        # The browser's word is not taken: Stripe says how the payment stands.
        return _payment(self._call("payment", lambda: self._client.v1.payment_intents.retrieve(gateway_payment_id)))

    def authentication_secret(self, *, gateway_payment_id: str) -> str:
        intent = self._call("payment", lambda: self._client.v1.payment_intents.retrieve(gateway_payment_id))
        return str(intent.client_secret)

    def cancel_payment(self, *, gateway_payment_id: str) -> None:
        try:
            self._client.v1.payment_intents.cancel(gateway_payment_id)
        except stripe.StripeError as error:  # already settled or gone: nothing left to cancel
            log.info("Stripe kept payment %s: %s", gateway_payment_id, error.code or error.http_status)

    def detach(self, *, payment_method_id: str) -> None:
        try:
            self._client.v1.payment_methods.detach(payment_method_id)
        except stripe.InvalidRequestError:
            log.info("Stripe payment method %s was detached already", payment_method_id)
        except stripe.StripeError:
            raise GatewayUnavailable(UNREACHABLE) from None

    def webhook_events(self, *, payload: bytes, headers: Mapping[str, str]) -> tuple[GatewayEvent, ...]:
        try:
            event = self._client.construct_event(
                payload, headers.get("stripe-signature", ""), self._webhook_secret, WEBHOOK_TOLERANCE_SECONDS
            )
        except (ValueError, stripe.SignatureVerificationError) as error:
            raise InvalidWebhook(str(error)) from None
        subject = event.data.object
        if event.type in PAYMENT_EVENTS:
            payment_id = str((subject.to_dict().get("metadata") or {}).get("payment", ""))
            return (GatewayEvent(event.id, event.type, payment=_payment(subject), payment_id=payment_id),)
        if event.type in CARD_EVENTS:
            return (GatewayEvent(event.id, event.type, payment_method_id=subject.id),)
        return (GatewayEvent(event.id, event.type),)
