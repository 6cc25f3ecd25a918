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
from collections import defaultdict
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

# Line kinds, in the remittance contract's terms. An 820 carries an open item (an invoice, or a claim against
# one) as an RMR, a price claim as an ADX under its invoice's RMR, and an adjustment of the whole payment as an
# entity-level ADX, which X12 puts before every RMR.
OPEN_ITEMS = frozenset({"invoice_payment", "shortage_claim", "claim_reversal", "revised_claim"})
PAYMENT_ADJUSTMENTS = frozenset(
    {"coop_agreement", "chargeback", "price_protection", "provision", "provision_reversal", "other"}
)
DESCRIPTIONS = {
    "invoice_payment": "Invoice",
    "shortage_claim": "Quantity shortage",
    "claim_reversal": "Shortage claim reversal",
    "revised_claim": "Revised shortage claim",
    "price_claim": "Price variance",
    "coop_agreement": "COOP - Service agreement",
    "chargeback": "Vendor compliance chargeback",
    "price_protection": "Price protection",
    "provision": "Provision for receivables",
    "provision_reversal": "Provision for receivables reversal",
    "other": "Adjustment",
}
# X12 426 adjustment reason codes for the deductions an 820 carries as ADX (Amazon's own codes are unconfirmed).
ADX_REASONS = {
    "price_claim": "01",
    "price_protection": "01",
    "coop_agreement": "CS",
    "provision": "CS",
    "provision_reversal": "CS",
    "chargeback": "90",
    "other": "ZZ",
}


@dataclass(frozen=True)
class RemittanceItem:
    """One line of a remittance: an invoice paid (in full, short, or less a terms discount), or a deduction
    (negative) or a deduction given back (positive)."""

    kind: str  # one of DESCRIPTIONS' keys
    reference: str  # the "invoice number" Amazon writes: ours, <inv>SC, XXXX-XXXXXXXX, <n>VCBSINV ...
    item_date: date
    amount: Decimal  # what was paid on the line, signed: Net Amount Paid, and an 820's RMR04/ADX01
    po_number: str | None = None
    invoice_number: str | None = None  # the invoice a price claim adjusts (its reference is that invoice too)
    gross: Decimal | None = None  # the invoice amount when it is not amount + discount (a part payment)
    discount: Decimal = Decimal("0.00")  # terms discount taken on an invoice (positive)
    remaining: Decimal = Decimal("0.00")  # what Amazon leaves unpaid on an invoice after this line
    description: str | None = None  # when not the kind's usual one

    @property
    def invoice_amount(self) -> Decimal:
        return self.gross if self.gross is not None else self.amount + self.discount

    @property
    def text(self) -> str:
        return self.description or DESCRIPTIONS[self.kind]


@dataclass(frozen=True)
class Payment:
    vendor_code: str
    payment_number: str
    payment_date: date
    items: tuple[RemittanceItem, ...]

    @property
    def amount(self) -> Decimal:
        """The net Amazon paid; negative when the deductions outweigh the invoices."""
        return sum((item.amount for item in self.items), Decimal("0.00"))

    @property
    def ordered_items(self) -> tuple[RemittanceItem, ...]:
        """The lines in the order the 820 and the export both list them, which is the order our readers number
        them: the payment's own adjustments first, then each open item with the price claims on it after it."""
        claims: dict[str | None, list[RemittanceItem]] = {}
        for item in self.items:
            if item.kind == "price_claim":
                claims.setdefault(item.invoice_number, []).append(item)
        ordered = [item for item in self.items if item.kind in PAYMENT_ADJUSTMENTS]
        for item in self.items:
            if item.kind in OPEN_ITEMS:
                ordered.append(item)
                if item.kind == "invoice_payment":
                    ordered += claims.pop(item.reference, [])
        if claims:
            raise ValueError(f"payment {self.payment_number} has price claims on invoices it does not pay: {claims}")
        return tuple(ordered)


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

    `as_text` spells amounts as the CSV does (£, thousands separators); the XLSX holds numbers. Only invoice
    lines carry a terms discount and a remaining amount.
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
    for item in payment.ordered_items:
        is_invoice = item.kind == "invoice_payment"
        rows.append(
            [
                payment.payment_number,
                item.reference,
                _uk_date(item.item_date),
                item.po_number or "",
                item.text,
                amount(item.invoice_amount),
                amount(item.discount) if is_invoice else "",
                amount(item.amount),
                amount(item.remaining) if is_invoice else "",
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
    """The payment as an X12 820, its lines in `Payment.ordered_items` order: an entity-level ADX per adjustment
    of the whole payment, then an RMR per invoice (RMR04 paid net of the price claims that follow it as ADX,
    RMR05 the invoice amount, RMR06 the terms discount) and per claim. A negative net is a debit (BPR03 D) of
    its absolute value. The bank routing and account numbers in BPR are placeholders: nothing downstream reads
    them."""
    net = payment.amount
    handling, flag = ("C", "C") if net >= 0 else ("I", "D")  # a debit is remittance information only
    body: list[tuple[str, ...]] = [
        ("BPR", handling, _price(abs(net)), flag, "ACH", "CCP", "01", "999999992", "DA", "1234567890",
         "1AMAZONEU0", "", "01", "204577", "DA", "43218765", _ymd(payment.payment_date)),
        ("TRN", "1", payment.payment_number, "1AMAZONEU0"),
        ("CUR", "PR", CURRENCY),
        ("N1", "PR", "AMAZON EU SARL", "92", AMAZON_X12_ID),
        ("N1", "PE", payee.name, "92", payee.identifier),
        ("ENT", "1"),
    ]  # fmt: skip
    claimed: dict[str | None, Decimal] = defaultdict(Decimal)
    for item in payment.items:
        if item.kind == "price_claim":
            claimed[item.invoice_number] += item.amount
    for item in payment.ordered_items:
        if item.kind in PAYMENT_ADJUSTMENTS:
            body += [("ADX", _price(item.amount), ADX_REASONS[item.kind], "IV", item.reference), *_notes(item)]
        elif item.kind in OPEN_ITEMS:
            paid = item.amount + (claimed.pop(item.reference, Decimal(0)) if item.kind == "invoice_payment" else 0)
            amounts = [_price(paid), _price(item.invoice_amount)] + ([_price(item.discount)] if item.discount else [])
            body += [("RMR", "IV", item.reference, "", *amounts), *_notes(item)]
        else:  # a price claim, under its invoice's RMR just written
            body += [("ADX", _price(item.amount), ADX_REASONS[item.kind]), *_notes(item, with_po=False)]
    sets = [OutboundSet("820", "0001", body)]
    group = OutboundGroup("RA", AMAZON_X12_ID, our_id, str(control_number), X12_VERSION, sets)
    interchange = OutboundInterchange(
        "ZZ", AMAZON_X12_ID, "ZZ", our_id, control_number, prepared_at, X12_INTERCHANGE_VERSION, "P", [group]
    )
    return write_x12(interchange).encode("ascii")


def _notes(item: RemittanceItem, *, with_po: bool = True) -> list[tuple[str, ...]]:
    """An RMR's or ADX's description, PO (a price claim's is its invoice's) and date."""
    po = [("REF", "PO", item.po_number)] if with_po and item.po_number else []
    return [("NTE", "", item.text), *po, ("DTM", "003", _ymd(item.item_date))]
