"""The Sage 200 tables the `sage200` source loads: where each comes from, its key and how it is read.

Every table is merged on its key, so loading the same rows twice changes nothing. A table is read
incrementally (`date_time_updated gt <last run's newest>`) unless its entry says why it must be read whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

DATASET_NAME: Final = "raw_sage200"
CURSOR: Final = "date_time_updated"
# Sage stamps date_time_updated to the second and the client filters with `gt`: a row changed in the same
# second as the previous run's newest row would be missed. Re-reading that second is harmless under merge.
CURSOR_LAG_SECONDS: Final = 1.0
PAGE_SIZE: Final = 500
# Nested collections become child tables one level down (products__units); anything deeper stays JSON.
MAX_TABLE_NESTING: Final = 1

_VIEW_REASON = (
    "a view joins several Sage tables; its date_time_updated (when it has one) is one row's stamp, so a change "
    "to another joined row (order status, customer name) would not be picked up"
)
_NO_CURSOR_REASON = "the view has no date_time_updated to filter on"
_BALANCE_REASON = (
    "the balances on these rows are kept by the ledger postings, which need not touch the row's "
    "date_time_updated; the table is small and reconciliation reads it, so it is read whole every time"
)


@dataclass(frozen=True)
class SageTable:
    """One Sage list resource loaded into one raw table (plus a child table per nested collection)."""

    name: str
    path: str
    primary_key: tuple[str, ...] = ("id",)
    # The `full_read_reason` of a table read whole; empty for incremental tables.
    full_read_reason: str = ""
    # Nested collections Sage returns only when asked for with $expand.
    expand: tuple[str, ...] = ()
    # Nested collections loaded as child tables `<name>__<collection>` (typed from Sage's item schema).
    nested: tuple[str, ...] = ()
    # Reconciliation reads these: a value of the wrong type must fail the load, not add a variant column.
    frozen: bool = False

    @property
    def incremental(self) -> bool:
        return not self.full_read_reason

    @property
    def order_by(self) -> str:
        # Sage pages only in a stated order, and a view without `id` can only be ordered by its own key.
        return ",".join(self.primary_key)


TABLES: Final[tuple[SageTable, ...]] = (
    SageTable("customers", "customers", frozen=True),
    SageTable("products", "products", expand=("units",), nested=("units",)),
    SageTable("units", "units"),
    SageTable("product_groups", "product_groups"),
    SageTable("warehouses", "warehouses"),
    SageTable("warehouse_holdings", "warehouse_holdings"),
    SageTable("sop_orders", "sop_orders", expand=("lines",), nested=("lines",)),
    SageTable("sop_despatch_receipts", "sop_despatch_receipts"),
    SageTable(
        "sop_order_despatch_views",
        "sop_order_despatch_views",
        primary_key=("sop_despatch_id", "sop_order_id"),
        full_read_reason=_NO_CURSOR_REASON,
    ),
    SageTable(
        "sop_order_despatch_line_views",
        "sop_order_despatch_line_views",
        primary_key=("sop_despatch_line_id",),
        full_read_reason=_VIEW_REASON,
    ),
    SageTable(
        "sop_order_return_invoice_credit_views",
        "sop_order_return_invoice_credit_views",
        primary_key=("sop_order_return_id", "sop_invoice_credit_id"),
        full_read_reason=_NO_CURSOR_REASON,
    ),
    SageTable(
        "sop_order_return_line_invoice_credit_views",
        "sop_order_return_line_invoice_credit_views",
        primary_key=("sop_invoice_credit_id", "sop_order_return_line_id"),
        full_read_reason=_NO_CURSOR_REASON,
    ),
    SageTable(
        "sales_posted_transactions",
        "sales_posted_transactions",
        nested=(
            "tax_analysis_items",
            "nominal_analysis_items",
            "bank_items",
            "allocation_session_items",
            "allocation_history_items",
        ),
        frozen=True,
    ),
    SageTable("banks", "banks", full_read_reason=_BALANCE_REASON, frozen=True),
    SageTable(
        "bank_posted_transactions",
        "bank_posted_transactions",
        nested=("tax_analysis_items", "nominal_analysis_items", "trade_items"),
        frozen=True,
    ),
    SageTable("nominal_codes", "nominal_codes", full_read_reason=_BALANCE_REASON, frozen=True),
    SageTable("control_nominal_codes", "control_nominal_codes"),
    SageTable("cost_centres", "cost_centres"),
    SageTable("departments", "departments"),
    SageTable("tax_codes", "tax_codes"),
    SageTable(
        "financial_year_period_views",
        "financial_year_period_views",
        primary_key=("accounting_period_id",),
        full_read_reason=_NO_CURSOR_REASON,
    ),
)
