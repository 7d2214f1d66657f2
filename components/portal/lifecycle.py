"""Coming back and staying: Resubscribe on an ended subscription, the retention offer before canceling, the credit
balance and the discount an accepted offer gives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from app.enums import ChargeStatus, DiscountKind, SubscriptionStatus
from app.views import ChargeOutcome, Discount, PriceView, SubscriptionView
from components.portal.base import Portal
from components.portal.invoices import authenticate_payment
from components.portal.text import PortalText

_Note = "text-body2 text-grey-9"


def credit_note(portal: Portal) -> None:
    """The customer's credit balance, when they have one: what later invoices use up first."""
    customer = portal.view.data.customer
    if customer.credit_balance <= 0:
        return
    t = portal.text
    ui.label(
        t(
            "Account credit: {amount}. It is used on your next invoices before your card is charged.",
            amount=t.money(customer.credit_balance, customer.credit_currency),
        )
    ).classes("text-body2 q-pa-sm rounded-borders bg-green-1 text-green-10").mark("credit-balance")


def discount_text(t: PortalText, discount: Discount, currency: str) -> str:
    """ "50% off" or "$10.00 off"."""
    if discount.kind == DiscountKind.PERCENT:
        return t("{percent}% off", percent=discount.value)
    return t("{amount} off", amount=t.money(discount.value, currency))


def offer_text(t: PortalText, discount: Discount, currency: str) -> str:
    """ "50% off your next 3 invoices"."""
    off = discount_text(t, discount, currency)
    if discount.invoices == 1:
        return t("{discount} your next invoice", discount=off)
    return t("{discount} your next {count} invoices", discount=off, count=discount.invoices)


def lifecycle_lines(t: PortalText, subscription: SubscriptionView) -> list[str]:
    """A discount still to come, and what an incomplete (resubscribed, unpaid) subscription waits for."""
    lines = []
    if subscription.discount is not None and not subscription.status.is_ended:
        lines.append(t("Discount: {offer}.", offer=offer_text(t, subscription.discount, subscription.price.currency)))
    if subscription.status == SubscriptionStatus.INCOMPLETE and subscription.amount_owed:
        lines.append(
            t(
                "Waiting for payment of {amount}. Pay the open invoice to start it.",
                amount=t.money(subscription.amount_owed, subscription.price.currency),
            )
        )
    return lines


# --- Resubscribe ---------------------------------------------------------------------------------------------------


def can_resubscribe(portal: Portal, subscription: SubscriptionView) -> bool:
    return portal.view.settings.resubscribe and subscription.status == SubscriptionStatus.CANCELED


def resubscribe_button(portal: Portal, subscription: SubscriptionView) -> None:
    portal.primary_button(portal.text("Resubscribe"), lambda: _resubscribe_dialog(portal, subscription)).mark(
        f"resubscribe-{subscription.id}"
    )


def _restart_options(portal: Portal, subscription: SubscriptionView) -> tuple[PriceView, ...]:
    """Its own price first, then (when the merchant offers the choice) the merchant's other current prices."""
    others = tuple(price for price in portal.view.resubscribe_prices if price.id != subscription.price.id)
    return (subscription.price, *others)


def _charged_now(portal: Portal, price: PriceView, quantity: int) -> int:
    """What resubscribing charges now: a period of the price, less the customer's credit in its currency."""
    customer = portal.view.data.customer
    total = price.unit_amount * quantity
    credit = customer.credit_balance if customer.credit_currency == price.currency else 0
    return max(total - credit, 0)


def _resubscribe_dialog(portal: Portal, subscription: SubscriptionView) -> None:
    from components.portal.subscriptions import price_text

    t = portal.text
    options = {price.id: price for price in _restart_options(portal, subscription)}
    card = next((method for method in portal.view.data.payment_methods if method.is_default), None)
    with portal.dialog(t("Resubscribe to {product}?", product=subscription.price.product_name)) as dialog:
        chooser = None
        if len(options) > 1:
            chooser = (
                ui.select(
                    {price.id: f"{price.product_name} · {price_text(t, price)}" for price in options.values()},
                    label=t("Plan"),
                    value=subscription.price.id,
                )
                .props("outlined")
                .classes("w-full")
            )
        summary = ui.label().classes("text-body1").mark("resubscribe-summary")
        with ui.row().classes("w-full justify-end gap-2 q-mt-sm"):
            ui.button(t("Go back"), on_click=dialog.close).props("flat no-caps color=primary")
            confirm = portal.primary_button(t("Resubscribe")).mark("confirm-resubscribe")

    def chosen() -> PriceView:
        return options.get(str(chooser.value), subscription.price) if chooser is not None else subscription.price

    def show_summary() -> None:
        price = chosen()
        if card is None:
            summary.set_text(t("Add a payment method before you resubscribe."))
            confirm.disable()
            return
        summary.set_text(
            t(
                "You will be charged {amount} now to your {brand} card ending in {last4}. Then {price} until you "
                "cancel.",
                amount=t.money(_charged_now(portal, price, subscription.quantity), price.currency),
                brand=card.brand.capitalize(),
                last4=card.last4,
                price=price_text(t, price, subscription.quantity),
            )
        )

    async def restart() -> None:
        price_id = chosen().id
        done, outcome = await portal.act(
            lambda: portal.actions.resubscribe(subscription.id, price_id), buttons=(confirm,)
        )
        if not done or outcome is None:
            return
        confirm.disable()
        dialog.close()  # the bank's check, if any, overlays the page: no dialog may keep the focus from it
        await _after_charge(portal, outcome, confirm)

    show_summary()
    if chooser is not None:
        chooser.on_value_change(show_summary)
    confirm.on_click(restart)


async def _after_charge(portal: Portal, outcome: ChargeOutcome, button: ui.button) -> None:
    t = portal.text
    if outcome.status == ChargeStatus.REQUIRES_ACTION:
        await authenticate_payment(portal, outcome.invoice, button)
        return
    if outcome.status == ChargeStatus.PAID:
        portal.notify(t("Welcome back! Your subscription is active again."))
    elif outcome.status == ChargeStatus.PROCESSING:
        portal.notify(t("Your payment is being processed. We will update the invoice when it is complete."), "info")
    else:
        portal.notify(
            t(outcome.failure_message or "Your card was declined.")
            + " "
            + t("Your subscription starts once its invoice is paid."),
            "negative",
        )
    portal.changed()


# --- Retention offer ------------------------------------------------------------------------------------------------


def _offered_in_preview(portal: Portal, subscription: SubscriptionView) -> Discount | None:
    """What the preview shows (nothing is recorded there): the draft's coupon, for a subscription that may have it."""
    settings = portal.view.settings
    eligible = (
        subscription.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING)
        and not subscription.cancel_at_period_end
        and subscription.retention_offered_at is None
    )
    if not settings.retention_offer or not eligible:
        return None
    return Discount(
        kind=DiscountKind(settings.retention_discount_kind),
        value=settings.retention_discount_value,
        invoices=settings.retention_periods,
    )


def start_cancel(
    portal: Portal, subscription: SubscriptionView, cancel_dialog: Callable[[], None]
) -> Awaitable[None] | None:
    """Cancel subscription: the retention offer first, when the merchant makes one (once), else the cancel dialog
    at once. Returns what is left to await (asking the service for the offer), which NiceGUI awaits."""
    settings = portal.view.settings
    if portal.view.is_preview:
        discount = _offered_in_preview(portal, subscription)
    elif settings.retention_offer and subscription.retention_offered_at is None:
        return _ask_for_offer(portal, subscription, cancel_dialog)
    else:
        discount = None
    if discount is None:
        cancel_dialog()
    else:
        _offer_dialog(portal, subscription, discount, cancel_dialog)
    return None


async def _ask_for_offer(portal: Portal, subscription: SubscriptionView, cancel_dialog: Callable[[], None]) -> None:
    done, offer = await portal.act(lambda: portal.actions.make_retention_offer(subscription.id))
    if not done:
        return
    if offer is None:
        cancel_dialog()
    else:
        _offer_dialog(portal, subscription, offer.discount, cancel_dialog)


def _offer_dialog(
    portal: Portal, subscription: SubscriptionView, discount: Discount, cancel_dialog: Callable[[], None]
) -> None:
    t = portal.text
    currency = subscription.price.currency
    with portal.dialog(t("Before you go: {offer}", offer=offer_text(t, discount, currency))) as dialog:
        ui.label(
            t(
                "Stay with {product} and we take {discount} each of your next {count} invoices. Your subscription "
                "continues as it is.",
                product=subscription.price.product_name,
                discount=discount_text(t, discount, currency),
                count=discount.invoices,
            )
            if discount.invoices > 1
            else t(
                "Stay with {product} and we take {discount} your next invoice. Your subscription continues as it is.",
                product=subscription.price.product_name,
                discount=discount_text(t, discount, currency),
            )
        ).classes("text-body1").mark("retention-offer")
        with ui.row().classes("w-full justify-end gap-2 q-mt-sm"):
            decline = ui.button(t("No thanks, cancel")).props("flat no-caps color=primary").mark("decline-offer")
            accept = portal.primary_button(t("Accept offer")).mark("accept-offer")

    def go_on() -> None:
        dialog.close()
        with portal.client.content:  # not inside this dialog, which is removed once it has closed
            cancel_dialog()

    async def take() -> None:
        done, _ = await portal.act(lambda: portal.actions.accept_retention_offer(subscription.id), buttons=(accept,))
        if done:
            accept.disable()
            dialog.close()
            portal.notify(t("Offer applied: {offer}.", offer=offer_text(t, discount, currency)))
            portal.changed()

    decline.on_click(go_on)
    accept.on_click(take)
