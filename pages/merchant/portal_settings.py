"""`/settings/portal`: customer portal settings beside a live preview of the draft; and the full-page preview tab."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from enum import StrEnum
from typing import Any

from nicegui import ui
from sqlalchemy.orm import Session

from app.context import AppContext
from app.enums import BillingField, CancelMode, DiscountKind, PauseDuration
from app.errors import NotFound, ValidationFailed
from app.money import major_to_minor, minor_to_major
from app.services.customers import list_customers
from app.services.merchants import sign_in_address
from app.services.portal import merchant_prices
from app.services.portal_preview import (
    PreviewCustomer,
    issue_preview_token,
    load_preview_customer,
    preview_view,
)
from app.services.portal_settings import (
    MAX_RETENTION_PERIODS,
    SETTINGS_FIELDS,
    URL_MAX_LENGTH,
    branding_image_url,
    get_portal_settings,
    save_portal_settings,
    validate_portal_settings,
)
from app.views import PortalSettingsView, PriceView
from components.forms import FieldGroup, text_field
from components.portal import PortalScreen, PreviewActions, portal_view
from components.portal.subscriptions import price_text, whole_number
from components.portal.text import PortalText
from components.settings import (
    SettingsToolbar,
    color_swatch,
    copyable_address,
    portal_preview_region,
    settings_card,
    settings_layout,
)
from pages.merchant.mail_settings import MailSettingsSection
from pages.merchant.portal_preview import portal_preview_page
from pages.merchant.scaffold import MerchantPage, merchant_page
from pages.merchant.settings_editor import SettingsEditor

SAMPLE_CUSTOMER = ""
SAMPLE_LABEL = "Sample customer (Jenny Rosen)"
PREVIEW_AS_RESULTS = 20
BILLING_FIELD_LABELS = {
    BillingField.NAME: "Name",
    BillingField.EMAIL: "Email",
    BillingField.PHONE: "Phone",
    BillingField.ADDRESS: "Billing address",
    BillingField.TAX_ID: "Tax ID",
}
PAUSE_DURATION_LABELS = {
    PauseDuration.ONE_PERIOD: "1 billing period",
    PauseDuration.TWO_PERIODS: "2 billing periods",
    PauseDuration.THREE_PERIODS: "3 billing periods",
    PauseDuration.UNTIL_RESUMED: "Until they resume",
}
CANCEL_MODES = {
    CancelMode.IMMEDIATELY.value: "Immediately",
    CancelMode.AT_PERIOD_END.value: "At the end of the billing period",
}
# Single-line fields whose surrounding spaces mean nothing; stripped as the merchant types.
_STRIPPED = frozenset(
    {"support_email", "support_phone", "website_url", "terms_url", "privacy_url", "default_return_url"}
)


def price_option(price: PriceView) -> str:
    """How a price reads in the merchant's "Prices customers can switch to" choice."""
    name = f"{price.product_name} · {price.nickname}" if price.nickname else price.product_name
    return f"{name} ({price_text(PortalText('en_US', 'UTC'), price)})"


class PortalSettingsEditor(SettingsEditor):
    """The page's state: the last saved settings, the unsaved draft, and whom the preview shows."""

    what = "portal settings"

    def __init__(
        self, page: MerchantPage, *, saved: PortalSettingsView, prices: dict[str, str], subject: PreviewCustomer
    ) -> None:
        super().__init__(page, saved)
        self.draft = saved
        self.prices = prices
        self.customer_labels = {SAMPLE_CUSTOMER: SAMPLE_LABEL}
        self.subject = subject
        self.preview_actions = PreviewActions(subject.data, subject.invoices)
        self.preview_as = SAMPLE_CUSTOMER
        self.screen: PortalScreen | None = None
        self.fields = FieldGroup()
        self.choice_errors: dict[str, ui.label] = {}
        self.chooser: ui.select
        self.dependent: dict[str, ui.element] = {}
        self.mails = MailSettingsSection(page, on_change=self.show_state)  # the Emails section's own draft

    # --- State ------------------------------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        changed = any(getattr(self.draft, name) != getattr(self.saved, name) for name in SETTINGS_FIELDS)
        return changed or self.mails.dirty

    def change(self, **changes: Any) -> None:
        """Apply one edit to the draft and re-render the preview from it (nothing is saved)."""
        self.draft = replace(self.draft, **changes)
        for name, element in self.dependent.items():
            element.set_visibility(bool(getattr(self.draft, name)))
        self.show_preview()
        self.mails.show_portal_draft(self.draft)
        self.show_state()

    def show_state(self) -> None:
        errors = validate_portal_settings(self.draft) | self.mails.errors()
        self.fields.show_errors(errors)
        for name, label in self.choice_errors.items():
            label.set_text(errors.get(name, ""))
        self.toolbar.show(dirty=self.dirty, valid=not errors)

    def restart_from(self, saved: PortalSettingsView) -> None:
        """Forget the draft: show `saved` in the preview, and in the form (which rebuilds right after this handler)."""
        self.saved = self.draft = saved
        self.mails.restart()
        # Now, not when the form rebuilds after this handler: the second click of a double click finds Save off.
        self.toolbar.save.disable()
        self.form.refresh()
        self.show_preview()

    # --- Actions ----------------------------------------------------------------------------------------------

    def write(self, session: Session, *, force: bool) -> PortalSettingsView:
        saved = save_portal_settings(
            session=session,
            draft=self.draft,
            expected_version=self.saved.version,
            force=force,
            clock=self.page.context.clock,
        )
        self.mails.write(session)
        return saved

    def show_errors(self, errors: Mapping[str, str]) -> None:
        self.fields.show_errors(errors)

    def open_preview_tab(self) -> None:
        customer_id = self.preview_as or None
        token = issue_preview_token(
            settings=self.page.context.settings,
            draft=self.draft,
            customer_id=customer_id,
            clock=self.page.context.clock,
        )
        ui.navigate.to(f"/settings/portal/preview?token={token}", new_tab=True)

    def customer_options(self, query: str) -> dict[str, str]:
        """The sample customer, the customer being previewed, and up to 20 of the merchant's matching `query`."""
        try:
            with self.page.context.database.transaction() as session:
                page = list_customers(
                    session=session, merchant_id=self.page.merchant_id, query=query, page_size=PREVIEW_AS_RESULTS
                )
        except ValidationFailed:  # a query longer than the search accepts: keep the choices as they are
            return dict(self.customer_labels)
        found = {row.id: f"{row.name} ({row.email})" if row.name else row.email for row in page.customers}
        self.customer_labels = {
            SAMPLE_CUSTOMER: SAMPLE_LABEL,
            self.preview_as: self.customer_labels.get(self.preview_as, ""),
            **found,
        }
        return dict(self.customer_labels)

    def search_customers(self, query: str) -> None:
        self.chooser.set_options(self.customer_options(query), value=self.chooser.value)

    def preview_customer(self, customer_id: str) -> None:
        try:
            with self.page.context.database.transaction() as session:
                self.subject = load_preview_customer(
                    session=session,
                    merchant_id=self.page.merchant_id,
                    customer_id=customer_id or None,
                    now=self.page.context.clock(),
                )
        except NotFound:
            ui.notify("This customer no longer exists.", type="warning")
            self.chooser.set_value(self.preview_as)
            return
        self.preview_as = customer_id
        self.preview_actions = PreviewActions(self.subject.data, self.subject.invoices)
        self.show_preview()

    # --- Rendering --------------------------------------------------------------------------------------------

    def build(self) -> None:
        ui.label("Let customers manage their subscriptions and billing in a portal you design.").classes(
            "text-body2 text-grey-8 -mt-2"
        )
        self.toolbar = SettingsToolbar(on_reset=self.reset, on_save=self.save, on_preview=self.open_preview_tab)
        with settings_layout() as (form_column, preview_column):
            with form_column:
                self.form()
            with preview_column:
                self.chooser = (
                    ui.select(
                        self.customer_options(""),
                        label="Preview as",
                        value=self.preview_as,
                        with_input=True,
                        on_change=lambda event: self.preview_customer(event.value or SAMPLE_CUSTOMER),
                    )
                    .props('outlined dense options-dense hint="Type a name or email to find a customer"')
                    .classes("w-full")
                )
                # The merchant's customers are searched on the server as they type (there may be 100,000).
                self.chooser.on("input-value", lambda event: self.search_customers(str(event.args or "")), throttle=0.3)
                with portal_preview_region():
                    self.show_preview()

    def show_preview(self) -> None:
        """The draft as customers would see it; only the parts of the portal that the change touches re-render."""
        view = preview_view(
            draft=self.draft,
            account=self.page.account,
            data=self.subject.data,
            icon_src=branding_image_url(self.draft, "icon"),
            logo_src=branding_image_url(self.draft, "logo"),
        )
        if self.screen is None:
            self.screen = portal_view(view, self.preview_actions)
        else:
            self.screen.show(view, self.preview_actions)

    @ui.refreshable_method
    def form(self) -> None:
        self.fields = FieldGroup()
        self.dependent = {}
        self.choice_errors = {}
        self._branding_summary()
        self._functionality()
        self._business_information()
        self.mails.build(self.draft)
        self.show_state()  # the fields were just (re)built: show their errors and the toolbar's state

    def _branding_summary(self) -> None:
        """What Branding and Account details set, with links there: edited on those pages, not here."""
        draft = self.draft
        with settings_card("Branding", "Upload your icon or logo and choose your colours in Branding settings."):
            with ui.row().classes("items-center gap-4"):
                for kind, label in (("icon", "Icon"), ("logo", "Logo")):
                    url = branding_image_url(draft, kind)
                    if url:
                        ui.image(url).props(f'alt="{label}" fit=contain no-spinner').classes(
                            "h-10 w-10" if kind == "icon" else "h-10 w-32"
                        )
                    else:
                        ui.label(f"No {kind}").classes("text-caption text-grey-7")
                color_swatch(draft.brand_color, "Brand colour")
                color_swatch(draft.accent_color, "Accent colour")
            ui.link("Go to Branding settings", "/settings/branding")
        with settings_card("Business name", "Customers see your public business name in the portal."):
            ui.label(self.page.account.public_business_name).classes("text-body1 text-weight-medium")
            ui.link("Go to Account details", "/settings/account")
        with settings_card(
            "Sign-in page",
            "Customers enter their email on this page and get a link to their portal. Put it on your website.",
        ):
            address = sign_in_address(self.page.context.settings, self.page.account.handle)
            copyable_address("Sign-in address", address, copy_label="Copy the sign-in address")
            ui.label("Change the handle at its end in Account details.").classes("text-caption text-grey-8")

    def _functionality(self) -> None:
        draft = self.draft
        with settings_card("Functionality", "Choose what customers can do in the portal."):
            self._switch("invoice_history", "Invoice history", "Allow customers to view their invoice history")
            self._switch(
                "shipping_information", "Shipping information", "Allow customers to update the shipping address"
            )
            self._switch("cancel_subscriptions", "Cancel subscriptions", "Allow customers to cancel subscriptions")
            with self._dependent("cancel_subscriptions"):
                ui.radio(
                    CANCEL_MODES,
                    value=draft.cancel_mode,
                    on_change=lambda event: self.change(cancel_mode=event.value),
                ).props('dense aria-label="When cancellations take effect"')
                ui.checkbox(
                    "Ask customers why they cancel",
                    value=draft.cancellation_reasons,
                    on_change=lambda event: self.change(cancellation_reasons=event.value),
                ).props("dense")
            self._switch(
                "payment_method_update",
                "Update payment methods",
                "Allow customers to add cards, remove cards and choose their default card",
            )
            self._switch(
                "billing_details_update", "Update billing details", "Allow customers to update their billing details"
            )
            with self._dependent("billing_details_update"):
                self._choices("billing_fields", "Details customers can update", BILLING_FIELD_LABELS)
            self._switch("plan_switching", "Switch plans", "Allow customers to switch to another plan")
            with self._dependent("plan_switching"):
                if not self.prices:
                    ui.label("You have no active prices yet: customers can only switch between active prices.").classes(
                        "text-caption text-grey-8"
                    )
                # Saved prices that were archived since stay visible, so the merchant sees why Save refuses them.
                archived = {
                    price: f"{price} (no longer active)"
                    for price in draft.switchable_price_ids
                    if price not in self.prices
                }
                self.fields.add(
                    "switchable_price_ids",
                    ui.select(
                        self.prices | archived,
                        label="Prices customers can switch to",
                        value=list(draft.switchable_price_ids),
                        multiple=True,
                        on_change=lambda event: self.change(switchable_price_ids=tuple(event.value or ())),
                    )
                    .props("outlined dense use-chips")
                    .classes("w-full"),
                )
                ui.checkbox(
                    "Cheaper plans and fewer seats start at the end of the billing period (no credit now)",
                    value=draft.downgrades_at_period_end,
                    on_change=lambda event: self.change(downgrades_at_period_end=event.value),
                ).props("dense")
            self._switch(
                "pause_subscriptions",
                "Pause subscriptions",
                "Allow customers to pause billing from the end of the period they paid for",
            )
            with self._dependent("pause_subscriptions"):
                self._choices("pause_durations", "How long customers can pause", PAUSE_DURATION_LABELS)
            self._switch(
                "resubscribe",
                "Resubscribe",
                "Allow customers to restart a canceled subscription, charged now to their default card",
            )
            with self._dependent("resubscribe"):
                ui.checkbox(
                    "Customers can choose any of your current prices (otherwise the subscription's own price)",
                    value=draft.resubscribe_price_choice,
                    on_change=lambda event: self.change(resubscribe_price_choice=event.value),
                ).props("dense")
            self._switch(
                "retention_offer",
                "Retention offer",
                "Offer a coupon when a customer chooses to cancel (once per subscription)",
            )
            with self._dependent("retention_offer"):
                self._retention_coupon()

    def _retention_coupon(self) -> None:
        """The coupon: percent or amount off (entered in the default currency's units), for how many invoices."""
        draft, currency = self.draft, self.page.account.default_currency
        percent = draft.retention_discount_kind == DiscountKind.PERCENT
        ui.radio(
            {DiscountKind.PERCENT.value: "Percent off", DiscountKind.AMOUNT.value: f"Amount off ({currency})"},
            value=DiscountKind(draft.retention_discount_kind).value,
            on_change=lambda event: self._coupon_kind(event.value),
        ).props('dense inline aria-label="Kind of discount"')
        with ui.row().classes("w-full no-wrap gap-3 max-sm:flex-wrap"):
            shown = (
                draft.retention_discount_value if percent else minor_to_major(draft.retention_discount_value, currency)
            )
            value = ui.number(
                "Percent off" if percent else f"Amount off ({currency})",
                value=shown,
                min=1,
                max=100 if percent else None,
                step=1 if percent else 0.01,
                precision=0 if percent else None,
                on_change=lambda event: self.change(
                    retention_discount_value=major_to_minor(event.value, currency, whole=percent)
                ),
            ).props("outlined dense")
            periods = ui.number(
                "Number of invoices",
                value=draft.retention_periods,
                min=1,
                max=MAX_RETENTION_PERIODS,
                step=1,
                precision=0,
                on_change=lambda event: self.change(retention_periods=whole_number(event.value)),
            ).props("outlined dense")
        self.fields.add("retention_discount_value", value)
        self.fields.add("retention_periods", periods)

    def _coupon_kind(self, kind: str) -> None:
        """Another kind of coupon: a fresh value that suits it (50%, or 10.00 of the currency)."""
        start = 50 if kind == DiscountKind.PERCENT else major_to_minor(10, self.page.account.default_currency)
        self.change(retention_discount_kind=DiscountKind(kind), retention_discount_value=start)
        self.form.refresh()

    def _business_information(self) -> None:
        draft = self.draft
        with settings_card("Business information", "Display the company information you want to present to customers."):
            self._text("headline", "Headline", max_length=120, hint="A short line under your business name")
            with ui.row().classes("w-full no-wrap gap-3 max-sm:flex-wrap"):
                self._text("support_email", "Support email", max_length=254, input_type="email")
                self._text("support_phone", "Support phone", max_length=32, hint="With country code")
            self.fields.add(
                "address",
                ui.textarea("Address", value=draft.address, on_change=lambda event: self.change(address=event.value))
                .props("outlined dense autogrow counter maxlength=300")
                .classes("w-full"),
            )
            self._text("website_url", "Website", hint="https://")
            self._text("terms_url", "Terms of service URL", hint="https://")
            self._text("privacy_url", "Privacy policy URL", hint="https://")
            self._text(
                "default_return_url",
                "Default return URL",
                hint='Where "Return to …" leads when a portal link has no return URL of its own',
            )

    def _switch(self, name: str, label: str, description: str) -> None:
        with ui.column().classes("gap-0 w-full"):
            switch = ui.switch(
                label, value=getattr(self.draft, name), on_change=lambda event: self.change(**{name: event.value})
            ).classes("text-weight-medium")
            caption = ui.label(description).classes("text-caption text-grey-7 q-pl-xl")
            switch.props(f"aria-describedby={caption.html_id}")

    def _dependent(self, name: str) -> ui.column:
        """Options that only matter while the switch `name` is on; hidden (not removed) when it is off."""
        column = ui.column().classes("gap-1 q-pl-xl w-full")
        column.set_visibility(bool(getattr(self.draft, name)))
        self.dependent[name] = column
        return column

    def _choices(self, name: str, caption: str, labels: Mapping[StrEnum, str]) -> None:
        """A checkbox per option of the draft's tuple `name` (kept in the order of `labels`), with its error."""
        ui.label(caption).classes("text-caption text-grey-8")
        with ui.row().classes("gap-x-4 gap-y-0"):
            for option, label in labels.items():
                ui.checkbox(
                    label,
                    value=option in getattr(self.draft, name),
                    on_change=lambda event, option=option: self._toggle(name, labels, option, event.value),
                ).props("dense")
        self.choice_errors[name] = ui.label().classes("text-caption text-negative").props('role="alert"')

    def _toggle(self, name: str, labels: Mapping[StrEnum, str], option: StrEnum, enabled: bool) -> None:
        chosen = set(getattr(self.draft, name)) - {option} | ({option} if enabled else set())
        self.change(**{name: tuple(value for value in labels if value in chosen)})

    def _text(
        self, name: str, label: str, *, max_length: int = URL_MAX_LENGTH, hint: str = "", input_type: str = "text"
    ) -> None:
        field = text_field(label, getattr(self.draft, name), max_length=max_length, hint=hint, input_type=input_type)
        field.on_value_change(
            lambda event: self.change(**{name: (event.value or "").strip() if name in _STRIPPED else event.value or ""})
        )
        self.fields.add(name, field)


def register(context: AppContext) -> None:
    merchant_page(context, "/settings/portal", title="Customer portal")(portal_settings_page)
    merchant_page(context, "/settings/portal/preview", title="Portal preview", framed=False)(portal_preview_page)


def portal_settings_page(page: MerchantPage) -> None:
    merchant_id = page.merchant_id
    with page.context.database.transaction() as session:
        saved = get_portal_settings(session=session, merchant_id=merchant_id)
        prices = {price.id: price_option(price) for price in merchant_prices(session=session, merchant_id=merchant_id)}
        subject = load_preview_customer(
            session=session, merchant_id=merchant_id, customer_id=None, now=page.context.clock()
        )
    PortalSettingsEditor(page, saved=saved, prices=prices, subject=subject).build()
