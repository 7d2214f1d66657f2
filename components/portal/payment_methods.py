"""Payment method: the cards on file, the default for future payments, adding and removing cards."""

from __future__ import annotations

from nicegui import ui

from app.views import CardInput, PaymentMethodView
from components.badges import Tone, status_badge
from components.forms import FieldGroup, text_field
from components.portal.base import Portal, TextButton, section

BRAND_NAMES = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
    "diners": "Diners Club",
    "jcb": "JCB",
    "unionpay": "UnionPay",
}


def card_name(method: PaymentMethodView) -> str:
    """`Visa •••• 4242`: what customers recognise a card by."""
    return f"{BRAND_NAMES.get(method.brand, method.brand.title())} •••• {method.last4}"


def payment_methods_section(portal: Portal) -> None:
    t = portal.text
    methods = portal.view.data.payment_methods
    with section(t("Payment method"), marker="portal-payment-methods"):
        if not methods:
            ui.label(t("No payment method on file.")).classes("text-grey-8")
        with ui.element("ul").classes("w-full column gap-2 q-pa-none q-ma-none").props("role=list"):
            for method in methods:
                _card_row(portal, method)
        portal.secondary_button(t("Add payment method"), lambda: _add_card_dialog(portal)).props("icon=add").classes(
            "self-start"
        )


def _card_row(portal: Portal, method: PaymentMethodView) -> None:
    t = portal.text
    with (
        ui.element("li")
        .classes("w-full row items-center gap-x-3 gap-y-1 q-pa-sm rounded-borders border border-gray-300")
        .mark(f"card-{method.last4}")
    ):
        ui.icon("credit_card", size="sm").classes("text-grey-8")
        with ui.column().classes("gap-0 grow"):
            ui.label(card_name(method)).classes("text-body1 text-weight-medium")
            ui.label(t("Expires {month}/{year}", month=f"{method.exp_month:02d}", year=method.exp_year)).classes(
                "text-caption text-grey-8"
            )
        if method.is_default:
            status_badge(t("Default"), Tone.INFO)
            return
        make_default = TextButton(t("Make default"), on_click=lambda: _make_default(portal, method, make_default))
        make_default.props["aria-label"] = t("Make {card} the default", card=card_name(method))
        remove = ui.button(t("Remove"), on_click=lambda: _remove_dialog(portal, method)).props(
            "flat dense no-caps color=negative"
        )
        remove.props["aria-label"] = t("Remove {card}", card=card_name(method))


async def _make_default(portal: Portal, method: PaymentMethodView, button: ui.button) -> None:
    done, _ = await portal.act(lambda: portal.actions.set_default_card(method.id), buttons=(button,))
    if done:
        portal.notify(portal.text("{card} is now your default payment method.", card=card_name(method)))
        portal.changed()


def _remove_dialog(portal: Portal, method: PaymentMethodView) -> None:
    t = portal.text
    with portal.dialog(t("Remove {card}?", card=card_name(method))) as dialog:
        ui.label(t("You will not be able to pay with this card any more unless you add it again."))
        with ui.row().classes("w-full justify-end gap-2 q-mt-sm"):
            ui.button(t("Keep card"), on_click=dialog.close).props("flat no-caps color=primary")
            remove = ui.button(t("Remove card")).props("unelevated no-caps color=negative")

    async def confirm() -> None:
        done, _ = await portal.act(lambda: portal.actions.remove_card(method.id), buttons=(remove,))
        if done:
            remove.disable()
            dialog.close()
            portal.notify(t("{card} was removed.", card=card_name(method)))
            portal.changed()

    remove.on_click(confirm)


def _add_card_dialog(portal: Portal) -> None:
    t = portal.text
    form = FieldGroup()
    has_cards = bool(portal.view.data.payment_methods)
    with portal.dialog(t("Add payment method")) as dialog:
        form.add("number", text_field(t("Card number"), "")).props(
            'inputmode=numeric autocomplete=cc-number maxlength=23 placeholder="1234 1234 1234 1234"'
        )
        with ui.row().classes("w-full no-wrap gap-3"):
            form.add("expiry", text_field(t("Expiry (MM/YY)"), "").props('autocomplete=cc-exp placeholder="MM/YY"'))
            form.add("cvc", text_field(t("CVC"), "").props("inputmode=numeric autocomplete=cc-csc maxlength=4"))
        form.add("cardholder_name", text_field(t("Cardholder name"), "").props("autocomplete=cc-name"))
        form.add("postal_code", text_field(t("Postal code"), "").props("autocomplete=postal-code"))
        make_default = ui.checkbox(t("Use as default payment method"), value=not has_cards)
        make_default.set_visibility(has_cards)
        with ui.row().classes("w-full justify-end gap-2 q-mt-sm"):
            ui.button(t("Cancel"), on_click=dialog.close).props("flat no-caps color=primary")
            save = portal.primary_button(t("Add card"))

    async def submit() -> None:
        values = form.values()
        card = CardInput(
            number=str(values["number"]),
            expiry=str(values["expiry"]),
            cvc=str(values["cvc"]),
            cardholder_name=str(values["cardholder_name"]),
            postal_code=str(values["postal_code"]),
        )
        # A refusal (declined, insufficient funds, expired) is an error of the card number: shown once, under it,
        # where Quasar announces it to screen readers as an alert.
        done, _ = await portal.act(
            lambda: portal.actions.add_card(card, bool(make_default.value)),
            buttons=(save,),
            on_invalid=lambda errors: portal.show_field_errors(form, errors),
        )
        if done:
            save.disable()
            dialog.close()
            portal.notify(t("Card added."))
            portal.changed()

    save.on_click(submit)
