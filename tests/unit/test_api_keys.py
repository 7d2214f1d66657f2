"""API keys: shown once, stored hashed, usable until revoked, and never another merchant's to revoke."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db import Database
from app.errors import NotFound
from app.models import ApiKey
from app.services.api_keys import authenticate_api_key, create_api_key, list_api_keys, revoke_api_key
from tests.conftest import DEMO_NOW
from tests.unit.portal_support import merchant_id_of


def test_a_key_is_shown_once_stored_hashed_and_works_until_revoked(database: Database) -> None:
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        created = create_api_key(session=session, merchant_id=acme, clock=lambda: DEMO_NOW)
    assert created.secret.startswith("sk_") and len(created.secret) > 40
    assert created.secret.startswith(created.key.prefix)
    with database.transaction() as session:
        stored = session.get_one(ApiKey, created.key.id)
        assert created.secret not in (stored.key_hash, stored.prefix)
        caller = authenticate_api_key(session=session, secret=created.secret, clock=lambda: DEMO_NOW)
        assert caller is not None and (caller.merchant_id, caller.key_id) == (acme, created.key.id)
        assert authenticate_api_key(session=session, secret=created.secret[:-1] + "x") is None
        assert authenticate_api_key(session=session, secret="") is None
    with database.transaction() as session:
        [listed] = list_api_keys(session=session, merchant_id=acme)
        assert listed.last_used_at == DEMO_NOW
        revoke_api_key(session=session, merchant_id=acme, key_id=created.key.id, clock=lambda: DEMO_NOW)
    with database.transaction() as session:
        assert authenticate_api_key(session=session, secret=created.secret) is None
        assert list_api_keys(session=session, merchant_id=acme)[0].revoked_at == DEMO_NOW


def test_another_merchants_key_cannot_be_revoked_or_listed(database: Database) -> None:
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        globex = merchant_id_of(session, "Globex")
        created = create_api_key(session=session, merchant_id=globex)
        with pytest.raises(NotFound):
            revoke_api_key(session=session, merchant_id=acme, key_id=created.key.id)
        assert list_api_keys(session=session, merchant_id=acme) == ()
        assert session.scalars(select(ApiKey.revoked_at)).all() == [None]
