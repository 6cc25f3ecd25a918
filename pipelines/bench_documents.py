"""`avc2sage bench`, the documents part: a month of a large vendor's ship notices and invoices, each beside a floor.

A month, not a year: a ship notice is heavy per document (a hundred-odd cartons, each an SSCC and a label page,
and the 856 checked against its map by pyx12), about a third of a second each here, so a year's 6,600 notices
would keep the bench busy for over half an hour while telling nothing a month does not. In operation the
batch sees a day's despatches, a few dozen, per run.

The warehouse is synthesised, not built: the tables the two batches read are written straight with DuckDB SQL,
in a few seconds, with no Sage and no dbt:

- `intermediate.int_shipment_lines_prepared`: 550 despatches (one per PO of a month of the year's 6,600) of
  1 to 77 lines, ~21,000 in all, each line a product ordered in cases (6, 12 or 24 eaches, fixed per product)
  shipping 1 to 6 whole cases, exactly what was acknowledged, at the acknowledged cost. Every despatch is
  valid: a carrier and a consignment number (what Amazon UK asks of prepaid freight), despatched in the day
  before the batch's clock (Amazon's shipped-date window), one ship-to per despatch. Half the despatches are
  for the example configuration's EDIFACT vendor code, half for its X12 one, addressed as the sample vendor's
  POs are.
- `intermediate.int_invoice_lines_prepared`: one Sage invoice per despatch with the same lines, each line's
  net its eaches × cost, VAT at 20%, the header totals the lines' sums, dated the clock's day.
- `staging.stg_amazon__purchase_order_line_identifiers` (a view in the real warehouse; a table here, with the
  columns the batches read): every line's EAN, and an ASIN on 30% of them.
- The seeds the ship notice batch reads (`amazon_locations`, `asn_carrier_requirements`,
  `perishable_products`), loaded from their CSVs, and the audit schema, empty.

So every notice and every invoice passes its rules and the stages measure the whole path: for a notice,
packing, an SSCC per carton from the persisted serial, the rules, the rendered interchange through the outbox
and its registry, the carton labels PDF and the audit rows; for an invoice, the rules, the interchange and the
audit rows. A stage where any document fails raises: a failed document costs less and would flatter the figure.

Each stage runs in a fresh process (`pipelines.bench.measured`), in this order, all four reading their lines
from the warehouse in the timed part, as the batches do:

(a) floor: every despatch's lines read in one query, then per despatch one file (its lines joined as text)
    written with the outbox's `write_file_atomically` and one DuckDB insert: the stage's irreducible I/O;
(b) `run_shipment_batch` on every despatch;
(c) floor: (a) for the invoices;
(d) `run_invoice_batch` on every invoice.

Rows are despatch lines in (a) and (b) and invoice lines in (c) and (d); (b) and (d) count only the lines of
documents sent. The outboxes, the labels and the floors' files are in the bench's work folder.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from itertools import groupby
from operator import itemgetter
from pathlib import Path

import duckdb

from pipelines.bench import BENCH_AS_OF, Measurement, measured
from pipelines.bench_orders import MACROS, PRODUCTS, run_statements
from pipelines.edi.outbox import ensure_outbound_schema, write_file_atomically
from pipelines.invoices.batch import run_invoice_batch
from pipelines.scenario.amazon_documents import AMAZON_BUYER_GLN, AMAZON_X12_ID, EDIFACT, X12
from pipelines.scenario.identifiers import ean13
from pipelines.scenario.profile import HARTLEY_AND_FINCH
from pipelines.settings import DEFAULT_SAGE_URL, EXAMPLE_CONFIG, Locations, load_business_config
from pipelines.shipments.batch import run_shipment_batch
from pipelines.transform import DBT_PROJECT_DIR
from pipelines.warehouse.audit import ensure_audit_schema

DESPATCHES = 550  # a month of the large vendor's 6,600 POs a year
LINES_PER_DESPATCH = 39  # the mean: each despatch has 1 to 2 × 39 − 1 lines, ~21,000 in all
WAREHOUSE_FILE = "documents.duckdb"
SHIPMENTS_FOLDER = "shipments"
INVOICES_FOLDER = "invoices"
# How each seed the ship notice batch reads is read from its CSV, so the columns it reads have the types
# `_seeds.yml` gives them: the locations' qualifier "92" and the product codes are text, not numbers, and the
# carrier requirements' flags are detected as booleans.
SEED_READ_OPTIONS = {
    "amazon_locations": "all_varchar = true",
    "perishable_products": "all_varchar = true",
    "asn_carrier_requirements": "header = true",
}
# The batches' clock, pinned so every run sees the same windows: the evening of the year's last day.
BATCH_NOW = datetime.combine(BENCH_AS_OF, time_of_day(18), tzinfo=UTC)
FIRST_PO_DAY = BENCH_AS_OF - timedelta(days=364)
# How Amazon addresses the sample vendor per standard (ours: its GLN or X12 interchange id) and whom we answer.
OUR_PARTY_IDS = {
    EDIFACT: ean13(HARTLEY_AND_FINCH.gs1_company_prefix, 0),
    X12: HARTLEY_AND_FINCH.x12_interchange_id,
}
PARTNER_IDS = {EDIFACT: AMAZON_BUYER_GLN, X12: AMAZON_X12_ID}
# The ship-to qualifier a PO of each standard names its fulfilment centre by (X12 N1*ST 92, EDIFACT NAD+DP 9).
SHIP_TO_QUALIFIERS = {EDIFACT: "9", X12: "92"}


# --- the synthetic warehouse -------------------------------------------------------------------------------


DOCUMENT_TABLES = (
    """
    create or replace temp table bench_locations as
    select
        ship_to_qualifier, ship_to_id,
        row_number() over (partition by ship_to_qualifier order by ship_to_id) - 1 as n,
        count(*) over (partition by ship_to_qualifier) as locations
    from seeds.amazon_locations
    """,
    # Despatch d is for PO d, oddly numbered ones for the X12 vendor code; despatched through the day before
    # the clock, oldest first, as the batches take them.
    """
    create or replace temp table bench_despatches as
    select
        d,
        1 + d as despatch_id,
        d % 2 = 1 as is_x12,
        'PO' || lpad(cast(d as varchar), 7, '0') as po_number,
        sha256('PO' || d) as content_sha256,
        1 + d * 7919 % (2 * $lines_per_despatch - 1) as line_count,
        $first_po_day + cast(d * 364 // $despatches as integer) as po_date,
        $now - to_seconds(cast(86400 * ($despatches - d) // ($despatches + 1) as bigint)) as despatched_at
    from range($despatches) as despatches(d)
    """,
    """
    create or replace temp table bench_lines as
    select
        despatches.*,
        case when is_x12 then $x12_vendor_code else $edifact_vendor_code end as vendor_code,
        case when is_x12 then 'X12' else 'EDIFACT' end as edi_standard,
        case when is_x12 then $x12_our_id else $edifact_our_id end as our_party_id,
        case when is_x12 then $x12_partner_id else $edifact_partner_id end as partner_id,
        case when is_x12 then 'CA' else 'CS' end as unit_of_measure,
        locations.ship_to_qualifier,
        locations.ship_to_id,
        line_number,
        k,
        'HF-' || lpad(cast(k as varchar), 5, '0') as product_code,
        eaches_per_case,
        cases * eaches_per_case as eaches,
        amazon_cost(k) as unit_cost
    from bench_despatches as despatches
    inner join bench_locations as locations
        on locations.ship_to_qualifier = case when is_x12 then $x12_qualifier else $edifact_qualifier end
        and d // 2 % locations.locations = locations.n,
        lateral (select unnest(range(1, line_count + 1)) as line_number),
        lateral (select (d * 7919 + line_number * 13) % $products as k),
        lateral (select list_extract([6, 12, 24], 1 + k % 3) as eaches_per_case),
        lateral (select 1 + (d * 3 + line_number * 5) % 6 as cases)
    """,
    """
    create or replace table intermediate.int_shipment_lines_prepared as
    select
        cast(despatch_id as bigint) as despatch_id,
        'DN' || lpad(cast(despatch_id as varchar), 7, '0') as despatch_number,
        cast(despatched_at as timestamptz) as despatched_at,
        'DPD' as courier_name,
        '155' || lpad(cast(despatch_id as varchar), 11, '0') as consignment_number,
        cast(null as varchar) as despatch_notes,
        cast(despatch_id as bigint) as sales_order_id,
        'SO' || lpad(cast(despatch_id as varchar), 7, '0') as sales_order_number,
        po_number,
        content_sha256,
        po_date,
        vendor_code,
        'UK' as marketplace,
        edi_standard,
        ship_to_qualifier,
        ship_to_id,
        our_party_id,
        partner_id,
        cast(despatch_id * 1000 + line_number as bigint) as despatch_line_id,
        cast(despatch_id * 1000 + line_number as bigint) as sales_order_line_id,
        cast(line_number as varchar) as line_id,
        cast(line_number as bigint) as line_number,
        unit_of_measure,
        cast(eaches_per_case as decimal(18, 5)) as eaches_per_unit,
        product_code,
        'Main' as warehouse_name,
        cast(eaches as decimal(18, 5)) as despatched_eaches,
        cast(eaches as decimal(18, 5)) as acknowledged_eaches,
        cast(0 as decimal(18, 5)) as announced_before_eaches,
        cast(unit_cost as decimal(18, 2)) as unit_cost,
        false as has_notice_sent
    from bench_lines
    """,
    """
    create or replace table intermediate.int_invoice_lines_prepared as
    with priced as (
        select
            *,
            cast(eaches * unit_cost as decimal(18, 2)) as line_net_amount,
            cast(round(eaches * unit_cost * 0.2, 2) as decimal(18, 2)) as line_tax_amount
        from bench_lines
    )

    select
        cast(despatch_id as bigint) as sage_invoice_id,
        'INV' || lpad(cast(despatch_id as varchar), 7, '0') as invoice_number,
        $invoice_date as invoice_date,
        cast(sum(line_net_amount) over invoice as decimal(18, 2)) as invoice_net_value,
        cast(sum(line_tax_amount) over invoice as decimal(18, 2)) as invoice_tax_value,
        cast(sum(line_net_amount + line_tax_amount) over invoice as decimal(18, 2)) as invoice_gross_value,
        cast(despatch_id as bigint) as sales_order_id,
        'SO' || lpad(cast(despatch_id as varchar), 7, '0') as sales_order_number,
        po_number,
        content_sha256,
        po_date,
        vendor_code,
        'UK' as marketplace,
        edi_standard,
        'GBP' as currency,
        ship_to_qualifier,
        ship_to_id,
        our_party_id,
        partner_id,
        60 as payment_terms_days,
        cast(despatch_id * 1000 + line_number as bigint) as sales_order_line_id,
        cast(line_number as varchar) as line_id,
        cast(line_number as bigint) as line_number,
        unit_of_measure,
        cast(eaches_per_case as decimal(18, 5)) as eaches_per_unit,
        product_code,
        cast(eaches as decimal(18, 5)) as invoiced_eaches,
        cast(unit_cost as decimal(18, 5)) as invoiced_unit_cost,
        line_net_amount,
        cast(20 as decimal(9, 2)) as tax_rate,
        line_tax_amount,
        cast(unit_cost as decimal(18, 2)) as acknowledged_unit_cost,
        cast(eaches as decimal(18, 5)) as shipped_eaches,
        cast(0 as decimal(18, 5)) as invoiced_before_eaches,
        false as has_invoice_sent
    from priced
    window invoice as (partition by despatch_id)
    """,
    """
    create or replace table staging.stg_amazon__purchase_order_line_identifiers as
    select
        po_number || ':' || content_sha256 as purchase_order_version_id,
        cast(line_number as bigint) as line_number,
        'EN' as identifier_qualifier,
        barcode(k) as identifier_value,
        0 as identifier_position
    from bench_lines
    union all by name
    select
        po_number || ':' || content_sha256 as purchase_order_version_id,
        cast(line_number as bigint) as line_number,
        'BP' as identifier_qualifier,
        'B0HF' || lpad(cast(k as varchar), 6, '0') as identifier_value,
        1 as identifier_position
    from bench_lines
    where (d + line_number) % 10 < 3
    """,
)


def load_seeds(con: duckdb.DuckDBPyConnection) -> None:
    """The seeds the ship notice batch reads, from dbt's CSVs."""
    con.execute("create schema if not exists seeds")
    for seed, options in SEED_READ_OPTIONS.items():
        con.execute(
            f"create or replace table seeds.{seed} as select * from read_csv(?, {options})",
            [str(DBT_PROJECT_DIR / "seeds" / f"{seed}.csv")],
        )


def build_warehouse(warehouse: Path, despatches: int, lines_per_despatch: int) -> int:
    """The synthetic warehouse (see the module docstring); the number of despatch lines."""
    vendor_codes = {vendor.edi_standard: vendor.code for vendor in load_business_config(EXAMPLE_CONFIG).vendor_codes}
    with duckdb.connect(str(warehouse)) as con:
        ensure_audit_schema(con)
        ensure_outbound_schema(con)
        con.execute("create schema if not exists intermediate")
        con.execute("create schema if not exists staging")
        load_seeds(con)
        run_statements(con, MACROS)
        run_statements(
            con,
            DOCUMENT_TABLES,
            despatches=despatches,
            lines_per_despatch=lines_per_despatch,
            products=PRODUCTS,
            first_po_day=FIRST_PO_DAY,
            now=BATCH_NOW,
            invoice_date=BENCH_AS_OF,
            edifact_vendor_code=vendor_codes[EDIFACT],
            x12_vendor_code=vendor_codes[X12],
            edifact_our_id=OUR_PARTY_IDS[EDIFACT],
            x12_our_id=OUR_PARTY_IDS[X12],
            edifact_partner_id=PARTNER_IDS[EDIFACT],
            x12_partner_id=PARTNER_IDS[X12],
            edifact_qualifier=SHIP_TO_QUALIFIERS[EDIFACT],
            x12_qualifier=SHIP_TO_QUALIFIERS[X12],
        )
        (lines,) = con.execute("select count(*) from intermediate.int_shipment_lines_prepared").fetchone()
    return lines


# --- the stages ----------------------------------------------------------------------------------------------


def batch_clock() -> datetime:
    return BATCH_NOW


def batch_locations(work: Path, folder: str) -> Locations:
    """The bench's warehouse, with the stage's own outbox (the ship notices' labels go beside it)."""
    return Locations(
        warehouse=work / WAREHOUSE_FILE,
        inbox=work / "inbox",
        outbox=work / folder / "outbox",
        sage_url=DEFAULT_SAGE_URL,
        config=EXAMPLE_CONFIG,
    )


def documents_floor(work: Path, source: str, key: str, documents: str) -> int:
    """The least a batch of `documents` costs: every line of `intermediate.<source>` read, then per document (per
    `key`) one file of its lines as text, written atomically, and one row inserted; the lines written."""
    folder = work / documents / "floor"
    folder.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(work / WAREHOUSE_FILE)) as con:
        # The read takes seconds: DuckDB would draw its progress bar on the bench's output.
        con.execute("set enable_progress_bar = false")
        con.execute("create schema if not exists bench_floor")
        con.execute(
            f"create or replace table bench_floor.{documents} (document_id bigint, file_name varchar, lines bigint)"
        )
        cursor = con.execute(f"select * from intermediate.{source} order by {key}, line_number")
        key_position = [column[0] for column in cursor.description].index(key)
        written = 0
        for document_id, rows in groupby(cursor.fetchall(), key=itemgetter(key_position)):
            lines = ["\t".join(map(str, row)) for row in rows]
            path = folder / f"{documents}-{document_id}.txt"
            write_file_atomically(path, "\n".join(lines).encode())
            con.execute(f"insert into bench_floor.{documents} values (?, ?, ?)", [document_id, path.name, len(lines)])
            written += len(lines)
    return written


def shipments_floor_stage(work: str) -> int:
    return documents_floor(Path(work), "int_shipment_lines_prepared", "despatch_id", SHIPMENTS_FOLDER)


def invoices_floor_stage(work: str) -> int:
    return documents_floor(Path(work), "int_invoice_lines_prepared", "sage_invoice_id", INVOICES_FOLDER)


def shipments_stage(work: str) -> int:
    """`run_shipment_batch` over every despatch: the lines of the notices sent."""
    summary = run_shipment_batch(
        batch_locations(Path(work), SHIPMENTS_FOLDER), load_business_config(EXAMPLE_CONFIG), clock=batch_clock
    )
    if summary.failed:
        raise RuntimeError(f"the bench's despatches should all pass: {'; '.join(summary.lines)}")
    return sent_lines(
        Path(work) / WAREHOUSE_FILE,
        "select count(*) from intermediate.int_shipment_lines_prepared where despatch_id in"
        " (select despatch_id from audit.shipment_notices where status = 'sent')",
    )


def invoices_stage(work: str) -> int:
    """`run_invoice_batch` over every invoice: the lines of the invoices sent."""
    summary = run_invoice_batch(
        batch_locations(Path(work), INVOICES_FOLDER), load_business_config(EXAMPLE_CONFIG), clock=batch_clock
    )
    if summary.failed:
        raise RuntimeError(f"the bench's invoices should all pass: {'; '.join(summary.lines)}")
    return sent_lines(
        Path(work) / WAREHOUSE_FILE,
        "select count(*) from intermediate.int_invoice_lines_prepared where sage_invoice_id in"
        " (select sage_invoice_id from audit.invoice_submissions where status = 'sent')",
    )


def sent_lines(warehouse: Path, count_query: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (lines,) = con.execute(count_query).fetchone()
    return lines


def run_documents_bench(
    work: Path, despatches: int = DESPATCHES, lines_per_despatch: int = LINES_PER_DESPATCH
) -> list[Measurement]:
    """Build the synthetic warehouse in `work` (an empty scratch folder) and measure the four stages on it."""
    build_warehouse(work / WAREHOUSE_FILE, despatches, lines_per_despatch)
    return [
        measured("ship notices floor (file + insert per despatch)", shipments_floor_stage, str(work)),
        measured("ship notices (run_shipment_batch)", shipments_stage, str(work)),
        measured("invoices floor (file + insert per invoice)", invoices_floor_stage, str(work)),
        measured("invoices (run_invoice_batch)", invoices_stage, str(work)),
    ]
