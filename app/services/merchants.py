"""Account details: the merchant's public business name and company information."""

from __future__ import annotations

from dataclasses import asdict, fields, replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import NotFound, ValidationFailed
from app.models import Merchant
from app.validation import (
    check_country,
    check_email,
    check_handle,
    check_https_url,
    check_length,
    check_phone,
    check_time_zone,
    format_phone,
    handle_from_name,
    normalize_email,
)
from app.views import AccountDetails

_TEXT_LIMITS = {
    "public_business_name": 60,
    "legal_name": 120,
    "address_line1": 120,
    "address_line2": 120,
    "address_city": 80,
    "address_postal_code": 20,
    "address_state": 80,
}
SUPPORTED_CURRENCIES = ("USD", "EUR", "GBP", "CHF", "CAD", "AUD", "JPY", "CNY")
HANDLE_TAKEN = "This handle is taken. Choose another one."


def _to_view(merchant: Merchant) -> AccountDetails:
    values = {
        field.name: getattr(merchant, field.name) for field in fields(AccountDetails) if field.name != "merchant_id"
    }
    return AccountDetails(merchant_id=merchant.id, **values)


def get_account_details(*, session: Session, merchant_id: str) -> AccountDetails:
    merchant = session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound("merchant")
    return _to_view(merchant)


def validate_account_details(details: AccountDetails) -> dict[str, str]:
    """Field errors for `details` (empty when valid); the page shows them inline before saving."""
    errors: dict[str, str | None] = {
        name: check_length(getattr(details, name), limit, required=name == "public_business_name")
        for name, limit in _TEXT_LIMITS.items()
    }
    errors["handle"] = check_handle(normalize_handle(details.handle))
    if details.support_email:
        errors["support_email"] = check_email(details.support_email)
    if details.support_phone:
        errors["support_phone"] = check_phone(details.support_phone)
    if details.website:
        errors["website"] = check_https_url(details.website) or check_length(details.website, 300)
    if details.address_country:
        errors["address_country"] = check_country(details.address_country)
    if details.default_currency not in SUPPORTED_CURRENCIES:
        errors["default_currency"] = "Choose one of the supported currencies."
    errors["time_zone"] = check_time_zone(details.time_zone)
    return {name: message for name, message in errors.items() if message}


def sign_in_address(settings: Settings, handle: str) -> str:
    """Where the merchant's customers sign in to the portal with their email (the merchant puts it on its website)."""
    return f"{settings.effective_public_url}/p/login/{handle}"


def normalize_handle(value: str) -> str:
    """Handles are lower case: `Acme` typed means `acme`."""
    return value.strip().lower()


def update_account_details(*, session: Session, details: AccountDetails) -> AccountDetails:
    """Save the details; ValidationFailed with the field errors, a handle another merchant has included."""
    errors = validate_account_details(details)
    if errors:
        raise ValidationFailed(errors)
    merchant = session.get(Merchant, details.merchant_id)
    if merchant is None:
        raise NotFound("merchant")
    handle = normalize_handle(details.handle)
    if session.scalar(select(Merchant.id).where(Merchant.handle == handle, Merchant.id != merchant.id)):
        raise ValidationFailed({"handle": HANDLE_TAKEN})
    cleaned = replace(
        details,
        handle=handle,
        public_business_name=details.public_business_name.strip(),
        support_email=normalize_email(details.support_email) if details.support_email else "",
        support_phone=format_phone(details.support_phone) if details.support_phone else "",
    )
    for name, value in asdict(cleaned).items():
        if name != "merchant_id":
            setattr(merchant, name, value)
    try:
        session.flush()  # two merchants taking one handle at once: the unique index decides
    except IntegrityError:
        raise ValidationFailed({"handle": HANDLE_TAKEN}) from None
    return _to_view(merchant)


def unused_handle(session: Session, business_name: str) -> str:
    """A free handle for a new merchant, from its name (`acme-cloud`, else `acme-cloud-2`, …)."""
    base = handle_from_name(business_name)[:36].strip("-")
    if len(base) < 2:
        base = "shop"
    taken = set(session.scalars(select(Merchant.handle).where(Merchant.handle.like(f"{base}%"))))
    return next(
        candidate for n in range(1, len(taken) + 2) if (candidate := base if n == 1 else f"{base}-{n}") not in taken
    )
