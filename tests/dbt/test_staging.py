"""The Sage 200 staging models (dbt_project/models/staging/sage200) over a warehouse dlt really loaded.

The module builds the warehouse once: the sample vendor generated and loaded into a sandbox, plus one
allocated receipt and one credit note (so that every kind of sales transaction and the allocation table
reach staging) and a price book (unless the sample loader already set one up), read into DuckDB by the
`sage200` dlt source. Each test works on its own copy.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.sage200.client import SageClient
from pipelines.sage200.sandbox.backoffice import BackOffice
from pipelines.sage200.sandbox.server import api_url, run_in_thread
from pipelines.sage200.source import run
from pipelines.scenario.generate import generate
from pipelines.scenario.load import load
from pipelines.transform import DBT_PROJECT_DIR, DbtFailed, DbtResult, run_dbt

AS_OF = date(2026, 3, 15)
SEED = 7
AMAZON_CUSTOMER = "AMA001"
CLEARING_BANK = "AMZCLR"
STAGING = "path:models/staging/sage200"
MODELS_DIR = DBT_PROJECT_DIR / "models" / "staging" / "sage200"

# Each staging model and the raw table it stages, row for row.
RAW_TABLES = {
    "stg_sage200__bank_transaction_nominal_lines": "bank_posted_transactions__nominal_analysis_items",
    "stg_sage200__bank_transactions": "bank_posted_transactions",
    "stg_sage200__banks": "banks",
    "stg_sage200__control_accounts": "control_nominal_codes",
    "stg_sage200__cost_centres": "cost_centres",
    "stg_sage200__customers": "customers",
    "stg_sage200__departments": "departments",
    "stg_sage200__despatches": "sop_despatch_receipts",
    "stg_sage200__financial_periods": "financial_year_period_views",
    "stg_sage200__nominal_codes": "nominal_codes",
    "stg_sage200__order_despatch_lines": "sop_order_despatch_line_views",
    "stg_sage200__order_despatches": "sop_order_despatch_views",
    "stg_sage200__order_invoice_lines": "sop_order_return_line_invoice_credit_views",
    "stg_sage200__order_invoices": "sop_order_return_invoice_credit_views",
    "stg_sage200__price_bands": "price_bands",
    "stg_sage200__product_prices": "product_price_views",
    "stg_sage200__product_groups": "product_groups",
    "stg_sage200__product_units": "products__units",
    "stg_sage200__products": "products",
    "stg_sage200__sales_order_lines": "sop_orders__lines",
    "stg_sage200__sales_orders": "sop_orders",
    "stg_sage200__sales_transaction_allocations": "sales_posted_transactions__allocation_history_items",
    "stg_sage200__sales_transaction_nominal_lines": "sales_posted_transactions__nominal_analysis_items",
    "stg_sage200__sales_transaction_tax_lines": "sales_posted_transactions__tax_analysis_items",
    "stg_sage200__sales_transactions": "sales_posted_transactions",
    "stg_sage200__tax_codes": "tax_codes",
    "stg_sage200__units": "units",
    "stg_sage200__warehouse_holdings": "warehouse_holdings",
    "stg_sage200__warehouses": "warehouses",
}
# Column names that hold money (pennies) and quantities in staging; see _sage200__models.yml.
MONEY_COLUMN = re.compile(r"^signed_|_value$|balance|_year_to_date$|_limit$|^value_of_")
QUANTITY_COLUMN = re.compile(r"quantity")


# --- building the warehouse ------------------------------------------------------------------------------


def post_allocated_receipt_and_credit_note(client: SageClient) -> None:
    """Amazon pays its two oldest invoices into the clearing bank, allocated in full; one line is credited."""
    customer = client.get("customers", {"$filter": f"reference eq '{AMAZON_CUSTOMER}'"})[0]
    bank = client.get("banks", {"$filter": f"code eq '{CLEARING_BANK}'"})[0]
    invoices = client.get(
        "sales_posted_transactions",
        {"$filter": f"customer_id eq {customer['id']}", "$orderby": "id", "$top": "2"},
    )
    paid = sum((invoice["document_gross_value"] for invoice in invoices), Decimal(0))
    client.post(
        "sales_receipts",
        {
            "customer_id": customer["id"],
            "bank_id": bank["id"],
            "cheque_value": paid,
            "transaction_date": "2026-03-12T00:00:00Z",
            "reference": "REMIT-TEST-1",
        },
    )
    receipt = client.get("sales_posted_transactions", {"$filter": "reference eq 'REMIT-TEST-1'"})[0]
    client.post(
        "sales_allocations",
        {
            "customer_id": customer["id"],
            "allocation_lines": [
                *({"posted_tran_id": i["id"], "value_to_allocate": i["document_gross_value"]} for i in invoices),
                {"posted_tran_id": receipt["id"], "value_to_allocate": -paid},
            ],
        },
    )
    credited_line = invoices[0]["nominal_analysis_items"][0]
    standard_rate = client.get("tax_codes", {"$filter": "code eq 1"})[0]
    client.post(
        "sales_credit_notes",
        {
            "customer_id": customer["id"],
            "transaction_date": "2026-03-13T00:00:00Z",
            "reference": "CREDIT-TEST-1",
            "document_goods_value": Decimal("10.00"),
            "document_tax_value": Decimal("2.00"),
            "nominal_analysis_items": [
                {
                    "code": credited_line["code"],
                    "cost_centre": credited_line["cost_centre"],
                    "department": credited_line["department"],
                    "value": Decimal("10.00"),
                }
            ],
            "tax_analysis_items": [
                {"id": standard_rate["id"], "goods_amount": Decimal("10.00"), "tax_amount": Decimal("2.00")}
            ],
        },
    )


def set_up_price_book(client: SageClient, office: BackOffice) -> None:
    """A standard band pricing every product and an Amazon band pricing every other one (the rest linked to
    the standard price), with the Amazon account linked to it; nothing when the company has price bands."""
    if client.get("price_bands"):
        return
    standard = office.create_price_band("Standard", "Standard selling prices", is_standard_band=True)
    amazon = office.create_price_band("Amazon", "Amazon vendor cost prices")
    for n, product in enumerate(client.get("products", {"$orderby": "id", "$top": "5000"})):
        office.set_product_price(product["id"], standard["id"], Decimal("10.00") + n)
        if n % 2 == 0:
            office.set_product_price(product["id"], amazon["id"], Decimal("7.12345") + n)
    customer = client.get("customers", {"$filter": f"reference eq '{AMAZON_CUSTOMER}'"})[0]
    office.set_customer_price_band(customer["id"], amazon["id"])


@pytest.fixture(scope="module")
def raw_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding only what dlt loaded (raw_sage200), built once for the module."""
    root = tmp_path_factory.mktemp("staging_raw")
    generate(SEED, AS_OF, "small", root / "sample")
    warehouse = root / "warehouse.duckdb"
    with (
        run_in_thread(root / "sandbox.sqlite3") as sandbox_root,
        SageClient(api_url(sandbox_root), "sandbox") as client,
        BackOffice(sandbox_root) as office,
    ):
        client.connect()
        load(root / "sample", client, office)
        post_allocated_receipt_and_credit_note(client)
        set_up_price_book(client, office)
        run(client, destination=warehouse, pipelines_dir=root / "dlt")
    return warehouse


def copy_warehouse(warehouse: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(warehouse, folder / warehouse.name))


@pytest.fixture(scope="module")
def staged(raw_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DbtResult]:
    """A copy of the raw warehouse with the staging models built and tested."""
    warehouse = copy_warehouse(raw_warehouse, tmp_path_factory.mktemp("staging_built"))
    return warehouse, run_dbt("build", warehouse, select=STAGING)


def query(warehouse: Path, sql: str, *params: Any) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def staging_columns(warehouse: Path) -> Iterator[tuple[str, str, str]]:
    """(view, column, type) of every staging.stg_sage200__ view."""
    yield from query(
        warehouse,
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'staging' and starts_with(table_name, 'stg_sage200__')",
    )


# --- tests -------------------------------------------------------------------------------------------------


def test_staging_builds_and_every_test_passes(staged: tuple[Path, DbtResult]) -> None:
    _, result = staged
    assert result.failures == ()
    # Every model plus its tests (and the unit test) ran, not an empty selection.
    assert result.nodes > 3 * len(RAW_TABLES)


def test_every_staging_model_is_a_view_in_schema_staging(staged: tuple[Path, DbtResult]) -> None:
    warehouse, _ = staged
    models = {path.stem for path in MODELS_DIR.glob("stg_sage200__*.sql")}
    views = {
        name
        for (name,) in query(
            warehouse,
            "select table_name from information_schema.tables "
            "where table_schema = 'staging' and table_type = 'VIEW' and starts_with(table_name, 'stg_sage200__')",
        )
    }
    assert models == set(RAW_TABLES)
    assert views == models


def test_each_model_has_the_rows_of_its_raw_table(staged: tuple[Path, DbtResult]) -> None:
    warehouse, _ = staged
    loaded = {
        name for (name,) in query(warehouse, "select table_name from duckdb_tables() where schema_name = 'raw_sage200'")
    }
    for model, table in RAW_TABLES.items():
        # A child table dlt has not created yet is staged as an empty model.
        raw_rows = query(warehouse, f'select count(*) from raw_sage200."{table}"')[0][0] if table in loaded else 0
        assert query(warehouse, f"select count(*) from staging.{model}")[0][0] == raw_rows, model
    # The sample is not empty where it matters: the allocated receipt reached staging.
    assert query(warehouse, "select count(*) from staging.stg_sage200__sales_transaction_allocations")[0][0] == 3


def test_money_is_decimal_18_2_and_quantities_decimal_18_5(staged: tuple[Path, DbtResult]) -> None:
    warehouse, _ = staged
    columns = list(staging_columns(warehouse))
    money = {(view, column): kind for view, column, kind in columns if MONEY_COLUMN.search(column)}
    quantities = {(view, column): kind for view, column, kind in columns if QUANTITY_COLUMN.search(column)}
    assert ("stg_sage200__sales_transactions", "signed_gross_value") in money
    assert ("stg_sage200__customers", "balance") in money
    assert ("stg_sage200__warehouse_holdings", "quantity_in_stock") in quantities
    assert {key: kind for key, kind in money.items() if kind != "DECIMAL(18,2)"} == {}
    assert {key: kind for key, kind in quantities.items() if kind != "DECIMAL(18,5)"} == {}


def test_price_book_is_staged_per_product_and_band(staged: tuple[Path, DbtResult]) -> None:
    warehouse, _ = staged
    types = {(view, column): kind for view, column, kind in staging_columns(warehouse)}
    assert types[("stg_sage200__product_prices", "price_per_stock_unit")] == "DECIMAL(18,5)"
    assert types[("stg_sage200__product_prices", "is_standard_price")] == "BOOLEAN"
    assert types[("stg_sage200__customers", "price_band_id")] == "BIGINT"
    products, bands, prices = query(
        warehouse,
        "select (select count(*) from staging.stg_sage200__products), "
        "(select count(*) from staging.stg_sage200__price_bands), "
        "(select count(*) from staging.stg_sage200__product_prices)",
    )[0]
    assert products and bands > 1
    assert prices == products * bands  # Sage prices every product in every band
    # Sage's price for the Amazon customer: one per product, from the band the account is linked to.
    amazon_prices = query(
        warehouse,
        "select count(*), count(distinct prices.product_id) from staging.stg_sage200__customers as customers "
        "inner join staging.stg_sage200__product_prices as prices on prices.price_band_id = customers.price_band_id "
        "where customers.customer_reference = ?",
        AMAZON_CUSTOMER,
    )
    assert amazon_prices == [(products, products)]


def test_unit_prices_keep_five_decimal_places(staged: tuple[Path, DbtResult], tmp_path: Path) -> None:
    warehouse = copy_warehouse(staged[0], tmp_path)
    first_product = "(select min(product_id) from raw_sage200.product_price_views)"
    with duckdb.connect(str(warehouse)) as con:
        # The raw column is DECIMAL(18,5) although Sage's schema says 2dp: the update would round otherwise.
        # Every band of the product changes, so linked prices still show the standard price.
        con.execute(
            "update raw_sage200.product_price_views set product_price_price = 1.23456 "
            f"where product_id = {first_product}"
        )
    run_dbt("build", warehouse, select="stg_sage200__product_prices stg_sage200__price_bands")
    prices = query(
        warehouse,
        "select distinct price_per_stock_unit from staging.stg_sage200__product_prices "
        f"where product_id = {first_product}",
    )
    assert prices == [(Decimal("1.23456"),)]


def test_a_linked_price_that_is_not_the_standard_price_fails_the_build(
    staged: tuple[Path, DbtResult], tmp_path: Path
) -> None:
    warehouse = copy_warehouse(staged[0], tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update raw_sage200.product_price_views set product_price_use_standard = true, "
            "product_price_price = product_price_price + 1 where product_price_id = ("
            "select min(product_price_id) from raw_sage200.product_price_views where price_band_id in ("
            "select id from raw_sage200.price_bands where not is_standard_band))"
        )
    with pytest.raises(DbtFailed, match="stg_sage200__product_prices_linked_price_is_standard_price"):
        run_dbt("build", warehouse, select="stg_sage200__product_prices stg_sage200__price_bands")


def test_signs_are_sages(staged: tuple[Path, DbtResult]) -> None:
    warehouse, _ = staged
    signs = query(
        warehouse,
        "select transaction_type, min(sign(signed_gross_value)), max(sign(signed_gross_value)) "
        "from staging.stg_sage200__sales_transactions group by transaction_type",
    )
    assert {kind: (low, high) for kind, low, high in signs} == {
        "invoice": (1, 1),
        "credit_note": (-1, -1),
        "receipt": (-1, -1),
    }


def test_a_broken_identity_fails_the_build_and_names_its_test(staged: tuple[Path, DbtResult], tmp_path: Path) -> None:
    warehouse = copy_warehouse(staged[0], tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update raw_sage200.sales_posted_transactions set document_gross_value = document_gross_value + 0.01 "
            "where id = (select min(id) from raw_sage200.sales_posted_transactions)"
        )
    with pytest.raises(DbtFailed, match="stg_sage200__sales_transactions_gross_is_goods_plus_tax"):
        run_dbt("build", warehouse, select="stg_sage200__sales_transactions")


def test_a_child_table_dlt_has_not_created_yet_stages_as_empty(staged: tuple[Path, DbtResult], tmp_path: Path) -> None:
    warehouse = copy_warehouse(staged[0], tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("drop table raw_sage200.bank_posted_transactions__nominal_analysis_items")
    run_dbt("build", warehouse, select="stg_sage200__bank_transaction_nominal_lines")
    assert query(warehouse, "select count(*) from staging.stg_sage200__bank_transaction_nominal_lines") == [(0,)]
