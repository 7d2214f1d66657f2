"""`/settings/billing`: the payment gateway, what happens when a renewal payment keeps failing, the billing clock."""

from __future__ import annotations

from nicegui import ui

from app.context import AppContext
from app.services.billing import FAILED_PAYMENT_ACTIONS, get_failed_payment_action, set_failed_payment_action
from app.services.charges import RETRY_DELAYS
from app.services.payments import gateway_status
from components.payments import gateway_card
from pages.merchant.scaffold import MerchantPage, merchant_page

RETRY_DAYS = ", ".join(str(delay.days) for delay in RETRY_DELAYS[:-1]) + f" and {RETRY_DELAYS[-1].days}"


def register(context: AppContext) -> None:
    merchant_page(context, "/settings/billing", title="Billing")(billing_page)


def billing_page(page: MerchantPage) -> None:
    context = page.context
    with context.database.transaction() as session:
        saved = get_failed_payment_action(session=session, merchant_id=page.merchant_id)
        gateway = gateway_status(
            session=session, gateway=context.gateway, public_url=context.settings.effective_public_url
        )

    def show_saved(action: str) -> None:
        nonlocal saved
        saved = action
        save_button.set_enabled(False)

    async def save() -> None:
        action = str(choice.value)
        await page.act(
            lambda session: set_failed_payment_action(session=session, merchant_id=page.merchant_id, action=action),
            then=show_saved,
            done="Saved",
            buttons=(save_button,),
        )

    gateway_card(gateway, page.time_zone)
    with ui.card().classes("w-full max-w-2xl q-mt-md"):
        ui.label("Failed payments").classes("text-h6").props('role="heading" aria-level="2"')
        ui.label(
            "When a renewal payment fails, the subscription becomes past due and the card is charged again "
            f"{RETRY_DAYS} days after the previous attempt. If the last retry fails too:"
        ).classes("text-body2")
        choice = ui.radio(
            FAILED_PAYMENT_ACTIONS,
            value=saved,
            on_change=lambda changed: save_button.set_enabled(changed.value != saved),
        ).props('aria-label="After the last failed retry"')
        ui.label(
            "Unpaid subscriptions keep their open invoices, which customers can pay in the portal; they "
            "are not charged automatically again. Cancelled subscriptions end at once."
        ).classes("text-caption text-grey-8")
        with ui.row().classes("w-full justify-end"):
            save_button = ui.button("Save", on_click=save).props("unelevated no-caps")
            save_button.set_enabled(False)
    with ui.card().classes("w-full max-w-2xl q-mt-md"):
        ui.label("Billing clock").classes("text-h6").props('role="heading" aria-level="2"')
        interval = page.context.settings.billing_clock_interval_seconds
        if interval > 0:
            ui.label(
                f"Renewals, trial ends, retries and cancellations at period end are processed every {interval} seconds."
            ).classes("text-body2")
        else:
            ui.label(
                "The built-in billing clock is off (BILLING_CLOCK_INTERVAL_SECONDS=0). Run "
                "`python -m app billing run` regularly, for example from cron."
            ).classes("text-body2")
