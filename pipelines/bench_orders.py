"""`avc2sage bench`, the orders part: order-to-cash over a year of a large vendor's POs, beside a floor.

The warehouse is synthesised, not loaded: Sage's masters and a year of Amazon POs are written straight
into `raw_sage200` and `raw_amazon` with DuckDB SQL, in a few seconds. Loading the cached large sandbox
through dlt would take ~13 minutes and bring only 400 products; what the order models read is the PO lines
and the product masters, and both are synthesised at a large vendor's size:

- Sage: 2,000 products (EAN-13 barcodes on our GS1 prefix, an each and a case unit, a few inactive),
  four price bands and every product's price in each, 200 trade customers beside Amazon's account, two
  warehouses holding every product, and the year's sales orders: one for each PO older than a month (the
  order models see these POs as ordered outside avc2sage; the last month's are pending) and the trade orders.
  Each raw table has the columns Sage's own schema gives it, typed as the `sage200` source types them
  (Sage's `decimal Ndp` as DECIMAL(18, N), date-times as timestamps, nested objects flattened one level).
- Amazon: 6,600 POs over the year (one in 33 re-sent with a change) of 1 to 77 lines, ~257,000 lines in
  all, mostly cases and a few eaches, each with its EAN (a sprinkle unknown to Sage) and an ASIN on 30%,
  in the column layout of `pipelines.amazon.source.TABLES`; ship-tos from the seed `amazon_locations`.
- The configuration (`raw_app`, from the example file) and the audit schema, empty: no PO decided yet.

Each stage runs in a fresh process (`pipelines.bench.measured`), in this order:

(a) floor: one DuckDB query doing the core of resolution without dbt: each latest-version line joined to
    its barcodes and to Sage's products, its candidates counted, into a table;
(b) `dbt build` of the order models, their upstream and their tests (`+purchase_order_lines+
    +purchase_orders+`). Only tests whose every parent is built run (dbt's cautious indirect selection):
    the rest test models outside the order chain, which this warehouse does not build;
(c) floor: a plain loop over the resolved lines, one dict lookup and one Decimal min per line;
(d) `decide_lines` over every PO in arrival order, handing out one `FreeStock` built from the holdings.

(c) and (d) read their lines from the built warehouse first; only the loop is timed (its peak memory
includes the lines read). Rows are PO lines of the latest versions in every stage. (b)'s peak memory is the
measuring process's own, as in the Sage part: dbt runs in a subprocess (`pipelines.transform`), not counted.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from pipelines import app
from pipelines.amazon import source as amazon
from pipelines.bench import BENCH_AS_OF, Measurement, measured
from pipelines.orders.decisions import FreeStock, Holding, LineToDecide, decide_lines
from pipelines.sage200.source.settings import TABLES as SAGE_TABLES
from pipelines.sage200.source.settings import SageTable
from pipelines.sage200.spec import SageSpec
from pipelines.settings import EXAMPLE_CONFIG, load_business_config
from pipelines.transform import DBT_PROJECT_DIR, run_dbt
from pipelines.warehouse.audit import ensure_audit_schema

PRODUCTS = 2_000
ORDERS = 6_600
LINES_PER_ORDER = 39  # the mean: each PO has 1 to 2 × 39 − 1 lines, ~257,000 in all
TRADE_CUSTOMERS = 200
TRADE_ORDERS = 600
CASE_PACKS = (4, 6, 12, 24)
ORDER_SELECTION = "+purchase_order_lines+ +purchase_orders+"
# Sync health reads every flow's marts (shipments, invoices, remittances), which this warehouse does not build.
WITHOUT_SYNC_HEALTH = "int_sync_health_measures+"
# dbt's clock, pinned so every run sees the same deadlines: the end of the year of POs.
DBT_NOW = datetime.combine(BENCH_AS_OF, time_of_day(18), tzinfo=UTC)
# The Sage tables the order models read, and the holdings decisions take their free stock from.
SAGE_RAW_TABLES = (
    "units",
    "products",
    "customers",
    "price_bands",
    "product_price_views",
    "sop_orders",
    "warehouse_holdings",
)
DUCKDB_TYPES = {"text": "VARCHAR", "date": "DATE", "timestamp": "TIMESTAMPTZ", "bigint": "BIGINT", "bool": "BOOLEAN"}
AMAZON_TYPES = DUCKDB_TYPES | {"money": "DECIMAL(18, 2)", "quantity": "DECIMAL(18, 5)"}
SCHEMA_TYPES = {"integer": "BIGINT", "string": "VARCHAR", "boolean": "BOOLEAN", "number": "DOUBLE"}
DLT_COLUMNS = {"_dlt_load_id": "VARCHAR", "_dlt_id": "VARCHAR"}
DLT_CHILD_COLUMNS = {"_dlt_parent_id": "VARCHAR", "_dlt_list_idx": "BIGINT", "_dlt_id": "VARCHAR"}
LOAD_ID = "1793404800.0"
ZERO = Decimal(0)

Inputs = TypeVar("Inputs")


# --- the synthetic warehouse -------------------------------------------------------------------------------


def sage_column_type(prop: Mapping[str, Any], scale: int | None = None) -> str:
    """DuckDB's type for one Sage property, as the `sage200` source types it (exact decimals, timestamps)."""
    fmt = prop.get("format", "")
    if fmt.startswith("decimal "):
        return f"DECIMAL(18, {scale if scale is not None else int(fmt.split()[1].removesuffix('dp'))})"
    if fmt == "date-time":
        return "TIMESTAMPTZ"
    return SCHEMA_TYPES.get(prop.get("type", ""), "JSON")


def sage_columns(properties: Mapping[str, Any], scales: Mapping[str, int]) -> Iterator[tuple[str, str]]:
    """(column, type) of a Sage entity as dlt stores it: a nested object flattened into `<object>__<field>`
    columns (one level is all staging reads), a collection left to its child table."""
    for name, prop in properties.items():
        if prop.get("type") == "array":
            continue
        if prop.get("type") == "object":
            for field, inner in prop.get("properties", {}).items():
                if inner.get("type") not in ("object", "array"):
                    yield f"{name}__{field}", sage_column_type(inner)
            continue
        yield name, sage_column_type(prop, scales.get(name))


def create_table(con: duckdb.DuckDBPyConnection, name: str, columns: Mapping[str, str]) -> None:
    listed = ", ".join(f'"{column}" {kind}' for column, kind in columns.items())
    con.execute(f"create or replace table {name} ({listed})")


def create_sage_tables(con: duckdb.DuckDBPyConnection, spec: SageSpec, table: SageTable) -> None:
    """`raw_sage200.<table>` and its nested collections' child tables, empty, with Sage's columns."""
    properties = spec.entity_properties(spec.operation("get", f"/{table.path}").entity_name)
    columns = dict(sage_columns(properties, dict(table.decimal_scales)))
    create_table(con, f"raw_sage200.{table.name}", columns | DLT_COLUMNS)
    for nested in table.nested:
        items = properties[nested].get("items", {}).get("properties", {})
        create_table(con, f"raw_sage200.{table.name}__{nested}", dict(sage_columns(items, {})) | DLT_CHILD_COLUMNS)


# Values derived from a product's index k, shared by both sides so Amazon's EANs and costs match Sage's.
MACROS = (
    f"create or replace temp macro case_pack(k) as list_extract({list(CASE_PACKS)}, 1 + k % {len(CASE_PACKS)})",
    """create or replace temp macro ean13(body) as body || cast((10 - list_sum(list_transform(range(12),
        lambda n: cast(substr(body, n + 1, 1) as integer) * (1 + 2 * (n % 2)))) % 10) % 10 as varchar)""",
    "create or replace temp macro barcode(k) as ean13('5060123' || lpad(cast(k as varchar), 5, '0'))",
    "create or replace temp macro standard_price(k) as cast((500 + k * 37 % 6000) / 100 as decimal(18, 2))",
    "create or replace temp macro amazon_cost(k) as cast(round(standard_price(k) * 0.85, 2) as decimal(18, 2))",
)

SAGE_MASTERS = (
    """
    insert into raw_sage200.units by name
    select
        1 + n as id,
        case when n = 0 then 'Each' else 'Case of ' || list_extract($case_packs, n) end as name,
        cast(case when n = 0 then 1 else list_extract($case_packs, n) end as decimal(18, 9)) as multiple_of_base_unit,
        n = 0 as each_value,
        $created as date_time_created, $created as date_time_updated,
        $load_id as _dlt_load_id, 'unit-' || n as _dlt_id
    from range(len($case_packs) + 1) as units(n)
    """,
    """
    insert into raw_sage200.products by name
    select
        1000 + k as id,
        'HF-' || list_extract(['KT', 'CW', 'BK', 'TB', 'ST', 'PL'], 1 + k % 6) || '-'
            || lpad(cast(k as varchar), 5, '0') as code,
        'Kitchen line ' || k as name,
        'Kitchen line ' || k || ', case of ' || case_pack(k) as description,
        barcode(k) as barcode,
        -- One product in 40 is discontinued: its lines resolve to discontinued_product.
        case when k % 40 = 39 then 'Inactive' else 'Active' end as product_status_type,
        k % 40 <> 39 as allow_sales_order,
        cast(standard_price(k) * 0.4 as decimal(18, 5)) as standard_cost,
        cast(standard_price(k) * 0.4 as decimal(18, 5)) as average_buying_price,
        cast(0.25 + k % 9 * 0.1 as decimal(18, 4)) as weight,
        1 + k % 6 as product_group_id,
        1 as tax_code_id,
        1 as base_unit_id,
        1 as stock_unit_id,
        $created as date_time_created, $created as date_time_updated,
        $load_id as _dlt_load_id, 'product-' || k as _dlt_id
    from range($products) as products(k)
    """,
    # Each product's base unit (an each) and its case, as dlt's child rows of the product.
    """
    insert into raw_sage200.products__units by name
    select
        1000 + k * 2 + is_case as id,
        1000 + k as product_id,
        case when is_case = 1 then 1 + list_position($case_packs, case_pack(k)) else 1 end as unit_id,
        case when is_case = 1 then 'Additional' else 'Base' end as unit_type,
        cast(case when is_case = 1 then case_pack(k) else 1 end as decimal(18, 9)) as multiple_of_base_unit,
        cast(0 as decimal(18, 5)) as unit_precision,
        false as use_own_price,
        true as has_sop_or_pop_documents,
        $created as date_time_created, $created as date_time_updated,
        'product-' || k as _dlt_parent_id, is_case as _dlt_list_idx,
        'product-unit-' || k || '-' || is_case as _dlt_id
    from range($products) as products(k), range(2) as units(is_case)
    """,
    """
    insert into raw_sage200.price_bands by name
    select
        band as id, name, name || ' prices' as description, band = 1 as is_standard_band, 1 as currency_id,
        case when band = 1 then 1 else 2 end as price_band_type_id,
        case when band = 1 then 'Universal' else 'Limited' end as price_band_type,
        true as is_active, false as is_time_based,
        $created as date_time_created, $created as date_time_updated,
        $load_id as _dlt_load_id, 'band-' || band as _dlt_id
    from (values (1, 'Standard'), (2, 'Amazon'), (3, 'Trade linked'), (4, 'Trade volume')) as bands(band, name)
    """,
    # Amazon's band holds our cost to Amazon, Trade linked shows the standard price, Trade volume is 5% off.
    """
    insert into raw_sage200.product_price_views by name
    select
        bands.id * 1000000 + k as product_price_id,
        products.id as product_id,
        products.code as product_code,
        products.name as product_name,
        'Each' as product_stock_unit_name,
        bands.id as price_band_id,
        bands.name as price_band_name,
        bands.id = 3 as product_price_use_standard,
        cast(case bands.id
            when 2 then amazon_cost(k)
            when 4 then round(standard_price(k) * 0.95, 2)
            else standard_price(k)
        end as decimal(18, 5)) as product_price_price,
        1 as currency_id, 'Pound Sterling' as currency_name, '£' as currency_symbol,
        $created as date_time_updated,
        $load_id as _dlt_load_id, 'price-' || bands.id || '-' || k as _dlt_id
    from raw_sage200.products, raw_sage200.price_bands as bands, lateral (select products.id - 1000 as k)
    """,
    """
    insert into raw_sage200.customers by name
    select
        1 + c as id,
        case when c = 0 then 'AMA001' else 'TRD' || lpad(cast(c as varchar), 5, '0') end as reference,
        case when c = 0 then 'Amazon EU SARL, UK Branch' else 'Trade customer ' || c end as name,
        case when c = 0 then 'AMAZON' else 'TRADE' || c end as short_name,
        cast(c * 13 % 20000 as decimal(18, 2)) as balance,
        cast(50000 as decimal(18, 2)) as credit_limit,
        cast(0 as decimal(18, 2)) as value_of_current_orders_in_sop,
        false as on_hold,
        'AccountStatusActive' as account_status_type,
        1 as currency_id, 1 as default_tax_code_id,
        case when c = 0 then 2 when c % 3 = 1 then 3 when c % 3 = 2 then 4 end as price_band_id,
        'GB' || (100000000 + c) as vat_number,
        case when c = 0 then 60 else 30 end as payment_terms_days,
        'DaysFromInvoice' as payment_terms_basis,
        30 as average_time_to_pay,
        $created as date_time_created, $created as date_time_updated,
        $load_id as _dlt_load_id, 'customer-' || c as _dlt_id
    from range($trade_customers + 1) as customers(c)
    """,
    # Every product in both warehouses, Main holding most of the free stock.
    """
    insert into raw_sage200.warehouse_holdings by name
    select
        k * 2 + w as id,
        1 + w as warehouse_id,
        1000 + k as product_id,
        case when w = 0 then 'Main' else 'Overflow' end as warehouse_name,
        free as quantity_in_stock,
        free as confirmed_qty_in_stock,
        0 as unconfirmed_qty_in_stock,
        0 as quantity_reserved,
        free as quantity_in_stock_less_reserved,
        0 as quantity_allocated,
        0 as quantity_allocated_sop,
        0 as quantity_allocated_stock,
        0 as quantity_allocated_bom,
        free as free_stock_available,
        free as free_stock_available_less_reserved,
        0 as quantity_on_order,
        100 as reorder_level,
        $created as date_time_created, $created as date_time_updated,
        $load_id as _dlt_load_id, 'holding-' || k || '-' || w as _dlt_id
    from range($products) as products(k), range(2) as warehouses(w),
        lateral (select case when w = 0 then 2000 + k * 53 % 30000 else k * 17 % 600 end as free)
    """,
)

AMAZON_POS = (
    """
    create or replace temp table bench_locations as
    select row_number() over (order by ship_to_id) - 1 as n, ship_to_qualifier, ship_to_id
    from read_csv($locations, all_varchar = true)
    """,
    # Every PO version: one PO in 33 came twice, its first version one line shorter.
    """
    create or replace temp table bench_versions as
    select
        p,
        v,
        'PO' || lpad(cast(p as varchar), 7, '0') as po_number,
        sha256('PO' || p || ':' || v) as content_sha256,
        p % 7 = 0 as is_x12,
        greatest(1, 1 + p * 7919 % (2 * $lines_per_order - 1) - (versions - v)) as line_count,
        cast($first_day as date) + cast(p * 365 // $orders as integer) as po_date
    from range($orders) as orders(p),
        lateral (select case when p % 33 = 32 then 2 else 1 end as versions),
        lateral (select unnest(range(1, versions + 1)) as v)
    """,
    """
    insert into raw_amazon.purchase_orders by name
    select
        po_number, content_sha256,
        case when is_x12 then 'NE' else '220' end as po_type,
        case when is_x12 then '00' else '9' end as purpose,
        po_date,
        'GBP' as currency,
        locations.ship_to_qualifier, locations.ship_to_id,
        case when is_x12 then 'AMAZON' else '5450534000024' end as buyer_id,
        case when is_x12 then 'HAFIX' else '5060123000007' end as supplier_id,
        po_date + 7 as window_start,
        po_date + 14 as window_end,
        p % 2 = 0 as backorder_allowed,
        false as is_test,
        case when is_x12 then 'X12' else 'EDIFACT' end as source_format,
        po_number || '-' || v || '.edi' as source_file,
        po_date + to_hours(6 + p % 12 + 24 * (v - 1)) as received_at,
        case when is_x12 then 'HAFIX' else 'HAFIN' end as vendor_code,
        line_count
    from bench_versions
    inner join bench_locations as locations
        on bench_versions.p % (select count(*) from bench_locations) = locations.n
    """,
    """
    insert into raw_amazon.inbound_files by name
    select
        source_file as file_name, sha256(source_file) as sha256, 2000 + line_count * 60 as size_bytes,
        received_at, vendor_code, source_format as format, 'loaded' as outcome, 1 as sets_total,
        0 as sets_quarantined,
        case when source_format = 'X12' then 'AMAZON' else '5450534000000' end as sender_id,
        case when source_format = 'X12' then 'HAFIX' else '5060123000007' end as receiver_id,
        received_at + to_minutes(1) as processed_at
    from raw_amazon.purchase_orders
    """,
    # Mostly cases, one line in 40 in eaches; one line in 500 carries an EAN Sage does not know.
    """
    create or replace temp table bench_lines as
    select
        po_number, content_sha256, is_x12, p, line_number,
        (p * 7919 + line_number * 13) % $products as k,
        (p + line_number * 3) % 40 = 0 as is_each,
        (p * 31 + line_number) % 500 = 0 as is_unknown
    from bench_versions, lateral (select unnest(range(1, line_count + 1)) as line_number)
    """,
    """
    insert into raw_amazon.purchase_order_lines by name
    select
        po_number, content_sha256, line_number,
        cast(line_number as varchar) as line_id,
        case when is_each then 1 + (p + line_number) % 48 else 1 + (p * 3 + line_number * 5) % 20 end as quantity,
        case when is_x12 then (case when is_each then 'EA' else 'CA' end)
            else (case when is_each then 'PCE' else 'CS' end) end as unit_of_measure,
        -- X12 sends the case pack (PO4); EDIFACT leaves it to Sage's item master.
        case when is_x12 and not is_each then case_pack(k) end as unit_size,
        -- Amazon's cost per each; one line in 33 is 5% over it.
        case when (p + line_number) % 33 = 0 then round(amazon_cost(k) * 1.05, 2) else amazon_cost(k) end
            as unit_price,
        case when is_x12 then 'PE' else 'AAA' end as price_basis
    from bench_lines
    """,
    """
    insert into raw_amazon.purchase_order_line_identifiers by name
    select
        po_number, content_sha256, line_number, cast(line_number as varchar) as line_id, 0 as position,
        'EN' as qualifier,
        case when is_unknown then ean13('5099999' || lpad(cast(k as varchar), 5, '0')) else barcode(k) end as value
    from bench_lines
    union all by name
    select
        po_number, content_sha256, line_number, cast(line_number as varchar) as line_id, 1 as position,
        'BP' as qualifier, 'B0HF' || lpad(cast(k as varchar), 6, '0') as value
    from bench_lines
    where (p + line_number) % 10 < 3
    """,
    # Sage already holds an order for every PO but the last month's, beside the trade customers' orders.
    """
    insert into raw_sage200.sop_orders by name
    with amazon_orders as (
        select
            1 as customer_id, po_number as customer_document_no, po_date as document_date, line_count,
            'Amazon ' || ship_to_id as postal_name
        from raw_amazon.purchase_orders
        where po_date < cast($first_day as date) + 335
        qualify row_number() over (partition by po_number order by received_at desc) = 1
    ),
    trade_orders as (
        select
            2 + t % $trade_customers as customer_id, 'TR' || t as customer_document_no,
            cast($first_day as date) + cast(t * 365 // $trade_orders as integer) as document_date,
            1 + t % 8 as line_count, 'Trade customer ' || t as postal_name
        from range($trade_orders) as trade(t)
    ),
    numbered as (
        select
            row_number() over (order by document_date, customer_document_no) as n,
            *,
            cast(100 + line_count * 37.5 as decimal(18, 2)) as net,
            cast(round((100 + line_count * 37.5) * 0.2, 2) as decimal(18, 2)) as tax
        from (select * from amazon_orders union all select * from trade_orders)
    )
    select
        n as id, customer_id, false as is_draft,
        'SO' || lpad(cast(n as varchar), 7, '0') as document_no,
        document_date, 'EnumDocumentStatusLive' as document_status,
        'EnumDespatchReceiptStatusComplete' as despatch_receipt_status,
        'EnumInvoiceCreditStatusComplete' as invoice_credit_status,
        'EnumCancelledStatusNone' as cancelled_status,
        1 as currency_id, 1 as exchange_rate,
        net as subtotal_goods_value, 0 as subtotal_charge_net_value, 0 as subtotal_charge_tax_value,
        0 as subtotal_discount_value,
        net as total_net_value, tax as total_tax_value, net + tax as total_gross_value,
        customer_document_no,
        document_date + 7 as requested_delivery_date, document_date + 7 as promised_delivery_date,
        postal_name as delivery_address__postal_name, 'Unit ' || n as delivery_address__address_1,
        'Coventry' as delivery_address__city, 'CV5 9PF' as delivery_address__postcode,
        'United Kingdom' as delivery_address__country,
        document_date as date_time_created, document_date as date_time_updated,
        $load_id as _dlt_load_id, 'order-' || n as _dlt_id
    from numbered
    """,
)

LATEST_LINES_COUNT = """
select coalesce(sum(line_count), 0)
from (
    select line_count from raw_amazon.purchase_orders
    qualify row_number() over (partition by po_number order by received_at desc) = 1
)
"""


def run_statements(con: duckdb.DuckDBPyConnection, statements: tuple[str, ...], **parameters: object) -> None:
    """Each statement with the `$name` parameters it uses (DuckDB refuses any it does not)."""
    for statement in statements:
        con.execute(statement, {name: value for name, value in parameters.items() if f"${name}" in statement})


def build_warehouse(warehouse: Path, orders: int, lines_per_order: int, products: int) -> int:
    """The synthetic warehouse (see the module docstring); the number of latest-version PO lines."""
    config = load_business_config(EXAMPLE_CONFIG)
    app.run(config, EXAMPLE_CONFIG, warehouse, warehouse.parent / "app-dlt")
    spec = SageSpec.load()
    first_day = BENCH_AS_OF - timedelta(days=364)
    with duckdb.connect(str(warehouse)) as con:
        ensure_audit_schema(con)
        con.execute("create schema if not exists raw_sage200")
        con.execute("create schema if not exists raw_amazon")
        for table in SAGE_TABLES:
            if table.name in SAGE_RAW_TABLES:
                create_sage_tables(con, spec, table)
        for name, columns in amazon.TABLES.items():
            create_table(con, f"raw_amazon.{name}", {column: AMAZON_TYPES[kind] for column, kind in columns.items()})
        run_statements(con, MACROS)
        run_statements(
            con,
            SAGE_MASTERS,
            created=datetime.combine(first_day - timedelta(days=400), time_of_day(9), tzinfo=UTC),
            load_id=LOAD_ID,
            case_packs=list(CASE_PACKS),
            products=products,
            trade_customers=TRADE_CUSTOMERS,
        )
        run_statements(
            con,
            AMAZON_POS,
            locations=str(DBT_PROJECT_DIR / "seeds" / "amazon_locations.csv"),
            lines_per_order=lines_per_order,
            orders=orders,
            first_day=first_day,
            products=products,
            trade_customers=TRADE_CUSTOMERS,
            trade_orders=TRADE_ORDERS,
            load_id=LOAD_ID,
        )
        (lines,) = con.execute(LATEST_LINES_COUNT).fetchone()
    return int(lines)


# --- the stages ----------------------------------------------------------------------------------------------


RESOLUTION_FLOOR = """
create or replace table bench_floor.line_candidates as
with latest as (
    select po_number, content_sha256
    from raw_amazon.purchase_orders
    qualify row_number() over (partition by po_number order by received_at desc, content_sha256 desc) = 1
),

barcodes as (
    select po_number, content_sha256, line_number, value
    from raw_amazon.purchase_order_line_identifiers
    where qualifier in ('EN', 'UP', 'UK', 'UA', 'IB')
)

select
    lines.po_number,
    lines.line_number,
    count(distinct products.id) as candidate_count,
    min(products.id) as product_id
from raw_amazon.purchase_order_lines as lines
inner join latest on lines.po_number = latest.po_number and lines.content_sha256 = latest.content_sha256
left join barcodes
    on lines.po_number = barcodes.po_number
    and lines.content_sha256 = barcodes.content_sha256
    and lines.line_number = barcodes.line_number
left join raw_sage200.products on ltrim(barcodes.value, '0') = ltrim(products.barcode, '0') and products.barcode <> ''
group by lines.po_number, lines.line_number
"""


def resolution_floor_stage(warehouse: str) -> int:
    """Each latest-version line's product candidates by barcode, in one query: the lines written."""
    with duckdb.connect(warehouse) as con:
        con.execute("create schema if not exists bench_floor")
        con.execute(RESOLUTION_FLOOR)
        (lines,) = con.execute("select count(*) from bench_floor.line_candidates").fetchone()
    return lines


def dbt_stage(warehouse: str) -> int:
    """`dbt build` of the order models, their upstream and their tests: the lines in the mart."""
    # This process is the stage's own (`measured` spawns it): the setting goes with it. Cautious selection
    # leaves out the tests that also read models outside the order chain, which this warehouse lacks.
    os.environ["DBT_INDIRECT_SELECTION"] = "cautious"
    run_dbt("build", Path(warehouse), select=ORDER_SELECTION, exclude=WITHOUT_SYNC_HEALTH, now=DBT_NOW)
    with duckdb.connect(warehouse, read_only=True) as con:
        (lines,) = con.execute("select count(*) from marts.purchase_order_lines").fetchone()
    return lines


@dataclass(frozen=True)
class OrderToDecide:
    lines: tuple[LineToDecide, ...]
    backorder_allowed: bool
    ship_date: date


@dataclass(frozen=True)
class DecisionInputs:
    orders: tuple[OrderToDecide, ...]
    holdings: tuple[Holding, ...]
    today: date
    backorder_days: int


RESOLVED_LINES = """
select
    orders.purchase_order_number, orders.is_backorder_allowed, orders.window_start_date, lines.line_number,
    lines.line_id, lines.ordered_quantity, lines.resolution_status, lines.product_id, lines.selling_unit_multiple
from marts.purchase_orders as orders
inner join intermediate.int_purchase_order_lines_resolved as lines on orders.purchase_order_number = lines.po_number
order by orders.received_at, orders.purchase_order_number, lines.line_number
"""

# Sage's free stock per holding, in stock units, and the stock unit's multiple: converted to base units as
# the batch converts them (`read_free_stock`).
HOLDINGS = """
select holdings.product_id, holdings.warehouse_id, holdings.free_stock_available, units.multiple_of_base_unit
from raw_sage200.warehouse_holdings as holdings
inner join raw_sage200.products on holdings.product_id = products.id
inner join raw_sage200.products__units as units
    on units._dlt_parent_id = products._dlt_id and units.unit_id = products.stock_unit_id
order by holdings.product_id, holdings.warehouse_id
"""


def decision_inputs(warehouse: str) -> DecisionInputs:
    """Every latest-version PO's resolved lines, oldest PO first, and Sage's free stock, from the warehouse."""
    today = BENCH_AS_OF
    # The query takes seconds: DuckDB would draw its progress bar on the bench's output.
    with duckdb.connect(warehouse, read_only=True) as con:
        con.execute("set enable_progress_bar = false")
        rows = con.execute(RESOLVED_LINES).fetchall()
        holdings = tuple(
            Holding(product_id, warehouse_id, free * stock_multiple)
            for product_id, warehouse_id, free, stock_multiple in con.execute(HOLDINGS).fetchall()
        )
    orders = [
        OrderToDecide(
            lines=tuple(LineToDecide(*row[3:]) for row in po_lines),
            backorder_allowed=bool(backorder_allowed),
            ship_date=max(today, window_start) if window_start else today,
        )
        for (_, backorder_allowed, window_start), po_lines in groupby(rows, key=lambda row: row[:3])
    ]
    backorder_days = load_business_config(EXAMPLE_CONFIG).lead_times.backorder_days
    return DecisionInputs(tuple(orders), holdings, today, backorder_days)


def decisions_stage(inputs: DecisionInputs) -> int:
    """Every PO decided in arrival order from one batch's free stock, as the order batch does: lines decided."""
    stock = FreeStock(inputs.holdings)
    decided = 0
    for order in inputs.orders:
        decided += len(
            decide_lines(
                order.lines,
                stock,
                backorder_allowed=order.backorder_allowed,
                ship_date=order.ship_date,
                today=inputs.today,
                backorder_days=inputs.backorder_days,
            )
        )
    return decided


def decisions_floor_stage(inputs: DecisionInputs) -> int:
    """The least a decision costs in Python: one dict lookup and one Decimal min per line; lines seen."""
    free = {holding.product_id: holding.free_base_quantity for holding in inputs.holdings}
    seen = 0
    taken = ZERO
    for order in inputs.orders:
        for line in order.lines:
            taken += min(line.ordered_quantity, free.get(line.product_id, ZERO))
            seen += 1
    return seen


def measured_after_setup(
    stage: str, setup: Callable[..., Inputs], work: Callable[[Inputs], int], *args: object
) -> Measurement:
    """As `pipelines.bench.measured`, but `setup(*args)` runs first in the same fresh process, untimed, and
    only `work(<what setup returned>)` is timed. The peak memory is the process's, setup's included."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        seconds, peak_kib, rows = pool.apply(_timed_after_setup, (setup, work, *args))
    return Measurement(stage, seconds, peak_kib / 1024, rows)


def _timed_after_setup(
    setup: Callable[..., Inputs], work: Callable[[Inputs], int], *args: object
) -> tuple[float, int, int]:
    inputs = setup(*args)
    started = time.perf_counter()
    rows = work(inputs)
    return time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, rows


def run_orders_bench(
    work: Path, orders: int = ORDERS, lines_per_order: int = LINES_PER_ORDER, products: int = PRODUCTS
) -> list[Measurement]:
    """Build the synthetic warehouse in `work` (an empty scratch folder) and measure the four stages on it."""
    warehouse = work / "orders.duckdb"
    build_warehouse(warehouse, orders, lines_per_order, products)
    return [
        measured("orders floor (barcode candidates, one query)", resolution_floor_stage, str(warehouse)),
        measured("orders dbt build (order models, upstream, tests)", dbt_stage, str(warehouse)),
        measured_after_setup(
            "decisions floor (dict lookup + Decimal min)", decision_inputs, decisions_floor_stage, str(warehouse)
        ),
        measured_after_setup("decisions (decide_lines, FreeStock)", decision_inputs, decisions_stage, str(warehouse)),
    ]
