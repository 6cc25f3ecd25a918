"""The remittances bench: its synthetic year of payments at the issue's size, and both stages run on a tiny one."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.bench import Measurement
from pipelines.bench_remittances import INVOICES, WAREHOUSE_FILE, build_warehouse, run_remittances_bench

# Enough invoices for every kind of line the bench writes (the rarest, the unknown code, is on invoice 17).
TINY_INVOICES = 300
LATEST_LINES = """
select count(*)
from raw_amazon.remittance_lines as lines
inner join (
    select payment_number, content_sha256 from raw_amazon.remittance_payments
    qualify row_number() over (partition by payment_number order by received_at desc) = 1
) as latest on lines.payment_number = latest.payment_number and lines.content_sha256 = latest.content_sha256
"""
LINE_KINDS = {
    "invoice_payment", "shortage_claim", "claim_reversal", "revised_claim", "chargeback", "coop_agreement",
    "provision", "provision_reversal", "price_protection", "price_claim", "other",
}  # fmt: skip


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_synthetic_year_is_a_large_vendors(tmp_path: Path) -> None:
    warehouse = tmp_path / WAREHOUSE_FILE
    lines = build_warehouse(warehouse)

    assert lines >= 100_000 and query(warehouse, LATEST_LINES) == [(lines,)]
    [(amazon_invoices,)] = query(
        warehouse,
        "select count(*) from raw_sage200.sales_posted_transactions"
        " where customer_id = (select id from raw_sage200.customers where reference = 'AMA001')",
    )
    assert amazon_invoices == INVOICES >= 80_000
    # Weekly payments of the two vendor codes, every X12 one twice (its 820, then the export).
    assert query(
        warehouse,
        "select vendor_code, count(distinct payment_number), count(*) from raw_amazon.remittance_payments"
        " group by vendor_code order by vendor_code",
    ) == [("HAFIN", 52, 52), ("HAFIX", 52, 104)]


def test_the_remittances_bench_runs_both_stages_on_a_tiny_year(tmp_path: Path) -> None:
    results = run_remittances_bench(tmp_path, invoices=TINY_INVOICES)

    warehouse = tmp_path / WAREHOUSE_FILE
    [(lines,)] = query(warehouse, LATEST_LINES)
    assert lines > TINY_INVOICES
    assert [type(result) for result in results] == [Measurement] * len(results)
    floor, build, *nodes = results
    assert "floor" in floor.stage and "dbt build" in build.stage
    assert all(stage.seconds > 0 and stage.peak_rss_mib > 0 for stage in (floor, build))
    # Every row counts the lines of the latest payment versions: the floor wrote them all, the mart holds them all.
    assert [result.rows for result in results] == [lines] * len(results)
    assert query(warehouse, "select count(*) from marts.remittance_lines") == [(lines,)]
    stages = {node.stage for node in nodes}
    assert {
        "dbt model int_remittance_lines_matched",
        "dbt model int_remittance_deduction_tax_parts",
        "dbt model remittance_lines",
        "dbt model remittance_payments",
        "dbt model remittance_postings",
        "dbt model deductions",
        "dbt view int_remittance_lines_classified",
    } <= stages
    assert nodes[-1].stage.startswith("dbt tests (")

    # The year has what the docstring says: every kind of line, every invoice payment found by one of the
    # three methods, co-op deductions with and without Amazon's VAT invoice, terms discounts.
    assert {kind for (kind,) in query(warehouse, "select distinct line_kind from marts.remittance_lines")} == LINE_KINDS
    assert query(
        warehouse,
        "select match_method, count(*) filter (where sage_transaction_id is null) from marts.remittance_lines"
        " where line_kind = 'invoice_payment' group by match_method order by match_method",
    ) == [("exact", 0), ("normalised", 0), ("po_amount", 0)]
    assert query(
        warehouse,
        "select distinct tax_code from marts.deductions where deduction_type = 'coop_agreement' order by tax_code",
    ) == [(1,), (9,)]
    assert query(warehouse, "select count(*) > 0 from marts.deductions where deduction_type = 'terms_discount'") == [
        (True,)
    ]
