"""Calendar arithmetic of billing periods and proration: one definition for the billing clock and plan changes."""

from __future__ import annotations

from calendar import monthrange
from datetime import datetime, timedelta

from app.enums import PriceInterval


def add_interval(start: datetime, interval: PriceInterval, count: int = 1) -> datetime:
    """`start` plus `count` days, weeks, calendar months or years; the day is clamped (31 Jan + 1 month = 28/29 Feb)."""
    if interval == PriceInterval.DAY:
        return start + timedelta(days=count)
    if interval == PriceInterval.WEEK:
        return start + timedelta(weeks=count)
    months = count * (12 if interval == PriceInterval.YEAR else 1)
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, monthrange(year, month)[1]))


def prorate(amount: int, remaining: timedelta, period: timedelta) -> int:
    """`amount * remaining / period` in whole minor units, rounded half up (exact integer arithmetic)."""
    period_us = max(period // timedelta(microseconds=1), 1)
    remaining_us = min(max(remaining // timedelta(microseconds=1), 0), period_us)
    return (2 * amount * remaining_us + period_us) // (2 * period_us)
