"""The orders bench: its synthetic year of POs, and every stage run on a tiny one."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.bench import Measurement
from pipelines.bench_edi import gtin
from pipelines.bench_orders import build_warehouse, run_orders_bench

LATEST_VERSIONS = """
select count(*), sum(line_count)
from (
    select line_count from raw_amazon.purchase_orders
    qualify row_number() over (partition by po_number order by received_at desc) = 1
)
"""


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize(("orders", "lines_per_order", "products"), [(4, 3, 20), (66, 39, 200)])
def test_the_synthetic_year_has_the_size_asked_for(
    tmp_path: Path, orders: int, lines_per_order: int, products: int
) -> None:
    warehouse = tmp_path / "orders.duckdb"
    lines = build_warehouse(warehouse, orders, lines_per_order, products)

    assert query(warehouse, LATEST_VERSIONS) == [(orders, lines)]
    # Lines average lines_per_order (each PO has 1 to 2 × lines_per_order − 1).
    assert lines_per_order / 2 < lines / orders < lines_per_order * 1.5
    [(stored_lines, versions)] = query(
        warehouse, "select count(*), count(distinct content_sha256) from raw_amazon.purchase_order_lines"
    )
    assert stored_lines >= lines and versions == orders + orders // 33
    assert query(warehouse, "select count(*) from raw_sage200.products") == [(products,)]


def test_every_line_carries_an_ean_sage_knows_but_a_sprinkle(tmp_path: Path) -> None:
    warehouse = tmp_path / "orders.duckdb"
    lines = build_warehouse(warehouse, 66, 39, 200)

    [(eans, known, asins)] = query(
        warehouse,
        "select count(*) filter (where qualifier = 'EN'), "
        "count(*) filter (where qualifier = 'EN' and value in (select barcode from raw_sage200.products)), "
        "count(*) filter (where qualifier = 'BP') "
        "from raw_amazon.purchase_order_line_identifiers",
    )
    [(stored_lines,)] = query(warehouse, "select count(*) from raw_amazon.purchase_order_lines")
    assert eans == stored_lines >= lines
    assert 0 < eans - known < eans / 100
    assert 0.25 < asins / eans < 0.35
    # The barcodes are real EAN-13s on the vendor's GS1 prefix.
    [(barcode,)] = query(warehouse, "select barcode from raw_sage200.products where id = 1007")
    assert barcode == gtin("506012300007")


def test_the_orders_bench_runs_every_stage_on_a_tiny_year(tmp_path: Path) -> None:
    results = run_orders_bench(tmp_path, orders=4, lines_per_order=3, products=20)

    assert [type(result) for result in results] == [Measurement] * 4
    stages = [result.stage for result in results]
    assert [stage for stage in stages if "floor" in stage] == [stages[0], stages[2]]
    # Every stage saw every line of the latest versions, the floors as the stages they bound.
    [(orders, lines)] = query(tmp_path / "orders.duckdb", LATEST_VERSIONS)
    assert orders == 4 and lines > 0
    assert [result.rows for result in results] == [lines] * 4
    assert all(result.seconds > 0 and result.peak_rss_mib > 0 for result in results)
