"""Both payment gateways for the tests: settings for each, and what the card element does in a browser.

The Stripe gateway runs against localstripe, which `make test` starts (scripts/with-localstripe.sh) and names in
TEST_STRIPE_API_BASE; without it, the Stripe runs of the parametrised tests are skipped.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.clock import Clock, system_clock
from app.config import Settings
from app.db import Database
from app.gateways.base import ChargeRequest, GatewayPayment, PaymentGateway
from app.services.payments import add_card, start_card_setup
from app.services.portal_links import PortalAccess
from app.views import PaymentMethodView
from tests.unit.portal_support import ACTOR

STRIPE_API_BASE = os.environ.get("TEST_STRIPE_API_BASE", "")
GATEWAYS = ("test", "stripe")
STRIPE_KEYS = {
    "STRIPE_SECRET_KEY": "sk_test_portal",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_portal",
    "STRIPE_WEBHOOK_SECRET": "whsec_test_portal",
}


def require_gateway(name: str) -> None:
    if name == "stripe" and not STRIPE_API_BASE:
        pytest.skip("the Stripe gateway runs against localstripe: run under scripts/with-localstripe.sh (make test)")


def gateway_environment(name: str) -> dict[str, str]:
    """The environment variables that select gateway `name` (Stripe: localstripe's API and Stripe.js mock)."""
    if name == "test":
        return {"PAYMENT_GATEWAY": "test"}
    return {
        "PAYMENT_GATEWAY": "stripe",
        **STRIPE_KEYS,
        "STRIPE_API_BASE": STRIPE_API_BASE,
        "STRIPE_JS_URL": f"{STRIPE_API_BASE}/js.stripe.com/v3/",
    }


def gateway_settings(settings: Settings, name: str) -> Settings:
    require_gateway(name)
    values = {key.lower(): value for key, value in gateway_environment(name).items()}
    return settings.model_copy(update=values)


class CardRefusedInBrowser(Exception):
    """The gateway refused the card in the browser (the card element shows the message of `code`)."""

    def __init__(self, code: str, decline_code: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.decline_code = decline_code


@dataclass
class Browser:
    """The card element's requests to the gateway, as the browser makes them (no Python side of the app involved)."""

    gateway: PaymentGateway

    def _post(self, path: str, body: dict[str, object]) -> dict[str, object]:
        if self.gateway.name == "test":
            router = self.gateway.router()
            assert router is not None
            application = FastAPI()
            application.include_router(router)
            return asyncio.run(_post_to(application, f"/test-gateway/v1/{path}", body))
        # What localstripe's Stripe.js mock sends (the publishable key, not the secret one).
        answer = httpx.post(f"{STRIPE_API_BASE}/v1/{path}", content=json.dumps({"key": "pk_test_portal", **body}))
        return answer.json()

    def confirm_setup(
        self, client_secret: str, number: str, expiry: str = "12/34", cvc: str = "123", *, authenticate: bool = True
    ) -> str:
        """The setup result the card element hands to the app; CardRefusedInBrowser when the gateway refuses."""
        if self.gateway.name == "test":
            answer = self._post(
                "setup_intents/confirm", {"client_secret": client_secret, "card": _card(number, expiry, cvc)}
            )
            if answer.get("status") == "requires_action":
                answer = self._post(
                    "setup_intents/authenticate", {"challenge": answer["challenge"], "authenticated": authenticate}
                )
            return str(answer["setup_result"]) if "setup_result" in answer else _refused(answer)
        setup_intent = client_secret.split("_secret_")[0]
        month, year = expiry.split("/")
        card = {"number": number.replace(" ", ""), "exp_month": month, "exp_year": year, "cvc": cvc}
        body = {"use_stripe_sdk": True, "client_secret": client_secret}
        answer = self._post(
            f"setup_intents/{setup_intent}/confirm", {**body, "payment_method_data": {"type": "card", "card": card}}
        )
        if answer.get("status") == "requires_action":
            answer = self._post(f"setup_intents/{setup_intent}/{'confirm' if authenticate else 'cancel'}", body)
            if answer.get("status") != "succeeded":
                raise CardRefusedInBrowser("setup_intent_authentication_failure")
        return str(answer["id"]) if answer.get("status") == "succeeded" else _refused(answer)

    def authenticate_payment(self, client_secret: str, *, approve: bool) -> str:
        """The customer answers their bank's 3-D Secure check; returns the card element's confirmation."""
        if self.gateway.name == "test":
            answer = self._post(
                "payment_intents/authenticate", {"client_secret": client_secret, "authenticated": approve}
            )
            return str(answer["confirmation"])
        intent = client_secret.split("_secret_")[0]
        answer = self._post(
            f"payment_intents/{intent}/_authenticate?success={'true' if approve else 'false'}",
            {"client_secret": client_secret},
        )
        return str(answer["id"])


async def _post_to(application: FastAPI, path: str, body: dict[str, object]) -> dict[str, object]:
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        return (await client.post(path, json=body)).json()


def _card(number: str, expiry: str, cvc: str) -> dict[str, str]:
    return {"number": number, "expiry": expiry, "cvc": cvc}


def _refused(answer: dict[str, object]) -> str:
    error = answer.get("error")
    assert isinstance(error, dict), answer
    raise CardRefusedInBrowser(str(error.get("code", "")), str(error.get("decline_code", "")))


class RecordingGateway:
    """A real gateway that records each charge asked of it, answers from its idempotency memory included."""

    __test__ = False

    def __init__(self, inner: PaymentGateway) -> None:
        self._inner = inner
        self.charges: list[ChargeRequest] = []
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def charge(self, request: ChargeRequest) -> GatewayPayment:
        with self._lock:
            self.charges.append(request)
        return self._inner.charge(request)

    @property
    def charged(self) -> int:
        """Charges really made: requests with distinct idempotency keys."""
        return len({request.idempotency_key for request in self.charges})


def add_card_through(
    gateway: PaymentGateway,
    database: Database,
    access: PortalAccess,
    number: str,
    *,
    cardholder_name: str = "Pat Doe",
    make_default: bool = False,
    clock: Clock = system_clock,
    **browser: Any,
) -> PaymentMethodView:
    """A card saved as the portal saves it: a setup, the browser confirms it with the gateway, the result is saved."""
    with database.transaction() as session:
        secret = start_card_setup(session=session, access=access, gateway=gateway).client_secret
    result = Browser(gateway).confirm_setup(secret, number, **browser)
    with database.transaction() as session:
        return add_card(
            session=session,
            access=access,
            setup_result=result,
            cardholder_name=cardholder_name,
            gateway=gateway,
            actor=ACTOR,
            clock=clock,
            make_default=make_default,
        )
