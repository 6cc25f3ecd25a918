"""What we tell Amazon about one Sage invoice, independent of the syntax it travels in.

The X12 810, the EDIFACT INVOIC and the SP-API invoice are three renderings of this one model; the checks
before sending (`pipelines.invoices.rules`) run on it once, whatever the vendor code's channel. Money is
Decimal at two places; unit costs are per each, as Amazon prices them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from pipelines.amazon.documents import ProductIdentifier

INVOICE = "Invoice"
CREDIT_NOTE = "CreditNote"
CHARGE = "charge"
ALLOWANCE = "allowance"


@dataclass(frozen=True)
class InvoiceLine:
    line_number: int  # 1.. in the invoice
    po_number: str
    line_id: str  # the PO's own line id, echoed back
    identifiers: tuple[ProductIdentifier, ...]  # exactly as Amazon sent them
    vendor_product_code: str  # our SKU: the Sage product code
    unit_of_measure: str  # as Amazon ordered (EA / CA, PCE / CS, Eaches / Cases)
    unit_size: Decimal  # eaches per case; 1 for eaches
    invoiced_eaches: Decimal  # base units invoiced
    unit_cost: Decimal  # per each, as Sage invoices it (selling price ÷ eaches per selling unit)
    net_amount: Decimal  # the line's goods value, 2 places
    tax_rate: Decimal  # percent, e.g. 20.00
    tax_amount: Decimal  # 2 places

    @property
    def invoiced_quantity(self) -> Decimal:
        """In the unit Amazon ordered in."""
        return self.invoiced_eaches / self.unit_size


@dataclass(frozen=True)
class InvoiceAdjustment:
    """A header charge (freight ...) or allowance (discount ...): X12 SAC, EDIFACT ALC/MOA, API chargeDetails."""

    kind: str  # CHARGE or ALLOWANCE
    code: str  # X12 SAC02 code, e.g. D240 freight
    description: str
    amount: Decimal  # positive; ALLOWANCE subtracts


@dataclass(frozen=True)
class AmazonInvoice:
    invoice_number: str  # Sage's invoice number: unique forever at Amazon
    invoice_date: date
    invoice_type: str  # INVOICE (credit notes are out of scope of this flow)
    vendor_code: str
    marketplace: str
    standard: str  # X12, EDIFACT or API
    currency: str
    po_number: str  # the order invoiced (Sage invoices one order per invoice here)
    po_date: date
    sales_order_number: str
    remit_to_id: str  # our party id as Amazon knows it (the id its POs are addressed to; the vendor code on API)
    remit_to_name: str
    remit_to_vat_number: str | None
    bill_to_id: str  # Amazon's party id (the PO's sender / buyer)
    ship_to_qualifier: str | None  # the FC as the PO named it
    ship_to_id: str | None
    payment_terms_days: int | None  # net days, when the customer account has terms
    lines: tuple[InvoiceLine, ...]
    adjustments: tuple[InvoiceAdjustment, ...]
    net_total: Decimal  # Sage's invoice totals, as printed
    tax_total: Decimal
    gross_total: Decimal
    prepared_at: datetime | None = None  # timezone-aware

    def adjustments_total(self) -> Decimal:
        return sum(
            (a.amount if a.kind == CHARGE else -a.amount for a in self.adjustments),
            Decimal("0.00"),
        )
