"""Merchant-side pieces for the catalogue: a product's card with its prices, and the product and price forms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from nicegui import ui

from app.enums import PriceInterval
from app.money import format_money
from app.views.catalog import CatalogPrice, CatalogProduct
from components.badges import Tone, status_badge
from components.customers import LOCALE
from components.dialogs import copy_text, heading, titled_dialog
from components.forms import FieldGroup, text_field


@dataclass(frozen=True)
class OpenForm:
    """A form in a dialog, as its save handler gets it: the fields, the dialog to close, the button to hold."""

    fields: FieldGroup
    dialog: ui.dialog
    save: ui.button

    def values(self) -> dict[str, Any]:
        return self.fields.values()


SaveHandler = Callable[[OpenForm], Awaitable[None]]
CURRENCIES = ("USD", "EUR", "GBP", "CHF", "CAD", "AUD", "JPY", "CNY")
INTERVAL_LABELS = {
    PriceInterval.DAY.value: "Day",
    PriceInterval.WEEK.value: "Week",
    PriceInterval.MONTH.value: "Month",
    PriceInterval.YEAR.value: "Year",
}


def cadence(interval: PriceInterval, count: int) -> str:
    """`/ month`, `every 3 months`."""
    return f"/ {interval.value}" if count == 1 else f"every {count} {interval.value}s"


def price_amount_text(price: CatalogPrice, quantity: int = 1) -> str:
    """`$29.00 / month`; with a quantity, the total of all seats."""
    amount = format_money(price.unit_amount * quantity, price.currency, LOCALE)
    return f"{amount} {cadence(price.interval, price.interval_count)}"


def price_choice_label(price: CatalogPrice) -> str:
    """How a price is offered in a choice: `Pro monthly · $29.00 / month`."""
    name = price.product_name if not price.nickname else f"{price.product_name} – {price.nickname}"
    return f"{name} · {price_amount_text(price)}"


def empty_catalog(on_create: Callable[[], object]) -> None:
    """A fresh install's first step: what products and prices are, and the button that makes the first one."""
    with ui.column().classes("w-full items-center q-pa-xl gap-2 text-center"):
        ui.icon("inventory_2", size="lg", color="grey-6").props('aria-hidden="true"')
        heading("No products yet")
        ui.label(
            "A product is what you sell (for example “Pro plan”); its prices say how much and how often customers "
            "pay. Create a product, add a price, then start subscriptions for your customers."
        ).classes("max-w-lg")
        ui.button("Create product", icon="add", on_click=on_create).props("unelevated no-caps")


def product_card(
    product: CatalogProduct,
    *,
    on_add_price: Callable[[CatalogProduct], object],
    on_edit: Callable[[CatalogProduct], object],
    on_set_active: Callable[[CatalogProduct, bool], object],
    on_set_price_active: Callable[[CatalogPrice, bool], object],
) -> None:
    """A product's name, state and description with its prices; every action is a labelled button."""
    with _label(ui.card().classes("w-full").props('role="region"'), product.name):
        with ui.row().classes("w-full items-center justify-between gap-2"):
            with ui.row().classes("items-center gap-2"):
                heading(product.name)
                if not product.active:
                    status_badge("Archived", Tone.NEUTRAL)
            with ui.row().classes("items-center gap-1"):
                if product.active:
                    ui.button("Add price", icon="add", on_click=lambda: on_add_price(product)).props(
                        "unelevated dense no-caps"
                    )
                ui.button("Edit", on_click=lambda: on_edit(product)).props("flat dense no-caps")
                action = "Archive" if product.active else "Restore"
                _label(
                    ui.button(action, on_click=lambda: on_set_active(product, not product.active))
                    .props(f"flat dense no-caps {'color=negative' if product.active else ''}")
                    .mark(f"set-active-{product.id}"),
                    f"{action} {product.name}",
                )
        if product.description:
            ui.label(product.description).classes("text-body2 text-grey-8")
        ui.label(product.id).classes("text-caption text-grey-8 font-mono")
        if not product.prices:
            ui.label(
                "No prices yet: add one so that customers can subscribe to this product."
                if product.active
                else "No prices."
            ).classes("text-grey-8")
            return
        with _label(ui.list().props("separator").classes("w-full"), f"Prices of {product.name}"):
            for price in product.prices:
                _price_row(price, product_active=product.active, on_set_active=on_set_price_active)


def _price_row(
    price: CatalogPrice, *, product_active: bool, on_set_active: Callable[[CatalogPrice, bool], object]
) -> None:
    with ui.item().classes("q-px-none"):
        with ui.item_section():
            with ui.row().classes("items-center gap-2"):
                ui.label(price_amount_text(price)).classes("text-weight-medium")
                if price.nickname:
                    ui.label(price.nickname).classes("text-grey-8")
                if not price.active:
                    status_badge("Archived", Tone.NEUTRAL)
            with ui.row().classes("items-center gap-1"):
                ui.label(price.id).classes("text-caption text-grey-8 font-mono")
                _label(
                    ui.button(icon="content_copy", on_click=lambda: copy_text(price.id, "Price ID copied")).props(
                        "flat round dense size=sm"
                    ),
                    f"Copy the ID of {price_amount_text(price)}",
                )
            if price.in_use:
                ui.label(
                    "Used by subscriptions: they keep it when you archive it."
                    if price.active
                    else "Existing subscriptions keep this price; new ones cannot choose it."
                ).classes("text-caption text-grey-8")
        if price.active or product_active:
            with ui.item_section().props("side"):
                action = "Archive" if price.active else "Restore"
                _label(
                    ui.button(action, on_click=lambda: on_set_active(price, not price.active)).props(
                        "flat dense no-caps"
                    ),
                    f"{action} price {price_amount_text(price)}",
                )


def product_dialog(product: CatalogProduct | None, on_save: SaveHandler) -> None:
    """Create a product (`product` None) or rename and describe one."""
    fields = FieldGroup()
    with titled_dialog("New product" if product is None else "Edit product") as dialog:
        fields.add("name", text_field("Name", product.name if product else "", max_length=120)).props("autofocus")
        fields.add(
            "description",
            ui.textarea("Description (optional)", value=product.description if product else "")
            .props("outlined dense autogrow counter maxlength=500")
            .classes("w-full"),
        )
        form_buttons(dialog, fields, "Create product" if product is None else "Save", on_save)


def price_dialog(product: CatalogProduct, default_currency: str, on_save: SaveHandler) -> None:
    """A new price for `product`: amount, currency, billing interval and count, optional nickname."""
    fields = FieldGroup()
    with titled_dialog(f"Add a price to {product.name}") as dialog:
        ui.label(
            "A price never changes once made: to charge differently later, add a new price and archive this one."
        ).classes("text-body2 text-grey-8")
        with ui.row().classes("w-full no-wrap gap-2"):
            fields.add(
                "unit_amount", text_field("Amount", "", hint="For example 29.00").props("autofocus inputmode=decimal")
            ).classes("col")
            fields.add(
                "currency",
                ui.select(
                    list(CURRENCIES),
                    label="Currency",
                    value=default_currency if default_currency in CURRENCIES else "USD",
                )
                .props("outlined dense")
                .classes("w-32"),
            )
        with ui.row().classes("w-full no-wrap gap-2"):
            fields.add(
                "interval_count",
                ui.number("Every", value=1, min=1, max=365, precision=0, format="%d")
                .props("outlined dense")
                .classes("w-28"),
            )
            fields.add(
                "interval",
                ui.select(INTERVAL_LABELS, label="Billing period", value=PriceInterval.MONTH.value)
                .props("outlined dense")
                .classes("col"),
            )
        fields.add("nickname", text_field("Nickname (optional)", "", max_length=120, hint="For example “Pro monthly”"))
        form_buttons(dialog, fields, "Add price", on_save)


def form_buttons(dialog: ui.dialog, fields: FieldGroup, action: str, on_save: SaveHandler) -> None:
    with ui.row().classes("w-full justify-end gap-2 q-mt-sm"):
        ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
        save = ui.button(action).props("unelevated no-caps").mark("dialog-save")
    form = OpenForm(fields, dialog, save)
    save.on_click(lambda: on_save(form))
    # Enter in a one-line field saves, as in any form; tests find each field by its name.
    for name, element in fields.fields.items():
        element.mark(f"field-{name}")
        if isinstance(element, ui.input):
            element.on("keydown.enter", lambda: on_save(form))


def _label(element: ui.element, text: str) -> ui.element:
    """Set the accessible name (set as a prop value, never parsed, so any product name is safe)."""
    element.props["aria-label"] = text
    return element
