"""The `sage200` dlt source against the sandbox's seeded company, loaded into a DuckDB file of the test's own.

Each test loads through `run()` with an isolated pipelines dir, then reads the warehouse back and compares
it with what the Sage API answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest
from dlt.common.pipeline import LoadInfo
from dlt.pipeline.exceptions import PipelineStepFailed

from pipelines.sage200.client import RetryPolicy, SageClient, SageUnavailable
from pipelines.sage200.source import run
from pipelines.sage200.source.helpers import EntityShape
from pipelines.sage200.source.settings import DATASET_NAME, TABLES
from pipelines.sage200.spec import SageSpec

if TYPE_CHECKING:
    from conftest import SandboxCompany

D = Decimal
CHILD_TABLES = ("products__units", "sop_orders__lines")


class OneTableSage:
    """Answers any list read with the same rows: enough to drive one resource without a server."""

    def __init__(self, *rows: dict[str, Any]) -> None:
        self.rows = list(rows)

    def changed_since(
        self, resource: str, since: str | None, params: dict[str, Any] | None = None, page_size: int = 500
    ) -> Iterator[list]:
        yield self.rows


def customer(customer_id: int, balance: object, updated: str) -> dict[str, Any]:
    return {"id": customer_id, "reference": f"C{customer_id}", "balance": balance, "date_time_updated": updated}


class Warehouse:
    """The test's DuckDB file and dlt pipelines dir, loaded through `run()`."""

    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "warehouse.duckdb"
        self.pipelines_dir = tmp_path / "dlt"

    def load(self, client: SageClient | OneTableSage, resources: list[str] | None = None) -> LoadInfo:
        return run(client, destination=self.path, pipelines_dir=self.pipelines_dir, resources=resources)  # type: ignore[arg-type]

    def query(self, sql: str, *params: Any) -> list[tuple]:
        # Short-lived and read-only, as every reader of the warehouse must be: the next load needs the file.
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.execute(sql, list(params)).fetchall()

    def tables(self) -> set[str]:
        rows = self.query("select table_name from information_schema.tables where table_schema = ?", DATASET_NAME)
        return {name for (name,) in rows}

    def counts(self) -> dict[str, int]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return {
                name: con.execute(f'select count(*) from {DATASET_NAME}."{name}"').fetchone()[0]
                for name in self.tables()
            }

    def rows(self, table: str) -> dict[int, dict[str, Any]]:
        """A table by id, without dlt's bookkeeping columns (they change on every merge)."""
        with duckdb.connect(str(self.path), read_only=True) as con:
            cursor = con.execute(f"select * from {DATASET_NAME}.{table}")
            names = [column[0] for column in cursor.description]
            found = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        return {row["id"]: {k: v for k, v in row.items() if not k.startswith("_dlt_")} for row in found}

    def column_types(self) -> dict[tuple[str, str], str]:
        rows = self.query(
            "select table_name, column_name, data_type from information_schema.columns where table_schema = ?",
            DATASET_NAME,
        )
        return {(table, column): data_type for table, column, data_type in rows}


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path)


def sage_rows(client: SageClient, path: str, order_by: str, expand: str | None = None) -> Iterator[dict]:
    params = {"$orderby": order_by} | ({"$expand": expand} if expand else {})
    for page in client.pages(path, params):
        yield from page


def sage_counts(client: SageClient) -> dict[str, int]:
    """Row counts per raw table as Sage answers them, child tables included."""
    counts = {table.name: sum(1 for _ in sage_rows(client, table.path, table.order_by)) for table in TABLES}
    for table in TABLES:
        if not table.nested:
            continue
        parents = list(sage_rows(client, table.path, table.order_by, ",".join(table.expand) or None))
        for child in table.nested:
            counts[f"{table.name}__{child}"] = sum(len(row.get(child) or ()) for row in parents)
    return {name: count for name, count in counts.items() if count or "__" not in name}


def assert_all_loaded(info: LoadInfo) -> None:
    assert info.load_packages, "nothing was loaded"
    for package in info.load_packages:
        assert package.state == "loaded", package
        assert not package.jobs["failed_jobs"], package.jobs["failed_jobs"]


def causes(error: BaseException | None) -> Iterator[BaseException]:
    while error is not None:
        yield error
        error = error.__cause__


def without_dlt_tables(counts: dict[str, int]) -> dict[str, int]:
    return {name: count for name, count in counts.items() if not name.startswith("_dlt_")}


def test_first_load_lands_every_sage_table_typed(sandbox: SandboxCompany, warehouse: Warehouse) -> None:
    assert_all_loaded(warehouse.load(sandbox.client))

    loaded = without_dlt_tables(warehouse.counts())
    assert {table.name for table in TABLES} <= set(loaded)
    assert loaded == sage_counts(sandbox.client)

    # Every decimal in Sage's schema keeps Sage's scale, in child tables too: money is DECIMAL(18,2).
    types = warehouse.column_types()
    spec = SageSpec.load()
    checked_money_columns = 0
    for table in TABLES:
        shape = EntityShape.of_table(spec, table)
        for name, column_shape in [(table.name, shape)] + [
            (f"{table.name}__{child}", child_shape) for child, child_shape in shape.nested.items()
        ]:
            for column, hint in column_shape.columns.items():
                if hint["data_type"] == "decimal" and (name, column) in types:
                    assert types[(name, column)] == f"DECIMAL(18,{hint['scale']})", (name, column)
                    checked_money_columns += hint["scale"] == 2
    assert checked_money_columns > 50  # the loop above really looked at the money
    for table, column in [
        ("customers", "balance"),
        ("sales_posted_transactions", "document_outstanding_value"),
        ("sales_posted_transactions__nominal_analysis_items", "value"),
        ("banks", "balance"),
        ("nominal_codes", "balance_year_to_date"),
        ("bank_posted_transactions", "cheque_value"),
    ]:
        assert types[(table, column)] == "DECIMAL(18,2)", (table, column)

    invoice = warehouse.rows("sales_posted_transactions")[sandbox.ids.invoice]
    assert invoice["document_gross_value"] == D("171.00")
    assert warehouse.rows("customers")[sandbox.ids.customer]["balance"] == sandbox.customer_balance()
    # Sage's blank date-times arrive as nulls in timestamp columns, never as a text variant.
    assert not [key for key in types if "__v_" in key[1]]


def test_expanded_collections_become_child_tables(sandbox: SandboxCompany, warehouse: Warehouse) -> None:
    assert_all_loaded(warehouse.load(sandbox.client))

    expected = sage_counts(sandbox.client)
    missing = [name for name in CHILD_TABLES if not expected.get(name)]
    assert not missing, f"Sage answered no {missing} rows: the list read ignored $expand"
    loaded = warehouse.counts()
    assert {name: loaded.get(name) for name in CHILD_TABLES} == {name: expected[name] for name in CHILD_TABLES}
    types = warehouse.column_types()
    assert types[("sop_orders__lines", "line_total_value")] == "DECIMAL(18,2)"
    assert types[("sop_orders__lines", "selling_unit_price")] == "DECIMAL(18,5)"
    assert types[("products__units", "multiple_of_base_unit")] == "DECIMAL(18,9)"
    lines = warehouse.query(f"select sop_order_id, line_total_value from {DATASET_NAME}.sop_orders__lines order by id")
    assert lines == [(sandbox.ids.order, D("120.00")), (sandbox.ids.order, D("22.50"))]


def test_reloads_merge_only_what_changed(sandbox: SandboxCompany, warehouse: Warehouse) -> None:
    warehouse.load(sandbox.client)
    first = warehouse.counts()
    assert_all_loaded(warehouse.load(sandbox.client))
    assert without_dlt_tables(warehouse.counts()) == without_dlt_tables(first)
    for table in TABLES:
        key = ", ".join(table.primary_key)
        duplicates = warehouse.query(f"select {key} from {DATASET_NAME}.{table.name} group by all having count(*) > 1")
        assert not duplicates, (table.name, duplicates)

    customers, posted = warehouse.rows("customers"), warehouse.rows("sales_posted_transactions")
    receipt = sandbox.post_receipt("RCPT-1", D("100.00"))
    sandbox.allocate((sandbox.ids.invoice, D("100.00")), (receipt["id"], D("-100.00")))
    assert_all_loaded(warehouse.load(sandbox.client))

    after_customers, after_posted = warehouse.rows("customers"), warehouse.rows("sales_posted_transactions")
    assert after_customers[sandbox.ids.customer]["balance"] == sandbox.customer_balance() == D("71.00")
    assert {i for i in customers if after_customers[i] != customers[i]} == {sandbox.ids.customer}
    assert set(after_posted) - set(posted) == {receipt["id"]}
    assert {i for i in posted if after_posted[i] != posted[i]} == {sandbox.ids.invoice}
    assert after_posted[sandbox.ids.invoice]["document_outstanding_value"] == D("71.00")
    assert after_posted[receipt["id"]]["document_gross_value"] == D("-100.00")
    assert without_dlt_tables(warehouse.counts()) == sage_counts(sandbox.client)


def test_failed_load_changes_nothing_and_the_next_run_catches_up(sandbox: SandboxCompany, warehouse: Warehouse) -> None:
    warehouse.load(sandbox.client)
    before = warehouse.counts()
    balance_before = warehouse.rows("customers")[sandbox.ids.customer]["balance"]
    receipt = sandbox.post_receipt("RCPT-FAIL", D("50.00"))

    fast = SageClient(sandbox.api, sandbox.client.tokens, retry=RetryPolicy(attempts=2, base_delay=0)).connect()
    sandbox.backoffice.post(
        "faults", {"fail": [{"status": 500, "count": 50, "path_prefix": "/sales_posted_transactions"}]}
    )
    with fast, pytest.raises(PipelineStepFailed) as failed:
        warehouse.load(fast)
    assert any(isinstance(error, SageUnavailable) for error in causes(failed.value))
    # Other tables were read before Sage gave up, yet nothing of the failed run reached any table.
    assert warehouse.counts() == before
    assert warehouse.rows("customers")[sandbox.ids.customer]["balance"] == balance_before
    assert receipt["id"] not in warehouse.rows("sales_posted_transactions")

    sandbox.backoffice.delete("faults")
    assert_all_loaded(warehouse.load(sandbox.client))
    # The failed run committed no cursor: the customer changed before it is picked up now.
    assert warehouse.rows("customers")[sandbox.ids.customer]["balance"] == sandbox.customer_balance()
    assert receipt["id"] in warehouse.rows("sales_posted_transactions")
    assert without_dlt_tables(warehouse.counts()) == sage_counts(sandbox.client)


def test_frozen_table_refuses_a_value_of_another_type(warehouse: Warehouse) -> None:
    # Sage writes a whole amount as 0, not 0.00: the declared type keeps the column a decimal.
    assert_all_loaded(warehouse.load(OneTableSage(customer(1, 0, "2026-03-10T09:00:00Z")), ["customers"]))
    assert warehouse.column_types()[("customers", "balance")] == "DECIMAL(18,2)"

    wrong = OneTableSage(customer(1, "n/a", "2026-03-11T09:00:00Z"))
    with pytest.raises(PipelineStepFailed, match="balance__v_text"):
        warehouse.load(wrong, ["customers"])
    # The bad package stays pending, so every later run fails the same way until someone deals with it.
    with pytest.raises(PipelineStepFailed, match="balance__v_text"):
        warehouse.load(OneTableSage(customer(2, 5, "2026-03-12T09:00:00Z")), ["customers"])
    rows = warehouse.rows("customers")
    assert set(rows) == {1}
    assert rows[1]["balance"] == D("0.00")
    assert not [key for key in warehouse.column_types() if "__v_" in key[1]]


def test_run_after_a_failed_load_finishes_it_and_still_extracts(warehouse: Warehouse) -> None:
    warehouse.load(OneTableSage(customer(1, 0, "2026-03-10T09:00:00Z")), ["customers"])
    # A view standing in for dlt's staging table makes the load step fail after the rows were extracted.
    staging = f"{DATASET_NAME}_staging.customers"
    with duckdb.connect(str(warehouse.path)) as con:
        con.execute(f"alter table {staging} rename to customers_aside")
        con.execute(f"create view {staging} as select 1 as blocker")
    with pytest.raises(PipelineStepFailed, match="step=load"):
        warehouse.load(OneTableSage(customer(2, 0, "2026-03-11T09:00:00Z")), ["customers"])
    with duckdb.connect(str(warehouse.path)) as con:
        con.execute(f"drop view {staging}")
        con.execute(f"alter table {DATASET_NAME}_staging.customers_aside rename to customers")

    assert_all_loaded(warehouse.load(OneTableSage(customer(3, 0, "2026-03-12T09:00:00Z")), ["customers"]))
    assert set(warehouse.rows("customers")) == {1, 2, 3}


# --- the price book ------------------------------------------------------------------------------------


def set_up_price_book(sandbox: SandboxCompany) -> tuple[int, int]:
    """A standard band and an Amazon band linked to the Amazon account; the Widget has an Amazon price of
    its own, the Gadget's is linked to its standard price. Returns (standard id, Amazon id)."""
    office = sandbox.backoffice
    standard = office.create_price_band("Standard", "Standard selling prices", is_standard_band=True)["id"]
    amazon = office.create_price_band("Amazon", "Amazon vendor cost prices")["id"]
    widget, gadget = sandbox.ids.products
    office.set_product_price(widget, standard, D("6.00"))
    office.set_product_price(gadget, standard, D("4.50"))
    office.set_product_price(widget, amazon, D("4.87654"))
    office.set_customer_price_band(sandbox.ids.customer, amazon)
    return standard, amazon


def price_rows(warehouse: Warehouse) -> dict[tuple[int, str], tuple[bool, Decimal]]:
    """(product id, band name) → (linked to the standard price, price) as loaded."""
    rows = warehouse.query(
        f"select product_id, price_band_name, product_price_use_standard, product_price_price "
        f"from {DATASET_NAME}.product_price_views"
    )
    return {(product, band): (linked, price) for product, band, linked, price in rows}


def test_an_empty_price_book_still_lands_every_column_staging_reads(
    sandbox: SandboxCompany, warehouse: Warehouse
) -> None:
    assert_all_loaded(warehouse.load(sandbox.client))

    assert warehouse.counts()["price_bands"] == warehouse.counts()["product_price_views"] == 0
    types = warehouse.column_types()
    for table in TABLES:
        for column in (*table.primary_key, *table.declared):
            assert (table.name, column) in types, (table.name, column)
    assert types[("customers", "price_band_id")] == "BIGINT"
    assert types[("price_bands", "is_standard_band")] == "BOOLEAN"
    assert types[("product_price_views", "product_price_price")] == "DECIMAL(18,5)"
    assert types[("product_price_views", "price_band_name")] == "VARCHAR"


def test_the_price_book_loads_with_each_customers_band(sandbox: SandboxCompany, warehouse: Warehouse) -> None:
    standard, amazon = set_up_price_book(sandbox)
    assert_all_loaded(warehouse.load(sandbox.client))

    assert without_dlt_tables(warehouse.counts()) == sage_counts(sandbox.client)
    bands = warehouse.rows("price_bands")
    assert {band_id: (band["name"], band["is_standard_band"]) for band_id, band in bands.items()} == {
        standard: ("Standard", True),
        amazon: ("Amazon", False),
    }
    widget, gadget = sandbox.ids.products
    assert price_rows(warehouse) == {
        (widget, "Standard"): (False, D("6.00")),
        (gadget, "Standard"): (False, D("4.50")),
        (widget, "Amazon"): (False, D("4.87654")),  # all 5 places, although Sage's schema says 2dp
        (gadget, "Amazon"): (True, D("4.50")),
    }
    customer = warehouse.rows("customers")[sandbox.ids.customer]
    assert (customer["price_band_id"], customer["price_band__name"]) == (amazon, "Amazon")
    assert warehouse.column_types()[("product_price_views", "product_price_price")] == "DECIMAL(18,5)"


def test_prices_are_read_whole_so_a_change_to_the_standard_price_reaches_linked_rows(
    sandbox: SandboxCompany, warehouse: Warehouse
) -> None:
    standard, amazon = set_up_price_book(sandbox)
    warehouse.load(sandbox.client)
    widget, gadget = sandbox.ids.products

    # The Gadget's Amazon price follows its standard price, but that row's own stamp does not move.
    sandbox.backoffice.set_product_price(gadget, standard, D("4.75"))
    # Setting the Widget's Amazon price again replaces it: still one row for the product and band.
    sandbox.backoffice.set_product_price(widget, amazon, D("4.90"))
    assert_all_loaded(warehouse.load(sandbox.client))

    loaded = price_rows(warehouse)
    assert loaded[(gadget, "Amazon")] == (True, D("4.75"))
    assert loaded[(widget, "Amazon")] == (False, D("4.90"))
    assert len(loaded) == warehouse.counts()["product_price_views"] == 4
    assert not warehouse.query(
        f"select product_id, price_band_id from {DATASET_NAME}.product_price_views group by all having count(*) > 1"
    )


def test_price_tables_merge_on_their_keys() -> None:
    tables = {table.name: table for table in TABLES}
    assert tables["price_bands"].primary_key == ("id",)
    assert tables["price_bands"].incremental
    assert tables["product_price_views"].primary_key == ("product_price_id",)
    assert not tables["product_price_views"].incremental and tables["product_price_views"].full_read_reason


def test_declared_columns_and_wider_scales_come_from_sages_schema() -> None:
    properties = {"price": {"type": "number", "format": "decimal 2dp"}, "name": {"type": "string", "maxLength": 20}}
    shape = EntityShape.of(properties, declared=("name",), decimal_scales={"price": 5})
    assert shape.columns["price"] == {"name": "price", "data_type": "decimal", "precision": 18, "scale": 5}
    assert shape.columns["name"] == {"name": "name", "data_type": "text"}
    with pytest.raises(ValueError, match="not in Sage's schema"):
        EntityShape.of(properties, declared=("nickname",))
    with pytest.raises(ValueError, match="only wider"):
        EntityShape.of(properties, decimal_scales={"price": 1})
    with pytest.raises(ValueError, match="only wider"):
        EntityShape.of(properties, decimal_scales={"name": 5})
