"""Dates and times for people, in their locale and time zone (Babel)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time


def format_date(moment: datetime, locale: str = "en_US", time_zone: str = "UTC") -> str:
    """`31 Dec 2026` style medium date in the given zone."""
    return babel_format_date(moment.astimezone(ZoneInfo(time_zone)).date(), format="medium", locale=locale)


def format_datetime(moment: datetime, locale: str = "en_US", time_zone: str = "UTC") -> str:
    """Medium date and short time with the zone's abbreviation, e.g. `Dec 31, 2026 5:00 PM CET`."""
    local = moment.astimezone(ZoneInfo(time_zone))
    date_text = babel_format_date(local.date(), format="medium", locale=locale)
    time_text = babel_format_time(local.time(), format="short", locale=locale)
    return f"{date_text} {time_text} {local.tzname()}"
