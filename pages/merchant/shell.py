"""The frame around every merchant page, with the merchant's business name in the header."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui

from app.context import AppContext
from app.errors import Unavailable
from app.services.merchants import get_account_details
from app.views import SignedInUser
from components.theme import merchant_frame
from pages.merchant.auth import sign_out


@contextmanager
def merchant_shell(context: AppContext, user: SignedInUser, title: str) -> Iterator[None]:
    with context.database.transaction() as session:
        business_name = get_account_details(session=session, merchant_id=user.merchant_id).public_business_name
    ui.on_exception(_explain_unavailable)
    with merchant_frame(title, business_name=business_name, user_email=user.email, on_logout=sign_out):
        yield


def _explain_unavailable(exception: Exception) -> None:
    """Any dashboard action that hit an unavailable database says so (its transaction was rolled back)."""
    if isinstance(exception, Unavailable):
        ui.notify(str(exception), type="negative")
