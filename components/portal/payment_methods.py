"""Payment method: the cards on file, the default for future payments, adding and removing cards."""

from __future__ import annotations

from collections.abc import Mapping

from nicegui import ui

from app.enums import PortalFlow
from app.views import PaymentMethodView
from components.badges import Tone, status_badge
from components.forms import FieldGroup, text_field
from components.portal.base import Portal, SecondaryButton, TextButton, section
from components.portal.card_element import CardElement
from components.presets import preset

BRAND_NAMES = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
    "diners": "Diners Club",
    "jcb": "JCB",
    "unionpay": "UnionPay",
}


# Built on every portal page (see `preset`).
_CardList = preset(ui.element, classes="w-full column gap-2 q-pa-none q-ma-none", props="role=list")
_CardRow = preset(
    ui.element, classes="w-full row items-center gap-x-3 gap-y-1 q-pa-sm rounded-borders border border-gray-300"
)
_CardIcon = preset(ui.icon, classes="text-grey-8")
_CardText = preset(ui.column, classes="gap-0 grow")
_CardName = preset(ui.label, classes="text-body1 text-weight-medium")
_CardExpiry = preset(ui.label, classes="text-caption text-grey-8")
_RemoveButton = preset(ui.button, props="flat dense no-caps color=negative")
_AddArea = preset(ui.element, classes="w-full")
_NoCards = preset(ui.label, classes="text-grey-8")
_AddButton = preset(SecondaryButton, classes="self-start", props="icon=add")


def card_name(method: PaymentMethodView) -> str:
    """`Visa •••• 4242`: what customers recognise a card by."""
    return f"{BRAND_NAMES.get(method.brand, method.brand.title())} •••• {method.last4}"


def payment_methods_section(portal: Portal) -> None:
    t = portal.text
    methods = portal.view.data.payment_methods
    with section(t("Payment method"), marker="portal-payment-methods"):
        if not methods:
            _NoCards(t("No payment method on file."))
        with _CardList("ul"):
            for method in methods:
                _card_row(portal, method)
        area = _AddArea()
        add = _AddButton(t("Add payment method"))
        add.on_click(lambda: _add_card(portal, area, add))
        if portal.view.task is not None and portal.view.task.flow == PortalFlow.PAYMENT_METHOD_UPDATE:
            ui.timer(0, lambda: _add_card(portal, area, add), once=True)  # a deep link opens the form at once


def _card_row(portal: Portal, method: PaymentMethodView) -> None:
    t = portal.text
    with _CardRow("li").mark(f"card-{method.last4}"):
        _CardIcon("credit_card", size="sm")
        with _CardText():
            _CardName(card_name(method))
            _CardExpiry(t("Expires {month}/{year}", month=f"{method.exp_month:02d}", year=method.exp_year))
        if method.is_default:
            status_badge(t("Default"), Tone.INFO)
            return
        make_default = TextButton(t("Make default"), on_click=lambda: _make_default(portal, method, make_default))
        make_default.props["aria-label"] = t("Make {card} the default", card=card_name(method))
        remove = _RemoveButton(t("Remove"), on_click=lambda: _remove_dialog(portal, method))
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


async def _add_card(portal: Portal, area: ui.element, opener: ui.button) -> None:
    """The add-card form, in place below the cards (not in a dialog: the gateway's 3-D Secure page overlays the
    whole page, and a modal dialog would trap the focus away from it)."""
    t = portal.text
    done, setup = await portal.act(portal.actions.start_card_setup, buttons=(opener,))
    if not done or setup is None:
        return
    opener.set_visibility(False)
    has_cards = bool(portal.view.data.payment_methods)
    area.clear()
    with area, ui.card().classes("w-full q-pa-md gap-3").props("flat bordered").mark("add-card"):
        heading = ui.label(t("Add payment method")).classes("text-subtitle1 text-weight-medium")
        heading.props["role"] = "heading"
        heading.props["aria-level"] = "3"
        element = CardElement(setup.element)
        problem = ui.label().classes("text-negative text-body2").props("role=alert")
        problem.set_visibility(False)
        form = FieldGroup()
        form.add("cardholder_name", text_field(t("Cardholder name"), "").props("autocomplete=cc-name"))
        make_default = ui.checkbox(t("Use as default payment method"), value=not has_cards)
        make_default.set_visibility(has_cards)
        with ui.row().classes("w-full justify-end gap-2"):
            cancel = ui.button(t("Cancel")).props("flat no-caps color=primary")
            save = portal.primary_button(t("Add card"))

    def close() -> None:
        area.clear()
        opener.set_visibility(True)

    def explain(errors: Mapping[str, str]) -> None:
        """Errors of the card under the card element (said once), of the name under the name."""
        message = " ".join(t(text) for field, text in errors.items() if field != "cardholder_name")
        problem.set_text(message)
        problem.set_visibility(bool(message))
        form.show_errors({field: t(text) for field, text in errors.items() if field == "cardholder_name"})

    async def submit() -> None:
        if not save.enabled:
            return
        explain({})
        cardholder = str(form.values()["cardholder_name"])
        if not cardholder:  # checked before the gateway saves the card; the service checks it again
            explain({"cardholder_name": "This field is required."})
            return
        save.disable()
        try:
            result = await element.confirm_setup(setup.client_secret, cardholder)
        finally:
            save.enable()
        if result.error_code or not result.value:
            explain({"card": portal.actions.card_error(result.error_code, result.decline_code)})
            return
        done, _ = await portal.act(
            lambda: portal.actions.add_card(result.value, cardholder, bool(make_default.value)),
            buttons=(save,),
            on_invalid=explain,
        )
        if done:
            close()
            portal.notify(t("Card added."))
            portal.changed()

    cancel.on_click(close)
    save.on_click(submit)
    await element.mount()
