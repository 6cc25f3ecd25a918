"""What Amazon sends us, in one model whatever the syntax: X12, EDIFACT, SP-API JSON or the Vendor Central
remittance export all parse into these records. Money is Decimal, quantities are Decimal, dates are dates.

A file parses into a `ParsedFile`: its envelope, and one `SetResult` per transaction set / message /
spreadsheet block, each either a document or a quarantine reason with the position that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

Format = Literal["X12", "EDIFACT", "REMITTANCE_CSV", "REMITTANCE_XLSX", "SPAPI_JSON"]


@dataclass(frozen=True)
class ProductIdentifier:
    """One identifier of an ordered item as Amazon sent it: qualifier (EN, UP, BP, VN, IB, SA ...) + value."""

    qualifier: str
    value: str


@dataclass(frozen=True)
class PurchaseOrderLine:
    line_id: str
    quantity: Decimal
    unit_of_measure: str  # as sent: EA / CA (X12 PO103), PCE / CS ... (EDIFACT), Eaches / Cases (API)
    unit_size: Decimal | None  # eaches per case where the document gives it (API unitSize, PO4)
    unit_price: Decimal | None
    price_basis: str | None  # PE (per each) ...; EDIFACT PRI qualifier
    identifiers: tuple[ProductIdentifier, ...]


@dataclass(frozen=True)
class PurchaseOrder:
    po_number: str
    po_type: str  # NE / NP / RO / CN (X12 BEG02); EDIFACT BGM document name code; API purchaseOrderType
    purpose: str  # 00 original, 05 replace, 01 cancel (X12 BEG01); EDIFACT BGM message function 9 / 5 / 1
    po_date: date
    currency: str | None
    ship_to_qualifier: str | None  # X12 N103 (92 FC code, 15 SAN); EDIFACT NAD+DP code list (9 = GLN)
    ship_to_id: str | None
    buyer_id: str | None
    supplier_id: str | None
    window_start: date | None  # do not deliver before (DTM 064 / 64)
    window_end: date | None  # do not deliver after (DTM 063 / 63)
    backorder_allowed: bool | None  # CSH Y/N; None when the document says nothing
    customer_reference: str | None  # REF*CR / RFF+CR
    deal_number: str | None  # REF*PD / RFF+PD
    lines: tuple[PurchaseOrderLine, ...]
    is_test: bool = False


@dataclass(frozen=True)
class RemittanceLine:
    invoice_number: str  # as Amazon wrote it: our invoice number, <inv>SC, <n>VCBSINV, co-op ids ...
    invoice_date: date | None
    description: str | None
    gross_amount: Decimal  # invoice amount (gross); deductions negative
    discount_amount: Decimal  # terms discount taken (positive = taken)
    paid_amount: Decimal  # amount paid against this line (negative for deductions)
    remaining_amount: Decimal | None
    currency: str | None
    po_number: str | None = None
    transaction_type: str | None = None
    original_invoice_number: str | None = None


@dataclass(frozen=True)
class RemittancePayment:
    payment_number: str
    payment_date: date
    currency: str
    amount: Decimal  # net cash Amazon paid
    payer_id: str | None
    payee_id: str | None
    lines: tuple[RemittanceLine, ...]


@dataclass(frozen=True)
class InboundAcknowledgement:
    """Amazon's answer to a document we sent: 997/CONTRL (syntax), 824/APERAK (application)."""

    kind: Literal["997", "CONTRL", "824", "APERAK"]
    acknowledged_control_number: str  # our GS06/ST02 or UNB/UNH reference it answers
    acknowledged_document_type: str | None  # 855, 856, 810 / ORDRSP, DESADV, INVOIC
    status: Literal["accepted", "accepted_with_errors", "rejected"]
    errors: tuple[str, ...] = ()  # each with its position (segment, element) as Amazon reported it


Document = PurchaseOrder | RemittancePayment | InboundAcknowledgement


@dataclass(frozen=True)
class SetResult:
    """One transaction set (X12 ST..SE), message (EDIFACT UNH..UNT) or spreadsheet payment block."""

    control_number: str  # ST02 / UNH reference / payment number
    document_type: str  # 850, 820, 824, 997 / ORDERS, REMADV, CONTRL, APERAK / REMITTANCE
    document: Document | None  # None when quarantined
    error: str | None = None  # why it was quarantined
    position: str | None = None  # where: "segment 14 (PO1), element 4" / "row 12"
    group_control_number: str | None = None  # X12 GS06: the 997 acknowledges per group


@dataclass
class ParsedFile:
    format: Format
    sender_id: str | None
    receiver_id: str | None
    interchange_control_number: str | None  # ISA13 / UNB reference
    syntax_version: str | None  # e.g. 00401 / 005010 / UNOA:2 D96A
    sets: list[SetResult] = field(default_factory=list)
    envelope_errors: list[str] = field(default_factory=list)  # SE/GE/IEA/UNT/UNZ count or control mismatches
    prepared_at: datetime | None = None


class FileRejected(Exception):
    """The whole file cannot be read (not EDI, truncated envelope, wrong encoding): it is quarantined."""

    def __init__(self, reason: str, position: str | None = None) -> None:
        super().__init__(f"{reason} (at {position})" if position else reason)
        self.reason = reason
        self.position = position
