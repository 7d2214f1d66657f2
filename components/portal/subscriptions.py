"""Subscriptions: what the customer pays for, with cancel, "Don't cancel" and plan switching."""

from __future__ import annotations

from collections.abc import Awaitable

from nicegui import ui

from app.enums import CancellationReason, CancelMode, PortalFlow, PriceInterval, SubscriptionStatus
from app.i18n import N_
from app.views import PriceView, SubscriptionView
from components.badges import SUBSCRIPTION_LABELS, Tone, badge_for, status_badge
from components.portal.base import Portal, section
from components.portal.invoices import pay_button
from components.portal.lifecycle import (
    can_resubscribe,
    credit_note,
    lifecycle_lines,
    resubscribe_button,
    start_cancel,
)
from components.portal.pausing import can_pause, pause_badge_text, pause_dialog, pause_lines, resume_button
from components.portal.text import PortalText
from components.presets import preset

_Card = preset(ui.card, classes="w-full q-pa-md gap-2", props="flat bordered")
_TitleRow = preset(ui.row, classes="w-full items-center justify-between gap-2")
_Product = preset(ui.label, classes="text-subtitle1 text-weight-medium")
_Price = preset(ui.label, classes="text-h6 text-weight-regular")
_Detail = preset(ui.label, classes="text-body2 text-grey-9")
_Actions = preset(ui.row, classes="gap-2 q-mt-sm")
_CancelButton = preset(ui.button, props="outline no-caps color=negative")


def whole_number(value: object) -> int:
    """The quantity field's value as a count; 0 (which the plan change refuses) when it is not a whole number.

    The browser's number field rounds, but a client can send any number over the websocket: 1.7 must not become 1.
    """
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    return 0


def price_text(t: PortalText, price: PriceView, quantity: int = 1) -> str:
    """`$29.00 per month`, `$870.00 every 3 months`; with a quantity, the total of all seats."""
    amount = t.money(price.unit_amount * quantity, price.currency)
    if price.interval_count == 1:
        return t(_PER[price.interval]).format(amount=amount)
    return t(_EVERY[price.interval]).format(amount=amount, count=price.interval_count)


# Literal msgids marked with N_ (not built from the interval's name), so that the translation check finds each one.
_PER = {
    PriceInterval.DAY: N_("{amount} per day"),
    PriceInterval.WEEK: N_("{amount} per week"),
    PriceInterval.MONTH: N_("{amount} per month"),
    PriceInterval.YEAR: N_("{amount} per year"),
}
_EVERY = {
    PriceInterval.DAY: N_("{amount} every {count} days"),
    PriceInterval.WEEK: N_("{amount} every {count} weeks"),
    PriceInterval.MONTH: N_("{amount} every {count} months"),
    PriceInterval.YEAR: N_("{amount} every {count} years"),
}


def subscriptions_section(portal: Portal) -> None:
    t = portal.text
    subscriptions = portal.view.data.subscriptions
    with section(t("Subscriptions"), marker="portal-subscriptions"):
        credit_note(portal)
        if not subscriptions:
            ui.label(t("You have no subscriptions.")).classes("text-grey-8")
        for subscription in subscriptions:
            _subscription_card(portal, subscription)


def _subscription_card(portal: Portal, subscription: SubscriptionView) -> None:
    t, settings = portal.text, portal.view.settings
    price = subscription.price
    ended = subscription.status.is_ended
    with _Card().mark(f"subscription-{subscription.id}"):
        with _TitleRow():
            _Product(price.product_name)
            if subscription.cancel_at_period_end and not ended:
                status_badge(t("Cancels {date}", date=t.date(subscription.current_period_end)), Tone.WARNING)
            elif pauses := pause_badge_text(t, subscription):
                status_badge(pauses, Tone.INFO)
            else:
                badge_for(subscription.status, SUBSCRIPTION_LABELS, t)
        _Price(price_text(t, price, subscription.quantity))
        if subscription.quantity > 1:
            _Detail(t("{quantity} × {price}", quantity=subscription.quantity, price=price_text(t, price)))
        for line in _timeline(t, subscription):
            _Detail(line)
        owed = subscription.open_invoice
        if ended:
            if owed is not None or can_resubscribe(portal, subscription):
                with _Actions():
                    if owed is not None:
                        pay_button(portal, owed)
                    if can_resubscribe(portal, subscription):
                        resubscribe_button(portal, subscription)
            return
        with _Actions():
            if owed is not None:
                pay_button(portal, owed)
            if subscription.cancel_at_period_end:
                keep = portal.primary_button(t("Don't cancel"))
                keep.on_click(lambda: _undo(portal, subscription, keep))
            else:
                if subscription.pause_starts_at is not None or subscription.status == SubscriptionStatus.PAUSED:
                    resume_button(portal, subscription)
                elif settings.plan_switching and _switch_options(portal, subscription):
                    portal.primary_button(t("Update subscription"), lambda: _switch_dialog(portal, subscription)).mark(
                        f"switch-{subscription.id}"
                    )
                if subscription.scheduled_price is not None:
                    keep_plan = portal.secondary_button(t("Cancel scheduled change"))
                    keep_plan.on_click(lambda: _cancel_scheduled_change(portal, subscription, keep_plan))
                if can_pause(portal, subscription):
                    portal.secondary_button(t("Pause subscription"), lambda: pause_dialog(portal, subscription)).mark(
                        f"pause-{subscription.id}"
                    )
                if settings.cancel_subscriptions:
                    _CancelButton(t("Cancel subscription"), on_click=lambda: _cancel(portal, subscription)).mark(
                        f"cancel-{subscription.id}"
                    )
                    task = portal.view.task
                    if task and task.flow == PortalFlow.SUBSCRIPTION_CANCEL and task.subscription_id == subscription.id:
                        ui.timer(0, lambda: _cancel(portal, subscription), once=True)  # a deep link's task


def _cancel(portal: Portal, subscription: SubscriptionView) -> Awaitable[None] | None:
    return start_cancel(portal, subscription, lambda: _cancel_dialog(portal, subscription))


def _timeline(t: PortalText, subscription: SubscriptionView) -> list[str]:
    """The dates that matter to the customer, in their words."""
    lines: list[str] = []
    if subscription.status == SubscriptionStatus.CANCELED and subscription.canceled_at:
        lines.append(t("Canceled on {date}", date=t.date(subscription.canceled_at)))
        return lines
    if subscription.trial_end and subscription.status == SubscriptionStatus.TRIALING:
        lines.append(t("Trial ends {date}", date=t.date(subscription.trial_end)))
    lines.extend(pause_lines(t, subscription))
    lines.extend(lifecycle_lines(t, subscription))
    if subscription.scheduled_price is not None:
        lines.append(
            t(
                "Changes to {plan} on {date}",
                plan=_plan_label(t, subscription.scheduled_price, subscription.scheduled_quantity),
                date=t.date(subscription.current_period_end),
            )
        )
    if subscription.cancel_at_period_end:
        ends = t.date(subscription.current_period_end)
        lines.append(
            t("Your subscription will be canceled on {date}.", date=ends) + " " + _owed_sentence(t, subscription)
            if subscription.amount_owed
            else t("Your subscription will be canceled on {date}. You won't be charged again.", date=ends)
        )
    elif subscription.next_invoice_at is not None and subscription.next_invoice_amount is not None:
        lines.append(
            t(
                "Next invoice on {date} for {amount}",
                date=t.date(subscription.next_invoice_at),
                amount=t.money(subscription.next_invoice_amount, subscription.price.currency),
            )
        )
    return lines


async def _undo(portal: Portal, subscription: SubscriptionView, button: ui.button) -> None:
    t = portal.text
    done, _ = await portal.act(lambda: portal.actions.undo_cancellation(subscription.id), buttons=(button,))
    if done:
        portal.notify(t("Your subscription will renew on {date}.", date=t.date(subscription.current_period_end)))
        portal.changed()


def _plan_label(t: PortalText, price: PriceView, quantity: int | None) -> str:
    return (
        t("{quantity} × {price}", quantity=quantity, price=price.product_name)
        if quantity and quantity > 1
        else (price.product_name)
    )


async def _cancel_scheduled_change(portal: Portal, subscription: SubscriptionView, button: ui.button) -> None:
    done, _ = await portal.act(lambda: portal.actions.cancel_scheduled_change(subscription.id), buttons=(button,))
    if done:
        portal.notify(portal.text("You keep your current plan."))
        portal.changed()


def _owed_sentence(t: PortalText, subscription: SubscriptionView) -> str:
    return t(
        "{amount} is still due on open invoices. It is no longer charged automatically; you can still pay it here.",
        amount=t.money(subscription.amount_owed, subscription.price.currency),
    )


def cancel_consequence(portal: Portal, subscription: SubscriptionView) -> str:
    """Exactly what cancelling does and when, as the confirmation dialog says it: never "You won't be charged
    again" while open invoices still ask for money (their automatic retries stop; they stay payable)."""
    t = portal.text
    if subscription.amount_owed:
        access = (
            t("Your subscription will end now.")
            if portal.view.settings.cancel_mode == CancelMode.IMMEDIATELY
            or subscription.status == SubscriptionStatus.PAUSED
            else t("You will keep access until {date}.", date=t.date(subscription.current_period_end))
        )
        return f"{access} {_owed_sentence(t, subscription)}"
    if subscription.status == SubscriptionStatus.PAUSED:
        return t("Your paused subscription will end now. You won't be charged again.")
    if portal.view.settings.cancel_mode == CancelMode.IMMEDIATELY:
        return t("Your subscription will end now and you will lose access immediately. You won't be charged again.")
    return t(
        "You will keep access until {date}. You won't be charged again.",
        date=t.date(subscription.current_period_end),
    )


def cancel_done_message(portal: Portal, subscription: SubscriptionView) -> str:
    t = portal.text
    if portal.view.settings.cancel_mode == CancelMode.IMMEDIATELY or subscription.status == SubscriptionStatus.PAUSED:
        return t("Your subscription has been canceled.")
    return t("Your subscription will end on {date}.", date=t.date(subscription.current_period_end))


def _cancel_dialog(portal: Portal, subscription: SubscriptionView) -> None:
    t = portal.text
    with portal.dialog(t("Cancel {product}?", product=subscription.price.product_name)) as dialog:
        ui.label(cancel_consequence(portal, subscription)).classes("text-body1").mark("cancel-consequence")
        reason = comment = None
        if portal.view.settings.cancellation_reasons:
            question = t("Why are you canceling? (optional)")
            ui.label(question).classes("text-subtitle2")
            reason = ui.radio({reason.value: t(reason.label) for reason in CancellationReason}).props("dense")
            reason.props["aria-label"] = question
            comment = (
                ui.textarea(t("Anything else you want to tell us? (optional)"))
                .props("outlined autogrow counter maxlength=500")
                .classes("w-full")
            )
        with ui.row().classes("w-full justify-end gap-2 q-mt-sm"):
            ui.button(t("Keep subscription"), on_click=dialog.close).props("flat no-caps color=primary")
            confirm = (
                ui.button(t("Cancel subscription")).props("unelevated no-caps color=negative").mark("confirm-cancel")
            )

    async def cancel() -> None:
        chosen = (reason.value or "") if reason else ""
        note = (comment.value or "").strip() if comment else ""
        done, _ = await portal.act(
            lambda: portal.actions.cancel_subscription(subscription.id, chosen, note), buttons=(confirm,)
        )
        if done:
            confirm.disable()  # one cancellation per dialog, however often it is clicked
            dialog.close()
            portal.notify(cancel_done_message(portal, subscription))
            portal.changed()

    confirm.on_click(cancel)


def _switch_options(portal: Portal, subscription: SubscriptionView) -> tuple[PriceView, ...]:
    """Prices this customer may switch to (the view's list is already narrowed to the merchant's choice)."""
    return tuple(price for price in portal.view.data.available_prices if price.currency == subscription.price.currency)


def _switch_dialog(portal: Portal, subscription: SubscriptionView) -> None:
    t = portal.text
    options = _switch_options(portal, subscription)
    with portal.dialog(t("Update your subscription")) as dialog:
        price_select = (
            ui.select(
                {price.id: f"{price.product_name} · {price_text(t, price)}" for price in options},
                label=t("Plan"),
                value=subscription.price.id if subscription.price.id in {p.id for p in options} else options[0].id,
            )
            .props("outlined")
            .classes("w-full")
        )
        quantity = ui.number(t("Quantity"), value=subscription.quantity, min=1, step=1, precision=0).props("outlined")
        if portal.view.settings.downgrades_at_period_end:
            ui.label(
                t(
                    "A cheaper plan or fewer seats starts on {date}, at the end of the period you paid for.",
                    date=t.date(subscription.current_period_end),
                )
            ).classes("text-body2 text-grey-8").mark("downgrade-timing")
        summary = ui.column().classes("w-full gap-1").mark("proration")
        with ui.row().classes("w-full justify-end gap-2 q-mt-sm"):
            ui.button(t("Cancel"), on_click=dialog.close).props("flat no-caps color=primary")
            confirm = portal.primary_button(t("Confirm change"))
    confirm.disable()

    latest = {"request": 0}

    async def preview() -> None:
        """Ask for the proration of the chosen plan; only the answer to the latest choice is shown."""
        confirm.disable()
        latest["request"] += 1
        request = latest["request"]
        count = whole_number(quantity.value)
        summary.clear()
        if price_select.value == subscription.price.id and count == subscription.quantity:
            with summary:
                ui.label(summary_hint).classes("text-grey-8")
            return
        done, proration = await portal.act(
            lambda: portal.actions.preview_plan_change(subscription.id, price_select.value, count)
        )
        if not done or proration is None or request != latest["request"] or summary.is_deleted:
            return
        with summary:
            if proration.scheduled:
                ui.label(
                    t("Your plan changes on {date}. Nothing is charged now.", date=t.date(proration.next_renewal))
                ).classes("text-weight-bold")
            for label, amount in (
                ()
                if proration.scheduled
                else (
                    (t("Credit for unused time"), -proration.credit),
                    (t("Charge for the new plan"), proration.charge),
                )
            ):
                with ui.row().classes("w-full justify-between"):
                    ui.label(label)
                    ui.label(t.money(amount, proration.currency))
            with ui.row().classes("w-full justify-between text-weight-bold"):
                ui.label(t("Amount due now"))
                ui.label(t.money(proration.amount_due_now, proration.currency))
            ui.label(
                t(
                    "Then {amount} on {date}.",
                    amount=t.money(proration.next_renewal_amount, proration.currency),
                    date=t.date(proration.next_renewal),
                )
            ).classes("text-body2 text-grey-8")
        confirm.enable()

    async def change() -> None:
        done, changed = await portal.act(
            lambda: portal.actions.change_plan(subscription.id, price_select.value, whole_number(quantity.value)),
            buttons=(confirm,),
        )
        if done:
            confirm.disable()
            dialog.close()
            scheduled = changed is not None and changed.scheduled_price is not None
            portal.notify(
                t("Your plan will change on {date}.", date=t.date(subscription.current_period_end))
                if scheduled
                else t("Your subscription has been updated.")
            )
            portal.changed()

    summary_hint = t("Choose a different plan or quantity.")
    with summary:
        ui.label(summary_hint).classes("text-grey-8")
    price_select.on_value_change(preview)
    quantity.on_value_change(preview)
    confirm.on_click(change)
