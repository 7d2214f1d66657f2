"""`/customers` (search and pages) and `/customers/{cus_id}` (details, "Copy url", links and their revocation)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import RedirectResponse
from nicegui import app, ui

from app.context import AppContext
from app.errors import NotFound, ValidationFailed
from app.formatting import address_lines, format_date, format_datetime
from app.services.customers import MAX_QUERY_LENGTH, get_customer_details, list_customers
from app.services.portal_links import IssuedLink, issue_link, list_links, revoke_all_links, revoke_link
from app.views import CustomerDetails, CustomerPage, PortalLinkView
from components.customers import (
    LOCALE,
    customer_table,
    invoices_table,
    labelled_value,
    language_name,
    payment_methods_list,
    portal_links_table,
    subscriptions_list,
    text_block,
)
from components.dialogs import confirm, copy_text, heading
from components.event_table import event_table
from components.pager import pager
from components.payments import payments_table
from pages.actors import MERCHANT
from pages.merchant.customer_actions import edit_customer, new_customer, start_subscription_dialog
from pages.merchant.customer_import import ImportDialog
from pages.merchant.scaffold import MerchantPage, merchant_page

CUSTOMER_GONE = "This customer no longer exists."


def register(context: AppContext) -> None:
    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/customers")

    merchant_page(context, "/customers", title="Customers")(customers_page)
    merchant_page(context, "/customers/{customer_id}", title="Customer", framed=False)(customer_page)


def customers_page(page: MerchantPage, q: str = "") -> None:
    CustomerList(page, q[:MAX_QUERY_LENGTH]).build()


def customer_page(page: MerchantPage, customer_id: str) -> None:
    context = page.context
    try:
        with context.database.transaction() as session:
            details = get_customer_details(session=session, merchant_id=page.merchant_id, customer_id=customer_id)
            links = list_links(
                session=session, merchant_id=page.merchant_id, customer_id=customer_id, clock=context.clock
            )
    except NotFound:
        explanation = "There is no customer with this ID in your account."
        page.not_found("Customer not found", explanation, ("Back to customers", "/customers"))
        return
    name = details.customer.name or details.customer.email or details.customer.id
    with page.frame(name):
        with ui.row().classes("w-full gap-2 q-mb-md"):
            ui.button("Edit", icon="edit", on_click=lambda: edit_customer(page, details.customer)).props(
                "outline no-caps"
            )
            ui.button(
                "Start subscription", icon="add", on_click=lambda: start_subscription_dialog(page, details)
            ).props("unelevated no-caps")
        CustomerLinks(page, customer_id, name, links).build()
        _details_sections(details, page.time_zone)


class CustomerList:
    """The search box and one page of results; pages are keyset cursors, kept in a stack for "Newer"."""

    def __init__(self, page: MerchantPage, query: str) -> None:
        self.page = page
        self.query = query.strip()
        self.cursors: list[str | None] = [None]  # the `after` of every page up to the current one

    def build(self) -> None:
        with ui.row().classes("w-full items-start justify-between gap-2"):
            self.search_box()
            with ui.row().classes("gap-2"):
                ui.button(
                    "Import", icon="upload_file", on_click=lambda: ImportDialog(self.page, self.results.refresh).open()
                ).props("outline no-caps")
                ui.button("New customer", icon="person_add", on_click=lambda: new_customer(self.page)).props(
                    "unelevated no-caps"
                )
        self.results()

    def search_box(self) -> None:
        ui.input(
            "Search customers",
            placeholder="Name or email",
            value=self.query,
            on_change=lambda event: self.search(event.value or ""),
        ).props("outlined dense clearable debounce=300 type=search autofocus").classes("col-grow max-w-md q-mb-md")

    def search(self, text: str) -> None:
        self.query = text.strip()[:MAX_QUERY_LENGTH]
        self.cursors = [None]
        ui.navigate.history.replace(f"/customers?q={quote(self.query)}" if self.query else "/customers")
        self.results.refresh()

    def load(self) -> CustomerPage | None:
        try:
            with self.page.context.database.transaction() as session:
                return list_customers(
                    session=session, merchant_id=self.page.merchant_id, query=self.query, after=self.cursors[-1]
                )
        except ValidationFailed as failed:
            ui.notify(" ".join(failed.field_errors.values()), type="warning")
            return None

    def go_to(self, page: int, next_cursor: str | None) -> None:
        if page > len(self.cursors):
            self.cursors.append(next_cursor)
        else:
            del self.cursors[page:]
        self.results.refresh()

    @ui.refreshable_method
    def results(self) -> None:
        page = self.load()
        if page is None:
            return
        if not page.customers:
            with ui.column().classes("w-full items-center q-pa-xl gap-2 text-center"):
                if self.query:
                    ui.icon("search_off", size="lg", color="grey-6").props('aria-hidden="true"')
                    heading(f"No customers match “{self.query}”")
                    ui.label("Check the spelling, or search for part of the name or email address.")
                    ui.button("Clear search", on_click=lambda: self.search("")).props("flat no-caps")
                else:
                    ui.icon("group", size="lg", color="grey-6").props('aria-hidden="true"')
                    heading("No customers yet")
                    ui.label(
                        "Add your first customer with New customer (or import a CSV file, or create them through "
                        "the API). Then start a subscription on their page and send them their portal link with "
                        "Copy url."
                    ).classes("max-w-lg")
                    ui.button("New customer", icon="person_add", on_click=lambda: new_customer(self.page)).props(
                        "flat no-caps"
                    )
            return
        customer_table(page.customers, time_zone=self.page.time_zone)
        pager(
            len(self.cursors),
            has_next=page.next_cursor is not None,
            on_page=lambda number: self.go_to(number, page.next_cursor),
        )


class CustomerLinks:
    """The details page's portal link card: "Copy url", the latest URL, the customer's links and revocation."""

    def __init__(self, page: MerchantPage, customer_id: str, name: str, links: tuple[PortalLinkView, ...]) -> None:
        self.page = page
        self.context = page.context
        self.merchant_id = page.merchant_id
        self.time_zone = page.time_zone
        self.customer_id = customer_id
        self.name = name
        self.links = links
        self.shown_link_id: str | None = None

    def build(self) -> None:
        ttl_hours = self.context.settings.portal_link_ttl_seconds // 3600
        lifetime = (
            f"{ttl_hours} hours" if ttl_hours >= 2 else f"{self.context.settings.portal_link_ttl_seconds // 60} minutes"
        )
        with ui.card().classes("w-full q-mb-md").props('role="region" aria-label="Customer portal link"'):
            with ui.row().classes("w-full items-center justify-between gap-2"):
                heading("Customer portal link")
                ui.button("Copy url", icon="content_copy", on_click=self.copy_url).props("unelevated no-caps")
            ui.label(
                f"Send this link to the customer so they can manage their subscription. Each link is valid for "
                f"{lifetime}; click again (or refresh the page) for a new URL. Older links keep working until they "
                "expire, unless you revoke them."
            ).classes("text-body2 text-grey-8")
            with ui.column().classes("w-full gap-1") as self.url_box:
                self.url_field = ui.input("Portal URL").props("outlined dense readonly").classes("w-full font-mono")
                self.valid_until = ui.label().classes("text-caption text-grey-8")
            self.url_box.set_visibility(False)
            with ui.row().classes("w-full items-center justify-between q-mt-sm"):
                heading("Links", level=3)
                self.revoke_all_button = ui.button("Revoke all links", on_click=self.ask_revoke_all).props(
                    "flat no-caps color=negative"
                )
            self.table()

    @ui.refreshable_method
    def table(self) -> None:
        self.revoke_all_button.set_enabled(any(link.status == "active" for link in self.links))
        portal_links_table(self.links, time_zone=self.time_zone, on_revoke=self.ask_revoke)

    def reload(self) -> None:
        with self.context.database.transaction() as session:
            self.links = list_links(
                session=session, merchant_id=self.merchant_id, customer_id=self.customer_id, clock=self.context.clock
            )
        active_ids = {link.id for link in self.links if link.status == "active"}
        if self.shown_link_id not in active_ids:
            self.url_box.set_visibility(False)
        self.table.refresh()

    async def copy_url(self) -> None:
        await self.page.act(
            lambda session: issue_link(
                session=session,
                settings=self.context.settings,
                merchant_id=self.merchant_id,
                customer_id=self.customer_id,
                created_by=self.page.user.user_id,
                actor=MERCHANT,
                clock=self.context.clock,
            ),
            then=self.show_link,
            not_found=CUSTOMER_GONE,
        )

    def show_link(self, link: IssuedLink) -> None:
        self.shown_link_id = link.id
        self.url_field.set_value(link.url)
        self.valid_until.set_text(f"Valid until {format_datetime(link.expires_at, LOCALE, self.time_zone)}")
        self.url_box.set_visibility(True)
        copy_text(link.url, "Portal link copied to the clipboard")
        self.reload()

    def ask_revoke(self, link: PortalLinkView) -> None:
        created = format_datetime(link.created_at, LOCALE, self.time_zone)
        confirm(
            "Revoke this link?",
            f"The link created {created} stops working at once. The customer's other links are not affected.",
            "Revoke link",
            lambda: self.revoke(link.id),
        )

    async def revoke(self, link_id: str) -> None:
        await self.page.act(
            lambda session: revoke_link(
                session=session, merchant_id=self.merchant_id, link_id=link_id, actor=MERCHANT, clock=self.context.clock
            ),
            done="Link revoked",
            not_found="This link no longer exists.",
        )
        self.reload()

    def ask_revoke_all(self) -> None:
        count = sum(link.status == "active" for link in self.links)
        confirm(
            "Revoke all links?",
            f"All links of {self.name} that still work stop working at once ({count} shown here). "
            "You can create a new link afterwards.",
            "Revoke all links",
            self.revoke_all,
        )

    async def revoke_all(self) -> None:
        await self.page.act(
            lambda session: revoke_all_links(
                session=session,
                merchant_id=self.merchant_id,
                customer_id=self.customer_id,
                actor=MERCHANT,
                clock=self.context.clock,
            ),
            then=self.show_revoked,
            not_found=CUSTOMER_GONE,
        )

    def show_revoked(self, count: int) -> None:
        ui.notify(f"{count} link{'s' if count != 1 else ''} revoked", type="positive")
        self.reload()


def _details_sections(details: CustomerDetails, time_zone: str) -> None:
    customer = details.customer
    with ui.element("div").classes("w-full grid grid-cols-1 md:grid-cols-2 gap-4"):
        with ui.card().classes("w-full").props('role="region" aria-label="Profile"'):
            heading("Profile")
            with ui.element("div").classes("w-full grid grid-cols-1 sm:grid-cols-2 gap-3"):
                labelled_value("Name", customer.name)
                labelled_value("Email", customer.email)
                labelled_value("Phone", customer.phone)
                labelled_value("Preferred language", language_name(customer.locale) if customer.locale else "")
                labelled_value("Tax ID", f"{customer.tax_id_type.upper()} {customer.tax_id_value}".strip())
                labelled_value("Customer since", format_date(details.created_at, LOCALE, time_zone))
                labelled_value("Customer ID", customer.id)
        with ui.card().classes("w-full").props('role="region" aria-label="Addresses"'):
            heading("Addresses")
            with ui.element("div").classes("w-full grid grid-cols-1 sm:grid-cols-2 gap-3"):
                text_block("Billing address", address_lines(customer.address), "No billing address")
                shipping = [customer.shipping_name, customer.shipping_phone, *address_lines(customer.shipping_address)]
                text_block("Shipping address", [line for line in shipping if line], "No shipping address")
        with ui.card().classes("w-full").props('role="region" aria-label="Subscriptions"'):
            heading("Subscriptions")
            subscriptions_list(details.subscriptions, time_zone=time_zone, cancellations=details.cancellations)
        with ui.card().classes("w-full").props('role="region" aria-label="Payment methods"'):
            heading("Payment methods")
            payment_methods_list(details.payment_methods)
        with ui.card().classes("w-full").props('role="region" aria-label="Invoices"'):
            heading("Invoices")
            invoices_table(details.invoices, time_zone=time_zone, more=details.more_invoices)
        with ui.card().classes("w-full").props('role="region" aria-label="Payments"'):
            heading("Payments")
            payments_table(details.payments, time_zone=time_zone)
        with ui.card().classes("w-full").props('role="region" aria-label="Recent activity"'):
            heading("Recent activity")
            event_table(details.activity, time_zone=time_zone, show_customer=False, empty_text="No activity yet.")
            ui.link("See all activity", f"/activity?customer={quote(customer.id)}").classes("q-mt-sm")
