"""The frame around every merchant page, with the merchant's business name in the header."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from app.context import AppContext
from app.services.merchants import get_account_details
from app.views import SignedInUser
from components.theme import merchant_frame
from pages.merchant.auth import sign_out


@contextmanager
def merchant_shell(context: AppContext, user: SignedInUser, title: str) -> Iterator[None]:
    with context.database.transaction() as session:
        business_name = get_account_details(session=session, merchant_id=user.merchant_id).public_business_name
    with merchant_frame(title, business_name=business_name, user_email=user.email, on_logout=sign_out):
        yield
