"""Frozen dataclasses that services return and components render (never ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SignedInUser:
    user_id: str
    merchant_id: str
    email: str


@dataclass(frozen=True, slots=True)
class AccountDetails:
    """A merchant's public business name and company information (Account details page)."""

    merchant_id: str
    public_business_name: str
    legal_name: str = ""
    support_email: str = ""
    support_phone: str = ""
    website: str = ""
    address_line1: str = ""
    address_line2: str = ""
    address_city: str = ""
    address_postal_code: str = ""
    address_state: str = ""
    address_country: str = ""
    default_currency: str = "USD"
    time_zone: str = "UTC"
