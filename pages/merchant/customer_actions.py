"""The customer actions of the dashboard: New customer (on the list), Edit and Start subscription (on the details)."""

from __future__ import annotations

from datetime import datetime, timedelta

from nicegui import ui
from sqlalchemy.orm import Session

from app.formatting import format_date
from app.money import format_money
from app.periods import add_interval
from app.services.api_objects import CustomerObject, SubscriptionObject
from app.services.catalog import choosable_prices
from app.services.customer_records import create_customer, update_customer
from app.services.subscription_records import start_subscription
from app.views import CustomerDetails, CustomerView
from app.views.catalog import CatalogPrice
from app.views.inputs import CustomerInput, SubscriptionInput, SubscriptionItemInput
from components.catalog import OpenForm, cadence
from components.customer_forms import customer_dialog, customer_form_address, subscription_dialog, whole
from components.customers import LOCALE
from pages.actors import MERCHANT
from pages.merchant.scaffold import MerchantPage

EMAIL_TAKEN = "Another of your customers has this email address. Open that customer instead, or use another address."
# The subscription service names its fields as the API does; the form has one of each.
_SUBSCRIPTION_FIELDS = {
    "items[0].price": "price",
    "items[0].quantity": "quantity",
    "items": "price",
    "trial_end": "trial_period_days",
    "trial_period_days": "trial_period_days",
    "customer": "price",
}


def new_customer(page: MerchantPage) -> None:
    """The New customer dialog; a created customer's page opens."""

    async def save(form: OpenForm) -> None:
        details = _customer_input(form)

        def work(session: Session) -> CustomerObject:
            return create_customer(
                session=session, merchant_id=page.merchant_id, details=details, actor=MERCHANT, clock=page.context.clock
            )

        await page.act(
            work,
            then=lambda created: (form.dialog.close(), ui.navigate.to(f"/customers/{created.id}")),
            done="Customer created",
            on_invalid=form.fields.show_errors,
            on_conflict=lambda: form.fields.show_errors({"email": EMAIL_TAKEN}),
            buttons=(form.save,),
        )

    customer_dialog(None, save)


def edit_customer(page: MerchantPage, customer: CustomerView) -> None:
    """The Edit dialog; saving reloads the details page."""

    async def save(form: OpenForm) -> None:
        details = _customer_input(form)

        def work(session: Session) -> CustomerObject:
            return update_customer(
                session=session,
                merchant_id=page.merchant_id,
                customer_id=customer.id,
                details=details,
                actor=MERCHANT,
                clock=page.context.clock,
            )

        await page.act(
            work,
            then=lambda _saved: (form.dialog.close(), ui.navigate.reload()),
            done="Customer saved",
            not_found="This customer no longer exists.",
            on_invalid=form.fields.show_errors,
            on_conflict=lambda: form.fields.show_errors({"email": EMAIL_TAKEN}),
            buttons=(form.save,),
        )

    customer_dialog(customer, save)


def start_subscription_dialog(page: MerchantPage, details: CustomerDetails) -> None:
    """Choose a price, quantity and trial; the dialog says what will be charged and when before it starts."""
    with page.context.database.transaction() as session:
        prices = choosable_prices(session=session, merchant_id=page.merchant_id)
    card = next((card for card in details.payment_methods if card.is_default), None)
    card_text = f"{card.brand.title()} •••• {card.last4}" if card else ""

    def summary(price: CatalogPrice, quantity: int, trial_days: int) -> str:
        now = page.context.clock()
        amount = format_money(price.unit_amount * quantity, price.currency, LOCALE)
        every = cadence(price.interval, price.interval_count).removeprefix("/ ")
        charged_by = (
            f"to the default card, {card_text}"
            if card
            else "as an invoice: there is no card on file, so the customer pays it in the portal (Copy url)"
        )
        if trial_days:
            trial_end = now + timedelta(days=trial_days)
            return (
                f"Free trial of {trial_days} days, nothing charged now. On {_date(page, trial_end)} {amount} is "
                f"charged {charged_by}, then {amount} every {every}."
            )
        next_charge = add_interval(now, price.interval, price.interval_count)
        return (
            f"{amount} is charged today, {_date(page, now)}, {charged_by}. "
            f"Next: {amount} on {_date(page, next_charge)}, then every {every}."
        )

    async def save(form: OpenForm) -> None:
        values = form.values()
        trial = whole(values["trial_period_days"]) if values["trial_period_days"] != "" else 0
        subscription = SubscriptionInput(
            customer_id=details.customer.id,
            items=(SubscriptionItemInput(price_id=str(values["price"]), quantity=whole(values["quantity"])),),
            trial_period_days=trial if trial else None,
        )

        def work(_session: Session) -> SubscriptionObject:
            # Its own transactions: the first invoice is charged at the gateway between them.
            return start_subscription(
                database=page.context.database,
                merchant_id=page.merchant_id,
                subscription=subscription,
                gateway=page.context.gateway,
                actor=MERCHANT,
                clock=page.context.clock,
            )

        await page.act(
            work,
            then=lambda started: (form.dialog.close(), ui.navigate.reload()),
            done="Subscription started",
            not_found="This customer no longer exists.",
            on_invalid=lambda errors: form.fields.show_errors(
                {_SUBSCRIPTION_FIELDS.get(name, "price"): message for name, message in errors.items()}
            ),
            buttons=(form.save,),
        )

    subscription_dialog(prices, summary=summary, on_save=save)


def _customer_input(form: OpenForm) -> CustomerInput:
    values = form.values()
    return CustomerInput(
        email=str(values["email"]),
        name=str(values["name"]),
        phone=str(values["phone"]),
        locale=str(values["locale"] or ""),
        address=customer_form_address(form.fields),
    )


def _date(page: MerchantPage, moment: datetime) -> str:
    return format_date(moment, LOCALE, page.time_zone)
