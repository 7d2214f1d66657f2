"""Checks shared by every form: emails, phone numbers, https URLs, colours, lengths, countries."""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import available_timezones

import phonenumbers
from babel import Locale
from email_validator import EmailNotValidError, validate_email

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
# ASCII control characters: never typed into a single-line field (PostgreSQL refuses NUL in text, and a line break
# in a name or an address line breaks layouts, CSV exports and mail headers). A multi-line field allows tab and line
# breaks.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
MULTILINE_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_CHARACTERS_MESSAGE = "Remove the line breaks, tabs and other invisible control characters."
MULTILINE_CONTROL_CHARACTERS_MESSAGE = "Remove the invisible control characters."
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"}
COUNTRY_NAMES: dict[str, str] = {
    code: name
    for code, name in sorted(Locale("en").territories.items(), key=lambda item: item[1])
    if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
}
TIME_ZONES = frozenset(available_timezones())
HANDLE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
HANDLE_MAX_LENGTH = 40


def check_handle(value: str) -> str | None:
    """A merchant's handle names its sign-in address (/p/login/{handle}): lower-case letters, digits and hyphens."""
    if not value:
        return "Choose a handle for your sign-in address."
    if len(value) < 2 or len(value) > HANDLE_MAX_LENGTH:
        return f"Use 2 to {HANDLE_MAX_LENGTH} characters."
    if not HANDLE.fullmatch(value):
        return "Use only lower-case letters, digits and hyphens, starting and ending with a letter or digit."
    return None


def handle_from_name(name: str) -> str:
    """A handle suggested by a business name: "Acme Cloud, Inc." -> "acme-cloud-inc" (may be empty)."""
    words = re.findall(r"[a-z0-9]+", name.lower())
    return "-".join(words)[:HANDLE_MAX_LENGTH].strip("-")


EMAIL_MESSAGE = "Enter a valid email address, like name@example.com."


def check_email(value: str) -> str | None:
    """Return an error message, or None for a well-formed address (`.test` domains allowed for demos)."""
    try:
        validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        return EMAIL_MESSAGE
    return None


def normalize_email(value: str) -> str:
    """The address in lower case, its domain as email_validator normalises it; EmailNotValidError if not valid.

    A plain ASCII address (a dot-atom before the @-sign: what email_validator accepts there without further checks)
    has only its domain checked by email_validator, once per domain: the domain is most of the checking's time, and
    an imported file has thousands of addresses at a handful of domains. Anything else is checked whole.
    """
    value = value.strip()
    local, at, domain = value.partition("@")
    if at and _DOT_ATOM.fullmatch(local) and _ASCII_DOMAIN.fullmatch(domain) and (known := _checked_domain(domain)):
        normalized, ascii_address = f"{local}@{known[0]}", f"{local}@{known[1]}"
        if max(len(value), len(normalized.encode()), len(ascii_address)) <= _EMAIL_MAX_LENGTH:
            return normalized.lower()
    return validate_email(value, check_deliverability=False, test_environment=True).normalized.lower()


_ATEXT = r"a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~"  # email_validator's (RFC 5322) characters of a dot-atom
_DOT_ATOM = re.compile(f"[{_ATEXT}]+(?:\\.[{_ATEXT}]+)*")
_ASCII_DOMAIN = re.compile(r"[a-zA-Z0-9.-]+")
_EMAIL_MAX_LENGTH = 254  # email_validator's limit, for the address as given, normalised and in IDNA ASCII


@lru_cache(maxsize=1024)
def _checked_domain(domain: str) -> tuple[str, str] | None:
    """The domain as email_validator normalises it and in IDNA ASCII, or None where it refuses the domain."""
    try:
        checked = validate_email(f"a@{domain}", check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        return None
    return checked.domain, checked.ascii_domain


def valid_email(value: str) -> str | None:
    """The address as `normalize_email` gives it, or None where `check_email` refuses it: one parse instead of two
    (parsing is most of the time a bulk import takes)."""
    try:
        return normalize_email(value)
    except EmailNotValidError:
        return None


def check_phone(value: str) -> str | None:
    """International numbers only (+ and country code), as the portal serves customers anywhere."""
    return formatted_phone(value)[1]


def formatted_phone(value: str) -> tuple[str, str | None]:
    """The number as `format_phone` gives it and None, or "" and `check_phone`'s message: one parse for both."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return "", "Enter the phone number with its country code, like +1 415 555 0100."
    if not phonenumbers.is_valid_number(number):
        return "", "This phone number is not valid; check the country code and digits."
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL), None


def format_phone(value: str) -> str:
    return phonenumbers.format_number(phonenumbers.parse(value, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def check_https_url(value: str) -> str | None:
    if not re.fullmatch(r"https://[^\s/$.?#][^\s<>\"'\x00-\x1f\x7f]*", value):
        return "Enter a full https:// address, like https://example.com/terms."
    return None


def check_color(value: str) -> str | None:
    if not HEX_COLOR.fullmatch(value):
        return "Enter a colour as # and six hex digits, like #635bff."
    return None


def check_length(value: str, maximum: int, *, required: bool = False, multiline: bool = False) -> str | None:
    """Required, length and control characters: a single-line field refuses tabs and line breaks too."""
    if required and not value.strip():
        return "This field is required."
    if multiline and MULTILINE_CONTROL_CHARACTERS.search(value):
        return MULTILINE_CONTROL_CHARACTERS_MESSAGE
    if not multiline and CONTROL_CHARACTERS.search(value):
        return CONTROL_CHARACTERS_MESSAGE
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


# Countries whose addresses have no postal code (Universal Postal Union / Google address data); everywhere else
# a postal code is required.
COUNTRIES_WITHOUT_POSTAL_CODES = frozenset({
    "AE", "AG", "AN", "AO", "AW", "BF", "BI", "BJ", "BO", "BS", "BW", "BZ", "CD", "CF", "CG", "CI", "CK", "CM", "DJ",
    "DM", "ER", "FJ", "GA", "GD", "GH", "GM", "GQ", "GY", "HK", "JM", "KE", "KI", "KM", "KN", "KP", "LC", "ML", "MO",
    "MR", "MS", "MW", "NA", "NR", "NU", "QA", "RW", "SB", "SC", "SL", "SO", "SR", "SS", "ST", "SY", "TD", "TF", "TG",
    "TK", "TL", "TO", "TT", "TV", "UG", "VU", "YE", "ZW",
})  # fmt: skip
# Formats of the most common countries; others are only checked for being present and short.
_POSTAL_CODE_FORMATS = {
    "US": (r"\d{5}(-\d{4})?", "94107"),
    "DE": (r"\d{5}", "10115"),
    "FR": (r"\d{5}", "75002"),
    "CN": (r"\d{6}", "200000"),
    "CA": (r"[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d", "M5H 2N2"),
    "GB": (r"[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}", "EC1A 1BB"),
    "NL": (r"\d{4} ?[A-Za-z]{2}", "1012 AB"),
    "AT": (r"\d{4}", "1010"),
    "CH": (r"\d{4}", "8001"),
    "AU": (r"\d{4}", "2000"),
    "JP": (r"\d{3}-?\d{4}", "100-0001"),
    "IT": (r"\d{5}", "00184"),
    "ES": (r"\d{5}", "28013"),
}


def check_postal_code(country: str, value: str) -> str | None:
    """Required where the country uses postal codes, and in the country's format where we know it."""
    value = value.strip()
    if country in COUNTRIES_WITHOUT_POSTAL_CODES:
        return None
    if not value:
        return "Enter the postal code."
    known = _POSTAL_CODE_FORMATS.get(country)
    if known and not re.fullmatch(known[0], value):
        return f"Enter a valid postal code, like {known[1]}."
    return check_length(value, 20)
