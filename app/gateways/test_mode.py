"""The built-in test gateway: Stripe's test cards, simulated by the app itself behind the same seam. Never charges.

The browser's card element posts the card over plain HTTP to this gateway's own routes (`/test-gateway/v1/…`), never
over the NiceGUI websocket; the routes check it (ASCII digits, Luhn, brand, expiry, CVC) and answer with a signed
token naming a payment method (`pm_test_…`) with brand, last 4 and expiry. Nothing is stored here: setups, 3-D Secure
challenges and their outcomes travel as tokens signed with the app's secret key, so any app process can finish what
another began. The number and CVC exist only in the memory of one request and are never logged.

Test cards (any future expiry, any CVC of the right length):
`4242 4242 4242 4242` works; `4000 0000 0000 0002` is declined, `…9995` has insufficient funds and `…0069` is expired
(all three when saved); `4000 0025 0000 3155` asks for 3-D Secure when saved and on every payment; `4000 0000 0000
0341` is saved but every charge of it is declined.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.gateways.base import (
    AUTHENTICATION_FAILED,
    DECLINED,
    EXPIRED,
    INSUFFICIENT_FUNDS,
    NOT_PROCESSED,
    BrowserSources,
    CardRefused,
    ChargeRequest,
    GatewayCard,
    GatewayEvent,
    GatewayPayment,
    InvalidWebhook,
    customer_message,
)

TOKEN_MAX_AGE = 3600  # seconds a setup or a 3-D Secure challenge stays usable
NEEDS_AUTHENTICATION = "4000002500003155"
# Card numbers refused when saved (with Stripe's code and decline code), and last 4 digits refused when charged.
_SETUP_REFUSALS = {
    "4000000000000002": ("card_declined", "generic_decline"),
    "4000000000009995": ("card_declined", "insufficient_funds"),
    "4000000000000069": ("expired_card", ""),
}
_CHARGE_REFUSALS = {"0341": DECLINED, "0002": DECLINED, "9995": INSUFFICIENT_FUNDS, "0069": EXPIRED}

_BRANDS: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    # brand, number prefix pattern, allowed lengths
    ("amex", r"3[47]", (15,)),
    ("visa", r"4", (13, 16, 19)),
    ("mastercard", r"5[1-5]|2(2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)", (16,)),
    ("discover", r"6011|65|64[4-9]", (16, 19)),
    ("diners", r"3(0[0-5]|[689])", (14, 16, 19)),
    ("jcb", r"35(2[89]|[3-8]\d)", (16, 19)),
    ("unionpay", r"62", (16, 17, 18, 19)),
)


def card_digits(number: str) -> str:
    """The digits of a typed card number (spaces and dashes allowed); "" when anything else was typed.

    Only ASCII digits: `str.isdigit` also accepts full-width and other scripts' digits.
    """
    compact = re.sub(r"[\s-]", "", number)
    return compact if compact.isascii() and compact.isdigit() else ""


def card_brand(number: str) -> str:
    """The brand a card number belongs to ("visa", "mastercard", "amex", …), or "unknown"."""
    digits = card_digits(number)
    for brand, prefix, _ in _BRANDS:
        if re.match(prefix, digits):
            return brand
    return "unknown"


def passes_luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return bool(digits) and total % 10 == 0


def parse_expiry(expiry: str) -> tuple[int, int] | None:
    """(month, four-digit year) from "MM/YY", "MM / YY" or "MM/YYYY"; None when it is not such a date."""
    match = re.fullmatch(r"\s*([0-9]{1,2})\s*/\s*([0-9]{2}|[0-9]{4})\s*", expiry)
    if not match:
        return None
    month, year = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        return None
    return month, year + 2000 if year < 100 else year


def card_error(number: str, expiry: str, cvc: str, now: datetime) -> tuple[str, str] | None:
    """Stripe's (code, decline code) for a card the test gateway refuses, or None when it saves it."""
    digits = card_digits(number)
    brand = card_brand(digits)
    lengths = next((allowed for name, _, allowed in _BRANDS if name == brand), (16,))
    if not digits or len(digits) not in lengths or not passes_luhn(digits):
        return "incorrect_number", ""
    parsed = parse_expiry(expiry)
    if parsed is None:
        return "invalid_expiry_month", ""
    if (parsed[1], parsed[0]) < (now.year, now.month):
        return "invalid_expiry_year", ""
    if not re.fullmatch(rf"[0-9]{{{4 if brand == 'amex' else 3}}}", cvc.strip()):
        return "incorrect_cvc", ""
    return _SETUP_REFUSALS.get(digits)


def _refusal(code: str, decline_code: str = "") -> JSONResponse:
    error = {"code": code, "decline_code": decline_code, "message": customer_message(code, decline_code)}
    return JSONResponse({"error": error}, status_code=402)


class TestGateway:
    """The default gateway: decides by the card number like Stripe's test cards; never charges money."""

    __test__ = False  # not a pytest test class
    name = "test"
    script_url = ""  # the portal's own card element file has the test gateway's inputs
    publishable_key = ""
    script_is_stand_in = False
    sends_webhooks = False
    webhook_event_types: tuple[str, ...] = ()

    def __init__(self, secret_key: str) -> None:
        self._signer = URLSafeTimedSerializer(secret_key, salt="test-gateway")
        self._charges: dict[str, GatewayPayment] = {}
        self._lock = threading.Lock()

    # --- tokens -------------------------------------------------------------------------------------------------

    def _sign(self, kind: str, **data: Any) -> str:
        return self._signer.dumps({"kind": kind, **data})

    def _load(self, kind: str, token: str) -> dict[str, Any] | None:
        try:
            data = self._signer.loads(token, max_age=TOKEN_MAX_AGE)
        except BadSignature:  # SignatureExpired is one: an old token is as unusable as a forged one
            return None
        return data if isinstance(data, dict) and data.get("kind") == kind else None

    # --- the seam -----------------------------------------------------------------------------------------------

    def browser_sources(self) -> BrowserSources:
        return BrowserSources()

    def customer_reference(self, *, customer_id: str, email: str, name: str) -> str:
        return f"tcus_{customer_id}"

    def start_setup(self, *, customer_reference: str) -> str:
        return self._sign("setup", setup_intent=f"seti_test_{secrets.token_hex(8)}", customer=customer_reference)

    def finish_setup(self, *, customer_reference: str, setup_result: str) -> GatewayCard:
        data = self._load("setup_result", setup_result)
        if data is None or data["customer"] != customer_reference:
            raise CardRefused(NOT_PROCESSED)
        return GatewayCard(**data["card"])

    def charge(self, request: ChargeRequest) -> GatewayPayment:
        with self._lock:
            if request.idempotency_key in self._charges:
                return self._charges[request.idempotency_key]
            payment_id = "pi_test_" + hmac.new(b"pi", request.idempotency_key.encode(), hashlib.sha256).hexdigest()[:24]
            now = request.now or datetime.now(UTC)
            if (request.exp_year, request.exp_month) < (now.year, now.month):
                result = GatewayPayment(payment_id, "failed", EXPIRED)
            elif failure := _CHARGE_REFUSALS.get(request.last4):
                result = GatewayPayment(payment_id, "failed", failure)
            elif request.last4 == NEEDS_AUTHENTICATION[-4:]:
                result = GatewayPayment(payment_id, "requires_action")
            else:
                result = GatewayPayment(payment_id, "succeeded")
            self._charges[request.idempotency_key] = result
            return result

    def payment_status(self, *, gateway_payment_id: str, confirmation: str) -> GatewayPayment:
        data = self._load("payment_result", confirmation)
        if data is None or data["payment_intent"] != gateway_payment_id:
            return GatewayPayment(gateway_payment_id, "requires_action")
        if data["authenticated"]:
            return GatewayPayment(gateway_payment_id, "succeeded")
        return GatewayPayment(gateway_payment_id, "failed", AUTHENTICATION_FAILED)

    def authentication_secret(self, *, gateway_payment_id: str) -> str:
        return self._sign("payment", payment_intent=gateway_payment_id)

    def cancel_payment(self, *, gateway_payment_id: str) -> None:
        """Nothing to do: a confirmation of a cancelled payment is refused by the app, which knows it was cancelled."""

    def detach(self, *, payment_method_id: str) -> None:
        """Nothing to do: the test gateway keeps no cards."""

    def webhook_events(self, *, payload: bytes, headers: Mapping[str, str]) -> tuple[GatewayEvent, ...]:
        raise InvalidWebhook("The test gateway sends no webhooks.")

    # --- what the browser's card element talks to -------------------------------------------------------------

    def router(self) -> APIRouter:
        router = APIRouter(prefix="/test-gateway/v1", include_in_schema=False)

        @router.post("/setup_intents/confirm")
        async def confirm_setup(request: Request) -> JSONResponse:
            """Check the card and save it as a payment method, or ask for 3-D Secure first (the 3155 card)."""
            body = await _json_object(request)
            setup = self._load("setup", str(body.get("client_secret", "")))
            card = body.get("card")
            if setup is None or not isinstance(card, dict):
                return _refusal("setup_intent_unexpected_state")
            number, expiry, cvc = (str(card.get(key, ""))[:40] for key in ("number", "expiry", "cvc"))
            if error := card_error(number, expiry, cvc, datetime.now(UTC)):
                return _refusal(*error)
            digits, (exp_month, exp_year) = card_digits(number), parse_expiry(expiry) or (0, 0)
            saved = GatewayCard(f"pm_test_{secrets.token_hex(8)}", card_brand(digits), digits[-4:], exp_month, exp_year)
            result = {"customer": setup["customer"], "card": asdict(saved)}
            if digits == NEEDS_AUTHENTICATION:
                return JSONResponse({"status": "requires_action", "challenge": self._sign("challenge", **result)})
            return JSONResponse({"status": "succeeded", "setup_result": self._sign("setup_result", **result)})

        @router.post("/setup_intents/authenticate")
        async def authenticate_setup(request: Request) -> JSONResponse:
            body = await _json_object(request)
            challenge = self._load("challenge", str(body.get("challenge", "")))
            if challenge is None or body.get("authenticated") is not True:
                return _refusal("setup_intent_authentication_failure")
            challenge.pop("kind")
            return JSONResponse({"status": "succeeded", "setup_result": self._sign("setup_result", **challenge)})

        @router.post("/payment_intents/authenticate")
        async def authenticate_payment(request: Request) -> JSONResponse:
            body = await _json_object(request)
            payment = self._load("payment", str(body.get("client_secret", "")))
            if payment is None:
                return _refusal("payment_intent_unexpected_state")
            authenticated = body.get("authenticated") is True
            confirmation = self._sign(
                "payment_result", payment_intent=payment["payment_intent"], authenticated=authenticated
            )
            return JSONResponse({"status": "succeeded" if authenticated else "failed", "confirmation": confirmation})

        return router


async def _json_object(request: Request) -> dict[str, Any]:
    """The request's JSON object, or {} (a malformed body is answered like a wrong one, without echoing it)."""
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
