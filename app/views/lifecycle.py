"""Views of the subscription lifecycle: plan changes' prorations, discounts (the retention offer's coupon) and the
offer itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from app.enums import DiscountKind

if TYPE_CHECKING:
    from app.views import PriceView


@dataclass(frozen=True, slots=True)
class Discount:
    """Money off a subscription's next invoices (the accepted retention offer)."""

    kind: DiscountKind
    value: int  # percent (1-100), or minor units
    invoices: int  # how many invoices it is (still) taken off

    def off(self, amount: int) -> int:
        """What it takes off `amount` (minor units): a share rounded half up, or the fixed amount at most."""
        if amount <= 0:
            return 0
        if self.kind == DiscountKind.PERCENT:
            return min((amount * self.value * 2 + 100) // 200, amount)
        return min(self.value, amount)


@dataclass(frozen=True, slots=True)
class RetentionOfferView:
    """The coupon a customer is offered before canceling a subscription."""

    subscription_id: str
    discount: Discount
    currency: str


@dataclass(frozen=True, slots=True)
class ProrationView:
    """What switching plans costs now: credit for the unused time, charge for the new plan, the difference."""

    subscription_id: str
    price: PriceView  # the new plan
    quantity: int
    currency: str
    credit: int  # minor units, >= 0: unused time on the current plan
    charge: int  # minor units, >= 0: the new plan until the next renewal (a full period if the interval changes)
    amount_due_now: int  # minor units, >= 0: charge - credit, never negative
    next_renewal: datetime  # when the new plan renews at its full price
    next_renewal_amount: int  # minor units
    proration_date: datetime  # the instant the amounts were computed for
    next_invoice_credit: int = 0  # minor units, >= 0: what the credit exceeds the charge by, taken off the next invoice
    scheduled: bool = False  # a downgrade that waits for the period end (`next_renewal`): nothing is charged now
