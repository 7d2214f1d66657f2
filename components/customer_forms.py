"""The dashboard's customer forms: New customer / Edit (contact, language, address) and Start subscription."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from nicegui import ui

from app.i18n import SUPPORTED_LOCALES
from app.views import Address, CustomerView
from app.views.catalog import CatalogPrice
from components.catalog import OpenForm, SaveHandler, form_buttons, price_choice_label
from components.customers import LOCALE
from components.dialogs import titled_dialog
from components.forms import FieldGroup, text_field
from components.portal.billing import address_fields
from components.portal.text import PortalText

# Trial and quantity limits the subscription service enforces; the fields stop there too.
MAX_QUANTITY = 1000
MAX_TRIAL_DAYS = 730


def customer_dialog(customer: CustomerView | None, on_save: SaveHandler) -> None:
    """Name, email, optional phone, portal language and billing address; fields are named like the service's errors
    (`email`, `address.country`, ...). `customer` None makes a new customer."""
    fields = FieldGroup()
    title = "New customer" if customer is None else f"Edit {customer.name or customer.email}"
    with titled_dialog(title, card_classes="w-full max-w-xl gap-3") as dialog:
        fields.add("name", text_field("Name", customer.name if customer else "", max_length=120)).props("autofocus")
        fields.add(
            "email", text_field("Email", customer.email if customer else "", input_type="email").props("maxlength=254")
        )
        fields.add(
            "phone",
            text_field(
                "Phone (optional)", customer.phone if customer else "", hint="With the country code, +44 …"
            ).props("maxlength=32 type=tel"),
        )
        fields.add(
            "locale",
            ui.select(
                {"": "The customer's browser language", **SUPPORTED_LOCALES},
                label="Portal language",
                value=customer.locale if customer and customer.locale in SUPPORTED_LOCALES else "",
            )
            .props("outlined dense")
            .classes("w-full"),
        )
        ui.label("Billing address (optional)").classes("text-subtitle2 q-mt-sm")
        address_fields(fields, PortalText(LOCALE, "UTC"), customer.address if customer else Address())
        form_buttons(dialog, fields, "Create customer" if customer is None else "Save", on_save)


def customer_form_address(fields: FieldGroup) -> Address:
    values = fields.values()
    return Address(**{part: str(values[f"address.{part}"]) for part in Address.__dataclass_fields__})


def subscription_dialog(
    prices: Sequence[CatalogPrice],
    *,
    summary: Callable[[CatalogPrice, int, int], str],
    on_save: SaveHandler,
) -> None:
    """Choose a price, a quantity and optional trial days; `summary(price, quantity, trial_days)` says what will be
    charged and when, and follows every change before the merchant confirms."""
    with titled_dialog("Start subscription", card_classes="w-full max-w-xl gap-3") as dialog:
        if not prices:
            ui.label(
                "There is no price to choose yet. Create a product and add a price on the Products page, then come "
                "back here."
            ).classes("text-body1")
            with ui.row().classes("w-full justify-end gap-2 q-mt-sm"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.link("Go to Products", "/products").classes("q-btn q-px-md text-weight-medium")
            return
        by_id = {price.id: price for price in prices}
        fields = FieldGroup()
        fields.add(
            "price",
            ui.select({price.id: price_choice_label(price) for price in prices}, label="Price", value=prices[0].id)
            .props("outlined dense autofocus")
            .classes("w-full"),
        )
        with ui.row().classes("w-full no-wrap gap-3"):
            fields.add(
                "quantity",
                ui.number("Quantity", value=1, min=1, max=MAX_QUANTITY, precision=0, format="%d")
                .props("outlined dense")
                .classes("col"),
            )
            fields.add(
                "trial_period_days",
                ui.number("Trial days (optional)", value=None, min=0, max=MAX_TRIAL_DAYS, precision=0, format="%d")
                .props("outlined dense")
                .classes("col"),
            )
        with ui.card().props("flat bordered").classes("w-full bg-grey-1"):
            ui.label("What will be charged").classes("text-subtitle2")
            explanation = ui.label().classes("text-body2").props('aria-live="polite"').mark("subscription-summary")

        def explain() -> None:
            values = fields.values()
            price = by_id.get(str(values["price"]))
            quantity = whole(values["quantity"])
            trial = whole(values["trial_period_days"]) if values["trial_period_days"] != "" else 0
            if price is None:
                explanation.text = "Choose a price."
            elif not 1 <= quantity <= MAX_QUANTITY:
                explanation.text = f"Choose a quantity between 1 and {MAX_QUANTITY}."
            elif not 0 <= trial <= MAX_TRIAL_DAYS:
                explanation.text = f"Choose a trial of 0 to {MAX_TRIAL_DAYS} days, or leave it empty."
            else:
                explanation.text = summary(price, quantity, trial)

        fields.on_change(explain)
        explain()
        form_buttons(dialog, fields, "Start subscription", on_save)


def whole(value: object) -> int:
    """A number field's value as a whole number; -1 when it is not one (1.5, text, empty)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    return -1


__all__ = ["OpenForm", "customer_dialog", "customer_form_address", "subscription_dialog", "whole"]
