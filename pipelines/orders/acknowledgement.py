"""What we tell Amazon about one purchase order, independent of the syntax it travels in.

The 855, the ORDRSP and the SP-API JSON are three renderings of this one model, so a rule about what an
acknowledgement says (every line answered, never more than ordered, the identifier Amazon sent) is checked
once, here, whatever the vendor code's channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from pipelines.amazon.documents import ProductIdentifier

ACCEPTED = "Accepted"
BACKORDERED = "Backordered"
REJECTED = "Rejected"
STATUSES = (ACCEPTED, BACKORDERED, REJECTED)

# Amazon's rejection reasons (SP-API AcknowledgementStatusDetails.rejectionReason).
TEMPORARILY_UNAVAILABLE = "TemporarilyUnavailable"
INVALID_PRODUCT_IDENTIFIER = "InvalidProductIdentifier"
OBSOLETE_PRODUCT = "ObsoleteProduct"
REJECTION_REASONS = (TEMPORARILY_UNAVAILABLE, INVALID_PRODUCT_IDENTIFIER, OBSOLETE_PRODUCT)


@dataclass(frozen=True)
class LineOutcome:
    """One part of a line's answer: a line is accepted, backordered or rejected, or split in two."""

    status: str  # ACCEPTED, BACKORDERED or REJECTED
    quantity: Decimal  # in the unit Amazon ordered in (cases or eaches), never more than ordered
    ship_date: date | None  # when we will ship it: accepted and backordered quantities; None when rejected
    rejection_reason: str | None = None  # one of REJECTION_REASONS, only when rejected

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown acknowledgement status {self.status!r}")
        if (self.status == REJECTED) != (self.rejection_reason is not None):
            raise ValueError("a rejection reason is given exactly when a quantity is rejected")
        if self.rejection_reason is not None and self.rejection_reason not in REJECTION_REASONS:
            raise ValueError(f"unknown rejection reason {self.rejection_reason!r}")
        if self.status != REJECTED and self.ship_date is None:
            raise ValueError(f"an {self.status.lower()} quantity needs its ship date")
        if self.quantity < 0:
            raise ValueError("an acknowledged quantity cannot be negative")


@dataclass(frozen=True)
class AcknowledgementLine:
    line_id: str  # the PO's own line id (PO101 / LIN 1082 / itemSequenceNumber), echoed back
    identifiers: tuple[ProductIdentifier, ...]  # exactly as Amazon sent them, in the same order
    ordered_quantity: Decimal  # as Amazon ordered, in its unit
    unit_of_measure: str  # as Amazon sent it: EA / CA (X12), PCE / CS (EDIFACT), Eaches / Cases (API)
    unit_size: Decimal | None  # eaches per case where Amazon said; else Sage's case size when ordered in cases
    unit_cost: Decimal  # per each, what we will invoice; never above the PO's price
    outcomes: tuple[LineOutcome, ...]  # one, or accepted + backordered / accepted + rejected for a part fill

    def __post_init__(self) -> None:
        if not self.outcomes:
            raise ValueError(f"line {self.line_id}: every line must be answered")
        if sum((outcome.quantity for outcome in self.outcomes), Decimal(0)) != self.ordered_quantity:
            raise ValueError(f"line {self.line_id}: the answered quantities must add up to the ordered quantity")

    def quantity(self, status: str) -> Decimal:
        return sum((o.quantity for o in self.outcomes if o.status == status), Decimal(0))

    @property
    def is_unchanged(self) -> bool:
        """Accepted in full, as ordered."""
        return self.quantity(ACCEPTED) == self.ordered_quantity


@dataclass(frozen=True)
class Acknowledgement:
    po_number: str
    po_date: date
    vendor_code: str
    currency: str
    acknowledged_at: datetime  # timezone-aware
    ship_to_qualifier: str | None  # as the PO said it (X12 N103 / EDIFACT 3055), echoed back
    ship_to_id: str | None
    sales_order_number: str | None  # Sage's order number (our reference to Amazon); None when nothing was ordered
    lines: tuple[AcknowledgementLine, ...]

    def __post_init__(self) -> None:
        if not self.lines:
            raise ValueError(f"PO {self.po_number}: an acknowledgement answers at least one line")
        if self.acknowledged_at.tzinfo is None:
            raise ValueError("acknowledged_at must be timezone-aware")

    @property
    def is_unchanged(self) -> bool:
        """Every line accepted in full: X12 BAK02 AD, ORDRSP response type AP."""
        return all(line.is_unchanged for line in self.lines)

    @property
    def is_rejected(self) -> bool:
        """Nothing accepted or backordered: ORDRSP response type RE."""
        return all(line.quantity(REJECTED) == line.ordered_quantity for line in self.lines)
