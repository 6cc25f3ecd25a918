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
_PRICE_VIEW_REASON = (
    "a price linked to the standard band shows the standard price, and every row shows its product's and "
    "band's names, none of which need move the row's own date_time_updated (the sandbox does not move it); "
    "the view is one row per product and price band, small enough to read whole"
)
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
    # Columns created (typed from Sage's schema) before any row carries a value: dlt adds an untyped column
    # only with its first non-null value, and staging selects these from the first load on.
    declared: tuple[str, ...] = ()
    # (column, scale) for decimals whose scale Sage's schema understates. Only ever wider: nothing rounds.
    decimal_scales: tuple[tuple[str, int], ...] = ()

    @property
    def incremental(self) -> bool:
        return not self.full_read_reason

    @property
    def order_by(self) -> str:
        # Sage pages only in a stated order, and a view without `id` can only be ordered by its own key.
        return ",".join(self.primary_key)


TABLES: Final[tuple[SageTable, ...]] = (
    SageTable("customers", "customers", frozen=True, declared=("price_band_id",)),
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
    SageTable(
        "price_bands",
        "price_bands",
        declared=(
            "name",
            "description",
            "is_standard_band",
            "currency_id",
            "price_band_type_id",
            "price_band_type",
            "is_active",
            "is_time_based",
        ),
    ),
    SageTable(
        "product_price_views",
        "product_price_views",
        primary_key=("product_price_id",),
        full_read_reason=_PRICE_VIEW_REASON,
        frozen=True,
        declared=(
            "product_id",
            "product_code",
            "product_name",
            "product_stock_unit_name",
            "price_band_id",
            "price_band_name",
            "product_price_use_standard",
            "currency_id",
            "currency_name",
            "currency_symbol",
        ),
        # Sage declares the price `decimal 2dp`, but keeps selling prices to up to 5 places (its order lines
        # declare selling_unit_price `decimal 5dp`): a price of 1.23456 must not load as 1.23.
        decimal_scales=(("product_price_price", 5),),
    ),
)
