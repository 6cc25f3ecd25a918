"""The invoice as an X12 810, release 004010 or 005010 (Amazon's retail 810 guide is 4010; 5010 has the same shape).

`render_810` is a pure function of the invoice and its envelope values, built like
`pipelines.orders.documents.render_855`: it lays out the segments and `write_x12` refuses anything our 810 map for
the version (``pipelines/edi/x12/maps/810.{4010,5010}.xml``) rejects, so no 810 leaves that has not passed it.

Money in TDS and SAC is in cents (X12 N2: two implied decimals), so an amount with more than two places is refused
rather than rounded. Unit prices are per each (IT105 PE), as Amazon prices them, whatever unit the quantity is in.
VAT is said once per rate at summary level (TXI), where Amazon's retail guide has it, and the rates' amounts must
add up to the invoice's tax total.

Code values come from Amazon's retail 810 guide as mirrored by Stedi, Amazon's direct fulfilment 810 example and
the X12 dictionary; each constant says which, and what no source settled is marked unconfirmed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pipelines.edi.x12 import OutboundSet
from pipelines.edi.x12.writer import SegmentValues
from pipelines.invoices.model import ALLOWANCE, CHARGE, AmazonInvoice, InvoiceAdjustment
from pipelines.orders.documents import (
    PRICE_PER_EACH,
    SHIP_TO,
    X12,
    ccyymmdd,
    money_text,
    quantity_text,
    unit_code,
    write_one_set,
)

INVOICE_GROUP = "IN"  # GS01
BILL_TO = "BT"  # CUR01 and N101, as Amazon's example says CUR*BT
REMIT_TO = "RI"
# N103 for our remit-to id, as Amazon's example writes it (N1*RI*...*92*...). Amazon's bill-to id takes the same
# qualifier: the guide does not show which: unconfirmed.
ASSIGNED_BY_BUYER = "92"
VENDOR_ORDER_NUMBER = "VN"  # REF01: our sales order; Amazon's retail guide does not show a REF: unconfirmed
BASIC_TERMS = "01"  # ITD01, from the guide's list (01 basic, 02 EOM, 03 fixed date, 09 proximo, 23 on receipt)
INVOICE_DATE_BASIS = "3"  # ITD02: the net days run from the invoice date, as Amazon's example says ITD*01*3
VALUE_ADDED_TAX = "VA"  # TXI01
SAC_INDICATORS = {ALLOWANCE: "A", CHARGE: "C"}  # SAC01


class InvoiceDocumentError(ValueError):
    """The invoice cannot be said as an 810: nothing was written."""


def render_810(
    invoice: AmazonInvoice,
    *,
    version: str,
    sender_id: str,
    receiver_id: str,
    isa13: int,
    gs06: str,
    st02: str,
    prepared_at: datetime,
    usage: str = "P",
) -> str:
    """The 810 interchange (one group, one set) as X12 text, validated by our 810 map for `version`.

    `version` is the GS08, 004010 or 005010 (any other has no map and is refused). `sender_id` is our interchange
    and application id (ISA06, GS02), `receiver_id` Amazon's (ISA08, GS03). Raises `X12WriteError` when the set
    breaks the map, `InvoiceDocumentError` for money X12 cannot carry or VAT that does not add up.
    """
    return write_one_set(
        INVOICE_GROUP,
        OutboundSet("810", st02, _810_body(invoice)),
        sender_id=sender_id,
        receiver_id=receiver_id,
        isa13=isa13,
        gs06=gs06,
        prepared_at=prepared_at,
        version=version,
        usage=usage,
    )


def _810_body(invoice: AmazonInvoice) -> list[SegmentValues]:
    body: list[SegmentValues] = [
        ("BIG", ccyymmdd(invoice.invoice_date), invoice.invoice_number, ccyymmdd(invoice.po_date), invoice.po_number),
        ("CUR", BILL_TO, invoice.currency),
        ("REF", VENDOR_ORDER_NUMBER, invoice.sales_order_number),
        ("N1", BILL_TO, "", ASSIGNED_BY_BUYER, invoice.bill_to_id),
        ("N1", REMIT_TO, invoice.remit_to_name, ASSIGNED_BY_BUYER, invoice.remit_to_id),
    ]
    if invoice.ship_to_id:
        body.append(("N1", SHIP_TO, "", invoice.ship_to_qualifier or "", invoice.ship_to_id))
    if invoice.payment_terms_days is not None:
        body.append(("ITD", BASIC_TERMS, INVOICE_DATE_BASIS, "", "", "", "", str(invoice.payment_terms_days)))
    for line in invoice.lines:
        identifiers = [part for identifier in line.identifiers for part in (identifier.qualifier, identifier.value)]
        # IT101 echoes the PO's own line id, as the 855 does in PO101, so Amazon matches the line to its order.
        body.append(
            ("IT1", line.line_id, quantity_text(line.invoiced_quantity), unit_code(line, X12),
             money_text(line.unit_cost), PRICE_PER_EACH, *identifiers)
        )  # fmt: skip
    body.append(("TDS", _cents(invoice.gross_total, "the gross total")))
    body += [
        ("TXI", VALUE_ADDED_TAX, money_text(amount), quantity_text(rate))
        for rate, amount in _tax_by_rate(invoice).items()
    ]
    body += [_adjustment(adjustment) for adjustment in invoice.adjustments]
    hash_total = sum((line.invoiced_quantity for line in invoice.lines), Decimal(0))
    body.append(("CTT", str(len(invoice.lines)), quantity_text(hash_total)))
    return body


def _tax_by_rate(invoice: AmazonInvoice) -> dict[Decimal, Decimal]:
    """The lines' VAT summed per rate (rates in the order they first come), checked against the invoice's total."""
    by_rate: dict[Decimal, Decimal] = {}
    for line in invoice.lines:
        by_rate[line.tax_rate] = by_rate.get(line.tax_rate, Decimal("0.00")) + line.tax_amount
    if sum(by_rate.values(), Decimal(0)) != invoice.tax_total:
        raise InvoiceDocumentError(
            f"invoice {invoice.invoice_number}: the lines' VAT adds up to {sum(by_rate.values(), Decimal(0))}, the"
            f" invoice says {invoice.tax_total}; Amazon requires the header tax to equal the sum of the line taxes"
        )
    return by_rate


def _adjustment(adjustment: InvoiceAdjustment) -> SegmentValues:
    """SAC: allowance or charge, its code, the amount in cents (SAC05) and its description (SAC15)."""
    cents = _cents(adjustment.amount, f"{adjustment.kind} {adjustment.code}")
    return ("SAC", SAC_INDICATORS[adjustment.kind], adjustment.code, "", "", cents, *[""] * 9, adjustment.description)


def _cents(amount: Decimal, what: str) -> str:
    """`amount` in cents, as X12 N2 writes money (12.50 → 1250); an amount with a fraction of a cent is refused."""
    cents = amount.scaleb(2)
    if cents != cents.to_integral_value():
        raise InvoiceDocumentError(f"{what} {amount} has a fraction of a cent; X12 carries whole cents only")
    return str(int(cents))
