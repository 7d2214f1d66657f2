"""Billing details and shipping information: what is on file, and forms that save only valid input."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui
from nicegui.elements.mixins.disableable_element import DisableableElement

from app.enums import BillingField
from app.formatting import address_lines
from app.tax_ids import TAX_ID_TYPES
from app.views import Address, BillingDetailsInput, CustomerView, ShippingInput
from components.forms import FieldGroup, text_field
from components.portal.base import Portal, section
from components.portal.text import PortalText, country_names
from components.presets import preset

ADDRESS_PARTS = ("line1", "line2", "city", "postal_code", "state", "country")
_Detail = preset(ui.column, classes="gap-0")
_DetailLabel = preset(ui.label, classes="text-caption text-grey-8")
_DetailLine = preset(ui.label, classes="text-body2")
_Details = preset(ui.element, classes="w-full grid grid-cols-1 @lg:grid-cols-2 gap-4")


def limited_field(label: str, value: str, max_length: int) -> ui.input:
    """A labelled input that stops at the service's length limit, without a counter (customers rarely get near)."""
    return text_field(label, value).props(f"maxlength={max_length}")


def _detail(label: str, lines: list[str], marker: str) -> None:
    with _Detail().mark(marker):
        _DetailLabel(label)
        for line in [line for line in lines if line] or ["—"]:
            _DetailLine(line)


def billing_section(portal: Portal) -> None:
    t, customer = portal.text, portal.view.data.customer
    fields = portal.view.settings.billing_fields
    with section(t("Billing details"), marker="portal-billing"):
        with _Details("div"):
            if BillingField.NAME in fields:
                _detail(t("Name"), [customer.name], "billing-name")
            if BillingField.EMAIL in fields:
                _detail(t("Email"), [customer.email], "billing-email")
            if BillingField.PHONE in fields:
                _detail(t("Phone"), [customer.phone], "billing-phone")
            if BillingField.ADDRESS in fields:
                _detail(t("Billing address"), address_lines(customer.address, t.locale), "billing-address")
            if BillingField.TAX_ID in fields:
                _detail(t("Tax ID"), _tax_id_lines(t, customer), "billing-tax-id")
        if BillingField.EMAIL in fields and customer.pending_email:
            _pending_email(portal, customer.pending_email)
        portal.secondary_button(t("Update billing details"), lambda: _billing_dialog(portal)).classes("self-start")


def _pending_email(portal: Portal, new_email: str) -> None:
    """A new email waiting for confirmation from that address, with Resend and Cancel change."""
    t = portal.text
    with (
        ui.column()
        .classes("w-full gap-2 q-pa-md rounded-borders bg-white border border-amber-400 border-l-4")
        .props('role="status"')
        .mark("billing-pending-email")
    ):
        ui.label(t("Waiting for confirmation of {email}", email=new_email)).classes("text-body2 text-weight-medium")
        ui.label(t("We sent a link to the new address. Your email stays as it is until you open that link.")).classes(
            "text-body2"
        )
        with ui.row().classes("gap-2"):

            async def resend() -> None:
                done, _ = await portal.act(portal.actions.resend_email_change, buttons=(resend_button,))
                if done:
                    portal.notify(t("We sent the link to {email} again.", email=new_email))

            async def cancel() -> None:
                done, _ = await portal.act(portal.actions.cancel_email_change, buttons=(cancel_button,))
                if done:
                    portal.notify(t("Email change canceled."))
                    portal.changed()

            resend_button = portal.secondary_button(t("Resend"), resend)
            cancel_button = portal.secondary_button(t("Cancel change"), cancel)


def _tax_id_lines(t: PortalText, customer: CustomerView) -> list[str]:
    if not customer.tax_id_value:
        return []
    label = TAX_ID_TYPES[customer.tax_id_type].label if customer.tax_id_type in TAX_ID_TYPES else customer.tax_id_type
    return [f"{t(label)} {customer.tax_id_value}"]


def address_fields(form: FieldGroup, t: PortalText, address: Address, prefix: str = "address") -> None:
    """Street, city, postal code, state and country inputs named `<prefix>.<part>` like the service's errors."""
    form.add(f"{prefix}.line1", limited_field(t("Address line 1"), address.line1, 120))
    form.add(f"{prefix}.line2", limited_field(t("Address line 2 (optional)"), address.line2, 120))
    with ui.row().classes("w-full no-wrap gap-3 max-sm:flex-wrap"):
        form.add(f"{prefix}.postal_code", limited_field(t("Postal code"), address.postal_code, 20))
        form.add(f"{prefix}.city", limited_field(t("City"), address.city, 80))
    form.add(f"{prefix}.state", limited_field(t("State, province or region (optional)"), address.state, 80))
    form.add(
        f"{prefix}.country",
        ui.select({"": "—", **country_names(t.locale)}, label=t("Country"), value=address.country, with_input=True)
        .props("outlined dense")
        .classes("w-full"),
    )


def form_address(form: FieldGroup, prefix: str = "address") -> Address:
    values = form.values()
    return Address(**{part: str(values[f"{prefix}.{part}"]) for part in ADDRESS_PARTS})


def _cancel_and_save(portal: Portal, dialog: ui.dialog) -> ui.button:
    """A form dialog's Cancel and Save buttons; returns Save, for the caller to wire."""
    with ui.row().classes("w-full justify-end gap-2 q-mt-sm"):
        ui.button(portal.text("Cancel"), on_click=dialog.close).props("flat no-caps color=primary")
        return portal.primary_button(portal.text("Save"))


async def _save_form(
    portal: Portal, dialog: ui.dialog, form: FieldGroup, save: ui.button, work: Callable[[], object], saved: str
) -> None:
    """Run the save; field errors stay in the form, success closes the dialog, says `saved` and refreshes."""
    done, _ = await portal.act(work, buttons=(save,), on_invalid=lambda errors: portal.show_field_errors(form, errors))
    if done:
        dialog.close()
        portal.notify(saved)
        portal.changed()


def _billing_dialog(portal: Portal) -> None:
    t, customer = portal.text, portal.view.data.customer
    fields = portal.view.settings.billing_fields
    form = FieldGroup()
    with portal.dialog(t("Update billing details")) as dialog:
        if BillingField.NAME in fields:
            form.add("name", limited_field(t("Name"), customer.name, 120))
        if BillingField.EMAIL in fields:
            form.add("email", text_field(t("Email"), customer.email, input_type="email"))
        if BillingField.PHONE in fields:
            form.add("phone", text_field(t("Phone (optional)"), customer.phone, hint=t("With country code")))
        if BillingField.ADDRESS in fields:
            address_fields(form, t, customer.address)
        if BillingField.TAX_ID in fields:
            types = {"": t("No tax ID"), **{key: t(tax_id.label) for key, tax_id in TAX_ID_TYPES.items()}}
            with ui.row().classes("w-full no-wrap gap-3 max-sm:flex-wrap"):
                form.add(
                    "tax_id_type",
                    ui.select(types, label=t("Tax ID type"), value=customer.tax_id_type or "")
                    .props("outlined dense")
                    .classes("w-full"),
                )
                form.add("tax_id_value", limited_field(t("Tax ID"), customer.tax_id_value, 40))
        save = _cancel_and_save(portal, dialog)

    async def submit() -> None:
        values = form.values()
        details = BillingDetailsInput(
            name=values.get("name"),
            email=values.get("email"),
            phone=values.get("phone"),
            address=form_address(form) if BillingField.ADDRESS in fields else None,
            tax_id_type=values.get("tax_id_type"),
            tax_id_value=values.get("tax_id_value"),
        )
        await _save_form(
            portal,
            dialog,
            form,
            save,
            lambda: portal.actions.update_billing_details(details),
            t("Billing details saved.")
            if details.email in (None, customer.email)
            else t("Billing details saved. Confirm your new email address from the link we sent to it."),
        )

    save.on_click(submit)


def shipping_section(portal: Portal) -> None:
    t, customer = portal.text, portal.view.data.customer
    with section(t("Shipping information"), marker="portal-shipping"):
        if customer.shipping_address.is_empty and not customer.shipping_name:
            ui.label(t("No shipping address on file.")).classes("text-grey-8")
        else:
            with _Details("div"):
                lines = [customer.shipping_name, *address_lines(customer.shipping_address, t.locale)]
                _detail(t("Ship to"), lines, "shipping-address")
                if customer.shipping_phone:
                    _detail(t("Phone"), [customer.shipping_phone], "shipping-phone")
        portal.secondary_button(t("Update shipping information"), lambda: _shipping_dialog(portal)).classes(
            "self-start"
        )


def _shipping_dialog(portal: Portal) -> None:
    t, customer = portal.text, portal.view.data.customer
    form = FieldGroup()
    with portal.dialog(t("Update shipping information")) as dialog:
        same = None
        if not customer.address.is_empty:
            same = ui.checkbox(t("Same as billing address"), value=False)
        form.add("name", limited_field(t("Name"), customer.shipping_name or customer.name, 120))
        form.add("phone", text_field(t("Phone (optional)"), customer.shipping_phone, hint=t("With country code")))
        address_fields(form, t, customer.shipping_address)
        save = _cancel_and_save(portal, dialog)

    def use_billing(checked: bool) -> None:
        """Show the billing address in the (then locked) fields, or give the saved shipping address back."""
        source = customer.address if checked else customer.shipping_address
        for part in ADDRESS_PARTS:
            field = form.fields[f"address.{part}"]
            field.set_value(getattr(source, part))
            if isinstance(field, DisableableElement):
                field.set_enabled(not checked)

    if same is not None:
        same.on_value_change(lambda event: use_billing(bool(event.value)))

    async def submit() -> None:
        values = form.values()
        shipping = ShippingInput(
            name=str(values["name"]),
            phone=str(values["phone"]),
            address=form_address(form),
            same_as_billing=bool(same and same.value),
        )
        await _save_form(
            portal,
            dialog,
            form,
            save,
            lambda: portal.actions.update_shipping(shipping),
            t("Shipping information saved."),
        )

    save.on_click(submit)
