"""Checks shared by every form: emails, phone numbers, https URLs, colours, lengths, countries."""

from __future__ import annotations

import re
from zoneinfo import available_timezones

import phonenumbers
from babel import Locale
from email_validator import EmailNotValidError, validate_email

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"}
COUNTRY_NAMES: dict[str, str] = {
    code: name
    for code, name in sorted(Locale("en").territories.items(), key=lambda item: item[1])
    if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
}
TIME_ZONES = frozenset(available_timezones())


def check_email(value: str) -> str | None:
    """Return an error message, or None for a well-formed address (`.test` domains allowed for demos)."""
    try:
        validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        return "Enter a valid email address, like name@example.com."
    return None


def normalize_email(value: str) -> str:
    return validate_email(value.strip(), check_deliverability=False, test_environment=True).normalized.lower()


def check_phone(value: str) -> str | None:
    """International numbers only (+ and country code), as the portal serves customers anywhere."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return "Enter the phone number with its country code, like +1 415 555 0100."
    if not phonenumbers.is_valid_number(number):
        return "This phone number is not valid; check the country code and digits."
    return None


def format_phone(value: str) -> str:
    return phonenumbers.format_number(phonenumbers.parse(value, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def check_https_url(value: str) -> str | None:
    if not re.fullmatch(r"https://[^\s/$.?#][^\s<>\"']*", value):
        return "Enter a full https:// address, like https://example.com/terms."
    return None


def check_color(value: str) -> str | None:
    if not HEX_COLOR.fullmatch(value):
        return "Enter a colour as # and six hex digits, like #635bff."
    return None


def check_length(value: str, maximum: int, *, required: bool = False) -> str | None:
    if required and not value.strip():
        return "This field is required."
    if len(value) > maximum:
        return f"Use at most {maximum} characters ({len(value)} now)."
    return None


def check_country(value: str) -> str | None:
    if value not in COUNTRY_NAMES:
        return "Choose a country from the list."
    return None


def check_time_zone(value: str) -> str | None:
    if value not in TIME_ZONES:
        return "Choose a time zone from the list, like Europe/Berlin."
    return None
