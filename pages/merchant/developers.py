"""`/developers`: webhook endpoints (add, edit, roll the signing secret, delete) and each endpoint's delivery log."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from nicegui import run, ui
from sqlalchemy.orm import Session

from app.context import AppContext
from app.errors import NotFound, ValidationFailed
from app.services.activity import event_types_in_use
from app.services.customers import describe_event
from app.services.merchants import get_account_details
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
from app.views import SignedInUser, WebhookEndpointSecret, WebhookEndpointView
from components.dialogs import confirm_dialog
from components.webhooks import EndpointDraft, EndpointForm, delivery_log, events_summary, show_secret_dialog
from pages.merchant.auth import require_user
from pages.merchant.shell import merchant_shell

T = TypeVar("T")

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
    allow_insecure = context.settings.allow_insecure_webhooks
    url_hint = "https:// (or http://127.0.0.1 while testing)" if allow_insecure else "A public https:// address"

    def event_titles(merchant_id: str) -> dict[str, str]:
        with context.database.transaction() as session:
            names = event_types_in_use(session=session, merchant_id=merchant_id)
        return {name: describe_event(name) for name in names}

    def time_zone_of(user: SignedInUser) -> str:
        with context.database.transaction() as session:
            return get_account_details(session=session, merchant_id=user.merchant_id).time_zone

    def endpoint_dialog(
        merchant_id: str,
        *,
        title: str,
        initial: WebhookEndpointView | None,
        submit: str,
        write: Callable[[Session, EndpointDraft], T],
        on_saved: Callable[[T], None],
    ) -> None:
        """The add and the edit dialog: the form's draft is saved by `write` in one transaction; field errors stay
        in the form, success closes the dialog and hands the result to `on_saved`."""
        with ui.dialog() as dialog, ui.card().classes("w-full max-w-xl"):
            ui.label(title).classes("text-h6").props('role="heading" aria-level="2"')
            form = EndpointForm(event_titles=event_titles(merchant_id), initial=initial, url_hint=url_hint)

            def save() -> None:
                draft = form.draft()
                try:
                    with context.database.transaction() as session:
                        result = write(session, draft)
                except ValidationFailed as failed:
                    form.show_errors(failed.field_errors)
                    return
                dialog.close()
                on_saved(result)

            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button(submit, on_click=save).props("unelevated no-caps").mark("save-endpoint")
        dialog.open()

    @ui.page("/developers", title="Developers")
    def developers_page() -> None:
        user = require_user(context)
        if user is None:
            return

        @ui.refreshable
        def endpoint_list() -> None:
            with context.database.transaction() as session:
                endpoints = list_endpoints(session=session, merchant_id=user.merchant_id)
            if not endpoints:
                ui.label("No endpoints yet. Add one to receive events in your own systems.").classes(
                    "text-grey-7 q-py-md"
                )
                return
            with ui.list().props('separator aria-label="Webhook endpoints"').classes("w-full"):
                for endpoint in endpoints:
                    _endpoint_item(endpoint)

        def add_endpoint() -> None:
            def created(endpoint: WebhookEndpointSecret) -> None:
                endpoint_list.refresh()
                show_secret_dialog(endpoint.secret, title="Endpoint added")

            endpoint_dialog(
                user.merchant_id,
                title="Add a webhook endpoint",
                initial=None,
                submit="Add endpoint",
                write=lambda session, draft: create_endpoint(
                    session=session,
                    merchant_id=user.merchant_id,
                    url=draft.url,
                    description=draft.description,
                    event_types=draft.event_types,
                    allow_insecure=allow_insecure,
                    clock=context.clock,
                ),
                on_saved=created,
            )

        with merchant_shell(context, user, "Developers"):
            with ui.card().classes("w-full"):
                with ui.row().classes("w-full items-center justify-between"):
                    ui.label("Webhook endpoints").classes("text-h6").props('role="heading" aria-level="2"')
                    ui.button("Add endpoint", icon="add", on_click=add_endpoint).props("unelevated no-caps").mark(
                        "add-endpoint"
                    )
                ui.label(
                    "We send a signed POST request to each endpoint when something happens on your customers' "
                    "accounts, and retry for about a day until your endpoint answers with a 2xx status."
                ).classes("text-body2 text-grey-8")
                endpoint_list()
            with ui.card().classes("w-full q-mt-md"):
                ui.label("Verifying signatures").classes("text-h6").props('role="heading" aria-level="2"')
                ui.label(
                    "Each request carries a Portal-Signature header: t=<unix time>,v1=<hex HMAC-SHA256 of "
                    '"t.body" keyed with the endpoint\'s signing secret>. Check it with verify_signature from '
                    "app/webhook_signature.py (standard library only; copy it into your receiver):"
                ).classes("text-body2 text-grey-8")
                ui.code(RECEIVER_EXAMPLE, language="python").classes("w-full text-sm")

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

    @ui.page("/developers/webhooks/{endpoint_id}", title="Webhook endpoint")
    def endpoint_page(endpoint_id: str) -> None:
        user = require_user(context)
        if user is None:
            return
        time_zone = time_zone_of(user)
        try:
            with context.database.transaction() as session:
                endpoint = get_endpoint(session=session, merchant_id=user.merchant_id, endpoint_id=endpoint_id)
        except NotFound:
            ui.status_code(404)
            with merchant_shell(context, user, "Webhook endpoint"):
                ui.label("This webhook endpoint does not exist (it may have been deleted).")
                ui.link("Back to Developers", "/developers")
            return
        log_page = 1

        @ui.refreshable
        def summary() -> None:
            ui.label(endpoint.url).classes("font-mono text-body1 break-all")
            if endpoint.description:
                ui.label(endpoint.description).classes("text-body2")
            types = (
                "All events"
                if ALL_EVENTS in endpoint.event_types
                else ", ".join(describe_event(name) for name in endpoint.event_types)
            )
            ui.label(f"Sends: {types}").classes("text-caption text-grey-8")
            ui.label("Enabled" if endpoint.enabled else "Disabled: nothing is sent until you enable it.").classes(
                "text-caption " + ("text-positive" if endpoint.enabled else "text-negative")
            )

        @ui.refreshable
        def deliveries() -> None:
            with context.database.transaction() as session:
                page = list_deliveries(
                    session=session, merchant_id=user.merchant_id, endpoint_id=endpoint.id, page=log_page
                )
            delivery_log(page, time_zone=time_zone, on_resend=resend, on_page=show_page)

        def show_page(number: int) -> None:
            nonlocal log_page
            log_page = number
            deliveries.refresh()

        async def resend(delivery_id: str) -> None:
            ui.notify("Sending…")
            result = await run.io_bound(
                resend_delivery,
                database=context.database,
                merchant_id=user.merchant_id,
                delivery_id=delivery_id,
                clock=context.clock,
            )
            if result.status == "delivered":
                ui.notify(f"Delivered: HTTP {result.last_status_code}", type="positive")
            else:
                ui.notify(f"Not delivered: {result.last_error or 'no answer'}", type="warning")
            deliveries.refresh()

        def edit() -> None:
            def saved(updated: WebhookEndpointView) -> None:
                nonlocal endpoint
                endpoint = updated
                summary.refresh()
                ui.notify("Saved", type="positive")

            endpoint_dialog(
                user.merchant_id,
                title="Edit endpoint",
                initial=endpoint,
                submit="Save",
                write=lambda session, draft: update_endpoint(
                    session=session,
                    merchant_id=user.merchant_id,
                    endpoint_id=endpoint.id,
                    url=draft.url,
                    description=draft.description,
                    event_types=draft.event_types,
                    enabled=draft.enabled,
                    allow_insecure=allow_insecure,
                ),
                on_saved=saved,
            )

        def roll_secret() -> None:
            with context.database.transaction() as session:
                rotated = rotate_secret(
                    session=session, merchant_id=user.merchant_id, endpoint_id=endpoint.id, clock=context.clock
                )
            show_secret_dialog(rotated.secret, title="New signing secret")

        def delete() -> None:
            with context.database.transaction() as session:
                delete_endpoint(session=session, merchant_id=user.merchant_id, endpoint_id=endpoint.id)
            ui.navigate.to("/developers")

        with merchant_shell(context, user, "Webhook endpoint"):
            ui.link("← Developers", "/developers").classes("q-mb-sm")
            with ui.card().classes("w-full"):
                summary()
                with ui.row().classes("gap-2 q-mt-sm"):
                    ui.button("Edit", icon="edit", on_click=edit).props("outline no-caps")
                    ui.button(
                        "Roll secret",
                        icon="key",
                        on_click=lambda: confirm_dialog(
                            "Roll the signing secret?",
                            "A new secret is created and shown once. For 24 hours requests are signed with both "
                            "secrets, so you can update your receiver without missing events.",
                            actions=(("Create new secret", roll_secret, ""),),
                        ),
                    ).props("outline no-caps").mark("roll-secret")
                    ui.button(
                        "Delete",
                        icon="delete",
                        on_click=lambda: confirm_dialog(
                            "Delete this endpoint?",
                            "No more events are sent to it and its delivery log is deleted. This cannot be undone.",
                            actions=(("Delete endpoint", delete, "negative"),),
                        ),
                    ).props("outline no-caps color=negative").mark("delete-endpoint")
            with ui.card().classes("w-full q-mt-md"):
                with ui.row().classes("w-full items-center justify-between"):
                    ui.label("Delivery log").classes("text-h6").props('role="heading" aria-level="2"')
                    ui.button(icon="refresh", on_click=deliveries.refresh).props(
                        'flat round aria-label="Refresh the delivery log"'
                    )
                deliveries()
