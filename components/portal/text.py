"""The portal's words, money and dates in the customer's locale: one object every section formats through."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from babel import Locale

from app.formatting import format_date
from app.i18n import translator
from app.money import format_money
from app.validation import COUNTRY_NAMES


class PortalText:
    """Translates customer-facing messages and formats money and dates for one locale and time zone."""

    def __init__(self, locale: str, time_zone: str) -> None:
        self.locale = locale
        self.time_zone = time_zone
        self._translate = translator(locale)

    def __call__(self, message: str, **values: object) -> str:
        """`message` is the English text with `{name}` placeholders; values are inserted after translating."""
        translated = self._translate(message)
        return translated.format(**values) if values else translated

    def money(self, amount_minor: int, currency: str) -> str:
        return format_money(amount_minor, currency, self.locale)

    def date(self, moment: datetime) -> str:
        return format_date(moment, self.locale, self.time_zone)

    def country(self, code: str) -> str:
        return country_names(self.locale).get(code, code)


@cache
def country_names(locale: str) -> dict[str, str]:
    """The countries customers may choose, named and sorted in `locale` (codes as `app.validation` accepts them)."""
    names = Locale.parse(locale).territories
    return dict(sorted(((code, names.get(code, english)) for code, english in COUNTRY_NAMES.items()), key=_by_name))


def _by_name(item: tuple[str, str]) -> str:
    return item[1].casefold()
