"""The audit trail as a list: what happened, when, from where (portal, merchant, system), and who it concerned."""

from __future__ import annotations

from collections.abc import Sequence

from nicegui import ui

from app.formatting import format_datetime
from app.views import EventView

SOURCE_LABELS = {"portal": "Portal", "merchant": "Merchant", "system": "System", "api": "API"}
SOURCE_ICONS = {"portal": "web", "merchant": "storefront", "system": "schedule", "api": "api"}


def event_table(
    events: Sequence[EventView],
    *,
    time_zone: str,
    locale: str = "en_US",
    show_customer: bool = True,
    empty_text: str = "No activity yet.",
) -> None:
    """Events newest first; portal actions also show the link, IP address and browser they came from.

    `show_customer=False` suits a page that is already about one customer. Customer names link to their details.
    """
    if not events:
        ui.label(empty_text).classes("text-grey-7 q-pa-md")
        return
    with ui.list().props("separator").classes("w-full").props('aria-label="Events"'):
        for event in events:
            _event_row(event, time_zone=time_zone, locale=locale, show_customer=show_customer)


def _event_row(event: EventView, *, time_zone: str, locale: str, show_customer: bool) -> None:
    with ui.item().classes("q-px-none items-start"):
        with ui.item_section().props("avatar").classes("q-pt-xs"):
            ui.icon(SOURCE_ICONS.get(event.source, "bolt"), color="grey-7").props(
                f'aria-label="{SOURCE_LABELS.get(event.source, "Other")}"'
            )
        with ui.item_section().classes("min-w-0"):
            with ui.row().classes("w-full items-baseline justify-between gap-x-4 gap-y-0"):
                ui.label(event.title).classes("text-body1 text-weight-medium")
                ui.label(format_datetime(event.created_at, locale, time_zone)).classes("text-caption text-grey-7")
            with ui.row().classes("items-center gap-x-3 gap-y-0 text-caption text-grey-8"):
                ui.badge(SOURCE_LABELS.get(event.source, event.source), color="grey-3", text_color="grey-9")
                ui.label(event.type).classes("font-mono")
                if event.object_id:
                    ui.label(event.object_id).classes("font-mono break-all")
                if show_customer and event.customer_id:
                    ui.link(
                        event.customer_name or event.customer_email or event.customer_id,
                        f"/customers/{event.customer_id}",
                    )
            if event.source == "portal":
                _request_details(event)


def _request_details(event: EventView) -> None:
    details = []
    if event.portal_link_id:
        details.append(f"Link {event.portal_link_id}")
    if event.ip_address:
        details.append(f"IP {event.ip_address}")
    with ui.column().classes("gap-0 text-caption text-grey-7"):
        if details:
            ui.label(" · ".join(details)).classes("font-mono")
        if event.user_agent:
            ui.label(event.user_agent).classes("break-all")
