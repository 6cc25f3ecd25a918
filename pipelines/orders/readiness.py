"""Whether the order marts are fit to drive writes to Sage and Amazon.

dbt's tests guard each model; these checks guard the write-back itself: anything here that fails would
order or acknowledge wrongly (twice, the wrong product, a quantity that does not add up), so the batch
refuses to start and Dagster's blocking check stops the assets downstream of the marts. A problem of one
PO's own (a ship-to or a price missing) is not here: dbt blocks that PO alone (`blocked_reason`).
"""

from __future__ import annotations

import duckdb

# Each query returns the rows that break its rule; a description says what the rule protects.
CHECKS: dict[str, str] = {
    "a PO appears once in the work (else it could be ordered twice)": """
        select po_number from intermediate.int_purchase_orders_prepared group by po_number having count(*) > 1
    """,
    "a PO line appears once": """
        select purchase_order_number, line_number from marts.purchase_order_lines
        group by all having count(*) > 1
    """,
    "a resolved line of a PO to order has a Sage product, a selling unit and a positive selling price": """
        select lines.po_number, lines.line_number
        from intermediate.int_purchase_order_lines_resolved as lines
        join intermediate.int_purchase_orders_prepared as orders using (po_number)
        where orders.order_status in ('pending', 'failed') and lines.resolution_status = 'resolved'
            and (lines.product_id is null or lines.selling_unit_id is null
                 or coalesce(lines.selling_unit_price, 0) <= 0)
    """,
    "decided quantities add up to the ordered quantity": """
        select purchase_order_number, line_number from marts.purchase_order_lines
        where acknowledgement_code is not null
            and accepted_quantity + backordered_quantity + rejected_quantity <> ordered_quantity
    """,
    "a PO to order has its Sage customer and delivery address": """
        select po_number from intermediate.int_purchase_orders_prepared
        where order_status in ('pending', 'failed')
            and (customer_id is null or delivery_address_1 is null)
    """,
}
# Rows quoted per broken rule in the message: enough to find them, not a flood.
SHOWN_ROWS = 5


def write_back_blockers(con: duckdb.DuckDBPyConnection) -> list[str]:
    """One message per broken rule, naming a few of the offending rows; empty when the write-back may go."""
    problems = []
    for rule, query in CHECKS.items():
        rows = con.execute(query).fetchall()
        if rows:
            shown = "; ".join(" ".join(str(value) for value in row) for row in rows[:SHOWN_ROWS])
            problems.append(f"{rule}: broken by {len(rows)} row(s), e.g. {shown}")
    return problems
