"""What the Products page and the subscription form show of the merchant's catalogue: products and their prices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.enums import PriceInterval


@dataclass(frozen=True, slots=True)
class CatalogPrice:
    id: str
    product_id: str
    product_name: str
    nickname: str
    unit_amount: int  # minor units
    currency: str
    interval: PriceInterval
    interval_count: int
    active: bool
    # Some subscription has it (archiving it then leaves those subscriptions as they are).
    in_use: bool
    created_at: datetime

    @property
    def label(self) -> str:
        return self.nickname or self.product_name


@dataclass(frozen=True, slots=True)
class CatalogProduct:
    id: str
    name: str
    description: str
    active: bool
    created_at: datetime
    prices: tuple[CatalogPrice, ...] = ()
