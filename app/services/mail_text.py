"""The lifecycle mails' words and layout: what each mail says in the customer's language, as HTML and plain text.

Pure functions of a mail's facts (as the event left them), the merchant's branding and the customer's locale; no
database. HTML comes from a Jinja2 template with autoescaping on, so every value (business and customer names,
product names, amounts) is escaped; colours must be `#rrggbb` and links http(s), or they are replaced.
Texts are English msgids of the `mails` catalogs (app/locales/<lang>/LC_MESSAGES/mails.po).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment, StrictUndefined

from app.colors import readable_text_on
from app.enums import MailKind, PortalFlow
from app.formatting import format_date
from app.i18n import translator
from app.money import format_money
from app.views.mails import RenderedMail

_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
DEFAULT_BRAND = "#635bff"
# Which portal task each mail's button opens (None: the portal's start).
BUTTON_FLOWS: dict[MailKind, PortalFlow | None] = {
    MailKind.PAYMENT_FAILED: PortalFlow.PAYMENT_METHOD_UPDATE,
    MailKind.ACTION_REQUIRED: PortalFlow.INVOICE,
    MailKind.RECEIPT: PortalFlow.INVOICE,
    MailKind.UPCOMING_RENEWAL: None,
    MailKind.TRIAL_ENDING: None,
    MailKind.SUBSCRIPTION_CANCELED: None,
}


@dataclass(frozen=True, slots=True)
class MailBranding:
    business_name: str
    brand_color: str
    logo_url: str | None  # absolute http(s) URL of the merchant's logo, or None
    support_email: str


@dataclass(frozen=True, slots=True)
class MailContent:
    subject: str
    heading: str
    greeting: str
    paragraphs: tuple[str, ...]
    facts: tuple[tuple[str, str], ...]
    button: tuple[str, str] | None  # (label, url)
    footer: tuple[str, ...]


def safe_color(value: str, fallback: str = DEFAULT_BRAND) -> str:
    return value if _COLOR.fullmatch(value or "") else fallback


def safe_url(value: str | None) -> str | None:
    """Only http(s) addresses without spaces or quotes go into an href or src."""
    if not value or not value.startswith(("https://", "http://")) or any(c in value for c in " \"'<>\n\r\t"):
        return None
    return value


def _card(facts: dict[str, Any], _: Any) -> str:
    if not facts.get("card_last4"):
        return ""
    return _("{brand} ending in {last4}").format(
        brand=str(facts.get("card_brand") or "card").title(), last4=facts["card_last4"]
    )


def compose(
    kind: MailKind,
    facts: dict[str, Any],
    *,
    customer_name: str,
    locale: str,
    time_zone: str,
    branding: MailBranding,
    button_url: str,
) -> MailContent:
    """What the mail says, translated; `facts` holds amounts in minor units and ISO dates."""
    _ = translator(locale, "mails")

    def date(key: str) -> str:
        value = facts.get(key)
        return format_date(datetime.fromisoformat(value), locale, time_zone) if value else ""

    amount = format_money(int(facts.get("amount", 0)), str(facts.get("currency", "usd")), locale)
    business = branding.business_name
    product = str(facts.get("product", ""))
    paragraphs: list[str] = []
    rows: list[tuple[str, str]] = []
    if kind == MailKind.PAYMENT_FAILED:
        card = _card(facts, _)
        subject = _("Your payment to {business} failed").format(business=business)
        heading = _("We couldn't take your payment")
        paragraphs.append(
            _("We tried to charge {amount} to your {card}, but the payment failed.").format(amount=amount, card=card)
            if card
            else _("We tried to charge {amount}, but there is no card on file.").format(amount=amount)
        )
        if facts.get("next_attempt"):
            paragraphs.append(
                _("We'll try again on {date}. Update your card before then to keep your subscription active.").format(
                    date=date("next_attempt")
                )
            )
            rows.append((_("Next attempt"), date("next_attempt")))
        else:
            paragraphs.append(_("This was our last attempt. Update your card and pay the open invoice."))
        rows[:0] = [(_("Amount"), amount)] + ([(_("Card"), card)] if card else [])
        button = _("Update payment method")
    elif kind == MailKind.ACTION_REQUIRED:
        subject = _("Confirm your payment to {business}").format(business=business)
        heading = _("Your bank asks you to confirm a payment")
        paragraphs.append(_("To complete your payment of {amount}, confirm it with your bank.").format(amount=amount))
        rows.append((_("Amount"), amount))
        button = _("Confirm payment")
    elif kind == MailKind.RECEIPT:
        subject = _("Your receipt from {business}").format(business=business)
        heading = _("Thank you for your payment")
        paragraphs.append(_("We received your payment of {amount}. The invoice is attached.").format(amount=amount))
        rows += [(_("Invoice"), str(facts.get("number", ""))), (_("Amount paid"), amount), (_("Paid on"), date("at"))]
        button = _("View invoice")
    elif kind == MailKind.UPCOMING_RENEWAL:
        subject = _("Your {product} subscription renews on {date}").format(product=product, date=date("at"))
        heading = _("Your subscription renews soon")
        paragraphs.append(
            _("Your {product} subscription renews on {date} for {amount}.").format(
                product=product, date=date("at"), amount=amount
            )
        )
        paragraphs.append(_("Nothing to do if you'd like to continue."))
        button = _("Manage subscription")
    elif kind == MailKind.TRIAL_ENDING:
        subject = _("Your {product} trial ends on {date}").format(product=product, date=date("at"))
        heading = _("Your free trial ends soon")
        paragraphs.append(
            _("Your free trial of {product} ends on {date}. Then your subscription costs {amount}.").format(
                product=product, date=date("at"), amount=amount
            )
        )
        button = _("Manage subscription")
    else:
        if facts.get("ended"):
            subject = _("Your {product} subscription has ended").format(product=product)
            heading = _("Your subscription has ended")
            paragraphs.append(
                _("Your {product} subscription ended on {date}.").format(product=product, date=date("at"))
            )
        else:
            subject = _("Your {product} subscription will end on {date}").format(product=product, date=date("at"))
            heading = _("Your subscription is canceled")
            paragraphs.append(
                _("Your {product} subscription is canceled and ends on {date}. You can use it until then.").format(
                    product=product, date=date("at")
                )
            )
        button = _("Manage subscription")
    greeting = _("Hello {name},").format(name=customer_name) if customer_name else _("Hello,")
    footer = [_("You get this email because you have an account with {business}.").format(business=business)]
    if branding.support_email:
        footer.insert(0, _("Questions? Reply to this email or write to {email}.").format(email=branding.support_email))
    url = safe_url(button_url)
    return MailContent(
        subject=subject,
        heading=heading,
        greeting=greeting,
        paragraphs=tuple(paragraphs),
        facts=tuple(rows),
        button=(button, url) if url else None,
        footer=tuple(footer),
    )


_HTML = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ mail.subject }}</title></head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Helvetica,Arial,sans-serif;color:#1a1f36">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0">
<tr><td align="center">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"
 style="max-width:560px;background:#ffffff;border-radius:8px;overflow:hidden">
<tr><td style="background:{{ brand }};padding:20px 28px;color:{{ on_brand }};font-size:18px;font-weight:bold">
{% if logo_url %}<img src="{{ logo_url }}" alt="{{ business }}" height="36" style="display:block;max-height:36px">
{% else %}{{ business }}{% endif %}
</td></tr>
<tr><td style="padding:28px">
<h1 style="margin:0 0 16px;font-size:20px">{{ mail.heading }}</h1>
<p style="margin:0 0 12px;line-height:1.5">{{ mail.greeting }}</p>
{% for paragraph in mail.paragraphs %}<p style="margin:0 0 12px;line-height:1.5">{{ paragraph }}</p>
{% endfor %}
{% if mail.facts %}<table role="presentation" cellpadding="0" cellspacing="0" style="margin:8px 0 16px;width:100%">
{% for label, value in mail.facts %}<tr>
<td style="padding:4px 0;color:#5b6275">{{ label }}</td><td style="padding:4px 0;text-align:right">{{ value }}</td>
</tr>{% endfor %}</table>{% endif %}
{% if mail.button %}<p style="margin:24px 0"><a href="{{ mail.button[1] }}"
 style="background:{{ brand }};color:{{ on_brand }};padding:12px 20px;border-radius:6px;text-decoration:none;
display:inline-block;font-weight:bold">{{ mail.button[0] }}</a></p>{% endif %}
</td></tr>
<tr><td style="padding:16px 28px;border-top:1px solid #e3e8ee;color:#5b6275;font-size:12px;line-height:1.5">
{% for line in mail.footer %}<p style="margin:0 0 4px">{{ line }}</p>{% endfor %}
</td></tr></table>
</td></tr></table>
</body></html>
"""

_TEXT = """{{ mail.greeting }}

{% for paragraph in mail.paragraphs %}{{ paragraph }}

{% endfor %}{% for label, value in mail.facts %}{{ label }}: {{ value }}
{% endfor %}{% if mail.button %}
{{ mail.button[0] }}: {{ mail.button[1] }}
{% endif %}
--
{{ business }}
{% for line in mail.footer %}{{ line }}
{% endfor %}"""

_html = Environment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True).from_string(_HTML)
# The plain-text part is no HTML: escaping would show customers "&amp;" in names.
_text = Environment(autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True).from_string(_TEXT)  # noqa: S701


def render(content: MailContent, branding: MailBranding, locale: str) -> RenderedMail:
    """The mail's HTML part (every value escaped by the template) and plain-text part."""
    brand = safe_color(branding.brand_color)
    on_brand = readable_text_on(brand)
    values = {
        "mail": content,
        "business": branding.business_name,
        "brand": brand,
        "on_brand": on_brand,
        "logo_url": safe_url(branding.logo_url),
        "lang": locale.split("_")[0],
    }
    return RenderedMail(subject=content.subject, text=_text.render(values), html=_html.render(values))
