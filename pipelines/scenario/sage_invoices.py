"""The Sage invoices Amazon pays, as the Amazon side watches the history post them: what a remittance needs of
each (its number, date, PO, vendor code, gross and lines) and how a shortage claim against one is sized."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pipelines.scenario.formats import to_money


@dataclass(frozen=True, slots=True)
class InvoicedLine:
    quantity: int
    unit_price: Decimal  # per selling unit, as the Sage order line
    vat_rate: Decimal


@dataclass(frozen=True)
class SageInvoice:
    number: str  # the sandbox's `f"{n:010d}"`
    day: date
    po_number: str  # the Sage order's customer document number
    vendor_code: str
    gross: Decimal
    lines: tuple[InvoicedLine, ...]

    @property
    def shortable(self) -> bool:
        """Whether Amazon's receiving can have counted fewer units of a line than were invoiced (and some)."""
        return any(line.quantity >= 2 for line in self.lines)


def line_gross(quantity: int, line: InvoicedLine) -> Decimal:
    """What `quantity` units of the line cost gross, rounded as the sandbox posts it: goods, then VAT on them."""
    goods = to_money(quantity * line.unit_price)
    return goods + to_money(goods * line.vat_rate / 100)


def shortage_value(rng: random.Random, invoice: SageInvoice) -> Decimal:
    """A shortage claim's value (positive): at most half of one line's units were not counted in."""
    line = rng.choice([line for line in invoice.lines if line.quantity >= 2])
    return line_gross(rng.randint(1, line.quantity // 2), line)
