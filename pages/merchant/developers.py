"""`/developers`: webhook endpoints (add, edit, roll the signing secret, delete) and each endpoint's delivery log."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from nicegui import ui
from sqlalchemy.orm import Session

from app.context import AppContext
from app.enums import EventType
from app.errors import NotFound
from app.services.webhooks import (
    ALL_EVENTS,
    create_endpoint,
    delete_endpoint,
    get_endpoint,
    list_deliveries,
    list_endpoints,
    resend_delivery,
    rotate_secret,
    update_endpoint,
)
from app.views import WebhookDeliveryView, WebhookEndpointSecret, WebhookEndpointView
from components.dialogs import confirm_dialog, titled_dialog
from components.webhooks import EndpointDraft, EndpointForm, delivery_log, events_summary, show_secret_dialog
from pages.merchant.scaffold import MerchantPage, merchant_page

T = TypeVar("T")

ENDPOINT_GONE = "This webhook endpoint no longer exists."
RECEIVER_EXAMPLE = """\
from app.webhook_signature import WebhookSignatureError, verify_signature

@app.post("/webhooks/portal")
async def portal_webhook(request: Request) -> Response:
    body = await request.body()  # the raw bytes, before any JSON parsing
    try:
        verify_signature(body, request.headers.get("Portal-Signature", ""), SIGNING_SECRET)
    except WebhookSignatureError:
        return Response(status_code=400)
    event = json.loads(body)  # {id, type, created, data, source}; ignore ids you have handled already
    return Response(status_code=200)
"""


def register(context: AppContext) -> None:
    merchant_page(context, "/developers", title="Developers")(developers_page)
    merchant_page(context, "/developers/webhooks/{endpoint_id}", title="Webhook endpoint", framed=False)(endpoint_page)


def developers_page(page: MerchantPage) -> None:
    endpoints = EndpointList(page)
    with ui.card().classes("w-full"):
        with ui.row().classes("w-full items-center justify-between"):
            ui.label("Webhook endpoints").classes("text-h6").props('role="heading" aria-level="2"')
            ui.button("Add endpoint", icon="add", on_click=endpoints.add).props("unelevated no-caps").mark(
                "add-endpoint"
            )
        ui.label(
            "We send a signed POST request to each endpoint when something happens on your customers' "
            "accounts, and retry for about a day until your endpoint answers with a 2xx status."
        ).classes("text-body2 text-grey-8")
        endpoints.show()
    with ui.card().classes("w-full q-mt-md"):
        ui.label("Verifying signatures").classes("text-h6").props('role="heading" aria-level="2"')
        ui.label(
            "Each request carries a Portal-Signature header: t=<unix time>,v1=<hex HMAC-SHA256 of "
            '"t.body" keyed with the endpoint\'s signing secret>. Check it with verify_signature from '
            "app/webhook_signature.py (standard library only; copy it into your receiver):"
        ).classes("text-body2 text-grey-8")
        code = ui.code(RECEIVER_EXAMPLE, language="python").classes("w-full text-sm")
        code.copy_button.props["aria-label"] = "Copy the example"


def endpoint_page(page: MerchantPage, endpoint_id: str) -> None:
    try:
        with page.context.database.transaction() as session:
            endpoint = get_endpoint(session=session, merchant_id=page.merchant_id, endpoint_id=endpoint_id)
    except NotFound:
        explanation = "This webhook endpoint does not exist (it may have been deleted)."
        page.not_found("Webhook endpoint", explanation, ("Back to Developers", "/developers"))
        return
    with page.frame("Webhook endpoint"):
        EndpointDetails(page, endpoint).build()


class EndpointList:
    """The merchant's endpoints, each linking to its own page, and the "Add endpoint" dialog."""

    def __init__(self, page: MerchantPage) -> None:
        self.page = page

    @ui.refreshable_method
    def show(self) -> None:
        with self.page.context.database.transaction() as session:
            endpoints = list_endpoints(session=session, merchant_id=self.page.merchant_id)
        if not endpoints:
            ui.label("No endpoints yet. Add one to receive events in your own systems.").classes("text-grey-7 q-py-md")
            return
        with ui.list().props('separator aria-label="Webhook endpoints"').classes("w-full"):
            for endpoint in endpoints:
                _endpoint_item(endpoint)

    def add(self) -> None:
        page = self.page
        endpoint_dialog(
            page,
            title="Add a webhook endpoint",
            initial=None,
            submit="Add endpoint",
            write=lambda session, draft: create_endpoint(
                session=session,
                merchant_id=page.merchant_id,
                url=draft.url,
                description=draft.description,
                event_types=draft.event_types,
                allow_insecure=page.context.settings.allow_insecure_webhooks,
                clock=page.context.clock,
            ),
            on_saved=self.created,
        )

    def created(self, endpoint: WebhookEndpointSecret) -> None:
        self.show.refresh()
        show_secret_dialog(endpoint.secret, title="Endpoint added")


def _endpoint_item(endpoint: WebhookEndpointView) -> None:
    with (
        ui.item().classes("q-px-none"),
        ui.item_section().classes("min-w-0"),
        ui.row().classes("w-full items-center justify-between gap-2 no-wrap"),
    ):
        with ui.column().classes("gap-0 min-w-0"):
            ui.link(endpoint.url, f"/developers/webhooks/{endpoint.id}").classes("font-mono break-all")
            details = [events_summary(endpoint.event_types)]
            if endpoint.description:
                details.insert(0, endpoint.description)
            ui.label(" · ".join(details)).classes("text-caption text-grey-8")
        if not endpoint.enabled:
            ui.badge("Disabled", color="grey-4", text_color="grey-10")


def endpoint_dialog(
    page: MerchantPage,
    *,
    title: str,
    initial: WebhookEndpointView | None,
    submit: str,
    write: Callable[[Session, EndpointDraft], T],
    on_saved: Callable[[T], None],
) -> None:
    """The add and the edit dialog: the form's draft is saved by `write` in one transaction; field errors stay in
    the form, success closes the dialog and hands the result to `on_saved`."""
    allow_insecure = page.context.settings.allow_insecure_webhooks
    url_hint = "https:// (or http://127.0.0.1 while testing)" if allow_insecure else "A public https:// address"
    with titled_dialog(title, card_classes="w-full max-w-xl") as dialog:
        form = EndpointForm(initial=initial, url_hint=url_hint)

        def saved(result: T) -> None:
            dialog.close()
            on_saved(result)

        async def save() -> None:
            draft = form.draft()
            await page.act(
                lambda session: write(session, draft),
                then=saved,
                not_found=ENDPOINT_GONE,
                on_invalid=form.show_errors,
                buttons=(save_button,),
            )

        with ui.row().classes("w-full justify-end gap-2"):
            ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
            save_button = ui.button(submit, on_click=save).props("unelevated no-caps").mark("save-endpoint")


class EndpointDetails:
    """One endpoint's page: what it sends, edit / roll secret / delete, and its delivery log a page at a time."""

    def __init__(self, page: MerchantPage, endpoint: WebhookEndpointView) -> None:
        self.page = page
        self.endpoint = endpoint
        self.log_page = 1

    def build(self) -> None:
        ui.link("← Developers", "/developers").classes("q-mb-sm")
        with ui.card().classes("w-full"):
            self.summary()
            with ui.row().classes("gap-2 q-mt-sm"):
                ui.button("Edit", icon="edit", on_click=self.edit).props("outline no-caps")
                ui.button(
                    "Roll secret",
                    icon="key",
                    on_click=lambda: confirm_dialog(
                        "Roll the signing secret?",
                        "A new secret is created and shown once. For 24 hours requests are signed with both "
                        "secrets, so you can update your receiver without missing events.",
                        actions=(("Create new secret", self.roll_secret, ""),),
                    ),
                ).props("outline no-caps").mark("roll-secret")
                ui.button(
                    "Delete",
                    icon="delete",
                    on_click=lambda: confirm_dialog(
                        "Delete this endpoint?",
                        "No more events are sent to it and its delivery log is deleted. This cannot be undone.",
                        actions=(("Delete endpoint", self.delete, "negative"),),
                    ),
                ).props("outline no-caps color=negative").mark("delete-endpoint")
        with ui.card().classes("w-full q-mt-md"):
            with ui.row().classes("w-full items-center justify-between"):
                ui.label("Delivery log").classes("text-h6").props('role="heading" aria-level="2"')
                ui.button(icon="refresh", on_click=self.deliveries.refresh).props(
                    'flat round aria-label="Refresh the delivery log"'
                )
            self.deliveries()

    @ui.refreshable_method
    def summary(self) -> None:
        endpoint = self.endpoint
        ui.label(endpoint.url).classes("font-mono text-body1 break-all")
        if endpoint.description:
            ui.label(endpoint.description).classes("text-body2")
        types = (
            "All events"
            if ALL_EVENTS in endpoint.event_types
            else ", ".join(EventType.label_for(name) for name in endpoint.event_types)
        )
        ui.label(f"Sends: {types}").classes("text-caption text-grey-8")
        ui.label("Enabled" if endpoint.enabled else "Disabled: nothing is sent until you enable it.").classes(
            "text-caption " + ("text-positive" if endpoint.enabled else "text-negative")
        )

    @ui.refreshable_method
    def deliveries(self) -> None:
        with self.page.context.database.transaction() as session:
            log = list_deliveries(
                session=session, merchant_id=self.page.merchant_id, endpoint_id=self.endpoint.id, page=self.log_page
            )
        delivery_log(log, time_zone=self.page.time_zone, on_resend=self.resend, on_page=self.show_log_page)

    def show_log_page(self, number: int) -> None:
        self.log_page = number
        self.deliveries.refresh()

    async def resend(self, delivery_id: str) -> None:
        ui.notify("Sending…")
        page = self.page
        await page.act(
            # A delivery attempt writes its own transactions around the HTTP request.
            lambda _session: resend_delivery(
                database=page.context.database,
                merchant_id=page.merchant_id,
                delivery_id=delivery_id,
                clock=page.context.clock,
                allow_loopback=page.context.settings.allow_insecure_webhooks,
            ),
            then=self.show_resent,
            not_found="This delivery no longer exists.",
        )

    def show_resent(self, result: WebhookDeliveryView) -> None:
        if result.status == "delivered":
            ui.notify(f"Delivered: HTTP {result.last_status_code}", type="positive")
        else:
            ui.notify(f"Not delivered: {result.last_error or 'no answer'}", type="warning")
        self.deliveries.refresh()

    def edit(self) -> None:
        page, endpoint_id = self.page, self.endpoint.id
        endpoint_dialog(
            page,
            title="Edit endpoint",
            initial=self.endpoint,
            submit="Save",
            write=lambda session, draft: update_endpoint(
                session=session,
                merchant_id=page.merchant_id,
                endpoint_id=endpoint_id,
                url=draft.url,
                description=draft.description,
                event_types=draft.event_types,
                enabled=draft.enabled,
                allow_insecure=page.context.settings.allow_insecure_webhooks,
            ),
            on_saved=self.saved,
        )

    def saved(self, updated: WebhookEndpointView) -> None:
        self.endpoint = updated
        self.summary.refresh()
        ui.notify("Saved", type="positive")

    async def roll_secret(self) -> None:
        page, endpoint_id = self.page, self.endpoint.id
        await page.act(
            lambda session: rotate_secret(
                session=session, merchant_id=page.merchant_id, endpoint_id=endpoint_id, clock=page.context.clock
            ),
            then=lambda rotated: show_secret_dialog(rotated.secret, title="New signing secret"),
            not_found=ENDPOINT_GONE,
        )

    async def delete(self) -> None:
        page, endpoint_id = self.page, self.endpoint.id
        await page.act(
            lambda session: delete_endpoint(session=session, merchant_id=page.merchant_id, endpoint_id=endpoint_id),
            then=lambda _: ui.navigate.to("/developers"),
            not_found=ENDPOINT_GONE,
        )
