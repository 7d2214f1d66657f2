"""Merchant-side payment pieces: the active gateway on the Billing page, a customer's payments on their page."""

from __future__ import annotations

from collections.abc import Sequence

from nicegui import ui

from app.enums import PaymentStatus
from app.formatting import format_datetime
from app.money import format_money
from app.views import GatewayStatusView, PaymentView
from components.badges import Tone, badge_for

LOCALE = "en_US"  # the dashboard's language; dates still use the merchant's time zone
GATEWAY_NAMES = {"test": "Built-in test gateway", "stripe": "Stripe"}
PAYMENT_LABELS: dict[PaymentStatus, tuple[str, Tone]] = {
    PaymentStatus.SUCCEEDED: ("Succeeded", Tone.POSITIVE),
    PaymentStatus.FAILED: ("Failed", Tone.NEGATIVE),
    PaymentStatus.REQUIRES_ACTION: ("Requires action", Tone.WARNING),
    PaymentStatus.PROCESSING: ("Processing", Tone.INFO),
    PaymentStatus.CANCELED: ("Canceled", Tone.NEUTRAL),
}


def gateway_card(gateway: GatewayStatusView, time_zone: str) -> None:
    """Which payment gateway charges customers, and whether its webhooks arrive."""
    with ui.card().classes("w-full max-w-2xl").props('role="region" aria-label="Payment gateway"'):
        ui.label("Payment gateway").classes("text-h6").props('role="heading" aria-level="2"')
        ui.label(GATEWAY_NAMES.get(gateway.name, gateway.name)).classes("text-subtitle1 text-weight-medium")
        if not gateway.sends_webhooks:
            ui.label(
                "Simulated: cards are checked against Stripe's test card numbers and no money moves. Set "
                "PAYMENT_GATEWAY=stripe with your Stripe keys to take real payments (see the README)."
            ).classes("text-body2")
            return
        ui.label(f"Webhook endpoint to register with the gateway: {gateway.webhook_url}").classes(
            "text-body2 break-all"
        )
        ui.label(f"Its events: {', '.join(gateway.webhook_events)}.").classes("text-body2")
        if gateway.last_webhook_at is None:
            ui.label("No webhook received yet.").classes("text-body2 text-negative").mark("last-webhook")
        else:
            received = format_datetime(gateway.last_webhook_at, LOCALE, time_zone)
            ui.label(f"Last webhook received {received}.").classes("text-body2").mark("last-webhook")


def payments_table(payments: Sequence[PaymentView], *, time_zone: str) -> None:
    """A customer's recent charge attempts, each with its id at the gateway (`pi_…`)."""
    if not payments:
        ui.label("No payments yet.").classes("text-grey-7")
        return
    with ui.element("q-markup-table").props("flat dense wrap-cells").classes("w-full"):
        with ui.element("thead"), ui.element("tr"):
            for title, classes in (
                ("Date", "text-left"),
                ("Invoice", "text-left"),
                ("Amount", "text-right"),
                ("Status", "text-left"),
                ("Gateway ID", "text-left"),
            ):
                with ui.element("th").classes(classes):
                    ui.label(title)
        with ui.element("tbody"):
            for payment in payments:
                with ui.element("tr"):
                    with ui.element("td").classes("text-left"):
                        ui.label(format_datetime(payment.created_at, LOCALE, time_zone))
                    with ui.element("td").classes("text-left"):
                        ui.label(payment.invoice_number).classes("font-mono")
                    with ui.element("td").classes("text-right"):
                        ui.label(format_money(payment.amount, payment.currency, LOCALE))
                    with ui.element("td").classes("text-left"):
                        badge_for(payment.status, PAYMENT_LABELS)
                        if payment.failure_message:
                            ui.label(payment.failure_message).classes("text-caption text-grey-8")
                    with ui.element("td").classes("text-left"):
                        gateway = GATEWAY_NAMES.get(payment.gateway, payment.gateway)
                        ui.label(payment.gateway_payment_id or "—").classes("font-mono break-all")
                        ui.label(gateway + (", automatic" if payment.off_session else "")).classes(
                            "text-caption text-grey-8"
                        )
