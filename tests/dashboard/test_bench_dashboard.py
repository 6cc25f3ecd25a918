"""The dashboard bench (`avc2sage bench --part dashboard`) measures every page and every query a page makes, on a
warehouse its building blocks make as described. The timings themselves are `make bench`'s, never a test's."""

from __future__ import annotations

import ast
import inspect
from datetime import timedelta
from pathlib import Path

import duckdb

from pipelines import bench_dashboard as bench
from pipelines.warehouse.audit import ensure_audit_schema

DASHBOARD = bench.DASHBOARD_DIR


def data_names(tree: ast.AST) -> set[str]:
    """The names used as `data.<name>` in a module or function (the pages import `dashboard.data` as `data`)."""
    return {node.attr for node in ast.walk(tree) if is_data_attribute(node)}


def data_calls(tree: ast.AST) -> set[str]:
    """The names called as `data.<name>(...)` (an annotation such as `data.Snapshot` is no call)."""
    return {node.func.attr for node in ast.walk(tree) if isinstance(node, ast.Call) and is_data_attribute(node.func)}


def is_data_attribute(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "data"


def public_data_functions() -> set[str]:
    """The functions and classes dashboard/data.py defines for others to call."""
    tree = ast.parse((DASHBOARD / "data.py").read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_")
    }


def app_pages() -> dict[str, str]:
    """The app's pages, file stem → title, as streamlit_app.py lists them (`st.Page(<file>, title=...)`)."""
    tree = ast.parse((DASHBOARD / "streamlit_app.py").read_text())
    pages = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "Page":
            title = next(keyword.value.value for keyword in node.keywords if keyword.arg == "title")
            pages[Path(node.args[0].value).stem] = title
    return pages


def test_the_bench_renders_every_page_of_the_app() -> None:
    assert app_pages() == bench.PAGE_TITLES
    assert set(bench.PAGE_DATA) == set(bench.PAGE_STAGES) == set(bench.PAGE_TITLES)


def test_every_query_a_page_makes_is_in_its_bench_stage() -> None:
    public = public_data_functions()
    shared = data_calls(ast.parse((DASHBOARD / "ui.py").read_text())) & public
    assert shared == set(bench.EVERY_PAGE)
    for page, listed in bench.PAGE_DATA.items():
        called = data_calls(ast.parse((DASHBOARD / "app_pages" / f"{page}.py").read_text())) & public
        # A new data function on a page fails here until its bench stage calls it.
        missing = called - set(listed) - set(bench.EVERY_PAGE) - set(bench.ACTION_ONLY)
        assert not missing, (page, missing)
        # The stage calls each past Streamlit's cache: `uncached(data.<name>)(...)`.
        staged = data_names(ast.parse(inspect.getsource(bench.PAGE_STAGES[page])))
        unstaged = (set(listed) | set(bench.EVERY_PAGE)) - staged
        assert not unstaged, (page, unstaged)
        assert staged <= public, (page, staged - public)


def test_the_synthesis_puts_both_benches_in_one_warehouse(tmp_path: Path) -> None:
    warehouse = tmp_path / bench.WAREHOUSE_FILE
    bench.synthesise_raw(warehouse, purchase_orders=40, lines_per_order=3, products=50, invoices=400)

    with duckdb.connect(str(warehouse), read_only=True) as con:
        # Amazon's account and the trade customers once, as the orders bench writes them (Amazon's price band).
        assert con.execute("select count(*), count(distinct reference) from raw_sage200.customers").fetchall() == [
            (201, 201)
        ]
        assert con.execute("select price_band_id from raw_sage200.customers where reference = 'AMA001'").fetchall() == [
            (2,)
        ]
        assert con.execute("select count(distinct po_number) from raw_amazon.purchase_orders").fetchone() == (40,)
        assert con.execute("select count(*) from raw_sage200.sales_posted_transactions").fetchone() == (440,)
        assert con.execute("select count(distinct payment_number) from raw_amazon.remittance_payments").fetchone() == (
            104,
        )
        # The Sage tables neither bench writes are there, empty, for the models that read them.
        assert con.execute("select count(*) from raw_sage200.sop_despatch_receipts").fetchone() == (0,)


def test_each_action_is_loaded_by_a_pass_of_the_run_history() -> None:
    with duckdb.connect() as con:
        ensure_audit_schema(con)
        rows = bench.add_run_history(con, days=2)
        passes = 2 * 24 * 60 // bench.RUN_EVERY_MINUTES
        assert rows == passes * len(bench.PASS_JOBS) + 2
        assert con.execute("select max(started_at) from audit.runs where job = 'run'").fetchone() == (bench.DBT_NOW,)

        taken_at = bench.DBT_NOW - timedelta(hours=5, minutes=7)
        loaded_at, run_id = bench.loading_run(taken_at, days=2)
        assert taken_at < loaded_at <= taken_at + timedelta(minutes=bench.RUN_EVERY_MINUTES)
        assert con.execute("select job, started_at from audit.runs where run_id = ?", [run_id]).fetchall() == [
            ("dashboard_actions", loaded_at)
        ]
    assert bench.loading_run(bench.DBT_NOW + timedelta(minutes=1)) is None
