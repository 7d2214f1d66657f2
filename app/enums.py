"""The vocabulary's status values: the enums that models store, views carry and components show.

Plain Python, no database: services, views and components all speak it. A status group ("ended", "billable") is
a method of its enum, so that there is one definition of each.
"""

from __future__ import annotations

from enum import StrEnum


class SubscriptionStatus(StrEnum):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    UNPAID = "unpaid"
    INCOMPLETE = "incomplete"
    PAUSED = "paused"  # billing stopped for a while by the customer; the billing clock resumes it

    @classmethod
    def ended(cls) -> tuple[SubscriptionStatus, ...]:
        """Will not bill again: shown last in the portal, and cannot be canceled or changed."""
        return (cls.CANCELED, cls.INCOMPLETE)

    @classmethod
    def billable(cls) -> tuple[SubscriptionStatus, ...]:
        """Live subscriptions that the billing clock invoices at each period end."""
        return (cls.ACTIVE, cls.TRIALING, cls.PAST_DUE)

    @classmethod
    def on_the_clock(cls) -> tuple[SubscriptionStatus, ...]:
        """Whose periods the billing clock still moves on (unpaid ones keep renewing, without charging)."""
        return (*cls.billable(), cls.UNPAID)

    @classmethod
    def delinquent(cls) -> tuple[SubscriptionStatus, ...]:
        """Behind on payment: paying the last open invoice makes them active again."""
        return (cls.PAST_DUE, cls.UNPAID)

    @classmethod
    def by_urgency(cls) -> tuple[SubscriptionStatus, ...]:
        """Most urgent first, as the merchant's customer list orders a customer's statuses."""
        return (cls.PAST_DUE, cls.UNPAID, cls.INCOMPLETE, cls.ACTIVE, cls.TRIALING, cls.PAUSED, cls.CANCELED)

    @property
    def is_ended(self) -> bool:
        return self in self.ended()

    @property
    def can_change_plan(self) -> bool:
        return self in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING)


class PauseDuration(StrEnum):
    """How long a customer may pause a subscription: whole billing periods, or until they resume it."""

    ONE_PERIOD = "1"
    TWO_PERIODS = "2"
    THREE_PERIODS = "3"
    UNTIL_RESUMED = "until_resumed"

    @property
    def periods(self) -> int | None:
        """Billing periods without invoices; None when the customer resumes it themselves."""
        return None if self is PauseDuration.UNTIL_RESUMED else int(self.value)


class DiscountKind(StrEnum):
    """How a coupon (the retention offer) takes money off an invoice: a share of it, or a fixed amount."""

    PERCENT = "percent"  # value: 1-100
    AMOUNT = "amount"  # value: minor units of the merchant's default currency


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"

    @classmethod
    def customer_visible(cls) -> tuple[InvoiceStatus, ...]:
        """Issued invoices: drafts are the merchant's work in progress, void ones were never owed."""
        return (cls.OPEN, cls.PAID)


class PaymentStatus(StrEnum):
    """One attempt to charge an invoice (a payment intent at the gateway)."""

    PROCESSING = "processing"  # asked the gateway, answer not recorded yet
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REQUIRES_ACTION = "requires_action"  # the customer has to authenticate it (3-D Secure) in the portal
    CANCELED = "canceled"  # replaced by a newer attempt before the customer authenticated it

    @property
    def is_final(self) -> bool:
        return self in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.CANCELED)


class ChargeStatus(StrEnum):
    """What charging an invoice came to: paid, failed (with a message for the customer), waiting for the customer's
    authentication, or (rarely, for cards) still processing at the gateway, whose webhook settles it."""

    PAID = "paid"
    FAILED = "failed"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"


class PriceInterval(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"

    @property
    def max_count(self) -> int:
        """The longest billing cycle is a year, as at Stripe: 365 days, 52 weeks, 12 months or 1 year."""
        return {"day": 365, "week": 52, "month": 12, "year": 1}[self.value]


class CancelMode(StrEnum):
    IMMEDIATELY = "immediately"
    AT_PERIOD_END = "at_period_end"


class EventSource(StrEnum):
    MERCHANT = "merchant"
    PORTAL = "portal"
    SYSTEM = "system"
    API = "api"


class FailedPaymentAction(StrEnum):
    """What the billing clock does to a subscription once every retry of its invoice has failed."""

    MARK_UNPAID = "mark_unpaid"
    CANCEL = "cancel"


class WebhookDeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class BillingField(StrEnum):
    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"
    ADDRESS = "address"
    TAX_ID = "tax_id"


class PortalLinkStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class NewLinkOutcome(StrEnum):
    """What "Email me a new link" did, from an expired or revoked link."""

    SENT = "sent"
    RECENTLY_SENT = "recently_sent"  # one mail per customer per 10 minutes
    NO_EMAIL = "no_email"  # no address on file (or the customer is gone): ask the business


class CancellationReason(StrEnum):
    """Why a customer cancels, as the portal offers the choice (labels are English msgids)."""

    TOO_EXPENSIVE = "too_expensive"
    MISSING_FEATURES = "missing_features"
    SWITCHED_SERVICE = "switched_service"
    UNUSED = "unused"
    CUSTOMER_SERVICE = "customer_service"
    TOO_COMPLEX = "too_complex"
    LOW_QUALITY = "low_quality"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _CANCELLATION_REASON_LABELS[self]

    @classmethod
    def label_for(cls, value: str) -> str:
        """The label of a stored reason; a value this version does not know (or "") is shown as it is."""
        return cls(value).label if value in cls._value2member_map_ else value


_CANCELLATION_REASON_LABELS = {
    CancellationReason.TOO_EXPENSIVE: "It's too expensive",
    CancellationReason.MISSING_FEATURES: "Some features are missing",
    CancellationReason.SWITCHED_SERVICE: "I'm switching to a different service",
    CancellationReason.UNUSED: "I don't use the service enough",
    CancellationReason.CUSTOMER_SERVICE: "Customer service was less than expected",
    CancellationReason.TOO_COMPLEX: "Ease of use was less than expected",
    CancellationReason.LOW_QUALITY: "Quality was less than expected",
    CancellationReason.OTHER: "Other reason",
}


class EventType(StrEnum):
    """The event catalogue: every event the portal records, its label for people and what it means.

    Each event's `data` is `{"object": <the resource as the API returns it>}`, plus `"previous_attributes"` (the
    changed fields' old values) on `*.updated` events; `resource` names the object (`data.object.object`).
    """

    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_UPDATED = "customer.updated"
    CUSTOMER_DELETED = "customer.deleted"
    CUSTOMER_SUBSCRIPTION_CREATED = "customer.subscription.created"
    CUSTOMER_SUBSCRIPTION_UPDATED = "customer.subscription.updated"
    CUSTOMER_SUBSCRIPTION_DELETED = "customer.subscription.deleted"
    CUSTOMER_SUBSCRIPTION_PAUSED = "customer.subscription.paused"
    CUSTOMER_SUBSCRIPTION_RESUMED = "customer.subscription.resumed"
    CUSTOMER_SUBSCRIPTION_RESUBSCRIBED = "customer.subscription.resubscribed"
    CUSTOMER_SUBSCRIPTION_RETENTION_OFFERED = "customer.subscription.retention_offered"
    CUSTOMER_SUBSCRIPTION_RETENTION_ACCEPTED = "customer.subscription.retention_accepted"
    INVOICE_CREATED = "invoice.created"
    INVOICE_PAID = "invoice.paid"
    INVOICE_PAYMENT_FAILED = "invoice.payment_failed"
    INVOICE_PAYMENT_ACTION_REQUIRED = "invoice.payment_action_required"
    PAYMENT_METHOD_ATTACHED = "payment_method.attached"
    PAYMENT_METHOD_DETACHED = "payment_method.detached"
    PORTAL_LINK_CREATED = "portal.link.created"
    PORTAL_LINK_OPENED = "portal.link.opened"
    PORTAL_LINK_REVOKED = "portal.link.revoked"
    PORTAL_LINK_EMAILED = "portal.link.emailed"
    PRODUCT_CREATED = "product.created"
    PRODUCT_UPDATED = "product.updated"
    PRICE_CREATED = "price.created"
    PRICE_UPDATED = "price.updated"

    @property
    def label(self) -> str:
        """What happened, for people: "Invoice paid"."""
        return _EVENT_TYPES[self][0]

    @property
    def description(self) -> str:
        """One line on when it happens, for the webhook endpoint form and the README."""
        return _EVENT_TYPES[self][1]

    @property
    def resource(self) -> str:
        """The kind of object in `data.object` ("customer", "subscription", "invoice", …)."""
        return _EVENT_TYPES[self][2]

    @property
    def is_update(self) -> bool:
        """An update carries `data.previous_attributes` beside the object."""
        return self.value.endswith(".updated")

    @classmethod
    def label_for(cls, value: str) -> str:
        """The label of a stored type; one this version does not know reads as its dotted name in words."""
        if value in cls._value2member_map_:
            return cls(value).label
        words = value.replace("_", " ").replace(".", " ").split()
        return " ".join(words).capitalize() if words else "Event"


_EVENT_TYPES: dict[EventType, tuple[str, str, str]] = {
    EventType.CUSTOMER_CREATED: (
        "Customer created",
        "A customer was added: through the API, the dashboard or an import.",
        "customer",
    ),
    EventType.CUSTOMER_UPDATED: (
        "Customer updated",
        "A customer's details changed: billing details, shipping, default card or metadata, in the portal or by you.",
        "customer",
    ),
    EventType.CUSTOMER_DELETED: (
        "Customer deleted",
        "A customer was deleted: their portal links stop working and live subscriptions end; history is kept.",
        "customer",
    ),
    EventType.CUSTOMER_SUBSCRIPTION_CREATED: (
        "Subscription created",
        "A subscription was started for a customer: trialing, active, or incomplete until its first invoice is paid.",
        "subscription",
    ),
    EventType.CUSTOMER_SUBSCRIPTION_UPDATED: (
        "Subscription updated",
        "A subscription renewed or changed: its plan or status, or a cancellation, pause or plan change set for later.",
        "subscription",
    ),
    EventType.CUSTOMER_SUBSCRIPTION_DELETED: (
        "Subscription ended",
        "A subscription ended: canceled now, at the end of its period, or after its payments failed.",
        "subscription",
    ),
    EventType.CUSTOMER_SUBSCRIPTION_PAUSED: (
        "Subscription paused",
        "A pause the customer chose began at the end of the paid period: no invoices until it resumes.",
        "subscription",
    ),
    EventType.CUSTOMER_SUBSCRIPTION_RESUMED: (
        "Subscription resumed",
        "A paused subscription resumed, when its pause ended or the customer resumed it; a new period starts.",
        "subscription",
    ),
    EventType.CUSTOMER_SUBSCRIPTION_RESUBSCRIBED: (
        "Resubscribed",
        "A customer restarted an ended subscription in the portal; a new period starts and its invoice is charged now.",
        "subscription",
    ),
    EventType.CUSTOMER_SUBSCRIPTION_RETENTION_OFFERED: (
        "Retention offer made",
        "A customer chose to cancel and was offered the retention coupon first (once per subscription).",
        "subscription",
    ),
    EventType.CUSTOMER_SUBSCRIPTION_RETENTION_ACCEPTED: (
        "Retention offer accepted",
        "A customer accepted the retention coupon instead of canceling: it is taken off their next invoices.",
        "subscription",
    ),
    EventType.INVOICE_CREATED: (
        "Invoice created",
        "An invoice was issued: a renewal, or a plan change with an amount due now.",
        "invoice",
    ),
    EventType.INVOICE_PAID: (
        "Invoice paid",
        "An invoice was paid, by the billing clock's charge or by the customer in the portal.",
        "invoice",
    ),
    EventType.INVOICE_PAYMENT_FAILED: (
        "Invoice payment failed",
        "A charge for an invoice failed; the invoice's last_payment_error says why.",
        "invoice",
    ),
    EventType.INVOICE_PAYMENT_ACTION_REQUIRED: (
        "Invoice payment needs confirmation",
        "The customer's bank asks them to confirm a charge for an invoice (3-D Secure): Confirm payment in the portal.",
        "invoice",
    ),
    EventType.PAYMENT_METHOD_ATTACHED: ("Card added", "A customer added a card in the portal.", "payment_method"),
    EventType.PAYMENT_METHOD_DETACHED: (
        "Card removed",
        "A card was removed: by the customer in the portal, or at the payment gateway.",
        "payment_method",
    ),
    EventType.PORTAL_LINK_CREATED: (
        "Portal link created",
        "A portal link was issued, from the dashboard, the API or a customer's request by email.",
        "portal_session",
    ),
    EventType.PORTAL_LINK_OPENED: (
        "Opened the portal",
        "A customer opened a portal link for the first time.",
        "portal_session",
    ),
    EventType.PORTAL_LINK_REVOKED: (
        "Portal link revoked",
        "A portal link was revoked and stops working.",
        "portal_session",
    ),
    EventType.PORTAL_LINK_EMAILED: (
        "New portal link emailed",
        "A customer whose link had expired or was revoked had a new one sent to their email address.",
        "portal_session",
    ),
    EventType.PRODUCT_CREATED: (
        "Product created",
        "A product was added to the catalogue: on the Products page or through the API.",
        "product",
    ),
    EventType.PRODUCT_UPDATED: (
        "Product updated",
        "A product was renamed, described, archived (`active` false; its prices are archived too) or restored.",
        "product",
    ),
    EventType.PRICE_CREATED: (
        "Price created",
        "A price was added to a product; its amount, currency and interval never change.",
        "price",
    ),
    EventType.PRICE_UPDATED: (
        "Price updated",
        "A price's nickname changed, or it was archived (`active` false: no new subscriptions) or restored.",
        "price",
    ),
}


class EmailStatus(StrEnum):
    """Where a mail is on its way: queued for the sender, being sent (claimed), sent, given up, or kept locally."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    OUTBOX = "outbox"  # no SMTP server configured: kept in the local outbox (the Emails page), never sent


class PortalFlow(StrEnum):
    """A task a portal link can open straight at (`?flow=…`), like Stripe's portal `flow_data`."""

    PAYMENT_METHOD_UPDATE = "payment_method_update"
    SUBSCRIPTION_CANCEL = "subscription_cancel"  # with `subscription=sub_…`
    INVOICE = "invoice"  # with `invoice=in_…`: view it, pay it or confirm its payment


class MailKind(StrEnum):
    """The lifecycle mails the portal writes to customers; the merchant switches each on or off."""

    PAYMENT_FAILED = "payment_failed"
    ACTION_REQUIRED = "action_required"
    RECEIPT = "receipt"
    UPCOMING_RENEWAL = "upcoming_renewal"
    TRIAL_ENDING = "trial_ending"
    SUBSCRIPTION_CANCELED = "subscription_canceled"

    @property
    def label(self) -> str:
        return _MAIL_KINDS[self][0]

    @property
    def description(self) -> str:
        """When it is sent, for the settings page and the README."""
        return _MAIL_KINDS[self][1]


_MAIL_KINDS: dict[MailKind, tuple[str, str]] = {
    MailKind.PAYMENT_FAILED: (
        "Payment failed",
        "After each failed renewal charge: amount, card, next retry, and a button to update the card.",
    ),
    MailKind.ACTION_REQUIRED: (
        "Action required",
        "When the bank asks the customer to confirm a renewal charge (3-D Secure): a button opens the invoice.",
    ),
    MailKind.RECEIPT: ("Receipt", "For every paid invoice, with the invoice PDF attached."),
    MailKind.UPCOMING_RENEWAL: (
        "Upcoming renewal",
        "Some days before a subscription renews (yearly plans only, unless you include every plan).",
    ),
    MailKind.TRIAL_ENDING: ("Trial ending", "3 days before a free trial ends and the first charge is made."),
    MailKind.SUBSCRIPTION_CANCELED: (
        "Subscription canceled",
        "When a cancellation is made (now or at the period end) and when the subscription actually ends.",
    ),
}
