"""Merchant-side pieces for customers: the list table, status badges, addresses and the details page's sections."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from babel import Locale, UnknownLocaleError
from nicegui import ui

from app.enums import DiscountKind, SubscriptionStatus
from app.formatting import format_date, format_datetime
from app.money import format_money
from app.views import (
    CancellationFeedback,
    CustomerRow,
    InvoiceView,
    PaymentMethodView,
    PortalLinkView,
    SubscriptionView,
)
from components.badges import INVOICE_LABELS, LINK_LABELS, SUBSCRIPTION_LABELS, Tone, badge_for, status_badge

LOCALE = "en_US"  # the dashboard's language; dates still use the merchant's time zone


def customer_table(rows: Sequence[CustomerRow], *, time_zone: str) -> None:
    """Name (a link to the details) and email, subscription statuses, created date; the date hides on phones."""
    with ui.element("q-markup-table").props("flat bordered wrap-cells").classes("w-full"):
        with ui.element("thead"), ui.element("tr"):
            for title, classes in (("Customer", "text-left"), ("Subscriptions", "text-left"), ("Created", "gt-xs")):
                with ui.element("th").classes(classes):
                    ui.label(title)
        with ui.element("tbody"):
            for row in rows:
                with ui.element("tr"):
                    with ui.element("td").classes("text-left"):
                        ui.link(row.name or row.email or row.id, f"/customers/{row.id}").classes(
                            "text-weight-medium text-primary"
                        )
                        if row.name and row.email:
                            ui.label(row.email).classes("text-caption text-grey-8 break-all")
                    with ui.element("td").classes("text-left"), ui.row().classes("gap-1"):
                        if not row.subscription_statuses:
                            ui.label("None").classes("text-grey-7")
                        for status in row.subscription_statuses:
                            badge_for(status, SUBSCRIPTION_LABELS)
                        if row.cancel_pending:
                            status_badge("Cancel pending", Tone.WARNING)
                    with ui.element("td").classes("gt-xs"):
                        ui.label(format_date(row.created_at, LOCALE, time_zone))


def language_name(locale: str) -> str:
    """`de_DE` -> `German (Germany)`; unknown codes are shown as they are."""
    try:
        return Locale.parse(locale).get_display_name(LOCALE) or locale
    except (ValueError, UnknownLocaleError):
        return locale


def labelled_value(label: str, value: str) -> None:
    with ui.column().classes("gap-0"):
        ui.label(label).classes("text-caption text-grey-7")
        ui.label(value or "—").classes("break-all")


def text_block(label: str, lines: Sequence[str], empty: str) -> None:
    with ui.column().classes("gap-0"):
        ui.label(label).classes("text-caption text-grey-7")
        if not lines:
            ui.label(empty).classes("text-grey-7")
        for line in lines:
            ui.label(line)


def price_text(subscription: SubscriptionView) -> str:
    """`$58.00 / month (2 × Team monthly)`."""
    price = subscription.price
    amount = format_money(price.unit_amount * subscription.quantity, price.currency, LOCALE)
    every = f"/ {price.interval}" if price.interval_count == 1 else f"every {price.interval_count} {price.interval}s"
    seats = f"{subscription.quantity} × " if subscription.quantity > 1 else ""
    return f"{amount} {every} ({seats}{price.nickname or price.product_name})"


def subscriptions_list(
    subscriptions: Sequence[SubscriptionView],
    *,
    time_zone: str,
    cancellations: Sequence[CancellationFeedback],
) -> None:
    """Each subscription's plan, status, period and id; with the customer's reason and comment where they canceled."""
    feedback = {entry.subscription_id: entry for entry in cancellations}
    if not subscriptions:
        ui.label("No subscriptions.").classes("text-grey-7")
        return
    with ui.list().props("separator").classes("w-full"):
        for subscription in subscriptions:
            with ui.item().classes("q-px-none"), ui.item_section():
                with ui.row().classes("items-center gap-2"):
                    ui.label(subscription.price.product_name).classes("text-weight-medium")
                    badge_for(subscription.status, SUBSCRIPTION_LABELS)
                    if subscription.cancel_at_period_end and subscription.status != SubscriptionStatus.CANCELED:
                        ends = format_date(subscription.current_period_end, LOCALE, time_zone)
                        status_badge(f"Cancels on {ends}", Tone.WARNING)
                    if subscription.pause_scheduled and subscription.pause_starts_at is not None:
                        status_badge(
                            f"Pauses on {format_date(subscription.pause_starts_at, LOCALE, time_zone)}", Tone.INFO
                        )
                    if subscription.pause_starts_at is not None:
                        resumes = subscription.pause_resumes_at
                        until = format_date(resumes, LOCALE, time_zone) if resumes else "the customer resumes it"
                        ui.label(f"Billing resumes {'on ' if resumes else 'when '}{until}").classes("text-caption")
                ui.label(price_text(subscription)).classes("text-body2")
                period = (
                    f"Current period {format_date(subscription.current_period_start, LOCALE, time_zone)}"
                    f" – {format_date(subscription.current_period_end, LOCALE, time_zone)}"
                )
                ui.label(period).classes("text-caption text-grey-8")
                ui.label(subscription.id).classes("text-caption text-grey-7 font-mono")
                if subscription.retention_offered_at is not None:
                    retention_line(subscription, time_zone)
                if subscription.id in feedback:
                    cancellation_feedback(feedback[subscription.id])


def retention_line(subscription: SubscriptionView, time_zone: str) -> None:
    """When the retention offer was made and whether it was accepted (and what of it is left)."""
    offered = format_date(subscription.retention_offered_at or subscription.current_period_start, LOCALE, time_zone)
    text = f"Retention offer made on {offered}"
    if subscription.retention_accepted_at is not None:
        text += f", accepted on {format_date(subscription.retention_accepted_at, LOCALE, time_zone)}"
        discount = subscription.discount
        if discount is not None:
            off = (
                f"{discount.value}% off"
                if discount.kind == DiscountKind.PERCENT
                else f"{format_money(discount.value, subscription.price.currency, LOCALE)} off"
            )
            text += f" ({off}, {discount.invoices} more invoice{'s' if discount.invoices != 1 else ''})"
    else:
        text += ", not accepted"
    ui.label(text).classes("text-body2").mark("retention-offer")


def cancellation_feedback(feedback: CancellationFeedback) -> None:
    """Why the customer canceled, as they chose and wrote it (plain text, never markup)."""
    with ui.column().classes("gap-0 q-mt-xs").mark("cancellation-feedback"):
        ui.label(f"Cancellation reason: {feedback.reason or 'none given'}").classes("text-body2")
        if feedback.comment:
            ui.label(f"Comment: {feedback.comment}").classes("text-body2 text-grey-9 whitespace-pre-line break-words")


def payment_methods_list(methods: Sequence[PaymentMethodView]) -> None:
    if not methods:
        ui.label("No payment methods.").classes("text-grey-7")
        return
    with ui.list().props("separator").classes("w-full"):
        for method in methods:
            with ui.item().classes("q-px-none"), ui.item_section(), ui.row().classes("items-center gap-2"):
                ui.icon("credit_card", color="grey-7").props('aria-hidden="true"')
                ui.label(f"{method.brand.title()} •••• {method.last4}").classes("text-weight-medium")
                ui.label(f"Expires {method.exp_month:02d}/{method.exp_year}").classes("text-grey-8")
                if method.is_default:
                    status_badge("Default", Tone.INFO)


def invoices_table(invoices: Sequence[InvoiceView], *, time_zone: str, more: bool) -> None:
    if not invoices:
        ui.label("No invoices yet.").classes("text-grey-7")
        return
    with ui.element("q-markup-table").props("flat dense wrap-cells").classes("w-full"):
        with ui.element("thead"), ui.element("tr"):
            for title, classes in (
                ("Number", "text-left"),
                ("Date", "text-left"),
                ("Amount", "text-right"),
                ("Status", "text-left"),
            ):
                with ui.element("th").classes(classes):
                    ui.label(title)
        with ui.element("tbody"):
            for invoice in invoices:
                with ui.element("tr"):
                    with ui.element("td").classes("text-left"):
                        ui.label(invoice.number).classes("font-mono")
                    with ui.element("td").classes("text-left"):
                        ui.label(format_date(invoice.created_at, LOCALE, time_zone))
                    with ui.element("td").classes("text-right"):
                        ui.label(format_money(invoice.total, invoice.currency, LOCALE))
                    with ui.element("td").classes("text-left"):
                        badge_for(invoice.status, INVOICE_LABELS)
    if more:
        ui.label(f"Showing the {len(invoices)} most recent invoices.").classes("text-caption text-grey-7")


def portal_links_table(
    links: Sequence[PortalLinkView], *, time_zone: str, on_revoke: Callable[[PortalLinkView], None]
) -> None:
    """The customer's recent links with their status; active ones get a Revoke button."""
    if not links:
        ui.label("No links yet. Use “Copy url” to create one.").classes("text-grey-7")
        return
    with ui.list().props("separator").classes("w-full").props('aria-label="Portal links"'):
        for link in links:
            with ui.item().classes("q-px-none"):
                with ui.item_section():
                    with ui.row().classes("items-center gap-2"):
                        badge_for(link.status, LINK_LABELS)
                        ui.label(f"Created {format_datetime(link.created_at, LOCALE, time_zone)}").classes(
                            "text-weight-medium"
                        )
                    ended = "Expired" if link.status == "expired" else "Expires"
                    details = [f"{ended} {format_datetime(link.expires_at, LOCALE, time_zone)}"]
                    if link.revoked_at is not None:
                        details.append(f"Revoked {format_datetime(link.revoked_at, LOCALE, time_zone)}")
                    details.append(
                        f"Last used {format_datetime(link.last_used_at, LOCALE, time_zone)}"
                        if link.last_used_at
                        else "Not used yet"
                    )
                    ui.label(" · ".join(details)).classes("text-caption text-grey-8")
                if link.status == "active":
                    with ui.item_section().props("side"):
                        ui.button("Revoke", on_click=lambda link=link: on_revoke(link)).props(
                            "flat dense no-caps color=negative"
                        )
