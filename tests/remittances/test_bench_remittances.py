"""The remittances bench's synthetic year of payments is at the issue's size (the stages run in `make bench`)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.bench_remittances import INVOICES, WAREHOUSE_FILE, build_warehouse

LATEST_LINES = """
select count(*)
from raw_amazon.remittance_lines as lines
inner join (
    select payment_number, content_sha256 from raw_amazon.remittance_payments
    qualify row_number() over (partition by payment_number order by received_at desc) = 1
) as latest on lines.payment_number = latest.payment_number and lines.content_sha256 = latest.content_sha256
"""


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
