"""Line decisions: stock handed out in PO order, in whole selling units, backordered or rejected beyond it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pipelines.orders.acknowledgement import LineOutcome
from pipelines.orders.decisions import FreeStock, Holding, LineToDecide, decide_lines

TODAY = date(2026, 11, 27)
SHIP = date(2026, 11, 30)
BACKORDER = date(2026, 12, 4)  # today + 7


def line(number: int, quantity: str, product_id: int | None = 1, multiple: str = "12", status: str = "resolved"):
    return LineToDecide(number, str(number), Decimal(quantity), status, product_id, Decimal(multiple))


def decide(lines, stock, *, backorder_allowed=True):
    return decide_lines(
        lines, stock, backorder_allowed=backorder_allowed, ship_date=SHIP, today=TODAY, backorder_days=7
    )


def outcomes(decision) -> list[tuple[str, Decimal, date | None, str | None]]:
    return [(o.status, o.quantity, o.ship_date, o.rejection_reason) for o in decision.outcomes]


def test_stock_is_handed_out_in_po_order_and_never_promised_twice() -> None:
    stock = FreeStock([Holding(1, 10, Decimal(60))])  # five cases of 12
    first = decide([line(1, "3")], stock)
    second = decide([line(1, "3")], stock)
    third = decide([line(1, "1")], stock, backorder_allowed=False)
    assert outcomes(first[0]) == [("Accepted", Decimal(3), SHIP, None)]
    assert outcomes(second[0]) == [("Accepted", Decimal(2), SHIP, None), ("Backordered", Decimal(1), BACKORDER, None)]
    assert outcomes(third[0]) == [("Rejected", Decimal(1), None, "TemporarilyUnavailable")]


def test_only_whole_selling_units_are_taken() -> None:
    stock = FreeStock([Holding(1, 10, Decimal(30))])  # 2.5 cases of 12 is 2 cases
    (decision,) = decide([line(1, "4")], stock, backorder_allowed=False)
    assert outcomes(decision) == [
        ("Accepted", Decimal(2), SHIP, None),
        ("Rejected", Decimal(2), None, "TemporarilyUnavailable"),
    ]
    (eaches,) = decide([line(2, "6", multiple="1")], stock)
    assert outcomes(eaches) == [("Accepted", Decimal(6), SHIP, None)]  # the 6 eaches left over


def test_the_warehouse_with_most_free_stock_serves_the_product() -> None:
    stock = FreeStock([Holding(1, 10, Decimal(12)), Holding(1, 11, Decimal(48)), Holding(2, 10, Decimal(0))])
    decisions = decide([line(1, "2"), line(2, "1", product_id=2)], stock)
    assert [d.warehouse_id for d in decisions] == [11, 10]
    assert outcomes(decisions[1]) == [("Backordered", Decimal(1), BACKORDER, None)]


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("unknown_product", "InvalidProductIdentifier"),
        ("ambiguous_product", "InvalidProductIdentifier"),
        ("unit_mismatch", "InvalidProductIdentifier"),
        ("fractional_quantity", "InvalidProductIdentifier"),
        ("unknown_unit", "InvalidProductIdentifier"),
        ("discontinued_product", "ObsoleteProduct"),
    ],
)
def test_a_line_sage_cannot_take_is_rejected_whole_without_touching_stock(status: str, reason: str) -> None:
    stock = FreeStock([Holding(1, 10, Decimal(120))])
    (decision,) = decide([line(1, "2.5", status=status)], stock)
    assert outcomes(decision) == [("Rejected", Decimal("2.5"), None, reason)]
    assert decision.warehouse_id is None
    assert stock.free[1] == Decimal(120)


def test_a_product_held_nowhere_is_rejected_even_when_backorders_are_allowed() -> None:
    (decision,) = decide([line(1, "2", product_id=7)], FreeStock([]))
    assert outcomes(decision) == [("Rejected", Decimal(2), None, "TemporarilyUnavailable")]


def test_an_unknown_resolution_status_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="unknown resolution status"):
        decide([line(1, "1", status="maybe")], FreeStock([]))


def test_negative_free_stock_counts_as_none() -> None:
    (decision,) = decide([line(1, "1")], FreeStock([Holding(1, 10, Decimal(-5))]), backorder_allowed=False)
    assert outcomes(decision) == [("Rejected", Decimal(1), None, "TemporarilyUnavailable")]


def test_outcomes_refuse_contradictions() -> None:
    with pytest.raises(ValueError):
        LineOutcome("Rejected", Decimal(1), None)
    with pytest.raises(ValueError):
        LineOutcome("Accepted", Decimal(1), None)
    with pytest.raises(ValueError):
        LineOutcome("Accepted", Decimal(1), SHIP, "ObsoleteProduct")


def test_a_line_amazon_cancelled_is_answered_with_nothing_to_ship() -> None:
    stock = FreeStock([Holding(1, 10, Decimal(120))])
    (decision,) = decide([line(1, "0", status="cancelled_line")], stock)
    assert outcomes(decision) == [("Accepted", Decimal(0), SHIP, None)]
    assert stock.free[1] == Decimal(120)
