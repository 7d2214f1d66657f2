"""Money as integer minor units plus an ISO currency code, formatted with Babel."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ValueError(f"not an ISO currency code: {self.currency!r}")

    def __add__(self, other: Money) -> Money:
        self._check_same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check_same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def _check_same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} and {other.currency}")

    @property
    def decimal(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-get_currency_precision(self.currency.upper()))

    def format(self, locale: str = "en_US") -> str:
        return format_money(self.amount_minor, self.currency, locale)


def format_money(amount_minor: int, currency: str, locale: str = "en_US") -> str:
    """`1999, "USD"` -> `$19.99` in en_US, `19,99 $` in de_DE."""
    code = currency.upper()
    value = Decimal(amount_minor).scaleb(-get_currency_precision(code))
    return format_currency(value, code, locale=locale)


def parse_money(text: str, currency: str) -> int | None:
    """`"29.90", "USD"` -> 2990 minor units; None when `text` is not an amount of that currency (`1.234` USD, `-1`,
    `1e3`, `12.5` JPY). Thousands separators (`1,299.00`) and spaces are allowed."""
    cleaned = text.strip().replace(",", "").replace(" ", "")
    if not cleaned or not all(ch.isdigit() or ch == "." for ch in cleaned) or cleaned.count(".") > 1:
        return None
    value = Decimal(cleaned).scaleb(get_currency_precision(currency.upper()))
    return int(value) if value == value.to_integral_value() else None


def minor_to_major(amount_minor: int, currency: str) -> float:
    """`1999, "USD"` -> `19.99`: an amount as people type it (for number fields)."""
    return float(Decimal(amount_minor).scaleb(-get_currency_precision(currency.upper())))


def major_to_minor(value: object, currency: str, *, whole: bool = False) -> int:
    """What a number field holds (`19.99`) in minor units (`1999`); 0 for no number or more decimals than the
    currency has (which validation then refuses). `whole`: the value is a plain count (a percentage), kept as is."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return 0
    amount = Decimal(str(value)) if whole else Decimal(str(value)).scaleb(get_currency_precision(currency.upper()))
    return int(amount) if amount == amount.to_integral_value() else 0
