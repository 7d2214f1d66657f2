"""A customer's new billing email takes effect only once confirmed from the new address.

Whoever holds a portal link could otherwise change the email on file, after which "Email me a new link" (and the
sign-in page) would mail the attacker, and revoking the links would not help. So a change requested in the portal
mails a confirmation link to the NEW address (valid 24 hours, single use) and a notice to the OLD one with the
merchant's support contact; the stored email changes when the link is opened. A merchant editing the email changes
it directly (app/services/customers.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.clock import Clock
from app.config import Settings
from app.enums import EventType
from app.errors import EmailTaken, LinkExpired, LinkInvalid, LinkRevoked, LinkUsed, NotFound, ValidationFailed
from app.i18n import N_, translator
from app.models import Customer, EmailChange, EmailMessage, Merchant, PaymentMethod
from app.services.api_objects import CustomerObject
from app.services.customer_emails import is_live_email_clash
from app.services.emails import send_email
from app.services.events import Actor, record_event
from app.services.portal.access import owned_customer
from app.services.portal_links import PortalAccess, is_canonical_token, signed_serializer
from app.services.portal_settings import get_portal_settings

CONFIRMATION_LIFETIME = timedelta(hours=24)
CONFIRMATION_SALT = "customer-email-change"
CONFIRM_MAIL_KIND = "email_change_confirm"
# A portal link could otherwise mail any address again and again (Resend, or one change after another).
CONFIRMATIONS_PER_HOUR = 3
TOO_MANY_CONFIRMATIONS = N_(
    "We have sent several confirmation emails in the last hour. Please use the link in the latest one, "
    "or try again later."
)
NOTICE_MAIL_KIND = "email_change_notice"


@dataclass(frozen=True, slots=True)
class ConfirmedEmail:
    merchant_id: str
    customer_id: str
    email: str


def pending_change(session: Session, customer_id: str, now: datetime) -> EmailChange | None:
    """The customer's change waiting for confirmation, if any (the newest; older ones were canceled)."""
    return session.scalar(
        select(EmailChange)
        .where(
            EmailChange.customer_id == customer_id,
            EmailChange.confirmed_at.is_(None),
            EmailChange.canceled_at.is_(None),
            EmailChange.expires_at > now,
        )
        .order_by(EmailChange.created_at.desc())
        .limit(1)
    )


def request_email_change(
    *,
    session: Session,
    settings: Settings,
    access: PortalAccess,
    customer: Customer,
    new_email: str,
    locale: str,
    clock: Clock,
) -> EmailChange:
    """Start confirming `new_email` (already validated and normalised): mails to the new and the old address."""
    now = clock()
    _check_confirmation_quota(session, customer.id, now)
    _end_pending(session, customer.id, now)
    change = EmailChange(
        merchant_id=access.merchant_id,
        customer_id=customer.id,
        old_email=customer.email,
        new_email=new_email,
        locale=locale or customer.locale,
        created_at=now,
        expires_at=now + CONFIRMATION_LIFETIME,
    )
    session.add(change)
    session.flush()
    _send_confirmation(session, settings, change, clock)
    if customer.email:
        _send_notice(session, settings, change, clock)
    return change


def resend_email_change(*, session: Session, settings: Settings, access: PortalAccess, clock: Clock) -> None:
    """Mail the confirmation link again (a fresh 24 hours); NotFound when nothing is waiting."""
    customer = owned_customer(session, access)
    change = pending_change(session, customer.id, clock())
    if change is None:
        raise NotFound(N_("There is no email change waiting for confirmation."))
    _check_confirmation_quota(session, customer.id, clock())
    change.expires_at = clock() + CONFIRMATION_LIFETIME
    _send_confirmation(session, settings, change, clock)


def cancel_email_change(*, session: Session, access: PortalAccess, clock: Clock) -> None:
    """Forget the change waiting for confirmation: its link stops working. Nothing waiting: nothing to do."""
    customer = owned_customer(session, access)
    _end_pending(session, customer.id, clock())


def _check_confirmation_quota(session: Session, customer_id: str, now: datetime) -> None:
    sent = session.scalar(
        select(func.count())
        .select_from(EmailMessage)
        .where(
            EmailMessage.customer_id == customer_id,
            EmailMessage.kind == CONFIRM_MAIL_KIND,
            EmailMessage.created_at > now - timedelta(hours=1),
        )
    )
    if (sent or 0) >= CONFIRMATIONS_PER_HOUR:
        raise ValidationFailed({"email": TOO_MANY_CONFIRMATIONS})


def _end_pending(session: Session, customer_id: str, now: datetime) -> None:
    session.execute(
        update(EmailChange)
        .where(
            EmailChange.customer_id == customer_id,
            EmailChange.confirmed_at.is_(None),
            EmailChange.canceled_at.is_(None),
        )
        .values(canceled_at=now)
        .execution_options(synchronize_session=False)
    )


def confirm_email_change(
    *, session: Session, settings: Settings, token: str, actor: Actor, clock: Clock
) -> ConfirmedEmail:
    """Apply the change a confirmation link names, once. Raises LinkExpired, LinkUsed, LinkRevoked or LinkInvalid."""
    if not is_canonical_token(token):
        raise LinkInvalid()
    try:
        change_id = signed_serializer(settings, clock, salt=CONFIRMATION_SALT).loads(
            token,
            max_age=int(CONFIRMATION_LIFETIME.total_seconds()) * 2,  # the row's expiry decides; resends extend it
        )
    except SignatureExpired:
        raise LinkExpired() from None
    except BadSignature:
        raise LinkInvalid() from None
    change = session.get(EmailChange, change_id) if isinstance(change_id, str) else None
    if change is None:
        raise LinkInvalid()
    now = clock()
    known = {"merchant_id": change.merchant_id, "customer_id": change.customer_id}
    if change.confirmed_at is not None:
        raise LinkUsed(**known)
    customer = session.get(Customer, change.customer_id)
    if change.canceled_at is not None or customer is None or customer.deleted_at is not None:
        raise LinkRevoked(**known)
    if change.expires_at <= now:
        raise LinkExpired(**known)
    if _has_other_customer(session, customer, change.new_email):
        raise EmailTaken(**known)
    taken = session.execute(
        update(EmailChange)
        .where(EmailChange.id == change.id, EmailChange.confirmed_at.is_(None))
        .values(confirmed_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkUsed(**known)
    default_card = session.scalar(
        select(PaymentMethod.id).where(PaymentMethod.customer_id == customer.id, PaymentMethod.is_default)
    )
    before = CustomerObject.from_row(customer, default_payment_method=default_card)
    customer.email = change.new_email
    try:
        session.flush()
    except IntegrityError as error:  # another customer got the address since the check
        if not is_live_email_clash(error):
            raise
        raise EmailTaken(**known) from None
    record_event(
        session=session,
        merchant_id=customer.merchant_id,
        customer_id=customer.id,
        event_type=EventType.CUSTOMER_UPDATED,
        resource=CustomerObject.from_row(customer, default_payment_method=default_card),
        previous=before,
        actor=actor,
        clock=clock,
    )
    return ConfirmedEmail(merchant_id=customer.merchant_id, customer_id=customer.id, email=customer.email)


def _has_other_customer(session: Session, customer: Customer, email: str) -> bool:
    """Another live customer of the merchant has this address (one customer per address and merchant)."""
    other = session.scalar(
        select(Customer.id).where(
            Customer.merchant_id == customer.merchant_id,
            Customer.email == email,
            Customer.deleted_at.is_(None),
            Customer.id != customer.id,
        )
    )
    return other is not None


def _send_confirmation(session: Session, settings: Settings, change: EmailChange, clock: Clock) -> None:
    merchant = session.get_one(Merchant, change.merchant_id)
    business = merchant.public_business_name
    token = signed_serializer(settings, clock, salt=CONFIRMATION_SALT).dumps(change.id)
    url = f"{settings.effective_public_url}/p/confirm-email/{token}"
    _ = translator(change.locale)
    body = [
        _("Hello,"),
        "",
        _("Please confirm that this is your new email address for your account with {business}:").format(
            business=business
        ),
        "",
        url,
        "",
        _("The link works once, within 24 hours. Until then, your email address stays as it was."),
        _("If you did not ask for this change, you can ignore this email."),
        "",
        business,
    ]
    send_email(
        session=session,
        settings=settings,
        merchant_id=merchant.id,
        customer_id=change.customer_id,
        to_address=change.new_email,
        subject=_("Confirm your new email address for {business}").format(business=business),
        body="\n".join(body) + "\n",
        sender_name=business,
        reply_to=_support_email(session, merchant),
        kind=CONFIRM_MAIL_KIND,
        clock=clock,
    )


def _send_notice(session: Session, settings: Settings, change: EmailChange, clock: Clock) -> None:
    merchant = session.get_one(Merchant, change.merchant_id)
    business = merchant.public_business_name
    contact = _support_email(session, merchant)
    _ = translator(change.locale)
    body = [
        _("Hello,"),
        "",
        _("Someone asked to change the email address of your account with {business} to {email}.").format(
            business=business, email=change.new_email
        ),
        _("The change takes effect only when it is confirmed from the new address."),
        "",
        _("If this was not you, contact {business} right away:").format(business=business)
        if contact
        else _("If this was not you, contact {business} right away.").format(business=business),
    ]
    if contact:
        body.append(contact)
    send_email(
        session=session,
        settings=settings,
        merchant_id=merchant.id,
        customer_id=change.customer_id,
        to_address=change.old_email,
        subject=_("A change of your email address was requested at {business}").format(business=business),
        body="\n".join([*body, "", business]) + "\n",
        sender_name=business,
        reply_to=contact,
        kind=NOTICE_MAIL_KIND,
        clock=clock,
    )


def _support_email(session: Session, merchant: Merchant) -> str:
    return get_portal_settings(session=session, merchant_id=merchant.id).support_email or merchant.support_email
