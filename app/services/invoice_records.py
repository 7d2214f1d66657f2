"""The merchant's invoices and customers' cards as the API reads them: retrieve, list, and an invoice's PDF."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.enums import InvoiceStatus
from app.errors import NotFound
from app.i18n import negotiate_locale, supported_locale
from app.models import Customer, Invoice, InvoiceLine, Merchant, PaymentMethod, PortalSettings, Subscription
from app.services.api_lists import DEFAULT_LIMIT, check_limit, newest_first_page, require_owned
from app.services.api_objects import InvoiceObject, ListObject, PaymentMethodObject
from app.services.invoice_pdf import render_pdf
from app.services.portal_links import merchant_customer


def get_invoice(*, session: Session, merchant_id: str, invoice_id: str) -> InvoiceObject:
    return InvoiceObject.from_row(_merchant_invoice(session, merchant_id, invoice_id))


def list_invoice_objects(
    *,
    session: Session,
    merchant_id: str,
    customer_id: str | None = None,
    subscription_id: str | None = None,
    status: InvoiceStatus | None = None,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
) -> ListObject[InvoiceObject]:
    """The merchant's invoices (a deleted customer's too), newest first, of a customer, a subscription, a status
    (NotFound for a customer or subscription not the merchant's)."""
    statement = select(Invoice)
    if subscription_id is not None:
        require_owned(session, Subscription, subscription_id, merchant_id, param="subscription")
        statement = statement.where(Invoice.subscription_id == subscription_id)
    if customer_id is not None:
        require_owned(session, Customer, customer_id, merchant_id, param="customer")
        statement = statement.where(Invoice.customer_id == customer_id)
    if subscription_id is None and customer_id is None:
        statement = statement.where(Invoice.merchant_id == merchant_id)
    if status is not None:
        statement = statement.where(Invoice.status == status)
    invoices, has_more = newest_first_page(
        session, statement, Invoice, merchant_id=merchant_id, limit=limit, starting_after=starting_after
    )
    _load_lines(session, invoices)
    return ListObject[InvoiceObject](data=tuple(InvoiceObject.from_row(row) for row in invoices), has_more=has_more)


def _load_lines(session: Session, invoices: Sequence[Invoice]) -> None:
    """The lines of a page of invoices in one query, put in order here: ordered by the database, the lines of up to
    100 invoices would be sorted in a temporary B-tree (their index orders them by invoice only)."""
    lines: dict[str, list[InvoiceLine]] = defaultdict(list)
    if invoices:
        query = select(InvoiceLine).where(InvoiceLine.invoice_id.in_([invoice.id for invoice in invoices]))
        for line in session.scalars(query):
            lines[line.invoice_id].append(line)
    for invoice in invoices:
        set_committed_value(invoice, "lines", sorted(lines[invoice.id], key=lambda line: (line.position, line.id)))


def invoice_pdf(*, session: Session, merchant_id: str, invoice_id: str, locale: str = "") -> bytes:
    """One of the merchant's issued invoices (not a draft) as a PDF in `locale`, or in the customer's language."""
    invoice = _merchant_invoice(session, merchant_id, invoice_id)
    if invoice.status == InvoiceStatus.DRAFT:
        raise NotFound("invoice")
    customer = session.get_one(Customer, invoice.customer_id)
    merchant = session.get_one(Merchant, merchant_id)
    settings = session.get_one(PortalSettings, merchant_id)
    logo = settings.logo_png if settings.has_logo else None
    reader_locale = supported_locale(locale) or negotiate_locale(customer.locale, "")
    return render_pdf(invoice, customer, merchant, settings, logo, reader_locale)


def list_payment_method_objects(
    *, session: Session, merchant_id: str, customer_id: str, limit: int = DEFAULT_LIMIT
) -> ListObject[PaymentMethodObject]:
    """A customer's cards, the default first, then oldest first (`has_more` when there are more than `limit`)."""
    check_limit(limit)
    try:
        customer = merchant_customer(session, merchant_id, customer_id)
    except NotFound:
        raise NotFound("customer", param="customer") from None
    methods = list(
        session.scalars(
            select(PaymentMethod)
            .where(PaymentMethod.customer_id == customer.id)
            .order_by(PaymentMethod.is_default.desc(), PaymentMethod.created_at, PaymentMethod.id)
            .limit(limit + 1)
        )
    )
    return ListObject[PaymentMethodObject](
        data=tuple(PaymentMethodObject.from_row(method) for method in methods[:limit]), has_more=len(methods) > limit
    )


def _merchant_invoice(session: Session, merchant_id: str, invoice_id: str) -> Invoice:
    invoice = session.scalar(
        select(Invoice)
        .where(Invoice.id == invoice_id, Invoice.merchant_id == merchant_id)
        .options(selectinload(Invoice.lines))
    )
    if invoice is None:
        raise NotFound("invoice")
    return invoice
