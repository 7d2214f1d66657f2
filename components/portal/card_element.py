"""The payment gateway's card element, from Python: a host element and calls into `card_element.js`.

The card's number, expiry and CVC are typed into inputs that the gateway's script creates (Stripe Elements, or the
built-in test gateway's), and go from the browser to the gateway. Only results come back over the websocket: a
setup's result, a payment's confirmation, or an error code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from nicegui import Client, ui

from app.views import CardElementConfig

SCRIPT_FILE = Path(__file__).with_name("card_element.js")
SCRIPT_URL = "/payments/card-element.js"
# Seconds the browser may take to confirm with the gateway: the customer may be answering a 3-D Secure check.
CONFIRM_TIMEOUT = 600.0


@dataclass(frozen=True, slots=True)
class CardResult:
    """What the gateway said in the browser: a value to hand to the service, or an error code to explain."""

    value: str = ""
    error_code: str = ""
    decline_code: str = ""


def head_html(config: CardElementConfig) -> str:
    """The script tags a page with a card element needs: the gateway's SDK (a stand-in is loaded by the card element
    itself), then the card element's own file."""
    sdk = (
        f'<script src="{_attribute(config.script_url)}"></script>' if config.script_url and not config.stand_in else ""
    )
    return f'{sdk}<script src="{SCRIPT_URL}"></script>'


def _attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _result(answer: object, key: str) -> CardResult:
    if not isinstance(answer, dict):
        return CardResult(error_code="processing_error")
    error = answer.get("error")
    if isinstance(error, dict):
        return CardResult(error_code=str(error.get("code", "")), decline_code=str(error.get("decline_code", "")))
    return CardResult(value=str(answer.get(key, "")))


class CardElement(ui.element):
    """Where the gateway's card inputs appear; `mount()` once it is on the page, then `confirm_setup()`."""

    def __init__(self, config: CardElementConfig) -> None:
        super().__init__("div")
        self._config = config
        self.classes("w-full").mark("card-element")

    async def mount(self) -> None:
        await ui.run_javascript(
            f"return await portalCardElement.mount({json.dumps(self.html_id)}, {_config_json(self._config)})",
            timeout=10,
        )

    async def confirm_setup(self, client_secret: str, cardholder_name: str) -> CardResult:
        """Confirm the setup intent with the card typed into this element; the result is the saved card's token."""
        answer = await ui.run_javascript(
            f"return await portalCardElement.confirmSetup({json.dumps(self.html_id)}, {json.dumps(client_secret)}, "
            f"{json.dumps(cardholder_name)})",
            timeout=CONFIRM_TIMEOUT,
        )
        return _result(answer, "setup_result")


async def confirm_payment(
    client: Client, config: CardElementConfig, client_secret: str, payment_method_id: str
) -> CardResult:
    """Let the customer authenticate a payment with their bank (3-D Secure), in the browser, with the gateway."""
    answer = await client.run_javascript(
        f"return await portalCardElement.confirmPayment({_config_json(config)}, {json.dumps(client_secret)}, "
        f"{json.dumps(payment_method_id)})",
        timeout=CONFIRM_TIMEOUT,
    )
    return _result(answer, "confirmation")


def _config_json(config: CardElementConfig) -> str:
    stand_in = config.script_url if config.stand_in else ""
    return json.dumps(
        {"gateway": config.gateway, "publishable_key": config.publishable_key, "stand_in_script": stand_in}
    )
