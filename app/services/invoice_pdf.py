"""Invoice PDFs for the portal's Download PDF: merchant logo and business information, bill-to, lines and totals.

Text is set in DejaVu Sans (Latin, Greek, Cyrillic, …), or WenQuanYi Micro Hei when there is Chinese text, from
Debian's `fonts-dejavu-core` and `fonts-wqy-microhei` (`make fonts` installs them; `make run`/`make test` do it first).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import TableCellFillMode, XPos, YPos
from fpdf.fonts import FontFace
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.formatting import address_lines, format_date
from app.i18n import Translate, negotiate_locale, supported_locale, translator
from app.models import Customer, Invoice, Merchant, PortalSettings
from app.money import format_money
from app.services.portal.access import owned_customer, payable_or_history_invoice
from app.services.portal_links import PortalAccess
from app.services.resource_views import address_of
from app.tax_ids import TAX_ID_TYPES

FONT_DIR = Path("/usr/share/fonts/truetype")
FONTS = {
    "regular": FONT_DIR / "dejavu" / "DejaVuSans.ttf",
    "bold": FONT_DIR / "dejavu" / "DejaVuSans-Bold.ttf",
    "cjk": FONT_DIR / "wqy" / "wqy-microhei.ttc",
}
BODY = "Body"
_TEXT = (33, 37, 41)
_MUTED = (108, 117, 125)
_RULE = (222, 226, 230)


class FontsMissing(RuntimeError):
    """The PDF fonts are not installed on this machine."""


def _needs_cjk_font(texts: Iterable[str]) -> bool:
    """Whether any text has CJK (or later) characters that DejaVu lacks."""
    return any(ord(char) >= 0x2E80 for text in texts for char in text)


def _texts_of(row: Customer | Merchant) -> list[str]:
    return [value for column in row.__table__.columns if isinstance(value := getattr(row, column.key), str)]


def _new_document(*, cjk: bool) -> FPDF:
    missing = [str(path) for path in FONTS.values() if not path.exists()]
    if missing:
        raise FontsMissing(f"Invoice PDF fonts are missing ({', '.join(missing)}); run: make fonts")
    pdf = FPDF(format="A4")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(auto=True, margin=18)
    # One family for the whole document. Documents with Chinese text are set entirely in WenQuanYi Micro Hei (it has
    # Latin letters too): fpdf2's per-glyph fallback fonts garble the Latin text of cells that follow a fallback run.
    if cjk:
        pdf.add_font(BODY, "", str(FONTS["cjk"]), collection_font_number=0)
        pdf.add_font(BODY, "B", str(FONTS["cjk"]), collection_font_number=0)
    else:
        pdf.add_font(BODY, "", str(FONTS["regular"]))
        pdf.add_font(BODY, "B", str(FONTS["bold"]))
    pdf.set_text_color(*_TEXT)
    return pdf


def render_invoice_pdf(*, session: Session, access: PortalAccess, invoice_id: str, locale: str) -> bytes:
    """One of the customer's open or paid invoices as a PDF, labelled and formatted in `locale`, or in the
    customer's own language when `locale` is not one the portal speaks (`xx`, empty, junk from the address)."""
    invoice = payable_or_history_invoice(session, access, invoice_id)
    customer = owned_customer(session, access)
    merchant = session.get(Merchant, access.merchant_id)
    settings = session.get(PortalSettings, access.merchant_id)
    if merchant is None or settings is None:
        raise NotFound("merchant")
    logo = settings.logo_png if settings.has_logo else None
    reader_locale = supported_locale(locale) or negotiate_locale(customer.locale, "")
    return render_pdf(invoice, customer, merchant, settings, logo, reader_locale)


def render_invoice_pdf_for_mail(*, session: Session, invoice_id: str) -> tuple[str, bytes]:
    """An invoice's PDF (file name, bytes) in its customer's language, for a receipt mail; NotFound when it is gone."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound("invoice")
    customer = session.get(Customer, invoice.customer_id)
    merchant = session.get(Merchant, invoice.merchant_id)
    settings = session.get(PortalSettings, invoice.merchant_id)
    if customer is None or merchant is None or settings is None:
        raise NotFound("invoice")
    logo = settings.logo_png if settings.has_logo else None
    pdf = render_pdf(invoice, customer, merchant, settings, logo, negotiate_locale(customer.locale, ""))
    return f"{invoice.number or invoice.id}.pdf", pdf


@dataclass(frozen=True, slots=True)
class _Formats:
    """The invoice's words, money and dates in the reader's locale and the merchant's time zone."""

    translate: Translate
    money: Callable[[int], str]
    date: Callable[[datetime], str]


def render_pdf(
    invoice: Invoice,
    customer: Customer,
    merchant: Merchant,
    settings: PortalSettings,
    logo: bytes | None,
    locale: str,
) -> bytes:
    """The invoice as a PDF, in `locale` and the merchant's time zone (the portal's and the API's)."""
    _ = translator(locale)
    formats = _Formats(
        translate=_,
        money=lambda amount: format_money(amount, invoice.currency, locale),
        date=lambda moment: format_date(moment, locale, merchant.time_zone),
    )
    texts = [_("Invoice"), *_texts_of(customer), *_texts_of(merchant), *(line.description for line in invoice.lines)]
    pdf = _new_document(cjk=_needs_cjk_font(texts))
    pdf.set_title(f"{_('Invoice')} {invoice.number}")
    pdf.set_author(merchant.public_business_name)
    pdf.set_creator(merchant.public_business_name)
    pdf.set_creation_date(invoice.created_at)
    pdf.add_page()
    _header(pdf, merchant.public_business_name, logo, _)
    _facts(pdf, invoice, formats)
    _parties(pdf, customer, merchant, settings, locale, _)
    _amounts(pdf, invoice, formats)
    contact = settings.support_email or merchant.support_email
    if contact:
        pdf.ln(10)
        pdf.set_font(BODY, "", 9)
        pdf.set_text_color(*_MUTED)
        pdf.multi_cell(0, 5, _("Questions about this invoice? Contact {email}.").format(email=contact))
    return bytes(pdf.output())


def _header(pdf: FPDF, business_name: str, logo: bytes | None, _: Translate) -> None:
    """The logo (or the business name) on the left, "Invoice" on the right."""
    top = pdf.get_y()
    if logo:
        pdf.image(BytesIO(logo), x=pdf.l_margin, y=top, h=14, keep_aspect_ratio=True)
    else:
        pdf.set_font(BODY, "B", 16)
        pdf.cell(0, 10, business_name)
    pdf.set_xy(pdf.l_margin, top)
    pdf.set_font(BODY, "B", 22)
    pdf.cell(0, 10, _("Invoice"), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(top + 20)


def _facts(pdf: FPDF, invoice: Invoice, formats: _Formats) -> None:
    _, date = formats.translate, formats.date
    facts = [(_("Invoice number"), invoice.number), (_("Date of issue"), date(invoice.created_at))]
    if invoice.due_at:
        facts.append((_("Date due"), date(invoice.due_at)))
    if invoice.paid_at:
        facts.append((_("Paid on"), date(invoice.paid_at)))
    for label, value in facts:
        pdf.set_font(BODY, "", 9.5)
        pdf.set_text_color(*_MUTED)
        pdf.cell(38, 5.5, label)
        pdf.set_text_color(*_TEXT)
        pdf.cell(0, 5.5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)


def _parties(
    pdf: FPDF, customer: Customer, merchant: Merchant, settings: PortalSettings, locale: str, _: Translate
) -> None:
    """From (the merchant) and bill to (the customer), side by side."""
    seller = [
        merchant.legal_name if merchant.legal_name != merchant.public_business_name else "",
        *address_lines(address_of(merchant, "address"), locale),
        settings.support_email or merchant.support_email,
        settings.support_phone or merchant.support_phone,
    ]
    buyer = [
        customer.name,
        *address_lines(address_of(customer, "address"), locale),
        customer.email,
        customer.phone,
    ]
    if customer.tax_id_value:
        label = TAX_ID_TYPES[customer.tax_id_type].label if customer.tax_id_type in TAX_ID_TYPES else _("Tax ID")
        buyer.append(f"{_(label)}: {customer.tax_id_value}")
    _two_blocks(pdf, (merchant.public_business_name, seller), (_("Bill to"), buyer))
    pdf.ln(8)


def _amounts(pdf: FPDF, invoice: Invoice, formats: _Formats) -> None:
    """The amount headline, the lines and the totals."""
    _, money, date = formats.translate, formats.money, formats.date
    pdf.set_font(BODY, "B", 13)
    headline = (
        _("{amount} paid on {date}").format(amount=money(invoice.amount_paid), date=date(invoice.paid_at))
        if invoice.paid_at
        else _("{amount} due {date}").format(
            amount=money(invoice.amount_due), date=date(invoice.due_at or invoice.created_at)
        )
    )
    pdf.cell(0, 8, headline, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    _lines_table(pdf, invoice, money, _)
    pdf.ln(4)
    totals = [
        (_("Subtotal"), money(invoice.subtotal), False),
        (_("Tax"), money(invoice.tax), False),
        (_("Total"), money(invoice.total), True),
        (_("Amount paid"), money(invoice.amount_paid), False),
        (_("Amount due"), money(invoice.amount_due), True),
    ]
    for label, value, bold in totals:
        pdf.set_font(BODY, "B" if bold else "", 10)
        pdf.set_x(pdf.w - pdf.r_margin - 90)
        pdf.cell(55, 6.5, label)
        pdf.cell(35, 6.5, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _two_blocks(pdf: FPDF, left: tuple[str, Iterable[str]], right: tuple[str, Iterable[str]]) -> None:
    """Two labelled address blocks in columns; continues below the taller one."""
    top = pdf.get_y()
    width = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    bottoms = []
    for index, (title, lines) in enumerate((left, right)):
        x = pdf.l_margin + index * width
        pdf.set_xy(x, top)
        pdf.set_font(BODY, "B", 10)
        pdf.cell(width - 4, 6, title, new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font(BODY, "", 9.5)
        for line in lines:
            if line:
                pdf.set_x(x)
                pdf.multi_cell(width - 4, 5, line, new_x=XPos.LEFT, new_y=YPos.NEXT)
        bottoms.append(pdf.get_y())
    pdf.set_xy(pdf.l_margin, max(bottoms))


def _lines_table(pdf: FPDF, invoice: Invoice, money: Callable[[int], str], _: Translate) -> None:
    pdf.set_font(BODY, "", 9.5)
    pdf.set_draw_color(*_RULE)
    with pdf.table(
        col_widths=(95, 18, 30, 31),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        borders_layout="HORIZONTAL_LINES",
        cell_fill_mode=TableCellFillMode.NONE,
        line_height=6.5,
        headings_style=FontFace(emphasis="BOLD", color=_MUTED),
    ) as table:
        header = table.row()
        for heading in (_("Description"), _("Qty"), _("Unit price"), _("Amount")):
            header.cell(heading)
        for line in invoice.lines:
            row = table.row()
            row.cell(line.description)
            row.cell(str(line.quantity))
            row.cell(money(line.unit_amount))
            row.cell(money(line.amount))
