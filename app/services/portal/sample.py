"""The settings preview's sample customer, Jenny Rosen: realistic, made up and deterministic."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from app.enums import (
    InvoiceStatus,
    PriceInterval,
    SubscriptionStatus,
)
from app.views import (
    Address,
    CustomerPortalData,
    CustomerView,
    InvoiceLineView,
    InvoicePage,
    InvoiceView,
    PaymentMethodView,
    PriceView,
    SubscriptionView,
)

log = logging.getLogger(__name__)


def _sample_prices(currency: str) -> tuple[PriceView, ...]:
    plans = (("starter", "Starter", 900), ("team", "Team", 2900), ("pro", "Pro", 9900))
    return tuple(
        PriceView(
            id=f"price_sample_{key}_{interval}",
            product_name=name,
            nickname=f"{name} {'monthly' if interval == PriceInterval.MONTH else 'yearly'}",
            unit_amount=monthly if interval == PriceInterval.MONTH else monthly * 10,
            currency=currency,
            interval=interval,
            interval_count=1,
        )
        for key, name, monthly in plans
        for interval in (PriceInterval.MONTH, PriceInterval.YEAR)
    )


def sample_invoices(*, now: datetime, currency: str = "USD") -> tuple[InvoiceView, ...]:
    """The sample customer's 12 monthly invoices, newest (open) first, with their lines."""
    price = _sample_prices(currency)[2]
    amount = price.unit_amount * 3
    period_start = _sample_period_start(now)
    invoices: list[InvoiceView] = []
    for month in range(12):
        issued = period_start - timedelta(days=30 * month)
        is_open = month == 0
        invoices.append(
            InvoiceView(
                id=f"in_sample{month + 1}",
                number=f"SAMPLE-{12 - month:04d}",
                status=InvoiceStatus.OPEN if is_open else InvoiceStatus.PAID,
                currency=currency,
                created_at=issued,
                due_at=issued + timedelta(days=7),
                paid_at=None if is_open else issued + timedelta(hours=1),
                subtotal=amount,
                tax=0,
                total=amount,
                amount_due=amount if is_open else 0,
                amount_paid=0 if is_open else amount,
                lines=(
                    InvoiceLineView(
                        description=f"3 × {price.nickname}",
                        quantity=3,
                        unit_amount=price.unit_amount,
                        amount=amount,
                        proration=False,
                    ),
                ),
            )
        )
    return tuple(invoices)


def _sample_period_start(now: datetime) -> datetime:
    return (now - timedelta(days=12)).replace(hour=0, minute=0, second=0, microsecond=0)


def sample_portal_data(
    *, now: datetime, currency: str = "USD", prices: Sequence[PriceView] | None = None
) -> CustomerPortalData:
    """A realistic made-up customer, Jenny Rosen, for the settings preview (deterministic for a given `now`).

    `prices`: the merchant's own prices (`merchant_prices`), so that the preview offers the plans the merchant
    allows; without them a made-up Starter/Team/Pro catalog is used. The subscriptions use the sample plans.
    """
    sample = _sample_prices(currency)
    team_monthly, pro_yearly = sample[2], sample[5]
    period_start = _sample_period_start(now)
    yearly_start = period_start - timedelta(days=200)
    subscriptions = (
        SubscriptionView(
            id="sub_sample1",
            status=SubscriptionStatus.ACTIVE,
            price=team_monthly,
            quantity=3,
            current_period_start=period_start,
            current_period_end=period_start + timedelta(days=30),
            trial_end=None,
            cancel_at_period_end=False,
            canceled_at=None,
            next_invoice_amount=team_monthly.unit_amount * 3,
        ),
        SubscriptionView(
            id="sub_sample2",
            status=SubscriptionStatus.ACTIVE,
            price=pro_yearly,
            quantity=1,
            current_period_start=yearly_start,
            current_period_end=yearly_start + timedelta(days=365),
            trial_end=None,
            cancel_at_period_end=True,
            canceled_at=now - timedelta(days=3),
            next_invoice_amount=None,
        ),
        SubscriptionView(  # ended: shows Resubscribe when the merchant allows it
            id="sub_sample3",
            status=SubscriptionStatus.CANCELED,
            price=sample[0],
            quantity=1,
            current_period_start=period_start - timedelta(days=60),
            current_period_end=period_start - timedelta(days=30),
            trial_end=None,
            cancel_at_period_end=False,
            canceled_at=period_start - timedelta(days=30),
            next_invoice_amount=None,
        ),
    )
    cards = (
        PaymentMethodView(
            id="pm_sample1", brand="visa", last4="4242", exp_month=8, exp_year=now.year + 2, is_default=True
        ),
        PaymentMethodView(
            id="pm_sample2", brand="mastercard", last4="4444", exp_month=3, exp_year=now.year + 1, is_default=False
        ),
    )
    address = Address(line1="510 Townsend Street", city="San Francisco", postal_code="94103", state="CA", country="US")
    return CustomerPortalData(
        customer=CustomerView(
            id="cus_sample",
            name="Jenny Rosen",
            email="jenny.rosen@example.com",
            phone="+1 415-555-0100",
            locale="en_US",
            address=address,
            shipping_name="Jenny Rosen",
            shipping_phone="+1 415-555-0100",
            shipping_address=address,
            tax_id_type="us_ein",
            tax_id_value="12-3456789",
        ),
        subscriptions=subscriptions,
        payment_methods=cards,
        invoices=InvoicePage.of_list(sample_invoices(now=now, currency=currency), status=None, page=1),
        available_prices=tuple(prices) if prices is not None else sample,
    )
