"""What the portal can do, as one protocol: live actions call the services, preview actions only explain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn, Protocol

from app.errors import Forbidden, NotFound
from app.views import (
    BillingDetailsInput,
    CardSetupView,
    ChargeOutcome,
    CustomerPortalData,
    InvoicePage,
    InvoiceView,
    PaymentAuthentication,
    ProrationView,
    RetentionOfferView,
    ShippingInput,
    SubscriptionView,
)

PREVIEW_MESSAGE = "Disabled in preview: customers can do this in the portal."
INVOICE_PAGE_SIZE = 10


class PortalActions(Protocol):
    """The portal's service calls without session or link: the implementation knows whose portal it is.

    Reads return views; writes return nothing (the portal reloads) and raise the services' domain errors.
    """

    def reload(self) -> CustomerPortalData: ...

    def list_invoices(self, status: str | None, page: int) -> InvoicePage: ...

    def get_invoice(self, invoice_id: str) -> InvoiceView: ...

    def invoice_pdf(self, invoice_id: str, locale: str) -> bytes: ...

    def pay_invoice(self, invoice_id: str) -> ChargeOutcome:
        """Paid, failed (`failure_message` says why) or requires_action (confirm it with `payment_authentication`)."""
        ...

    def payment_authentication(self, invoice_id: str) -> PaymentAuthentication:
        """What the browser needs to let the customer confirm the invoice's payment with their bank."""
        ...

    def complete_payment(self, invoice_id: str, confirmation: str) -> ChargeOutcome:
        """The payment after the customer answered their bank in the browser (`confirmation` from the gateway)."""
        ...

    def cancel_subscription(self, subscription_id: str, reason: str, comment: str) -> None: ...

    def undo_cancellation(self, subscription_id: str) -> None: ...

    def preview_plan_change(self, subscription_id: str, price_id: str, quantity: int) -> ProrationView: ...

    def change_plan(self, subscription_id: str, price_id: str, quantity: int) -> SubscriptionView: ...

    def cancel_scheduled_change(self, subscription_id: str) -> None: ...

    def pause_subscription(self, subscription_id: str, duration: str) -> None: ...

    def resume_subscription(self, subscription_id: str) -> None: ...

    def resubscribe(self, subscription_id: str, price_id: str | None) -> ChargeOutcome:
        """Restart an ended subscription, charged now: paid, failed, or requires_action (confirm it)."""
        ...

    def make_retention_offer(self, subscription_id: str) -> RetentionOfferView | None:
        """The customer chose to cancel: the coupon to offer first (recorded), or None to go on canceling."""
        ...

    def accept_retention_offer(self, subscription_id: str) -> None: ...

    def start_card_setup(self) -> CardSetupView:
        """A card setup for the gateway's card element to confirm in the browser."""
        ...

    def add_card(self, setup_result: str, cardholder_name: str, make_default: bool) -> None:
        """Save the card of a setup the browser confirmed (`setup_result` from the gateway)."""
        ...

    def card_error(self, code: str, decline_code: str) -> str:
        """The customer's message (an English msgid) for an error the gateway gave in the browser."""
        ...

    def set_default_card(self, payment_method_id: str) -> None: ...

    def remove_card(self, payment_method_id: str) -> None: ...

    def update_billing_details(self, details: BillingDetailsInput) -> None:
        """Save the details; a new email is mailed for confirmation instead of saved."""
        ...

    def resend_email_change(self) -> None: ...

    def cancel_email_change(self) -> None: ...

    def update_shipping(self, shipping: ShippingInput) -> None: ...


class PreviewActions:
    """For the merchant's settings preview: reads come from the sample (or chosen) customer, writes are refused."""

    def __init__(self, data: CustomerPortalData, invoices: Sequence[InvoiceView] | None = None) -> None:
        self._data = data
        self._invoices = tuple(invoices) if invoices is not None else data.invoices.invoices

    def reload(self) -> CustomerPortalData:
        return self._data

    def list_invoices(self, status: str | None, page: int) -> InvoicePage:
        return InvoicePage.of_list(self._invoices, status=status, page=page, page_size=INVOICE_PAGE_SIZE)

    def get_invoice(self, invoice_id: str) -> InvoiceView:
        invoice = next((invoice for invoice in self._invoices if invoice.id == invoice_id), None)
        if invoice is None:
            raise NotFound("invoice")
        return invoice

    @staticmethod
    def _refuse() -> NoReturn:
        raise Forbidden(PREVIEW_MESSAGE)

    def invoice_pdf(self, invoice_id: str, locale: str) -> bytes:
        self._refuse()

    def pay_invoice(self, invoice_id: str) -> ChargeOutcome:
        self._refuse()

    def payment_authentication(self, invoice_id: str) -> PaymentAuthentication:
        self._refuse()

    def complete_payment(self, invoice_id: str, confirmation: str) -> ChargeOutcome:
        self._refuse()

    def cancel_subscription(self, subscription_id: str, reason: str, comment: str) -> None:
        self._refuse()

    def undo_cancellation(self, subscription_id: str) -> None:
        self._refuse()

    def preview_plan_change(self, subscription_id: str, price_id: str, quantity: int) -> ProrationView:
        self._refuse()

    def change_plan(self, subscription_id: str, price_id: str, quantity: int) -> SubscriptionView:
        self._refuse()

    def cancel_scheduled_change(self, subscription_id: str) -> None:
        self._refuse()

    def pause_subscription(self, subscription_id: str, duration: str) -> None:
        self._refuse()

    def resume_subscription(self, subscription_id: str) -> None:
        self._refuse()

    def resubscribe(self, subscription_id: str, price_id: str | None) -> ChargeOutcome:
        self._refuse()

    def make_retention_offer(self, subscription_id: str) -> RetentionOfferView | None:
        self._refuse()

    def accept_retention_offer(self, subscription_id: str) -> None:
        self._refuse()

    def start_card_setup(self) -> CardSetupView:
        self._refuse()

    def add_card(self, setup_result: str, cardholder_name: str, make_default: bool) -> None:
        self._refuse()

    def card_error(self, code: str, decline_code: str) -> str:
        self._refuse()

    def set_default_card(self, payment_method_id: str) -> None:
        self._refuse()

    def remove_card(self, payment_method_id: str) -> None:
        self._refuse()

    def update_billing_details(self, details: BillingDetailsInput) -> None:
        self._refuse()

    def resend_email_change(self) -> None:
        self._refuse()

    def cancel_email_change(self) -> None:
        self._refuse()

    def update_shipping(self, shipping: ShippingInput) -> None:
        self._refuse()
