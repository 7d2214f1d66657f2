"""Customers sign in to the portal on their own: an email on the merchant's sign-in page gets a single-use link.

The page answers every request with the same neutral text *before* this module looks at the email (the page calls
`request_sign_in_link` after answering), so neither the text, the status nor the time of the answer says whether
the address has an account. Only a known, not deleted customer gets a mail; several customers with that email at the
merchant get one mail with a link for each. At most 20 requests per client address (IPv6: its /64) and 3 mails per
email address and merchant are served an hour; the rest are answered the same way and do nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.clock import Clock, system_clock
from app.config import Settings
from app.db import Database
from app.enums import EventType
from app.i18n import N_, translator
from app.models import Customer, EmailMessage, Merchant, PortalLink, PortalSignInRequest
from app.services.emails import send_email
from app.services.events import SYSTEM, Actor
from app.services.portal_links import IssuedLink, _record, issue_link
from app.services.portal_settings import get_portal_settings
from app.validation import check_email, normalize_email

SIGN_IN_LINK_LIFETIME = timedelta(hours=1)
MAILS_PER_EMAIL_PER_HOUR = 3
REQUESTS_PER_CLIENT_PER_HOUR = 20
SIGN_IN_MAIL_KIND = "portal_sign_in"
_WINDOW = timedelta(hours=1)
MAX_EMAIL_LENGTH = 254

NEUTRAL_ANSWER = N_("If that address has an account with {business}, we've sent a link to it.")


@dataclass(frozen=True, slots=True)
class SignInMerchant:
    """Whose sign-in page a handle names."""

    merchant_id: str
    handle: str
    business_name: str


def merchant_by_handle(*, session: Session, handle: str) -> SignInMerchant | None:
    """The merchant whose sign-in page `/p/login/{handle}` is, or None (the page then says it does not exist)."""
    if len(handle) > 40:
        return None
    merchant = session.scalar(select(Merchant).where(Merchant.handle == handle))
    if merchant is None:
        return None
    return SignInMerchant(merchant_id=merchant.id, handle=merchant.handle, business_name=merchant.public_business_name)


def check_sign_in_email(email: str) -> str | None:
    """The form's only check (the answer to a well-formed address is always the same)."""
    email = email.strip()
    if not email:
        return N_("Enter your email address.")
    if len(email) > MAX_EMAIL_LENGTH or check_email(email):
        return N_("Enter a valid email address, like name@example.com.")
    return None


def request_sign_in_link(
    *,
    database: Database,
    settings: Settings,
    merchant_id: str,
    email: str,
    client_address: str,
    locale: str,
    actor: Actor = SYSTEM,
    clock: Clock = system_clock,
) -> None:
    """Mail single-use sign-in links to the merchant's customers with this email, within the rate limits.

    Returns nothing on purpose: the caller has nothing to tell the visitor that would depend on the email.
    """
    with database.transaction() as session:
        now = clock()
        recent_requests = session.scalar(
            select(func.count())
            .select_from(PortalSignInRequest)
            .where(PortalSignInRequest.client_address == client_address, PortalSignInRequest.created_at > now - _WINDOW)
        )
        if (recent_requests or 0) >= REQUESTS_PER_CLIENT_PER_HOUR:
            return  # not recorded: a flood from one address stays at 20 rows an hour
        session.add(PortalSignInRequest(client_address=client_address[:45], created_at=now))
        session.execute(delete(PortalSignInRequest).where(PortalSignInRequest.created_at < now - timedelta(days=1)))
    if check_sign_in_email(email):
        return
    address = normalize_email(email)
    with database.transaction() as session:
        _mail_links(session, settings, merchant_id, address, locale, actor, clock)


def _mail_links(
    session: Session, settings: Settings, merchant_id: str, address: str, locale: str, actor: Actor, clock: Clock
) -> None:
    now = clock()
    customers = list(
        session.scalars(
            select(Customer)
            .where(Customer.merchant_id == merchant_id, Customer.email == address, Customer.deleted_at.is_(None))
            .order_by(Customer.created_at, Customer.id)
            .limit(20)
        )
    )
    if not customers:
        return
    # Locks the customers: two requests at once cannot both pass the limit (PostgreSQL; SQLite serialises writes).
    session.scalars(select(Customer.id).where(Customer.id.in_([c.id for c in customers])).with_for_update()).all()
    mailed = session.scalar(
        select(func.count())
        .select_from(EmailMessage)
        .where(
            EmailMessage.merchant_id == merchant_id,
            EmailMessage.to_address == address,
            EmailMessage.kind == SIGN_IN_MAIL_KIND,
            EmailMessage.created_at > now - _WINDOW,
        )
    )
    if (mailed or 0) >= MAILS_PER_EMAIL_PER_HOUR:
        return
    merchant = session.get_one(Merchant, merchant_id)
    links = [
        (
            customer.name,
            issue_link(
                session=session,
                settings=settings,
                merchant_id=merchant_id,
                customer_id=customer.id,
                created_by="sign-in page",
                actor=actor,
                clock=clock,
                single_use=True,
                lifetime=SIGN_IN_LINK_LIFETIME,
            ),
        )
        for customer in customers
    ]
    contact = get_portal_settings(session=session, merchant_id=merchant_id).support_email or merchant.support_email
    subject, body = sign_in_mail(merchant.public_business_name, links, locale or customers[0].locale)
    send_email(
        session=session,
        settings=settings,
        merchant_id=merchant_id,
        customer_id=customers[0].id,
        to_address=address,
        subject=subject,
        body=body,
        sender_name=merchant.public_business_name,
        reply_to=contact,
        kind=SIGN_IN_MAIL_KIND,
        clock=clock,
    )
    for _, link in links:
        _record(session, session.get_one(PortalLink, link.id), EventType.PORTAL_LINK_EMAILED, actor, clock)


def sign_in_mail(business: str, links: list[tuple[str, IssuedLink]], locale: str) -> tuple[str, str]:
    """Subject and plain-text body: one link, or each account's name with its own link."""
    _ = translator(locale)
    subject = _("Your link to sign in to {business}").format(business=business)
    lines = [_("Hello,"), ""]
    if len(links) == 1:
        lines += [_("Here is your link to manage your account with {business}:").format(business=business), ""]
        lines += [links[0][1].url, ""]
    else:
        lines += [
            _("This email address has {count} accounts with {business}. Each link opens one of them:").format(
                count=len(links), business=business
            ),
            "",
        ]
        for name, link in links:
            lines += [name or _("Account"), link.url, ""]
    lines += [
        _("The link works once, within an hour. Keep it private: anyone with the link can see your account."),
        _("If you did not ask for it, you can ignore this email."),
        "",
        business,
    ]
    return subject, "\n".join(lines) + "\n"
