"""An invoice rendered as an EDIFACT D.96A INVOIC (EANCOM 1997), as vendors trading with Amazon EU/UK send it.

Like `render_ordrsp`, `render_invoic` is a pure function of the invoice and its envelope values (the same bytes
anywhere) and returns nothing that has not passed our INVOIC definition (`pipelines.edi.edifact.d96a.INVOIC`,
through `write_interchange`); a document that breaks it is refused with `InvalidDocument`.

Amounts are written with exactly two decimals. The summary says the invoice's totals as the model holds them:
MOA 77 and 86 the gross total, 79 the lines' net, 131 charges less allowances (so 79 + 131 is the net total),
124 the tax and 125 the amount taxed; then one TAX per VAT rate with its taxable amount and tax. The model gives
header charges and allowances no VAT (its tax total is the lines' tax), so the amount taxed is the lines' net.
That the totals add up is `pipelines.invoices.rules`'s check, made before an invoice is rendered.

Codes follow EANCOM 1997's INVOIC and practitioners' INVOICs to Amazon EU; each constant says which, and what no
source settled is marked unconfirmed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from pipelines.edi.edifact import Envelope, OutboundMessage, write_interchange
from pipelines.edi.edifact.d96a import INVOIC
from pipelines.edi.edifact.writer import Value
from pipelines.invoices.model import ALLOWANCE, CHARGE, AmazonInvoice, InvoiceAdjustment, InvoiceLine
from pipelines.orders.documents import (
    CCYYMMDD,
    DOCUMENT_DATE,
    EACHES,
    EAN_PARTY,
    EDIFACT,
    GLN_AGENCY,
    NET_PRICE,
    ORDER_NUMBER,
    REFERENCE_CURRENCY,
    REFERENCE_DATE,
    SYNTAX,
    SYNTAX_VERSION,
    UNITS,
    ccyymmdd,
    money_text,
    quantity_text,
    unit_code,
)
from pipelines.shipments.edifact import item_identification

Segments = list[tuple[str, Sequence[Value]]]

EANCOM_INVOIC = "EAN008"  # UNH S009 0057: EANCOM 1997's INVOIC, as practitioners' INVOICs to Amazon EU say it
COMMERCIAL_INVOICE = "380"  # BGM 1001 (domain notes: 380 invoice, 381 credit note)
ORIGINAL = "9"  # BGM 1225
SALES_ORDER_NUMBER = "VN"  # RFF 1153: the order number the supplier gave (our Sage sales order)
VAT_NUMBER = "VA"  # RFF 1153 under NAD+SU, as practitioners' INVOICs to Amazon EU carry it
SUPPLIER = "SU"
# Amazon as buyer (BY, which EANCOM's INVOIC requires) and as invoicee (IV, where practitioners' INVOICs to
# Amazon EU name the billing entity), both by the party id its orders come from. Which Amazon reads: unconfirmed.
AMAZON_PARTIES = ("BY", "IV")
DELIVERY_PARTY = "DP"
NAME_PART = 35  # NAD C080: a party name runs over up to five 35-character components
INVOICING_CURRENCY = "4"  # CUX 6343, as practitioners' INVOICs to Amazon EU say it
# PAT: 1 basic terms; C112 5 from the invoice date, 3 after it, D days, then the number of days (as practitioners'
# INVOICs to Amazon EU write net 30: PAT+1++5:3:D:30). Unconfirmed by an Amazon guide.
BASIC_TERMS = "1"
INVOICE_DATE_REFERENCE = "5"
AFTER_REFERENCE = "3"
DAYS = "D"
# ALC 5463 per adjustment kind, the adjustment's code (the X12 SAC02 code Sage maps it to) in C552 1230 and its
# description in C214 7160; MOA 8 its amount. Which codes Amazon EU expects there is unconfirmed.
ALLOWANCE_OR_CHARGE = {ALLOWANCE: "A", CHARGE: "C"}
ADJUSTMENT_AMOUNT = "8"
INVOICED_QUANTITY = "47"
LINE_AMOUNT = "203"
TAX = "7"  # TAX 5283: tax
VAT = "VAT"
TAX_AMOUNT = "124"
TAXABLE_AMOUNT = "125"
LINE_ITEMS = "2"  # CNT 6069
# Summary MOA 5025: 77 invoice amount, 79 total line items amount, 86 message total, 124 tax, 125 taxable amount
# (the domain notes list these from Amazon's EU guide), 131 total charges/allowances (EANCOM; unconfirmed).
INVOICE_AMOUNT = "77"
LINE_ITEMS_AMOUNT = "79"
MESSAGE_TOTAL = "86"
ADJUSTMENTS_AMOUNT = "131"
CENT = Decimal("0.01")


class InvoiceDocumentError(ValueError):
    """The invoice cannot be said as an INVOIC (an amount finer than a penny): nothing was written."""


def render_invoic(
    invoice: AmazonInvoice,
    *,
    sender_id: str,
    receiver_id: str,
    unb_reference: str,
    unh_reference: str,
    prepared_at: datetime,
) -> bytes:
    """The INVOIC interchange (one message) as bytes, validated by our D.96A INVOIC definition.

    `sender_id` is our GLN (UNB sender), `receiver_id` Amazon's (UNB recipient); the parties in NAD are the
    invoice's remit-to (SU) and bill-to (BY, IV). Raises `InvalidDocument` when a segment breaks the definition,
    `InvoiceDocumentError` for an amount that is not whole pence.
    """
    envelope = Envelope(
        syntax=SYNTAX,
        version=SYNTAX_VERSION,
        sender=(sender_id, EAN_PARTY),
        recipient=(receiver_id, EAN_PARTY),
        prepared=prepared_at,
        reference=unb_reference,
    )
    message = OutboundMessage(unh_reference, INVOIC, _invoic_body(invoice), EANCOM_INVOIC)
    return write_interchange(envelope, [message])


def _invoic_body(invoice: AmazonInvoice) -> Segments:
    body: Segments = [
        ("BGM", [COMMERCIAL_INVOICE, invoice.invoice_number, ORIGINAL]),
        ("DTM", [(DOCUMENT_DATE, ccyymmdd(invoice.invoice_date), CCYYMMDD)]),
        ("RFF", [(ORDER_NUMBER, invoice.po_number)]),
        ("DTM", [(REFERENCE_DATE, ccyymmdd(invoice.po_date), CCYYMMDD)]),
        ("RFF", [(SALES_ORDER_NUMBER, invoice.sales_order_number)]),
    ]
    body += _parties(invoice)
    body.append(("CUX", [(REFERENCE_CURRENCY, invoice.currency, INVOICING_CURRENCY)]))
    if invoice.payment_terms_days is not None:
        terms = (INVOICE_DATE_REFERENCE, AFTER_REFERENCE, DAYS, str(invoice.payment_terms_days))
        body.append(("PAT", [BASIC_TERMS, None, terms]))
    for adjustment in invoice.adjustments:
        body += _adjustment(adjustment)
    for line in invoice.lines:
        body += _line(line)
    body += [("UNS", ["S"]), ("CNT", [(LINE_ITEMS, str(len(invoice.lines)))])]
    body += _summary(invoice)
    return body


def _parties(invoice: AmazonInvoice) -> Segments:
    parties: Segments = [("NAD", [SUPPLIER, (invoice.remit_to_id, "", GLN_AGENCY), None, _name(invoice.remit_to_name)])]
    if invoice.remit_to_vat_number:
        parties.append(("RFF", [(VAT_NUMBER, invoice.remit_to_vat_number)]))
    parties += [("NAD", [party, (invoice.bill_to_id, "", GLN_AGENCY)]) for party in AMAZON_PARTIES]
    if invoice.ship_to_id:
        parties.append(("NAD", [DELIVERY_PARTY, (invoice.ship_to_id, "", invoice.ship_to_qualifier or "")]))
    return parties


def _name(name: str) -> list[str]:
    """A party name over C080's 35-character components, whole: a longer name continues in the next one."""
    return [name[start : start + NAME_PART] for start in range(0, len(name), NAME_PART)]


def _adjustment(adjustment: InvoiceAdjustment) -> Segments:
    return [
        (
            "ALC",
            [ALLOWANCE_OR_CHARGE[adjustment.kind], adjustment.code, None, None, ("", "", "", adjustment.description)],
        ),
        ("MOA", [(ADJUSTMENT_AMOUNT, _amount(adjustment.amount, f"{adjustment.kind} {adjustment.code}"))]),
    ]


def _line(line: InvoiceLine) -> Segments:
    segments = item_identification(str(line.line_number), line.identifiers)
    # The price per one piece, said explicitly (basis 1 PCE) because the quantity may be in cases, as the ORDRSP.
    price = (NET_PRICE, money_text(line.unit_cost), "", "", "1", UNITS[EDIFACT][EACHES])
    segments += [
        ("QTY", [(INVOICED_QUANTITY, quantity_text(line.invoiced_quantity), unit_code(line, EDIFACT))]),
        ("MOA", [(LINE_AMOUNT, _amount(line.net_amount, f"line {line.line_number} net amount"))]),
        ("PRI", [price]),
        # The order and the order's own line id, which LIN (numbering the invoice's lines) does not carry.
        ("RFF", [(ORDER_NUMBER, line.po_number, line.line_id)]),
        ("TAX", [TAX, VAT, None, None, _rate(line.tax_rate)]),
        ("MOA", [(TAX_AMOUNT, _amount(line.tax_amount, f"line {line.line_number} tax amount"))]),
    ]
    return segments


def _summary(invoice: AmazonInvoice) -> Segments:
    lines_net = sum((line.net_amount for line in invoice.lines), Decimal("0.00"))
    by_rate: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for line in invoice.lines:
        taxable, tax = by_rate.get(line.tax_rate, (Decimal("0.00"), Decimal("0.00")))
        by_rate[line.tax_rate] = (taxable + line.net_amount, tax + line.tax_amount)
    totals = [
        (INVOICE_AMOUNT, invoice.gross_total, "gross total"),
        (LINE_ITEMS_AMOUNT, lines_net, "lines' net total"),
        (MESSAGE_TOTAL, invoice.gross_total, "gross total"),
        (TAX_AMOUNT, invoice.tax_total, "tax total"),
        (TAXABLE_AMOUNT, lines_net, "lines' net total"),
        (ADJUSTMENTS_AMOUNT, invoice.adjustments_total(), "charges less allowances"),
    ]
    segments: Segments = [("MOA", [(qualifier, _amount(amount, what))]) for qualifier, amount, what in totals]
    for rate, (taxable, tax) in by_rate.items():
        segments += [
            ("TAX", [TAX, VAT, None, None, _rate(rate)]),
            ("MOA", [(TAXABLE_AMOUNT, _amount(taxable, f"amount taxed at {rate}%"))]),
            ("MOA", [(TAX_AMOUNT, _amount(tax, f"tax at {rate}%"))]),
        ]
    return segments


def _rate(rate: Decimal) -> tuple[str, str, str, str]:
    """TAX C243 with the rate in 5278 (percent: 20, 0, 17.5)."""
    return ("", "", "", quantity_text(rate))


def _amount(value: Decimal, what: str) -> str:
    """An amount with exactly two decimals (12.5 → 12.50); one finer than a penny is refused, never rounded."""
    if value != value.quantize(CENT):
        raise InvoiceDocumentError(f"{what} {value} is finer than a penny: Sage's amounts are rounded to 0.01")
    return money_text(value.quantize(CENT))
