"""Webhook UI pieces: the endpoint form, the once-only signing secret dialog and the delivery log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from nicegui import ui

from app.enums import EventType, WebhookDeliveryStatus
from app.formatting import format_datetime
from app.views import ALL_EVENTS, MAX_DELIVERY_ATTEMPTS, WebhookDeliveryPage, WebhookDeliveryView, WebhookEndpointView
from components.badges import DELIVERY_LABELS, Tone, badge_for, status_badge
from components.dialogs import show_secret_once
from components.forms import FieldGroup, text_field
from components.pager import pager


@dataclass(frozen=True, slots=True)
class EndpointDraft:
    url: str
    description: str
    event_types: tuple[str, ...]
    enabled: bool


def events_summary(event_types: tuple[str, ...]) -> str:
    if ALL_EVENTS in event_types:
        return "All events"
    return f"{len(event_types)} event type{'s' if len(event_types) != 1 else ''}"


class EndpointForm:
    """URL, description, which events (all, or chosen ones from the catalogue) and, when editing, whether it is on."""

    def __init__(self, *, initial: WebhookEndpointView | None, url_hint: str) -> None:
        self.fields = FieldGroup()
        self.fields.add(
            "url", text_field("Endpoint URL", initial.url if initial else "", max_length=300, hint=url_hint)
        )
        self.fields.add(
            "description", text_field("Description (optional)", initial.description if initial else "", max_length=200)
        )
        chosen = set(initial.event_types) if initial else {ALL_EVENTS}
        ui.label("Events to send").classes("text-subtitle2 q-mt-sm")
        self.scope = ui.radio(
            {"all": "All events", "selected": "Selected events"}, value="all" if ALL_EVENTS in chosen else "selected"
        ).props("inline")
        with ui.column().classes("gap-1 q-pl-sm") as types_box:
            self.type_boxes = {event_type.value: _event_type_checkbox(event_type, chosen) for event_type in EventType}
        types_box.bind_visibility_from(self.scope, "value", value="selected")
        self.types_error = ui.label().classes("text-negative text-caption").props('role="alert"')
        self.enabled = ui.switch("Enabled", value=initial.enabled) if initial else None

    def draft(self) -> EndpointDraft:
        values = self.fields.values()
        if self.scope.value == "all":
            types: tuple[str, ...] = (ALL_EVENTS,)
        else:
            types = tuple(name for name, box in self.type_boxes.items() if box.value)
        return EndpointDraft(
            url=values["url"],
            description=values["description"],
            event_types=types,
            enabled=bool(self.enabled.value) if self.enabled else True,
        )

    def show_errors(self, errors: Mapping[str, str]) -> None:
        self.fields.show_errors(errors)
        self.types_error.set_text(errors.get("event_types", ""))


def _event_type_checkbox(event_type: EventType, chosen: set[str]) -> ui.checkbox:
    """The type's label and name, with what it means underneath (also the checkbox's accessible description)."""
    described_by = f"event-type-{event_type.value.replace('.', '-')}"
    with ui.column().classes("gap-0"):
        box = ui.checkbox(f"{event_type.label} · {event_type}", value=event_type.value in chosen).props(
            f'dense aria-describedby="{described_by}"'
        )
        ui.label(event_type.description).classes("text-caption text-grey-8 q-pl-lg").props(f'id="{described_by}"')
    return box


def show_secret_dialog(secret: str, *, title: str) -> None:
    """Shows a signing secret once, with a copy button; it cannot be shown again afterwards."""
    show_secret_once(
        secret,
        title=title,
        label="Signing secret",
        explanation="Copy the signing secret now and store it with your webhook receiver. "
        "For your security it is shown only this once.",
    )


def delivery_log(
    page: WebhookDeliveryPage,
    *,
    time_zone: str,
    on_resend: Callable[[str], Awaitable[None]],
    on_page: Callable[[int], None],
) -> None:
    """Deliveries newest first: event, status, attempts, last response and time, next retry, and Resend."""
    if not page.deliveries:
        ui.label("No deliveries yet. Events are sent here as soon as they happen.").classes("text-grey-7 q-pa-md")
    else:
        with ui.list().props('separator aria-label="Deliveries"').classes("w-full"):
            for delivery in page.deliveries:
                _delivery_row(delivery, time_zone=time_zone, on_resend=on_resend)
    pager(page.page, has_next=page.has_next, on_page=on_page)


def _delivery_row(
    delivery: WebhookDeliveryView, *, time_zone: str, on_resend: Callable[[str], Awaitable[None]]
) -> None:
    with ui.item().classes("q-px-none"), ui.item_section().classes("min-w-0"):
        with ui.row().classes("w-full items-center justify-between gap-2"):
            with ui.row().classes("items-center gap-2 min-w-0"):
                if delivery.status == WebhookDeliveryStatus.PENDING and delivery.attempts == 0:
                    status_badge("Pending", Tone.NEUTRAL)
                else:
                    badge_for(delivery.status, DELIVERY_LABELS)
                ui.label(delivery.event_type).classes("font-mono text-body2")
            ui.button("Resend", icon="send", on_click=lambda: on_resend(delivery.id)).props(
                f'flat dense no-caps aria-label="Resend {delivery.event_type} {delivery.event_id}"'
            )
        with ui.column().classes("gap-0 text-caption text-grey-8"):
            ui.label(f"Event {delivery.event_id}").classes("font-mono break-all")
            ui.label(_last_attempt_text(delivery, time_zone))
            if delivery.status == WebhookDeliveryStatus.PENDING and delivery.next_attempt_at is not None:
                ui.label(f"Next retry: {format_datetime(delivery.next_attempt_at, time_zone=time_zone)}")


def _last_attempt_text(delivery: WebhookDeliveryView, time_zone: str) -> str:
    attempts = f"{delivery.attempts} of {MAX_DELIVERY_ATTEMPTS} attempts"
    if delivery.last_attempt_at is None:
        return f"{attempts} · waiting to be sent"
    response = f"HTTP {delivery.last_status_code}" if delivery.last_status_code is not None else "no response"
    timing = f" in {delivery.last_response_ms} ms" if delivery.last_response_ms is not None else ""
    when = format_datetime(delivery.last_attempt_at, time_zone=time_zone)
    error = f" · {delivery.last_error}" if delivery.last_error and delivery.last_status_code is None else ""
    return f"{attempts} · last: {response}{timing}, {when}{error}"
