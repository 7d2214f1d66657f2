"""Merchant sign-up and sign-in: argon2 password hashes, a lockout per client after repeated failures, and a
slowdown per account."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.clock import Clock, system_clock
from app.config import Settings
from app.errors import LoginLocked, ValidationFailed
from app.models import LoginFailure, Merchant, MerchantUser, PortalSettings, SignInGrant
from app.services.merchants import unused_handle
from app.services.portal_links import signed_serializer
from app.validation import check_email, check_length, normalize_email
from app.views import SignedInUser

MAX_FAILED_LOGINS = 5  # per account and client address
LOCKOUT_WINDOW = timedelta(minutes=15)
ACCOUNT_SLOWDOWN_AFTER = 20  # failures per account from all addresses together
SLOWDOWN_SECONDS = 5.0
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()
# Verifying against this keeps a failed login for an unknown email as slow as one for a known email.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def authenticate(
    *, session: Session, email: str, password: str, client_address: str, clock: Clock = system_clock
) -> SignedInUser | None:
    """Return the user for a right email/password, None otherwise; raise LoginLocked while this client is locked
    out of this account (MAX_FAILED_LOGINS failures from its address within LOCKOUT_WINDOW).

    The lock is per account *and* client address, so that an attacker's failures never lock the merchant out; the
    account as a whole is slowed down instead (`sign_in_delay`). Unknown emails are counted and locked alike: the
    answer never reveals whether an email exists.
    """
    email_key = email.strip().lower()
    now = clock()
    recent_failures = session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(
            LoginFailure.email == email_key,
            LoginFailure.client_address == client_address,
            LoginFailure.created_at > now - LOCKOUT_WINDOW,
        )
    )
    if (recent_failures or 0) >= MAX_FAILED_LOGINS:
        raise LoginLocked("Too many failed attempts. For your security, sign-in is paused for 15 minutes.")
    user = session.scalar(select(MerchantUser).where(MerchantUser.email == email_key))
    if user is None or not _verify(user.password_hash, password):
        session.add(LoginFailure(email=email_key, client_address=client_address, created_at=now))
        return None
    session.execute(
        delete(LoginFailure).where(LoginFailure.email == email_key, LoginFailure.client_address == client_address)
    )
    return SignedInUser(user_id=user.id, merchant_id=user.merchant_id, email=user.email)


def sign_in_delay(*, session: Session, email: str, clock: Clock = system_clock) -> float:
    """Seconds to wait before checking a password for `email`: 0 normally, SLOWDOWN_SECONDS once the account has
    had ACCOUNT_SLOWDOWN_AFTER failures from all addresses together within LOCKOUT_WINDOW (OWASP's advice: a
    ceiling per account that slows guessing spread over many addresses instead of locking the merchant out)."""
    failures = session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.email == email.strip().lower(), LoginFailure.created_at > clock() - LOCKOUT_WINDOW)
    )
    return SLOWDOWN_SECONDS if (failures or 0) >= ACCOUNT_SLOWDOWN_AFTER else 0.0


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


SIGN_IN_GRANT_SALT = "merchant-sign-in"
SIGN_IN_GRANT_SECONDS = 60
# Grants are kept this long (for the single-use check) and then deleted when another merchant signs in.
SIGN_IN_GRANT_RETENTION = timedelta(days=1)


def issue_sign_in_grant(
    *, session: Session, settings: Settings, user_id: str, browser_key: str, clock: Clock = system_clock
) -> str:
    """A short-lived, single-use signed pass from the login form (a websocket event) to the HTTP request that starts
    a fresh session. It only works in the browser whose login page holds `browser_key` (a random key that page put
    in its cookie), so neither a link to it (login CSRF) nor a session cookie planted before sign-in can use it."""
    now = clock()
    session.execute(delete(SignInGrant).where(SignInGrant.created_at < now - SIGN_IN_GRANT_RETENTION))
    grant = SignInGrant(user_id=user_id, created_at=now)
    session.add(grant)
    session.flush()
    serializer = signed_serializer(settings, clock, salt=SIGN_IN_GRANT_SALT)
    return serializer.dumps({"grant": grant.id, "browser": browser_key})


def redeem_sign_in_grant(
    *, session: Session, settings: Settings, grant: str, browser_keys: Collection[str], clock: Clock = system_clock
) -> str | None:
    """Use a genuine, fresh grant issued to one of `browser_keys`, once: returns the hand-over for the new session
    (see `take_over_sign_in`), None for anything else, a second use included."""
    try:
        payload = signed_serializer(settings, clock, salt=SIGN_IN_GRANT_SALT).loads(
            grant, max_age=SIGN_IN_GRANT_SECONDS
        )
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(payload, dict) or payload.get("browser") not in browser_keys:
        return None
    grant_id = payload.get("grant")
    if not isinstance(grant_id, str):
        return None
    now = clock()
    redeemed = session.execute(
        update(SignInGrant)
        .where(
            SignInGrant.id == grant_id,
            SignInGrant.redeemed_at.is_(None),
            SignInGrant.created_at > now - timedelta(seconds=SIGN_IN_GRANT_SECONDS),
        )
        .values(redeemed_at=now)
    )
    return grant_id if redeemed.rowcount == 1 else None  # type: ignore[attr-defined]


def take_over_sign_in(*, session: Session, handover: str, clock: Clock = system_clock) -> SignedInUser | None:
    """The user a redeemed grant names, for the first request of its new session only; None for anything else."""
    now = clock()
    taken = session.execute(
        update(SignInGrant)
        .where(
            SignInGrant.id == handover,
            SignInGrant.redeemed_at > now - timedelta(seconds=SIGN_IN_GRANT_SECONDS),
            SignInGrant.handed_over_at.is_(None),
        )
        .values(handed_over_at=now)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return user_by_id(session=session, user_id=session.get_one(SignInGrant, handover).user_id)


def revoke_sign_ins(*, session: Session, user_id: str, clock: Clock = system_clock) -> None:
    """At sign-out: grants and hand-overs of the user still on their way stop working."""
    now = clock()
    session.execute(
        update(SignInGrant)
        .where(SignInGrant.user_id == user_id, SignInGrant.handed_over_at.is_(None))
        .values(redeemed_at=func.coalesce(SignInGrant.redeemed_at, now), handed_over_at=now)
    )


def user_by_id(*, session: Session, user_id: str) -> SignedInUser | None:
    user = session.get(MerchantUser, user_id)
    if user is None:
        return None
    return SignedInUser(user_id=user.id, merchant_id=user.merchant_id, email=user.email)


def create_merchant(*, session: Session, business_name: str, email: str, password: str) -> SignedInUser:
    """Create a merchant with its owner login and default portal settings."""
    errors = {
        field: message
        for field, message in {
            "business_name": check_length(business_name, 60, required=True),
            "email": check_email(email),
            "password": None
            if len(password) >= MIN_PASSWORD_LENGTH
            else f"Use at least {MIN_PASSWORD_LENGTH} characters.",
        }.items()
        if message
    }
    if not errors and session.scalar(select(MerchantUser.id).where(MerchantUser.email == normalize_email(email))):
        errors["email"] = "A merchant user with this email already exists."
    if errors:
        raise ValidationFailed(errors)
    merchant = Merchant(public_business_name=business_name.strip(), handle=unused_handle(session, business_name))
    session.add(merchant)
    session.flush()
    session.add(PortalSettings(merchant_id=merchant.id))
    user = MerchantUser(merchant_id=merchant.id, email=normalize_email(email), password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return SignedInUser(user_id=user.id, merchant_id=merchant.id, email=user.email)
