"""Invoice history: a filtered, paged list, an invoice's details, its PDF and paying an open one."""

from __future__ import annotations

import re

from nicegui import ui

from app.enums import ChargeStatus, InvoiceStatus, PortalFlow
from app.views import ChargeOutcome, InvoicePage, InvoiceView
from components.badges import INVOICE_LABELS, Tone, badge_for, status_badge
from components.portal.base import Portal, TextButton, section
from components.portal.card_element import confirm_payment
from components.presets import preset

ALL = "all"
# Built for every invoice row of every portal page (see `preset`).
_Row = preset(ui.element, classes="w-full row items-center gap-x-4 gap-y-1 q-py-sm border-b border-gray-200")
_Date = preset(ui.label, classes="w-28 text-body2")
_Amount = preset(ui.label, classes="w-24 text-weight-medium")
_Number = preset(ui.label, classes="text-body2 text-grey-8 grow")


def invoices_section(portal: Portal) -> None:
    t = portal.text
    state = {"page": portal.view.data.invoices}

    async def load(status: str, page: int, *clicked: ui.button) -> None:
        done, result = await portal.act(
            lambda: portal.actions.list_invoices(None if status == ALL else status, page), buttons=clicked
        )
        if done and result is not None:
            state["page"] = result
            show_list()

    def show_list() -> None:
        """(Re)builds the list in place; a plain function, as a refreshable would outlive the page in a cycle."""
        page: InvoicePage = state["page"]
        list_area.clear()
        with list_area:
            if not page.invoices:
                message = t("No invoices yet.") if page.status_filter is None else t("No invoices with this status.")
                ui.label(message).classes("text-grey-8 q-py-md")
            with ui.element("ul").classes("w-full column q-pa-none q-ma-none") as invoice_list:
                invoice_list.props["role"] = "list"
                for invoice in page.invoices:
                    _invoice_row(portal, invoice)
        previous.set_enabled(page.page > 1)
        following.set_enabled(page.has_next)
        page_label.set_text(t("Page {page}", page=page.page))

    with section(t("Invoice history"), marker="portal-invoices"):
        status = (
            ui.select(
                {ALL: t("All invoices"), InvoiceStatus.OPEN.value: t("Open"), InvoiceStatus.PAID.value: t("Paid")},
                label=t("Status"),
                value=state["page"].status_filter or ALL,
            )
            .props("outlined dense options-dense")
            .classes("w-48")
        )
        list_area = ui.column().classes("w-full gap-0")
        with ui.row().classes("w-full items-center justify-between"):
            previous = portal.secondary_button(t("Previous"))
            page_label = ui.label().classes("text-body2 text-grey-8")
            following = portal.secondary_button(t("Next"))
    show_list()
    task = portal.view.task
    if task is not None and task.flow == PortalFlow.INVOICE:
        ui.timer(0, lambda: _details(portal, task.invoice_id, None), once=True)  # a deep link opens the invoice
    status.on_value_change(lambda event: load(event.value, 1))
    previous.on_click(lambda: load(status.value, state["page"].page - 1, previous))
    following.on_click(lambda: load(status.value, state["page"].page + 1, following))


def _invoice_row(portal: Portal, invoice: InvoiceView) -> None:
    t = portal.text
    with _Row("li").mark(f"invoice-{invoice.number}"):
        _Date(t.date(invoice.created_at))
        _Amount(t.money(invoice.total, invoice.currency))
        badge_for(invoice.status, INVOICE_LABELS, t)
        if invoice.requires_action:
            status_badge(t("Action required"), Tone.NEGATIVE)
        _Number(invoice.number)
        if invoice.requires_action:
            confirm = TextButton(t("Confirm payment"), on_click=lambda: authenticate_payment(portal, invoice, confirm))
            confirm.props["aria-label"] = t("Confirm payment of invoice {number}", number=invoice.number)
        view = TextButton(t("View"), on_click=lambda: _details(portal, invoice.id, view))
        view.props["aria-label"] = t("View invoice {number}", number=invoice.number)


def pay_button(portal: Portal, invoice: InvoiceView) -> None:
    """What a subscription still owes, payable from its card whether or not Invoice history is on: Pay opens the
    invoice (its lines, the card it charges, Pay now); Confirm payment answers the bank's check at once."""
    t = portal.text
    if invoice.requires_action:
        confirm = portal.primary_button(
            t("Confirm payment"), lambda: authenticate_payment(portal, invoice, confirm)
        ).mark("pay-owed")
        confirm.props["aria-label"] = t("Confirm payment of invoice {number}", number=invoice.number)
        return
    pay = portal.primary_button(
        t("Pay {amount}", amount=t.money(invoice.amount_due, invoice.currency)),
        lambda: _details(portal, invoice.id, pay),
    ).mark("pay-owed")


async def _details(portal: Portal, invoice_id: str, opener: ui.button | None) -> None:
    t = portal.text
    openers = (opener,) if opener is not None else ()
    done, invoice = await portal.act(lambda: portal.actions.get_invoice(invoice_id), buttons=openers)
    if not done or invoice is None:
        return
    with portal.dialog(t("Invoice {number}", number=invoice.number)) as dialog:
        with ui.row().classes("items-center gap-2"):
            badge_for(invoice.status, INVOICE_LABELS, t)
            if invoice.requires_action:
                status_badge(t("Action required"), Tone.NEGATIVE)
            ui.label(t("Issued {date}", date=t.date(invoice.created_at))).classes("text-body2")
            if invoice.paid_at:
                ui.label(t("Paid {date}", date=t.date(invoice.paid_at))).classes("text-body2")
            elif invoice.due_at:
                ui.label(t("Due {date}", date=t.date(invoice.due_at))).classes("text-body2")
        with ui.column().classes("w-full gap-1 q-mt-sm").mark("invoice-lines"):
            for line in invoice.lines:
                with ui.row().classes("w-full justify-between no-wrap gap-3"):
                    with ui.column().classes("gap-0 min-w-0"):
                        ui.label(line.description).classes("text-body2")
                        ui.label(
                            t(
                                "{quantity} × {amount}",
                                quantity=line.quantity,
                                amount=t.money(line.unit_amount, invoice.currency),
                            )
                        ).classes("text-caption text-grey-8")
                    ui.label(t.money(line.amount, invoice.currency)).classes("text-body2")
        ui.separator()
        with ui.column().classes("w-full gap-1").mark("invoice-totals"):
            for text, amount, strong in (
                (t("Subtotal"), invoice.subtotal, False),
                (t("Tax"), invoice.tax, False),
                (t("Total"), invoice.total, True),
                (t("Amount paid"), invoice.amount_paid, False),
                (t("Amount due"), invoice.amount_due, True),
            ):
                with ui.row().classes("w-full justify-between" + (" text-weight-bold" if strong else "")):
                    ui.label(text)
                    ui.label(t.money(amount, invoice.currency))
        payable = invoice.status == InvoiceStatus.OPEN and invoice.amount_due > 0
        card = next((method for method in portal.view.data.payment_methods if method.is_default), None)
        if invoice.requires_action:
            ui.label(t("Your bank asks you to confirm this payment.")).classes("text-body2 text-grey-8")
        elif payable:
            ui.label(
                t(
                    "Pays {amount} with {brand} ending in {last4}.",
                    amount=t.money(invoice.amount_due, invoice.currency),
                    brand=card.brand.title(),
                    last4=card.last4,
                )
                if card
                else t("Add a payment method to pay this invoice.")
            ).classes("text-body2 text-grey-8")
        with ui.row().classes("w-full justify-end gap-2 q-mt-sm"):
            download = portal.secondary_button(t("Download PDF")).props("icon=download")
            download.on_click(lambda: _download(portal, invoice, download))
            if invoice.requires_action:
                confirm = portal.primary_button(t("Confirm payment"))
                confirm.on_click(lambda: authenticate_payment(portal, invoice, confirm, dialog))
            elif payable and card:
                pay = portal.primary_button(t("Pay now"))
                pay.on_click(lambda: _pay(portal, invoice, pay, dialog))


def pdf_filename(invoice: InvoiceView) -> str:
    """`INV-0001.pdf`: the invoice number reduced to characters every file system accepts."""
    return f"{re.sub(r'[^A-Za-z0-9_-]', '_', invoice.number) or 'invoice'}.pdf"


async def _download(portal: Portal, invoice: InvoiceView, button: ui.button) -> None:
    done, pdf = await portal.act(lambda: portal.actions.invoice_pdf(invoice.id, portal.view.locale), buttons=(button,))
    if done and pdf is not None:
        ui.download.content(pdf, pdf_filename(invoice), "application/pdf")


async def _pay(portal: Portal, invoice: InvoiceView, button: ui.button, dialog: ui.dialog) -> None:
    done, outcome = await portal.act(lambda: portal.actions.pay_invoice(invoice.id), buttons=(button,))
    if done and outcome is not None:
        if outcome.status == ChargeStatus.REQUIRES_ACTION:
            dialog.close()  # the bank's check overlays the page: no dialog may keep the focus from it
            await authenticate_payment(portal, invoice, button)
        else:
            _report(portal, invoice, outcome, button)


async def authenticate_payment(
    portal: Portal, invoice: InvoiceView, button: ui.button, dialog: ui.dialog | None = None
) -> None:
    """Confirm payment: the customer answers their bank's 3-D Secure check in the browser, then it is recorded.

    The invoice's dialog closes first, since the bank's check overlays the page; `button` may go with it.
    """
    done, authentication = await portal.act(
        lambda: portal.actions.payment_authentication(invoice.id), buttons=_alive(button)
    )
    if not done or authentication is None:
        return
    if dialog is not None:
        dialog.close()
    guarded = _alive(button)
    for element in guarded:
        element.disable()
    try:
        result = await confirm_payment(
            portal.client, authentication.element, authentication.client_secret, authentication.payment_method_id
        )
    finally:
        for element in guarded:
            if not element.is_deleted:
                element.enable()
    done, outcome = await portal.act(
        lambda: portal.actions.complete_payment(invoice.id, result.value), buttons=_alive(button)
    )
    if done and outcome is not None:
        _report(portal, invoice, outcome, button)


def _alive(button: ui.button) -> tuple[ui.button, ...]:
    """The button to guard against a second click, unless its dialog has been closed and removed."""
    return () if button.is_deleted else (button,)


def _report(portal: Portal, invoice: InvoiceView, outcome: ChargeOutcome, button: ui.button) -> None:
    t = portal.text
    if outcome.status == ChargeStatus.PAID:
        if not button.is_deleted:
            button.disable()  # paid: another click must not try again
        amount = t.money(invoice.amount_due, invoice.currency)
        portal.notify(t("Payment of {amount} received. Thank you!", amount=amount))
    elif outcome.status == ChargeStatus.PROCESSING:
        portal.notify(t("Your payment is being processed. We will update the invoice when it is complete."), "info")
    elif outcome.status == ChargeStatus.REQUIRES_ACTION:
        portal.notify(t("Your bank asks you to confirm this payment."), "warning")
    else:
        portal.notify(t(outcome.failure_message or "Your card was declined."), "negative")
    portal.changed()
