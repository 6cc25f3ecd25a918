"""Deciding each PO line: accept, backorder or reject, against the stock Sage has free.

Free stock is read from Sage once, at the start of a batch, and handed out in the order the POs arrived,
so two POs never promise the same units. It is handed out in whole selling units (a case of 12 takes 12
eaches or none), from one warehouse per product: the holding with the most free stock when the batch
started. What stock does not cover is backordered where the PO allows it, else rejected.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal

from pipelines.orders.acknowledgement import (
    ACCEPTED,
    BACKORDERED,
    INVALID_PRODUCT_IDENTIFIER,
    OBSOLETE_PRODUCT,
    REJECTED,
    TEMPORARILY_UNAVAILABLE,
    LineOutcome,
)

RESOLVED = "resolved"
CANCELLED_LINE = "cancelled_line"  # Amazon ordered none of it: answered with nothing to ship, no stock taken
# Why a line that Sage cannot take as sent is rejected. Amazon has three reasons; a unit or quantity Sage
# cannot take means Amazon's item setup (its identifier with that case pack) is not one we can supply.
REJECTION_FOR_RESOLUTION = {
    "unknown_product": INVALID_PRODUCT_IDENTIFIER,
    "ambiguous_product": INVALID_PRODUCT_IDENTIFIER,
    "unknown_unit": INVALID_PRODUCT_IDENTIFIER,
    "unit_mismatch": INVALID_PRODUCT_IDENTIFIER,
    "fractional_quantity": INVALID_PRODUCT_IDENTIFIER,
    "discontinued_product": OBSOLETE_PRODUCT,
}


@dataclass(frozen=True)
class Holding:
    product_id: int
    warehouse_id: int
    free_base_quantity: Decimal  # Sage's free stock, converted from stock units to base units


@dataclass(frozen=True)
class LineToDecide:
    line_number: int
    line_id: str
    ordered_quantity: Decimal  # in the PO's unit, which is the Sage selling unit for a resolved line
    resolution_status: str
    product_id: int | None
    selling_unit_multiple: Decimal | None  # base units per PO unit, for a resolved line


@dataclass(frozen=True)
class LineDecision:
    line_number: int
    line_id: str
    outcomes: tuple[LineOutcome, ...]
    warehouse_id: int | None  # where accepted and backordered units come from

    def quantity(self, status: str) -> Decimal:
        return sum((o.quantity for o in self.outcomes if o.status == status), Decimal(0))


class FreeStock:
    """Sage's free stock at the start of the batch, handed out line by line."""

    def __init__(self, holdings: Iterable[Holding]) -> None:
        best: dict[int, Holding] = {}
        for holding in holdings:
            current = best.get(holding.product_id)
            if current is None or (holding.free_base_quantity, -holding.warehouse_id) > (
                current.free_base_quantity,
                -current.warehouse_id,
            ):
                best[holding.product_id] = holding
        self.warehouse = {product_id: holding.warehouse_id for product_id, holding in best.items()}
        self.free = {product_id: max(holding.free_base_quantity, Decimal(0)) for product_id, holding in best.items()}

    def take(self, product_id: int, units: Decimal, unit_multiple: Decimal) -> Decimal:
        """Take up to `units` whole units of `unit_multiple` base units each; return how many were taken."""
        available = (self.free.get(product_id, Decimal(0)) / unit_multiple).to_integral_value(ROUND_FLOOR)
        taken = min(units, available)
        self.free[product_id] = self.free.get(product_id, Decimal(0)) - taken * unit_multiple
        return taken


def decide_lines(
    lines: Iterable[LineToDecide],
    stock: FreeStock,
    *,
    backorder_allowed: bool,
    ship_date: date,
    today: date,
    backorder_days: int,
) -> tuple[LineDecision, ...]:
    """Decide every line of one PO, taking stock from `stock` as it goes.

    `ship_date` is when accepted units ship; backordered units ship `backorder_days` after `today`.
    """
    backorder_date = today + timedelta(days=backorder_days)
    decisions = []
    for line in lines:
        if line.resolution_status == CANCELLED_LINE:
            outcome = LineOutcome(ACCEPTED, line.ordered_quantity, ship_date)
            decisions.append(LineDecision(line.line_number, line.line_id, (outcome,), None))
            continue
        rejection = REJECTION_FOR_RESOLUTION.get(line.resolution_status)
        if line.resolution_status != RESOLVED:
            if rejection is None:
                raise ValueError(f"line {line.line_id}: unknown resolution status {line.resolution_status!r}")
            outcome = LineOutcome(REJECTED, line.ordered_quantity, None, rejection)
            decisions.append(LineDecision(line.line_number, line.line_id, (outcome,), None))
            continue
        warehouse_id = stock.warehouse.get(line.product_id)
        if warehouse_id is None:
            # Not held in any warehouse: Sage would refuse the order line, backordered or not.
            outcome = LineOutcome(REJECTED, line.ordered_quantity, None, TEMPORARILY_UNAVAILABLE)
            decisions.append(LineDecision(line.line_number, line.line_id, (outcome,), None))
            continue
        accepted = stock.take(line.product_id, line.ordered_quantity, line.selling_unit_multiple)
        short = line.ordered_quantity - accepted
        outcomes = []
        if accepted:
            outcomes.append(LineOutcome(ACCEPTED, accepted, ship_date))
        if short and backorder_allowed:
            outcomes.append(LineOutcome(BACKORDERED, short, backorder_date))
        elif short:
            outcomes.append(LineOutcome(REJECTED, short, None, TEMPORARILY_UNAVAILABLE))
        decisions.append(LineDecision(line.line_number, line.line_id, tuple(outcomes), warehouse_id))
    return tuple(decisions)
