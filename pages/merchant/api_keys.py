"""The "API keys" section of the Account details page: create (shown once), list and revoke secret keys."""

from __future__ import annotations

from nicegui import ui

from app.formatting import format_datetime
from app.services.api_keys import create_api_key, list_api_keys, revoke_api_key
from app.views import ApiKeyView, CreatedApiKey
from components.badges import Tone, status_badge
from components.customers import LOCALE
from components.dialogs import confirm, heading, show_secret_once
from pages.merchant.scaffold import MerchantPage


class ApiKeysSection:
    """A card below the account details; keys are the merchant's, so every call is scoped by the signed-in user."""

    def __init__(self, page: MerchantPage) -> None:
        self.page = page

    def build(self) -> None:
        with ui.card().classes("w-full max-w-2xl q-mt-md").props('role="region" aria-label="API keys"'):
            with ui.row().classes("w-full items-center justify-between gap-2"):
                heading("API keys")
                ui.button("Create secret key", icon="add", on_click=self.create).props("unelevated no-caps")
            ui.label(
                "Your systems use a secret key to create customers, subscriptions and portal links through the API "
                "(/api/v1, documented at /docs). Keep keys secret; revoke any key that leaks."
            ).classes("text-body2 text-grey-8")
            self.keys()

    @ui.refreshable_method
    def keys(self) -> None:
        with self.page.context.database.transaction() as session:
            keys = list_api_keys(session=session, merchant_id=self.page.merchant_id)
        if not keys:
            ui.label("No keys yet.").classes("text-grey-7")
            return
        with ui.list().props("separator").classes("w-full").props('aria-label="API keys"'):
            for key in keys:
                self._row(key)

    def _row(self, key: ApiKeyView) -> None:
        with ui.item().classes("q-px-none"):
            with ui.item_section():
                with ui.row().classes("items-center gap-2"):
                    ui.label(f"{key.prefix}…").classes("font-mono text-weight-medium")
                    if key.name:
                        ui.label(key.name)
                    if key.revoked_at is not None:
                        status_badge("Revoked", Tone.NEGATIVE)
                time_zone = self.page.time_zone
                used = format_datetime(key.last_used_at, LOCALE, time_zone) if key.last_used_at else "never"
                ui.label(f"Created {format_datetime(key.created_at, LOCALE, time_zone)} · Last used {used}").classes(
                    "text-caption text-grey-8"
                )
            if key.revoked_at is None:
                with ui.item_section().props("side"):
                    ui.button("Revoke", on_click=lambda key=key: self.ask_revoke(key)).props(
                        "flat dense no-caps color=negative"
                    )

    async def create(self) -> None:
        page = self.page
        await page.act(
            lambda session: create_api_key(session=session, merchant_id=page.merchant_id, clock=page.context.clock),
            then=self.show_new,
        )

    def show_new(self, created: CreatedApiKey) -> None:
        self.keys.refresh()
        show_secret_once(
            created.secret,
            title="Your new secret key",
            label="Secret key",
            explanation="Copy the key now and store it safely. For your security it is shown only this once.",
        )

    def ask_revoke(self, key: ApiKeyView) -> None:
        confirm(
            "Revoke this key?",
            f"Requests using {key.prefix}… are refused from now on. This cannot be undone.",
            "Revoke key",
            lambda: self.revoke(key.id),
        )

    async def revoke(self, key_id: str) -> None:
        page = self.page
        await page.act(
            lambda session: revoke_api_key(
                session=session, merchant_id=page.merchant_id, key_id=key_id, clock=page.context.clock
            ),
            done="Key revoked",
            not_found="This key no longer exists.",
        )
        self.keys.refresh()
