"""`/activity`: the merchant-wide audit trail, filterable by event type and customer, a page at a time.

Filters live in the URL (`?type=invoice.paid&customer=cus_…&page=2`) so that a filtered view can be bookmarked and
other pages (a customer's details) can link to it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from nicegui import ui

from app.context import AppContext
from app.enums import EventType
from app.services.activity import customers_matching, event_types_in_use, list_events, retention_counts
from components.event_table import event_table
from components.pager import pager
from pages.merchant.scaffold import MerchantPage, merchant_page


def activity_url(*, event_type: str = "", customer: str = "", page: int = 1) -> str:
    """The Activity page with these filters (empty ones left out)."""
    query = {"type": event_type, "customer": customer, "page": str(page) if page > 1 else ""}
    encoded = urlencode({key: value for key, value in query.items() if value})
    return f"/activity?{encoded}" if encoded else "/activity"


def _page_number(text: str | None) -> int:
    return int(text) if text and text.isdigit() and 0 < int(text) < 1_000_000 else 1


def register(context: AppContext) -> None:
    merchant_page(context, "/activity", title="Activity")(activity_page)


def activity_page(page: MerchantPage, request: Request) -> None:
    event_type = request.query_params.get("type", "").strip()
    customer_key = request.query_params.get("customer", "").strip()
    merchant_id = page.merchant_id
    with page.context.database.transaction() as session:
        types = event_types_in_use(session=session, merchant_id=merchant_id)
        customer_ids = (
            customers_matching(session=session, merchant_id=merchant_id, key=customer_key) if customer_key else None
        )
        result = list_events(
            session=session,
            merchant_id=merchant_id,
            event_type=event_type or None,
            customer_ids=customer_ids,
            page=_page_number(request.query_params.get("page")),
        )
        offers_made, offers_accepted = retention_counts(session=session, merchant_id=merchant_id)

    def apply_customer() -> None:
        ui.navigate.to(activity_url(event_type=event_type, customer=(customer.value or "").strip()))

    ui.label(
        "What happened on your customers' accounts: their actions in the portal, your team's changes "
        "and automatic billing."
    ).classes("text-body2 text-grey-8 q-mb-md")
    with ui.row().classes("w-full items-start gap-3 q-mb-md max-sm:flex-col"):
        options = {"": "All event types", **{name: f"{EventType.label_for(name)} · {name}" for name in types}}
        if event_type and event_type not in options:
            options[event_type] = event_type
        ui.select(
            options,
            label="Event type",
            value=event_type,
            on_change=lambda changed: ui.navigate.to(
                activity_url(event_type=changed.value or "", customer=customer_key)
            ),
        ).props("outlined dense").classes("w-72 max-sm:w-full")
        customer = (
            ui.input("Customer email or ID", value=customer_key)
            .props("outlined dense clearable")
            .classes("w-72 max-sm:w-full")
            .on("keydown.enter", apply_customer)
        )
        if customer_key and not customer_ids:
            customer.error = "No customer with this email or ID."
        ui.button("Filter", icon="filter_list", on_click=apply_customer).props("unelevated no-caps")
        if event_type or customer_key:
            ui.button("Clear filters", on_click=lambda: ui.navigate.to("/activity")).props("flat no-caps")
    with ui.row().classes("w-full gap-6 q-mb-md").mark("retention-counts"):
        ui.label(f"Retention offers made: {offers_made}").classes("text-body1")
        ui.label(f"Accepted: {offers_accepted}").classes("text-body1")
        if offers_made:
            ui.label(f"({offers_accepted * 100 // offers_made}% kept)").classes("text-body1 text-grey-8")
    filtered = bool(event_type or customer_key)
    with ui.card().classes("w-full"):
        event_table(
            result.events,
            time_zone=page.time_zone,
            empty_text="No events match these filters." if filtered else "No activity yet.",
        )
    pager(
        result.page,
        has_next=result.has_next,
        on_page=lambda number: ui.navigate.to(activity_url(event_type=event_type, customer=customer_key, page=number)),
    )
