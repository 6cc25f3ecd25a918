"""How the sample vendor's Amazon documents are spelt: 850 / ORDERS interchanges, 820s and the remittance export.

Everything here is a pure function of its arguments, so a file renders to the same bytes anywhere (also in a
worker process). EDI goes through our own writers (`write_x12`, `write_interchange`), which validate every set
against our maps and definitions before returning a byte: a generated file that our readers would reject can
only be one the generator corrupts on purpose afterwards.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

import openpyxl

from pipelines.edi.edifact import Envelope, OutboundMessage, write_interchange
from pipelines.edi.edifact.d96a import ORDERS
from pipelines.edi.x12 import OutboundGroup, OutboundInterchange, OutboundSet, write_x12

X12 = "X12"
EDIFACT = "EDIFACT"
CASE_UNIT = {X12: "CA", EDIFACT: "CS"}  # how each standard says "cases" (X12 355 / UN/ECE Rec. 20)
EACH_UNIT = {X12: "EA", EDIFACT: "PCE"}
X12_VERSION = "004010"  # Amazon's retail 850 and 820 are 4010
X12_INTERCHANGE_VERSION = "00401"  # ISA12 of a 4010 interchange
AMAZON_X12_ID = "AMAZON"
AMAZON_BUYER_GLN = "5450534000024"  # Amazon EU's buyer GLN, as in its UK ORDERS example
CURRENCY = "GBP"
# A workbook's save time is stamped in its properties and every ZIP entry; pin both to the payment date.
_XLSX_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*")


@dataclass(frozen=True)
class PoLine:
    line_no: int
    ean: str | None  # None when Amazon identifies the item by other identifiers only (an ASIN, say)
    vendor_sku: str | None  # sent on some lines only: which identifiers Amazon sends is a per-vendor setting
    asin: str | None
    quantity: Decimal  # in cases or eaches; whole as a rule, but Amazon can send a fraction of a case
    in_cases: bool
    price_per_each: Decimal
    case_size: int | None = None  # eaches per case, stated in X12 PO4 (EDIFACT ORDERS has no place for it)

    def identifiers(self, vendor_part_qualifier: str) -> list[tuple[str, str]]:
        """(qualifier, value) pairs in the order Amazon lists them: EAN, vendor part number, ASIN."""
        pairs = (("EN", self.ean), (vendor_part_qualifier, self.vendor_sku), ("BP", self.asin))
        return [(qualifier, value) for qualifier, value in pairs if value]


@dataclass(frozen=True)
class AmazonPo:
    """One version of a purchase order as Amazon sends it."""

    po_number: str
    vendor_code: str
    po_date: date
    window_start: date
    window_end: date
    fulfilment_centre: str  # FC code, e.g. LTN1
    fulfilment_centre_gln: str
    backorder_allowed: bool
    lines: tuple[PoLine, ...]


@dataclass(frozen=True)
class PoInterchange:
    """One PO file: an interchange of 1–5 purchase orders for one vendor code."""

    standard: str  # X12 or EDIFACT
    control_number: int
    prepared_at: datetime
    our_id: str  # X12 interchange id, or our GLN for EDIFACT
    orders: tuple[AmazonPo, ...]


def render_po_interchange(interchange: PoInterchange) -> bytes:
    """The file's bytes, validated by our writer."""
    if interchange.standard == X12:
        return _x12_850(interchange).encode("ascii")
    return _edifact_orders(interchange)


def _ymd(day: date) -> str:
    return day.strftime("%Y%m%d")


def _price(value: Decimal) -> str:
    return f"{value:.2f}"


def _quantity(value: Decimal) -> str:
    """A quantity as X12 (R) and EDIFACT (n..15) numbers: no exponent, no trailing zeros ("3", "2.5")."""
    return f"{value.normalize():f}"


def _x12_850(interchange: PoInterchange) -> str:
    sets = [OutboundSet("850", f"{n:04d}", _850_body(order)) for n, order in enumerate(interchange.orders, start=1)]
    control = interchange.control_number
    group = OutboundGroup("PO", AMAZON_X12_ID, interchange.our_id, str(control), X12_VERSION, sets)
    prepared_at = interchange.prepared_at
    return write_x12(
        OutboundInterchange(
            "ZZ", AMAZON_X12_ID, "ZZ", interchange.our_id, control, prepared_at, X12_INTERCHANGE_VERSION, "P", [group]
        )
    )


def _850_body(order: AmazonPo) -> list[tuple[str, ...]]:
    body: list[tuple[str, ...]] = [
        ("BEG", "00", "NE", order.po_number, "", _ymd(order.po_date)),
        ("CUR", "BY", CURRENCY),
        # Amazon puts the vendor code in REF*CR.
        ("REF", "CR", order.vendor_code),
        ("CSH", "Y" if order.backorder_allowed else "N"),
        ("DTM", "064", _ymd(order.window_start)),
        ("DTM", "063", _ymd(order.window_end)),
        ("N1", "ST", "", "92", order.fulfilment_centre),
    ]
    for line in order.lines:
        identifiers = [part for pair in line.identifiers("VN") for part in pair]
        unit = CASE_UNIT[X12] if line.in_cases else EACH_UNIT[X12]
        price = _price(line.price_per_each)
        body.append(("PO1", str(line.line_no), _quantity(line.quantity), unit, price, "PE", *identifiers))
        if line.case_size is not None:
            body.append(("PO4", str(line.case_size)))  # PO401 pack: eaches per case
    body.append(("CTT", str(len(order.lines)), _quantity(sum((line.quantity for line in order.lines), Decimal(0)))))
    return body


def _edifact_orders(interchange: PoInterchange) -> bytes:
    messages = [
        OutboundMessage(str(n), ORDERS, _orders_body(order), association="EAN008")
        for n, order in enumerate(interchange.orders, start=1)
    ]
    envelope = Envelope(
        "UNOA",
        "2",
        (AMAZON_BUYER_GLN, "14"),
        (interchange.our_id, "14"),
        interchange.prepared_at,
        str(interchange.control_number),
    )
    return write_interchange(envelope, messages)


def _orders_body(order: AmazonPo) -> list[tuple[str, list]]:
    body: list[tuple[str, list]] = [
        ("BGM", ["220", order.po_number, "9"]),
        ("DTM", [("137", _ymd(order.po_date), "102")]),
        ("DTM", [("64", _ymd(order.window_start), "102")]),
        ("DTM", [("63", _ymd(order.window_end), "102")]),
        ("RFF", [("CR", order.vendor_code)]),
        ("NAD", ["BY", (AMAZON_BUYER_GLN, "", "9")]),
        ("NAD", ["DP", (order.fulfilment_centre_gln, "", "9")]),
        ("CUX", [("2", CURRENCY, "9")]),
    ]
    for line in order.lines:
        # The EAN goes in LIN; every other identifier (or all of them, when there is no EAN) in PIA.
        body.append(("LIN", [str(line.line_no), None, (line.ean, "EN")] if line.ean else [str(line.line_no)]))
        extra = [(value, qualifier) for qualifier, value in line.identifiers("SA") if qualifier != "EN"]
        if extra:
            body.append(("PIA", ["5", *extra]))
        unit = CASE_UNIT[EDIFACT] if line.in_cases else EACH_UNIT[EDIFACT]
        body.append(("QTY", [("21", _quantity(line.quantity), unit)]))
        # Price per one piece, said explicitly (basis 1 PCE) because the quantity may be in cases.
        body.append(("PRI", [("AAA", _price(line.price_per_each), "", "", "1", EACH_UNIT[EDIFACT])]))
    body += [("UNS", ["S"]), ("CNT", [("2", str(len(order.lines)))])]
    return body


# --- remittances -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemittanceItem:
    """One line of a remittance: an invoice paid, or a deduction (negative)."""

    kind: str  # invoice, shortage, price_claim, coop, chargeback
    reference: str  # the "invoice number" Amazon writes: ours, <inv>SC, XXXX-XXXXXXXX, <n>VCBSINV
    item_date: date
    amount: Decimal  # gross, signed; Amazon pays it in full (no terms discount)
    po_number: str | None = None
    invoice_number: str | None = None  # the invoice a price claim adjusts (its reference is that invoice too)


DESCRIPTIONS = {
    "invoice": "Invoice",
    "shortage": "Quantity shortage",
    "price_claim": "Price variance",
    "coop": "COOP - Service agreement",
    "chargeback": "Vendor compliance chargeback",
}
# X12 426 adjustment reason codes for the deductions an 820 carries as ADX (Amazon's own codes are unconfirmed).
ADX_REASONS = {"price_claim": "01", "coop": "CS", "chargeback": "90"}


@dataclass(frozen=True)
class Payment:
    vendor_code: str
    payment_number: str
    payment_date: date
    items: tuple[RemittanceItem, ...]

    @property
    def amount(self) -> Decimal:
        return sum((item.amount for item in self.items), Decimal("0.00"))


def _pounds(amount: Decimal) -> str:
    """Money as the UK export writes it: £1,234.56 and -£48.40."""
    return f"{'-' if amount < 0 else ''}£{abs(amount):,.2f}"


def _uk_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


_INVOICE_HEADER = [
    "Payment Number", "Invoice Number", "Invoice Date", "PO Number", "Description", "Invoice Amount",
    "Terms Discount Taken", "Net Amount Paid", "Remaining Amount", "Invoice Currency",
]  # fmt: skip


def _export_rows(payment: Payment, *, as_text: bool) -> list[list[object]]:
    """The Vendor Central export's layout: a payment block, an `Invoices` label, then the invoice table.

    `as_text` spells amounts as the CSV does (£, thousands separators); the XLSX holds numbers.
    """

    def amount(value: Decimal) -> object:
        return _pounds(value) if as_text else value

    rows: list[list[object]] = [
        ["Remittance Advice - Amazon.co.uk"],
        [],
        ["Payment Number", "Payment Date", "Payment Amount", "Currency"],
        [payment.payment_number, _uk_date(payment.payment_date), amount(payment.amount), CURRENCY],
        [],
        ["Invoices"],
        _INVOICE_HEADER,
    ]
    for item in payment.items:
        is_invoice = item.kind == "invoice"
        rows.append(
            [
                payment.payment_number,
                item.reference,
                _uk_date(item.item_date),
                item.po_number or "",
                DESCRIPTIONS[item.kind],
                amount(item.amount),
                amount(Decimal("0.00")) if is_invoice else "",
                amount(item.amount),
                amount(Decimal("0.00")) if is_invoice else "",
                CURRENCY,
            ]
        )
    return rows


def render_export_csv(payment: Payment) -> bytes:
    """The export as Excel saves CSV: UTF-8 with a byte order mark, CRLF line ends."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerows(_export_rows(payment, as_text=True))
    return "\ufeff".encode() + text.getvalue().encode("utf-8")


def render_export_xlsx(payment: Payment) -> bytes:
    """The export as a workbook, byte-for-byte reproducible: save times pinned to the payment date."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Remittance"
    for row in _export_rows(payment, as_text=False):
        sheet.append(row)
    stamp = datetime.combine(payment.payment_date, time(6, 0))
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    saved = io.BytesIO()
    workbook.save(saved)
    pinned = io.BytesIO()
    iso_stamp = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(pinned, "w") as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == "docProps/core.xml":
                content = _XLSX_MODIFIED.sub(rb"\g<1>" + iso_stamp, content)
            target.writestr(zipfile.ZipInfo(entry.filename, stamp.timetuple()[:6]), content, zipfile.ZIP_DEFLATED)
    return pinned.getvalue()


@dataclass(frozen=True)
class Party:
    name: str
    identifier: str


def render_820(payment: Payment, control_number: int, prepared_at: datetime, our_id: str, payee: Party) -> bytes:
    """The payment as an X12 820: entity-level ADX for co-op and chargebacks, an RMR per invoice (its price
    claim an ADX under it, so RMR04 is what was paid net of it) and per shortage claim. The bank routing and
    account numbers in BPR are placeholders: nothing downstream reads them."""
    body: list[tuple[str, ...]] = [
        ("BPR", "C", _price(payment.amount), "C", "ACH", "CCP", "01", "999999992", "DA", "1234567890",
         "1AMAZONEU0", "", "01", "204577", "DA", "43218765", _ymd(payment.payment_date)),
        ("TRN", "1", payment.payment_number, "1AMAZONEU0"),
        ("CUR", "PR", CURRENCY),
        ("N1", "PR", "AMAZON EU SARL", "92", AMAZON_X12_ID),
        ("N1", "PE", payee.name, "92", payee.identifier),
        ("ENT", "1"),
    ]  # fmt: skip
    for item in payment.items:
        if item.kind in ("coop", "chargeback"):
            body += [
                ("ADX", _price(item.amount), ADX_REASONS[item.kind], "IV", item.reference),
                ("NTE", "", DESCRIPTIONS[item.kind]),
                ("DTM", "003", _ymd(item.item_date)),
            ]
    claims = {item.invoice_number: item for item in payment.items if item.kind == "price_claim"}
    for item in payment.items:
        if item.kind == "invoice":
            claim = claims.get(item.reference)
            paid = item.amount + (claim.amount if claim else Decimal(0))
            body += [
                ("RMR", "IV", item.reference, "", _price(paid), _price(item.amount)),
                ("REF", "PO", item.po_number or ""),
                ("DTM", "003", _ymd(item.item_date)),
            ]
            if claim:
                body += [
                    ("ADX", _price(claim.amount), ADX_REASONS["price_claim"]),
                    ("NTE", "", DESCRIPTIONS["price_claim"]),
                    ("DTM", "003", _ymd(claim.item_date)),
                ]
        elif item.kind == "shortage":
            body += [
                ("RMR", "IV", item.reference, "", _price(item.amount), _price(item.amount)),
                ("NTE", "", DESCRIPTIONS["shortage"]),
                ("DTM", "003", _ymd(item.item_date)),
            ]
    sets = [OutboundSet("820", "0001", body)]
    group = OutboundGroup("RA", AMAZON_X12_ID, our_id, str(control_number), X12_VERSION, sets)
    interchange = OutboundInterchange(
        "ZZ", AMAZON_X12_ID, "ZZ", our_id, control_number, prepared_at, X12_INTERCHANGE_VERSION, "P", [group]
    )
    return write_x12(interchange).encode("ascii")
