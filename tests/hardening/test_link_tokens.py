"""A portal link has one spelling: padding or another spelling of the same bytes is "not valid".

Base64 decoding forgives `=` padding and the unused low bits of a last character, so `token=` (and a token whose
last character was swapped for a sibling) verified too: one link, many spellings.
"""

from __future__ import annotations

import pytest
from itsdangerous.encoding import base64_decode

from app.config import Settings
from app.db import Database
from app.enums import SubscriptionStatus
from app.errors import LinkInvalid
from app.services.portal_links import open_link
from tests.ui.portal_setup import customer_with, link_path

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def sibling(token: str) -> str:
    """The token with its last character replaced by another that decodes to the same bytes."""
    head, last = token[:-1], token[-1]
    signature = token.rsplit(".", 1)[1]
    for candidate in ALPHABET:
        if candidate != last and base64_decode(signature[:-1] + candidate) == base64_decode(signature):
            return head + candidate
    raise AssertionError("no sibling spelling")


def open_token(database: Database, settings: Settings, token: str) -> str:
    with database.transaction() as session:
        return open_link(session=session, settings=settings, token=token).link_id


def test_only_the_issued_spelling_of_a_link_opens_it(database: Database, settings: Settings) -> None:
    token = link_path(database, settings, customer_with(database, SubscriptionStatus.ACTIVE)).removeprefix("/portal/")
    assert open_token(database, settings, token)
    for spelling in (f"{token}=", f"{token}==", f"{token}%3D", sibling(token), f" {token}", f"{token}."):
        with pytest.raises(LinkInvalid):
            open_token(database, settings, spelling)
