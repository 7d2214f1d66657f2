"""Lifecycle mails: queued where their events happen, written (language, branding, portal link) when they are sent.

The hooks (`payment_failed`, `action_required`, `invoice_paid`, `subscription_canceled`, `send_reminders`) run in
the event's own transaction: the mail is queued with the event, or not at all. They queue facts only; the sender
(app/services/emails.py) calls `write_queued` to turn them into the mail, with a fresh portal link that opens at the
mail's task. A mail the merchant switched off is not queued; one with an `occasion` (a receipt for an invoice, a
reminder for a period) is queued at most once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, selectinload

from app.config import Settings
from app.enums import EmailStatus, MailKind, PortalFlow, PriceInterval, SubscriptionStatus
from app.i18n import negotiate_locale
from app.models import (
    Customer,
    EmailMessage,
    Invoice,
    MailSettings,
    Merchant,
    PaymentMethod,
    Price,
    Subscription,
    SubscriptionItem,
    new_id,
)
from app.services.mail_settings import get_mail_settings
from app.services.mail_text import BUTTON_FLOWS, MailBranding, compose, render
from app.services.portal_links import issue_link
from app.services.portal_settings import branding_image_url, get_portal_settings
from app.views import PortalSettingsView, PortalTask
from app.views.mails import RenderedMail

TRIAL_REMINDER = timedelta(days=3)


def queue_mail(
    session: Session,
    *,
    kind: MailKind,
    customer_id: str,
    facts: dict[str, Any],
    moment: datetime,
    occasion: str | None = None,
    attachment_invoice_id: str | None = None,
) -> bool:
    """Queue one lifecycle mail to the customer; False when switched off, without an address, or already queued."""
    customer = session.get(Customer, customer_id)
    if customer is None or not customer.email or customer.deleted_at is not None:
        return False
    if kind not in get_mail_settings(session=session, merchant_id=customer.merchant_id).enabled:
        return False
    if occasion is not None:
        occasion = f"{kind.value}:{occasion}"[:120]
        taken = select(EmailMessage.id).where(
            EmailMessage.merchant_id == customer.merchant_id, EmailMessage.occasion == occasion
        )
        if session.scalar(taken) is not None:
            return False
    session.add(
        EmailMessage(
            merchant_id=customer.merchant_id,
            customer_id=customer.id,
            kind=kind.value,
            to_address=customer.email,
            subject=kind.label,  # until it is written in the customer's language
            body="",
            facts=facts,
            occasion=occasion,
            attachment_invoice_id=attachment_invoice_id,
            status=EmailStatus.QUEUED,
            created_at=moment,
        )
    )
    session.flush()
    return True


def _card_facts(session: Session, customer_id: str) -> dict[str, Any]:
    card = session.scalars(
        select(PaymentMethod).where(PaymentMethod.customer_id == customer_id, PaymentMethod.is_default)
    ).first()
    return {"card_brand": card.brand, "card_last4": card.last4} if card else {}


def payment_failed(session: Session, invoice: Invoice, moment: datetime) -> None:
    """A renewal charge failed (the first failure and each retry): amount, card, next retry."""
    next_attempt = invoice.next_payment_attempt.isoformat() if invoice.next_payment_attempt else None
    facts = {
        "invoice_id": invoice.id,
        "amount": invoice.amount_due,
        "currency": invoice.currency,
        "next_attempt": next_attempt,
        **_card_facts(session, invoice.customer_id),
    }
    queue_mail(session, kind=MailKind.PAYMENT_FAILED, customer_id=invoice.customer_id, facts=facts, moment=moment)


def action_required(session: Session, invoice: Invoice, moment: datetime) -> None:
    """The bank asks the customer to confirm a renewal charge."""
    facts = {"invoice_id": invoice.id, "amount": invoice.amount_due, "currency": invoice.currency}
    queue_mail(session, kind=MailKind.ACTION_REQUIRED, customer_id=invoice.customer_id, facts=facts, moment=moment)


def invoice_paid(session: Session, invoice: Invoice, moment: datetime) -> None:
    """A receipt, with the invoice's PDF, once per invoice."""
    if invoice.amount_paid <= 0:
        return  # nothing was paid (a zero invoice): no receipt
    facts = {
        "invoice_id": invoice.id,
        "number": invoice.number,
        "amount": invoice.amount_paid,
        "currency": invoice.currency,
        "at": (invoice.paid_at or moment).isoformat(),
    }
    queue_mail(
        session,
        kind=MailKind.RECEIPT,
        customer_id=invoice.customer_id,
        facts=facts,
        moment=moment,
        occasion=invoice.id,
        attachment_invoice_id=invoice.id,
    )


def receipts_in_bulk(session: Session, invoices: list[dict[str, Any]]) -> None:
    """Receipts for invoices the billing clock's bulk renewal paid (app/services/renewals.py), in one insert."""
    customers = {
        row.id: row
        for row in session.execute(
            select(Customer.id, Customer.email, Customer.merchant_id).where(
                Customer.id.in_({invoice["customer_id"] for invoice in invoices}), Customer.deleted_at.is_(None)
            )
        )
    }
    enabled = {
        merchant_id: MailKind.RECEIPT in get_mail_settings(session=session, merchant_id=merchant_id).enabled
        for merchant_id in {invoice["merchant_id"] for invoice in invoices}
    }
    rows = [
        {
            "id": new_id("em")(),
            "merchant_id": invoice["merchant_id"],
            "customer_id": invoice["customer_id"],
            "kind": MailKind.RECEIPT.value,
            "to_address": customers[invoice["customer_id"]].email,
            "subject": MailKind.RECEIPT.label,
            "body": "",
            "facts": {
                "invoice_id": invoice["id"],
                "number": invoice["number"],
                "amount": invoice["amount_paid"],
                "currency": invoice["currency"],
                "at": invoice["paid_at"].isoformat(),
            },
            "occasion": f"{MailKind.RECEIPT.value}:{invoice['id']}",
            "attachment_invoice_id": invoice["id"],
            "status": EmailStatus.QUEUED,
            "created_at": invoice["paid_at"],
        }
        for invoice in invoices
        if enabled[invoice["merchant_id"]]
        and invoice["customer_id"] in customers
        and customers[invoice["customer_id"]].email
        and invoice["amount_paid"] > 0
    ]
    if rows:
        session.execute(insert(EmailMessage), rows)


def _plan(subscription: Subscription) -> tuple[str, int, str]:
    """Product name(s), amount per period and currency of a subscription."""
    items = subscription.items
    names = ", ".join(dict.fromkeys(item.price.product.name for item in items))
    amount = sum(item.price.unit_amount * item.quantity for item in items)
    return names, amount, items[0].price.currency if items else "usd"


def subscription_canceled(session: Session, subscription: Subscription, moment: datetime, *, ended: bool) -> None:
    """A cancellation was made (ends at the period end) or the subscription ended now."""
    product, amount, currency = _plan(subscription)
    end = subscription.ended_at if ended and subscription.ended_at else subscription.current_period_end
    facts = {
        "subscription_id": subscription.id,
        "product": product,
        "amount": amount,
        "currency": currency,
        "at": end.isoformat(),
        "ended": ended,
    }
    occasion = f"{subscription.id}:ended" if ended else f"{subscription.id}:{moment.isoformat()}"
    queue_mail(
        session,
        kind=MailKind.SUBSCRIPTION_CANCELED,
        customer_id=subscription.customer_id,
        facts=facts,
        moment=moment,
        occasion=occasion,
    )


def send_reminders(session: Session, now: datetime) -> int:
    """Queue the renewal reminders and trial-ending notices that are due by `now` (each once); returns how many."""
    # Only what can be due: trials ending within 3 days, and renewals within the longest reminder of a merchant,
    # of yearly plans or of merchants that announce every plan's renewal.
    longest = session.scalar(select(func.max(MailSettings.renewal_reminder_days))) or 7
    all_plans = select(MailSettings.merchant_id).where(MailSettings.renewal_reminder_all_plans)
    yearly = (
        select(SubscriptionItem.subscription_id)
        .join(Price, Price.id == SubscriptionItem.price_id)
        .where(Price.interval == PriceInterval.YEAR)
    )
    trial_ends = (Subscription.status == SubscriptionStatus.TRIALING) & (Subscription.trial_end <= now + TRIAL_REMINDER)
    renews = (
        (Subscription.status == SubscriptionStatus.ACTIVE)
        & (Subscription.current_period_end <= now + timedelta(days=max(longest, 7)))
        & (Subscription.id.in_(yearly) | Subscription.merchant_id.in_(all_plans))
    )
    query = (
        select(Subscription)
        .where(
            Subscription.cancel_at_period_end.is_(False),
            Subscription.current_period_end > now,
            trial_ends | renews,
        )
        .options(selectinload(Subscription.items).selectinload(SubscriptionItem.price).selectinload(Price.product))
        .order_by(Subscription.merchant_id, Subscription.id)
    )
    queued = 0
    settings_by_merchant: dict[str, Any] = {}
    for subscription in session.scalars(query):
        merchant_id = subscription.merchant_id
        if merchant_id not in settings_by_merchant:
            settings_by_merchant[merchant_id] = get_mail_settings(session=session, merchant_id=merchant_id)
        mail_settings = settings_by_merchant[merchant_id]
        product, amount, currency = _plan(subscription)
        facts = {"subscription_id": subscription.id, "product": product, "amount": amount, "currency": currency}
        if subscription.status == SubscriptionStatus.TRIALING and subscription.trial_end is not None:
            if subscription.trial_end - TRIAL_REMINDER <= now < subscription.trial_end:
                queued += queue_mail(
                    session,
                    kind=MailKind.TRIAL_ENDING,
                    customer_id=subscription.customer_id,
                    facts={**facts, "at": subscription.trial_end.isoformat()},
                    moment=now,
                    occasion=f"{subscription.id}:{subscription.trial_end.isoformat()}",
                )
            continue
        yearly = all(item.price.interval == PriceInterval.YEAR for item in subscription.items)
        due = subscription.current_period_end - timedelta(days=mail_settings.renewal_reminder_days) <= now
        if due and (yearly or mail_settings.renewal_reminder_all_plans):
            queued += queue_mail(
                session,
                kind=MailKind.UPCOMING_RENEWAL,
                customer_id=subscription.customer_id,
                facts={**facts, "at": subscription.current_period_end.isoformat()},
                moment=now,
                occasion=f"{subscription.id}:{subscription.current_period_end.isoformat()}",
            )
    return queued


def task_for(kind: MailKind, facts: dict[str, Any]) -> PortalTask | None:
    """The portal task a mail's button opens."""
    flow = BUTTON_FLOWS[kind]
    if flow is None:
        return None
    if flow == PortalFlow.INVOICE:
        return PortalTask(flow=flow, invoice_id=str(facts.get("invoice_id", "")))
    return PortalTask(flow=flow)


def write_queued(session: Session, settings: Settings, message: EmailMessage, now: datetime) -> None:
    """Write a queued lifecycle mail: in the customer's language and the merchant's branding, with a portal link."""
    kind = MailKind(message.kind)
    facts = message.facts or {}
    customer = session.get_one(Customer, message.customer_id)
    merchant = session.get_one(Merchant, message.merchant_id)
    portal_settings = get_portal_settings(session=session, merchant_id=merchant.id)
    mail_settings = get_mail_settings(session=session, merchant_id=merchant.id)
    link = issue_link(
        session=session,
        settings=settings,
        merchant_id=merchant.id,
        customer_id=customer.id,
        created_by=f"email:{kind.value}",
        clock=lambda: now,
    )
    support = portal_settings.support_email or merchant.support_email
    logo = branding_image_url(portal_settings, "logo")
    branding = MailBranding(
        business_name=merchant.public_business_name,
        brand_color=portal_settings.brand_color,
        logo_url=f"{settings.effective_public_url}{logo}" if logo else None,
        support_email=support,
    )
    from app.services.portal.flows import task_query  # the portal package imports the charges that import this

    locale = negotiate_locale(customer.locale, "")
    content = compose(
        kind,
        facts,
        customer_name=customer.name,
        locale=locale,
        time_zone=merchant.time_zone,
        branding=branding,
        button_url=link.url + task_query(task_for(kind, facts)),
    )
    mail = render(content, branding, locale)
    message.subject = " ".join(mail.subject.split())[:200]
    message.body, message.html_body = mail.text, mail.html
    message.sender_name = " ".join(merchant.public_business_name.split())[:120]
    message.reply_to = mail_settings.reply_to or support


def sample_mail(
    kind: MailKind,
    *,
    portal_settings: PortalSettingsView,
    business_name: str,
    merchant_support_email: str,
    time_zone: str,
    public_url: str,
    locale: str,
    now: datetime,
) -> RenderedMail:
    """The mail as the settings preview's sample customer (Jenny Rosen) would get it, with the draft's branding."""
    facts: dict[str, Any] = {
        "amount": 2900,
        "currency": "usd",
        "card_brand": "visa",
        "card_last4": "4242",
        "next_attempt": (now + timedelta(days=3)).isoformat(),
        "invoice_id": "in_sample",
        "number": "ACME-0042",
        "product": "Team",
        "at": (now + timedelta(days=7)).isoformat(),
        "ended": False,
    }
    logo = branding_image_url(portal_settings, "logo")
    branding = MailBranding(
        business_name=business_name,
        brand_color=portal_settings.brand_color,
        logo_url=f"{public_url}{logo}" if logo else None,
        support_email=portal_settings.support_email or merchant_support_email,
    )
    content = compose(
        kind,
        facts,
        customer_name="Jenny Rosen",
        locale=locale,
        time_zone=time_zone,
        branding=branding,
        button_url=f"{public_url}/portal/sample",
    )
    return render(content, branding, locale)
