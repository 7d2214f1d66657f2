"""`/settings/account`: the merchant's public business name and company information."""

from __future__ import annotations

from dataclasses import asdict, replace

from nicegui import ui

from app.context import AppContext
from app.services.merchants import (
    SUPPORTED_CURRENCIES,
    sign_in_address,
    update_account_details,
    validate_account_details,
)
from app.validation import COUNTRY_NAMES, TIME_ZONES
from app.views import AccountDetails
from components.forms import FieldGroup, text_field
from pages.merchant.api_keys import ApiKeysSection
from pages.merchant.scaffold import MerchantPage, merchant_page


def register(context: AppContext) -> None:
    merchant_page(context, "/settings/account", title="Account details")(account_page)


def account_page(page: MerchantPage) -> None:
    saved = page.account

    def current() -> AccountDetails:
        return replace(saved, **form.values())

    def refresh_state() -> None:
        errors = validate_account_details(current())
        form.show_errors(errors)
        save.set_enabled(not errors and current() != saved)

    def show_saved(details: AccountDetails) -> None:
        nonlocal saved
        saved = details
        for name, element in form.fields.items():
            element.set_value(asdict(saved)[name])
        refresh_state()

    async def save_changes() -> None:
        details = current()  # a failed save keeps the edits in the form for another Save
        await page.act(
            lambda session: update_account_details(session=session, details=details),
            then=show_saved,
            done="Saved",
            on_invalid=form.show_errors,
            buttons=(save,),
        )

    form = FieldGroup()
    account_card = ui.card().classes("w-full max-w-2xl")
    ApiKeysSection(page).build()
    with account_card:
        ui.label("Public details").classes("text-subtitle1 text-weight-medium")
        ui.label("Customers see the public business name in the portal, on invoices and in emails.").classes(
            "text-caption text-grey-7"
        )
        form.add("public_business_name", text_field("Public business name", saved.public_business_name, max_length=60))
        form.add(
            "handle",
            text_field(
                "Handle",
                saved.handle,
                max_length=40,
                hint=f"Lower-case letters, digits and hyphens. Customers sign in at "
                f"{sign_in_address(page.context.settings, '<handle>')}",
            ),
        )
        form.add("legal_name", text_field("Legal business name", saved.legal_name, max_length=120))
        with ui.row().classes("w-full no-wrap gap-3 max-sm:flex-wrap"):
            form.add("support_email", text_field("Support email", saved.support_email, input_type="email"))
            form.add("support_phone", text_field("Support phone", saved.support_phone, hint="With country code"))
        form.add("website", text_field("Website", saved.website, hint="https://"))
        ui.label("Address").classes("text-subtitle1 text-weight-medium q-mt-md")
        form.add("address_line1", text_field("Address line 1", saved.address_line1, max_length=120))
        form.add("address_line2", text_field("Address line 2", saved.address_line2, max_length=120))
        with ui.row().classes("w-full no-wrap gap-3 max-sm:flex-wrap"):
            form.add("address_city", text_field("City", saved.address_city, max_length=80))
            form.add("address_postal_code", text_field("Postal code", saved.address_postal_code, max_length=20))
            form.add("address_state", text_field("State or region", saved.address_state, max_length=80))
        form.add(
            "address_country",
            ui.select({"": "—", **COUNTRY_NAMES}, label="Country", value=saved.address_country, with_input=True)
            .props("outlined dense")
            .classes("w-full"),
        )
        ui.label("Preferences").classes("text-subtitle1 text-weight-medium q-mt-md")
        with ui.row().classes("w-full no-wrap gap-3 max-sm:flex-wrap"):
            form.add(
                "default_currency",
                ui.select(list(SUPPORTED_CURRENCIES), label="Default currency", value=saved.default_currency)
                .props("outlined dense")
                .classes("w-full"),
            )
            form.add(
                "time_zone",
                ui.select(sorted(TIME_ZONES), label="Time zone", value=saved.time_zone, with_input=True)
                .props("outlined dense")
                .classes("w-full"),
            )
        with ui.row().classes("w-full justify-end q-mt-md"):
            save = ui.button("Save", on_click=save_changes).props("unelevated no-caps")
    form.on_change(refresh_state)
    refresh_state()
