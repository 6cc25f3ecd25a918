"""The documents bench: its synthetic year of despatches and invoices, and every stage run on a tiny one."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.bench import Measurement
from pipelines.bench_documents import (
    INVOICES_FOLDER,
    SHIPMENTS_FOLDER,
    WAREHOUSE_FILE,
    build_warehouse,
    run_documents_bench,
)

DESPATCHES = 20
LINES_PER_DESPATCH = 3


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def files(folder: Path, pattern: str) -> int:
    return len(list(folder.glob(pattern)))


def test_the_synthetic_year_is_valid_case_packed_despatches_and_their_invoices(tmp_path: Path) -> None:
    warehouse = tmp_path / WAREHOUSE_FILE
    lines = build_warehouse(warehouse, 66, 39)

    [(despatches, standards, short_cases, over_acknowledged)] = query(
        warehouse,
        "select count(distinct despatch_id), count(distinct edi_standard),"
        " count(*) filter (where despatched_eaches % eaches_per_unit <> 0 or eaches_per_unit not in (6, 12, 24)),"
        " count(*) filter (where despatched_eaches > acknowledged_eaches)"
        " from intermediate.int_shipment_lines_prepared",
    )
    assert despatches == 66 and standards == 2 and short_cases == over_acknowledged == 0
    # Lines average 39 (each despatch has 1 to 77).
    assert 39 / 2 < lines / despatches < 39 * 1.5
    # One invoice per despatch with its lines, whose header totals are the lines' sums.
    [(invoices, totals_off)] = query(
        warehouse,
        "select count(*), count(*) filter (where not totals_match) from ("
        " select sage_invoice_id, any_value(invoice_net_value) = sum(line_net_amount)"
        " and any_value(invoice_tax_value) = sum(line_tax_amount)"
        " and any_value(invoice_gross_value) = sum(line_net_amount + line_tax_amount) as totals_match"
        " from intermediate.int_invoice_lines_prepared group by sage_invoice_id)",
    )
    assert (invoices, totals_off) == (66, 0)
    [(invoice_lines,)] = query(warehouse, "select count(*) from intermediate.int_invoice_lines_prepared")
    assert invoice_lines == lines
    # Every line carries its EAN for the documents to echo back.
    [(identified,)] = query(
        warehouse,
        "select count(distinct (purchase_order_version_id, line_number))"
        " from staging.stg_amazon__purchase_order_line_identifiers where identifier_qualifier = 'EN'",
    )
    assert identified == lines


def test_the_documents_bench_runs_every_stage_on_a_tiny_year(tmp_path: Path) -> None:
    results = run_documents_bench(tmp_path, despatches=DESPATCHES, lines_per_despatch=LINES_PER_DESPATCH)

    assert [type(result) for result in results] == [Measurement] * 4
    stages = [result.stage for result in results]
    assert [stage for stage in stages if "floor" in stage] == [stages[0], stages[2]]
    # Every stage saw every line, the floors as the stages they bound, and the batches sent every document.
    warehouse = tmp_path / WAREHOUSE_FILE
    [(despatch_lines,)] = query(warehouse, "select count(*) from intermediate.int_shipment_lines_prepared")
    [(invoice_lines,)] = query(warehouse, "select count(*) from intermediate.int_invoice_lines_prepared")
    assert despatch_lines > DESPATCHES and invoice_lines == despatch_lines
    assert [result.rows for result in results] == [despatch_lines] * 2 + [invoice_lines] * 2
    assert query(warehouse, "select status, count(*) from audit.shipment_notices group by status") == [
        ("sent", DESPATCHES)
    ]
    assert query(warehouse, "select status, count(*) from audit.invoice_submissions group by status") == [
        ("sent", DESPATCHES)
    ]
    shipments, invoices = tmp_path / SHIPMENTS_FOLDER, tmp_path / INVOICES_FOLDER
    assert files(shipments / "outbox", "*.edi") == files(shipments / "labels", "*.pdf") == DESPATCHES
    assert files(invoices / "outbox", "*.edi") == DESPATCHES
    assert files(shipments / "floor", "*.txt") == files(invoices / "floor", "*.txt") == DESPATCHES
    assert all(result.seconds > 0 and result.peak_rss_mib > 0 for result in results)
