"""The sign-in grant and the hand-over to the new session: signed, short-lived, bound, and each usable once.

Service level, so that it runs on SQLite and PostgreSQL: "once" is a conditional UPDATE, which must hold when two
requests try at the same moment.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.models import MerchantUser
from app.services.accounts import (
    SIGN_IN_GRANT_SECONDS,
    issue_sign_in_grant,
    redeem_sign_in_grant,
    revoke_sign_ins,
    take_over_sign_in,
)
from tests.conftest import DEMO_NOW


def owner_id(database: Database) -> str:
    with database.transaction() as session:
        return session.scalars(select(MerchantUser.id).where(MerchantUser.email == "owner@acme.test")).one()


def issue(database: Database, settings: Settings, browser_key: str = "key-a") -> str:
    with database.transaction() as session:
        return issue_sign_in_grant(
            session=session,
            settings=settings,
            user_id=owner_id(database),
            browser_key=browser_key,
            clock=lambda: DEMO_NOW,
        )


def redeem(
    database: Database, settings: Settings, grant: str, keys: tuple[str, ...] = ("key-a",), seconds: int = 1
) -> str | None:
    with database.transaction() as session:
        return redeem_sign_in_grant(
            session=session,
            settings=settings,
            grant=grant,
            browser_keys=keys,
            clock=lambda: DEMO_NOW + timedelta(seconds=seconds),
        )


def take_over(database: Database, handover: str, seconds: int = 2) -> str | None:
    with database.transaction() as session:
        user = take_over_sign_in(
            session=session, handover=handover, clock=lambda: DEMO_NOW + timedelta(seconds=seconds)
        )
        return user.user_id if user else None


def test_a_grant_is_signed_short_lived_and_bound_to_its_login_page(database: Database, settings: Settings) -> None:
    grant = issue(database, settings)
    assert redeem(database, settings, grant, keys=("key-b",)) is None
    assert redeem(database, settings, grant, keys=()) is None
    assert redeem(database, settings, grant, seconds=SIGN_IN_GRANT_SECONDS + 1) is None
    tampered = grant[:-2] + ("AA" if grant[-2:] != "AA" else "BB")
    assert redeem(database, settings, tampered) is None
    other_key = settings.model_copy(update={"secret_key": "another-secret-key-that-is-long-enough-42"})
    assert redeem(database, other_key, grant) is None
    assert redeem(database, settings, grant, keys=("key-old", "key-a")) is not None  # from one of several tabs


def test_a_grant_is_redeemed_once(database: Database, settings: Settings) -> None:
    grant = issue(database, settings)
    assert redeem(database, settings, grant) is not None
    assert redeem(database, settings, grant) is None


def test_two_redemptions_at_once_succeed_once(database: Database, settings: Settings) -> None:
    grants = [issue(database, settings) for _ in range(5)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for grant in grants:
            outcomes = list(pool.map(lambda g: redeem(database, settings, g), [grant, grant]))
            assert sum(outcome is not None for outcome in outcomes) == 1


def test_a_hand_over_signs_in_one_session_once(database: Database, settings: Settings) -> None:
    handover = redeem(database, settings, issue(database, settings))
    assert handover is not None
    assert take_over(database, "not-a-hand-over") is None
    assert take_over(database, handover) == owner_id(database)
    assert take_over(database, handover) is None  # a copy of the cookie that carried it


def test_a_hand_over_must_be_taken_at_once(database: Database, settings: Settings) -> None:
    handover = redeem(database, settings, issue(database, settings))
    assert handover is not None
    assert take_over(database, handover, seconds=SIGN_IN_GRANT_SECONDS + 5) is None


def test_signing_out_revokes_grants_and_hand_overs_on_their_way(database: Database, settings: Settings) -> None:
    unused_grant = issue(database, settings)
    handover = redeem(database, settings, issue(database, settings))
    assert handover is not None
    with database.transaction() as session:
        revoke_sign_ins(session=session, user_id=owner_id(database), clock=lambda: DEMO_NOW)
    assert redeem(database, settings, unused_grant) is None
    assert take_over(database, handover) is None
