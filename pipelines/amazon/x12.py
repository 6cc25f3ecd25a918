"""Amazon's X12 transaction sets → the shared document model (`pipelines.amazon.documents`).

One function per transaction set, each reading the segments of one set (ST … SE) in order. They do not trust
that the set passed map validation (`read_x12(..., validate=False)` skips it): anything they need and cannot
read raises `TranslationError` with the segment and element at fault, so the set is quarantined alone.

Positions are segment numbers in the file (ISA = 1), as everywhere in `ParsedFile`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from pipelines.amazon.documents import (
    Document,
    InboundAcknowledgement,
    ProductIdentifier,
    PurchaseOrder,
    PurchaseOrderLine,
    RemittanceLine,
    RemittancePayment,
)

if TYPE_CHECKING:
    from pipelines.edi.x12.reader import Interchange, Segment, TransactionSet

Status = Literal["accepted", "accepted_with_errors", "rejected"]

# X12 numeric (R / N0): optional minus, digits with at most one decimal point. Decimal() alone would also
# take "NaN", "1e5" or " 1 ", none of which is X12.
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)")
# PO1 carries up to ten product qualifier/identifier pairs, PO106/PO107 … PO124/PO125.
_PO1_FIRST_QUALIFIER, _PO1_LAST_QUALIFIER = 6, 24

# What a functional group acknowledges, by GS01: for a 997 that acknowledges a whole group without AK2.
FUNCTIONAL_GROUP_DOCUMENT = {"PO": "850", "PR": "855", "SH": "856", "IN": "810", "RA": "820", "AG": "824", "FA": "997"}
# 997 codes, for messages a person can read (X12 data elements 720, 723, 718/716).
SEGMENT_ERRORS = {
    "1": "unrecognized segment ID",
    "2": "unexpected segment",
    "3": "mandatory segment missing",
    "4": "loop occurs over maximum times",
    "5": "segment exceeds maximum use",
    "6": "segment not in defined transaction set",
    "7": "segment not in proper sequence",
    "8": "segment has data element errors",
}
ELEMENT_ERRORS = {
    "1": "mandatory data element missing",
    "2": "conditional required data element missing",
    "3": "too many data elements",
    "4": "data element too short",
    "5": "data element too long",
    "6": "invalid character in data element",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
    "12": "too many repetitions",
    "13": "too many components",
}
SET_ERRORS = {
    "1": "transaction set not supported",
    "2": "transaction set trailer missing",
    "3": "control number in header and trailer do not match",
    "4": "number of included segments does not match actual count",
    "5": "one or more segments in error",
    "6": "missing or invalid transaction set identifier",
    "7": "missing or invalid transaction set control number",
    "23": "transaction set control number not unique within the functional group",
}
GROUP_ERRORS = {
    "1": "functional group not supported",
    "2": "functional group version not supported",
    "3": "functional group trailer missing",
    "4": "group control number in header and trailer do not agree",
    "5": "number of included transaction sets does not match actual count",
    "6": "group control number violates syntax",
}
_ACK_STATUS: dict[str, Status] = {
    "A": "accepted",
    "E": "accepted_with_errors",
    "P": "accepted_with_errors",  # AK9 only: some sets of the group were rejected, the AK2s say which
    "R": "rejected",
    "M": "rejected",
    "W": "rejected",
    "X": "rejected",
}
_APPLICATION_STATUS: dict[str, Status] = {
    "TA": "accepted",
    "IA": "accepted",
    "TE": "accepted_with_errors",
    "IE": "accepted_with_errors",
    "TR": "rejected",
    "IR": "rejected",
}


class TranslationError(Exception):
    """A set whose content cannot become a document: the message and the segment/element at fault."""

    def __init__(self, message: str, segment: Segment, element: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.segment = segment
        self.element = element

    @property
    def position(self) -> str:
        return self.segment.at(self.element)


# --- element readers ------------------------------------------------------------------------------------


def _text(segment: Segment, element: int) -> str | None:
    return segment.element(element) or None


def _required(segment: Segment, element: int, what: str) -> str:
    value = segment.element(element)
    if not value:
        raise TranslationError(f"{segment.tag}{element:02d} ({what}) is missing", segment, element)
    return value


def _decimal(segment: Segment, element: int, what: str) -> Decimal:
    value = _required(segment, element, what)
    if not _NUMBER.fullmatch(value):
        raise TranslationError(f"{segment.tag}{element:02d} ({what}) {value!r} is not a number", segment, element)
    return Decimal(value)


def _optional_decimal(segment: Segment, element: int, what: str) -> Decimal | None:
    return _decimal(segment, element, what) if segment.element(element) else None


def _date(segment: Segment, element: int, what: str) -> date:
    value = _required(segment, element, what)
    try:
        if len(value) != 8 or not value.isdigit():
            raise ValueError
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise TranslationError(
            f"{segment.tag}{element:02d} ({what}) {value!r} is not a date CCYYMMDD", segment, element
        ) from None


def _first(segments: Iterable[Segment], tag: str) -> Segment | None:
    return next((segment for segment in segments if segment.tag == tag), None)


# --- 850 purchase order ---------------------------------------------------------------------------------


def purchase_order(transaction_set: TransactionSet, interchange: Interchange) -> list[Document]:
    """850 → PurchaseOrder: BEG, header REF CR/PD, CSH, DTM 064/063, CUR, N1 ST/BY/SU, PO1 (+ PO4), CTT."""
    beg = _first(transaction_set.body, "BEG")
    if beg is None:
        raise TranslationError("the purchase order has no BEG segment", transaction_set.header)
    header = _PoHeader()
    parties: dict[str, Segment] = {}
    lines: list[PurchaseOrderLine] = []
    line: _LineBuilder | None = None
    ctt: Segment | None = None
    # A REF or DTM belongs to the N1, N9 or PO1 loop before it, if any: only the heading's own count.
    in_heading = True
    for segment in transaction_set.body:
        tag = segment.tag
        if tag == "PO1":
            if line is not None:
                lines.append(line.build())
            line = _LineBuilder(segment)
            in_heading = False
        elif tag in ("N1", "N9"):
            in_heading = False
            if tag == "N1":
                parties.setdefault(segment.element(1), segment)
        elif tag == "CTT":
            ctt = segment
        elif tag == "PO4" and line is not None:
            line.unit_size = _optional_decimal(segment, 1, "pack") or line.unit_size
        elif in_heading:
            header.read(segment)
    if line is not None:
        lines.append(line.build())
    if not lines:
        raise TranslationError("the purchase order has no PO1 lines", transaction_set.trailer or beg)
    if ctt is not None:
        _check_totals(ctt, lines)
    ship_to, buyer, supplier = parties.get("ST"), parties.get("BY"), parties.get("SU")
    return [
        PurchaseOrder(
            po_number=_required(beg, 3, "purchase order number"),
            po_type=_required(beg, 2, "purchase order type"),
            purpose=_required(beg, 1, "purpose"),
            po_date=_date(beg, 5, "purchase order date"),
            currency=header.currency,
            ship_to_qualifier=_text(ship_to, 3) if ship_to else None,
            ship_to_id=_text(ship_to, 4) if ship_to else None,
            buyer_id=_text(buyer, 4) if buyer else None,
            supplier_id=_text(supplier, 4) if supplier else None,
            window_start=header.window_start,
            window_end=header.window_end,
            backorder_allowed=header.backorder_allowed,
            customer_reference=header.customer_reference,
            deal_number=header.deal_number,
            lines=tuple(lines),
            is_test=interchange.usage == "T",
        )
    ]


@dataclass
class _PoHeader:
    """What the model keeps of an 850's heading segments; the first occurrence of each wins."""

    currency: str | None = None
    customer_reference: str | None = None
    deal_number: str | None = None
    backorder_allowed: bool | None = None
    window_start: date | None = None
    window_end: date | None = None
    seen: set[str] = field(default_factory=set)

    def read(self, segment: Segment) -> None:
        # REF and DTM repeat with different qualifiers; CSH and CUR come once.
        key = segment.tag + segment.element(1) if segment.tag in ("REF", "DTM") else segment.tag
        if key in self.seen:
            return
        self.seen.add(key)
        if key == "REFCR":
            self.customer_reference = _text(segment, 2)
        elif key == "REFPD":
            self.deal_number = _text(segment, 2)
        elif segment.tag == "CSH":
            self.backorder_allowed = {"Y": True, "N": False}.get(segment.element(1))
        elif segment.tag == "CUR":
            self.currency = _required(segment, 2, "currency code")
        elif key == "DTM064":
            self.window_start = _date(segment, 2, "do-not-deliver-before date")
        elif key == "DTM063":
            self.window_end = _date(segment, 2, "do-not-deliver-after date")


@dataclass
class _LineBuilder:
    po1: Segment
    unit_size: Decimal | None = None

    def build(self) -> PurchaseOrderLine:
        po1 = self.po1
        identifiers = []
        for qualifier_at in range(_PO1_FIRST_QUALIFIER, _PO1_LAST_QUALIFIER + 1, 2):
            qualifier, value = po1.element(qualifier_at), po1.element(qualifier_at + 1)
            if qualifier or value:
                if not (qualifier and value):
                    missing = qualifier_at + 1 if qualifier else qualifier_at
                    raise TranslationError(f"PO1{qualifier_at:02d}/{qualifier_at + 1:02d} is half a pair", po1, missing)
                identifiers.append(ProductIdentifier(qualifier, value))
        if not identifiers:
            raise TranslationError("the line has no product identifier", po1, _PO1_FIRST_QUALIFIER)
        return PurchaseOrderLine(
            line_id=_required(po1, 1, "line id"),
            quantity=_decimal(po1, 2, "quantity"),
            unit_of_measure=_required(po1, 3, "unit of measure"),
            unit_size=self.unit_size,
            unit_price=_optional_decimal(po1, 4, "unit price"),
            price_basis=_text(po1, 5),
            identifiers=tuple(identifiers),
        )


def _check_totals(ctt: Segment, lines: list[PurchaseOrderLine]) -> None:
    declared = _decimal(ctt, 1, "number of line items")
    if declared != len(lines):
        raise TranslationError(f"CTT01 says {declared} line items, the set has {len(lines)} PO1", ctt, 1)
    if ctt.element(2):
        hash_total = _decimal(ctt, 2, "hash total")
        quantities = sum((line.quantity for line in lines), Decimal(0))
        if hash_total != quantities:
            raise TranslationError(f"CTT02 hash total {hash_total} ≠ the PO1 quantities' sum {quantities}", ctt, 2)


# --- 820 remittance advice ------------------------------------------------------------------------------


@dataclass
class _Open:
    """An RMR (an invoice or deduction Amazon pays or takes) or an ADX (an adjustment), being read."""

    segment: Segment
    owner: _Open | None = None  # the RMR an ADX adjusts; None for an adjustment of the whole entity
    notes: list[str] = field(default_factory=list)
    invoice_date: date | None = None
    po_number: str | None = None
    adjustments: list[_Open] = field(default_factory=list)


def remittance(transaction_set: TransactionSet, interchange: Interchange) -> list[Document]:
    """820 → RemittancePayment: BPR amount/date, TRN payment number, CUR, N1 PR/PE, RMR lines, ADX adjustments.

    Every RMR becomes a line (RMR02 invoice number, RMR04 paid, RMR05 gross, RMR06 discount; DTM 003 its
    invoice date, REF PO its PO, NTE its description). Every adjustment (an ADX, or RMR07/RMR08) becomes a
    line of its own with its signed amount, as Amazon's remittance export shows deductions. X12 counts an
    RMR's own adjustments inside its RMR04, so that invoice's line is paid RMR04 minus them: the lines' paid
    amounts then add up to what Amazon paid.
    """
    body = transaction_set.body
    bpr = _first(body, "BPR")
    trn = _first(body, "TRN")
    if bpr is None or trn is None:
        raise TranslationError("the remittance has no BPR or no TRN segment", transaction_set.header)
    amount = _decimal(bpr, 2, "payment amount")
    currency: str | None = None
    parties: dict[str, Segment] = {}
    items: list[_Open] = []
    rmr: _Open | None = None
    current: _Open | None = None  # the RMR or ADX that a following NTE/REF/DTM belongs to
    for segment in body:
        tag = segment.tag
        if tag == "CUR" and currency is None and not items:
            currency = _required(segment, 2, "currency code")
        elif tag == "N1":
            parties.setdefault(segment.element(1), segment)
        elif tag == "ENT":
            rmr = current = None
        elif tag == "RMR":
            rmr = current = _Open(segment)
            items.append(rmr)
        elif tag == "ADX":
            current = _Open(segment, owner=rmr)
            (rmr.adjustments if rmr is not None else items).append(current)
        elif current is not None and tag == "NTE" and segment.element(2):
            current.notes.append(segment.element(2))
        elif current is not None and tag == "REF" and segment.element(1) == "PO":
            current.po_number = _text(segment, 2)
        elif current is not None and tag == "DTM" and segment.element(1) == "003":
            current.invoice_date = _date(segment, 2, "invoice date")
    if currency is None:
        # Amazon's guide does not say which currency an 820 without CUR is in: never assume one.
        raise TranslationError("the remittance has no CUR segment: its currency is unknown", bpr)
    payer, payee = parties.get("PR"), parties.get("PE")
    lines: list[RemittanceLine] = []
    for item in items:
        lines += _remittance_lines(item, currency)
    return [
        RemittancePayment(
            payment_number=_required(trn, 2, "payment number"),
            payment_date=_date(bpr, 16, "payment date"),
            currency=currency,
            amount=-amount if bpr.element(3) == "D" else amount,
            payer_id=_text(payer, 4) if payer else None,
            payee_id=_text(payee, 4) if payee else None,
            lines=tuple(lines),
        )
    ]


def _remittance_lines(item: _Open, currency: str) -> list[RemittanceLine]:
    if item.segment.tag == "ADX":
        return [_adjustment_line(item, currency)]
    rmr = item.segment
    invoice_number = _required(rmr, 2, "invoice number")
    paid = _decimal(rmr, 4, "amount paid")
    discount = _optional_decimal(rmr, 6, "discount") or Decimal(0)
    gross = _optional_decimal(rmr, 5, "invoice amount")
    adjustments = [_adjustment_line(adjustment, currency) for adjustment in item.adjustments]
    if rmr.element(8):
        reason = rmr.element(7)
        adjustments.append(
            RemittanceLine(
                invoice_number=invoice_number,
                invoice_date=item.invoice_date,
                description=f"adjustment reason {reason}" if reason else "adjustment",
                gross_amount=_decimal(rmr, 8, "adjustment amount"),
                discount_amount=Decimal(0),
                paid_amount=_decimal(rmr, 8, "adjustment amount"),
                remaining_amount=None,
                currency=currency,
                po_number=item.po_number,
                transaction_type=f"RMR07 {reason}".strip(),
                original_invoice_number=invoice_number,
            )
        )
    own_paid = paid - sum((line.paid_amount for line in adjustments), Decimal(0))
    invoice_line = RemittanceLine(
        invoice_number=invoice_number,
        invoice_date=item.invoice_date,
        description="; ".join(item.notes) or None,
        # Without RMR05 the invoice amount is what was paid before the terms discount.
        gross_amount=gross if gross is not None else own_paid + discount,
        discount_amount=discount,
        paid_amount=own_paid,
        remaining_amount=None,
        currency=currency,
        po_number=item.po_number,
        transaction_type=rmr.element(1),
    )
    return [invoice_line, *adjustments]


def _adjustment_line(item: _Open, currency: str) -> RemittanceLine:
    adx = item.segment
    amount = _decimal(adx, 1, "adjustment amount")
    reason = _required(adx, 2, "adjustment reason")
    owner_number = item.owner.segment.element(2) if item.owner is not None else None
    return RemittanceLine(
        # ADX04 names the deduction when Amazon gives it a reference; else it belongs to its RMR's invoice.
        invoice_number=adx.element(4) or owner_number or "",
        invoice_date=item.invoice_date,
        description="; ".join(item.notes) or f"adjustment reason {reason}",
        gross_amount=amount,
        discount_amount=Decimal(0),
        paid_amount=amount,
        remaining_amount=None,
        currency=currency,
        po_number=item.po_number or (item.owner.po_number if item.owner is not None else None),
        transaction_type=f"ADX {reason}",
        original_invoice_number=owner_number,
    )


# --- 824 application advice -----------------------------------------------------------------------------


def application_advice(transaction_set: TransactionSet, interchange: Interchange) -> list[Document]:
    """824 → one InboundAcknowledgement per OTI (per document of ours it answers), TED errors as messages."""
    acks: list[tuple[Segment, list[str]]] = []
    for segment in transaction_set.body:
        if segment.tag == "OTI":
            acks.append((segment, []))
        elif segment.tag == "TED" and acks:
            acks[-1][1].append(_ted_message(segment))
    if not acks:
        raise TranslationError("the application advice has no OTI segment", transaction_set.header)
    documents: list[Document] = []
    for oti, errors in acks:
        code = _required(oti, 1, "application acknowledgment code")
        if code not in _APPLICATION_STATUS:
            raise TranslationError(f"OTI01 {code!r} is not an acknowledgment code", oti, 1)
        documents.append(
            InboundAcknowledgement(
                kind="824",
                acknowledged_control_number=_required(oti, 3, "reference identification"),
                acknowledged_document_type=_text(oti, 10),
                status=_APPLICATION_STATUS[code],
                errors=tuple(errors),
            )
        )
    return documents


def _ted_message(ted: Segment) -> str:
    where = [
        f"segment {ted.element(3)}" if ted.element(3) else "",
        f"at position {ted.element(4)}" if ted.element(4) else "",
        f"element {ted.element(6)}" if ted.element(6) else "",
        f"data element {ted.element(7)}" if ted.element(7) else "",
        f"value {ted.element(8)!r}" if ted.element(8) else "",
    ]
    location = " ".join(part for part in where if part)
    message = f"TED {ted.element(1)}" + (f": {ted.element(2)}" if ted.element(2) else "")
    return f"{message} ({location})" if location else message


# --- 997 functional acknowledgement ---------------------------------------------------------------------


def functional_acknowledgement(transaction_set: TransactionSet, interchange: Interchange) -> list[Document]:
    """997 → one InboundAcknowledgement per AK2 (per set of ours it answers), or one for the whole group
    (AK1 group control number) when the 997 has no AK2."""
    body = transaction_set.body
    ak1, ak9 = _first(body, "AK1"), _first(body, "AK9")
    if ak1 is None or ak9 is None:
        raise TranslationError("the 997 has no AK1 or no AK9 segment", transaction_set.header)
    documents: list[Document] = []
    ak2: Segment | None = None
    errors: list[str] = []
    for segment in body:
        if segment.tag == "AK2":
            ak2, errors = segment, []
        elif segment.tag == "AK3" and ak2 is not None:
            errors.append(_ak3_message(segment))
        elif segment.tag == "AK4" and ak2 is not None:
            errors.append(_ak4_message(segment, interchange.separators.component))
        elif segment.tag == "AK5" and ak2 is not None:
            errors += [f"AK5 {code}: {SET_ERRORS.get(code, 'error')}" for code in segment.elements[1:] if code]
            documents.append(
                InboundAcknowledgement(
                    kind="997",
                    acknowledged_control_number=_required(ak2, 2, "transaction set control number"),
                    acknowledged_document_type=_required(ak2, 1, "transaction set identifier"),
                    status=_ack_status(segment, 1),
                    errors=tuple(errors),
                )
            )
            ak2 = None
    if not documents:
        functional_id = ak1.element(1)
        documents.append(
            InboundAcknowledgement(
                kind="997",
                acknowledged_control_number=_required(ak1, 2, "group control number"),
                acknowledged_document_type=FUNCTIONAL_GROUP_DOCUMENT.get(functional_id),
                status=_ack_status(ak9, 1),
                errors=tuple(f"AK9 {code}: {GROUP_ERRORS.get(code, 'error')}" for code in ak9.elements[4:] if code),
            )
        )
    return documents


def _ack_status(segment: Segment, element: int) -> Status:
    code = _required(segment, element, "acknowledgment code")
    if code not in _ACK_STATUS:
        raise TranslationError(f"{segment.tag}{element:02d} {code!r} is not an acknowledgment code", segment, element)
    return _ACK_STATUS[code]


def _ak3_message(ak3: Segment) -> str:
    code = ak3.element(4)
    loop = f" in loop {ak3.element(3)}" if ak3.element(3) else ""
    meaning = f": {code} {SEGMENT_ERRORS.get(code, '')}".rstrip() if code else ""
    return f"segment {ak3.element(1)} at position {ak3.element(2)}{loop}{meaning}"


def _ak4_message(ak4: Segment, component_separator: str) -> str:
    position = ak4.element(1).replace(component_separator, "-")
    code = ak4.element(3)
    data_element = f" (data element {ak4.element(2)})" if ak4.element(2) else ""
    value = f", value {ak4.element(4)!r}" if ak4.element(4) else ""
    return f"element {position}{data_element}: {code} {ELEMENT_ERRORS.get(code, '')}".rstrip() + value


Translator = Callable[["TransactionSet", "Interchange"], list[Document]]
# By ST01: the sets we turn into documents. A set with a map but no translator is "not supported".
TRANSLATORS: dict[str, Translator] = {
    "850": purchase_order,
    "820": remittance,
    "824": application_advice,
    "997": functional_acknowledgement,
}
