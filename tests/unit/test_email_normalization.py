"""normalize_email's shortcut for plain addresses (the domain checked once per domain) agrees with email_validator."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email

from app.validation import normalize_email, valid_email

ADDRESSES = [
    "ada@example.com",
    "  Ada.Lovelace+billing@Example.COM ",
    "POSTMASTER@example.com",
    "o'brien{x}|~^`#$%&*=?/@mail.example.co.uk",
    "demo@acme.test",
    "x@xn--bcher-kva.example",
    "x@bücher.example",
    "zoë@example.com",
    '"quoted local"@example.com',
    "Ada <ada@example.com>",
    "ada@[127.0.0.1]",
    "a..b@example.com",
    ".a@example.com",
    "a.@example.com",
    "a@example.com.",
    "a@-example.com",
    "a@example-.com",
    "a@example",
    "a@localhost",
    "a@host.local",
    "a@example.invalid",
    "a@example.123",
    "a@b@example.com",
    "@example.com",
    "a@",
    "a b@example.com",
    "a@exa_mple.com",
    "a@" + "x" * 64 + ".com",
    "l" * 64 + "@example.com",
    "l" * 65 + "@example.com",
    "l" * 64 + "@" + ".".join(["d" * 60] * 3) + ".com",
    "l" * 60 + "@" + ".".join(["d" * 61] * 3) + ".com",
    "l" * 64 + "@" + ".".join(["d" * 61] * 3) + ".com",  # 254 characters: the longest allowed
    "l" * 64 + "@" + ".".join(["d" * 62] * 3) + ".com",
]


def _by_email_validator(value: str) -> str | None:
    try:
        return validate_email(value.strip(), check_deliverability=False, test_environment=True).normalized.lower()
    except EmailNotValidError:
        return None


@pytest.mark.parametrize("address", ADDRESSES)
def test_the_shortcut_gives_what_email_validator_gives(address: str) -> None:
    expected = _by_email_validator(address)
    assert valid_email(address) == expected
    if expected is None:
        with pytest.raises(EmailNotValidError):
            normalize_email(address)
    else:
        assert normalize_email(address) == expected
