"""Dates, times, addresses and phone links for people, in their locale and time zone (Babel)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time

from app.views import Address


def format_date(moment: datetime, locale: str = "en_US", time_zone: str = "UTC") -> str:
    """`31 Dec 2026` style medium date in the given zone."""
    return babel_format_date(moment.astimezone(ZoneInfo(time_zone)).date(), format="medium", locale=locale)


def format_datetime(moment: datetime, locale: str = "en_US", time_zone: str = "UTC") -> str:
    """Medium date and short time with the zone's abbreviation, e.g. `Dec 31, 2026 5:00 PM CET`."""
    local = moment.astimezone(ZoneInfo(time_zone))
    date_text = babel_format_date(local.date(), format="medium", locale=locale)
    time_text = babel_format_time(local.time(), format="short", locale=locale)
    return f"{date_text} {time_text} {local.tzname()}"


# Where the postal code follows the city and state ("San Francisco, CA 94107"); elsewhere it leads ("10115 Berlin").
_POSTAL_CODE_LAST = frozenset({"US", "CA", "AU", "GB", "IE", "NZ", "IN", "BR", "JP", "CN"})


def country_name(code: str, locale: str = "en_US") -> str:
    """`DE` -> `Germany` (in `locale`); an unknown code is shown as it is."""
    return Locale.parse(locale).territories.get(code, code) if code else ""


def address_lines(address: Address, locale: str = "en_US") -> list[str]:
    """An address as the lines of an envelope, in the order its country writes them, the country named in `locale`.

    The one address format of the portal, the dashboard, mails and invoice PDFs.
    """
    city, state, postal = address.city, address.state, address.postal_code
    if address.country in _POSTAL_CODE_LAST:
        place = " ".join(part for part in (", ".join(p for p in (city, state) if p), postal) if part)
    else:
        place = ", ".join(part for part in (" ".join(p for p in (postal, city) if p), state) if part)
    lines = (address.line1, address.line2, place, country_name(address.country, locale))
    return [line for line in lines if line]


def tel_url(phone: str) -> str:
    """A `tel:` link for a phone number as people write it: digits and a leading + only."""
    return "tel:" + "".join(char for char in phone if char.isdigit() or char == "+")
