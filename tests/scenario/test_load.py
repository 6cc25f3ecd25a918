"""Loading the small sample vendor into the Sage 200 sandbox, and reading it back through the API."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pipelines.amazon.documents import RemittancePayment
from pipelines.amazon.remittance_export import read_remittance_export
from pipelines.sage200.client import SageApiError, SageClient
from pipelines.scenario.formats import read_event_stream
from pipelines.scenario.generate import HISTORY_FILE, MASTERS_FILE, generate
from pipelines.scenario.load import AlreadyLoaded, LoadSummary, load
from pipelines.scenario.manifest import Manifest

server = pytest.importorskip(
    "pipelines.sage200.sandbox.server", reason="the Sage 200 sandbox server (run_in_thread) is not available"
)
backoffice = pytest.importorskip(
    "pipelines.sage200.sandbox.backoffice", reason="the Sage 200 sandbox back office client is not available"
)

AS_OF = date(2026, 3, 16)
SEED = 7
INVOICE = "TradingAccountEntryTypeInvoice"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("scenario")
    return out, generate(SEED, AS_OF, "small", out)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SageClient, Any]]:
    db_path = tmp_path_factory.mktemp("sandbox") / "sage200.sqlite3"
    with (
        server.run_in_thread(db_path) as root_url,
        SageClient(root_url + "uk/sage200extra/accounts/v1/", "sandbox") as client,
        backoffice.BackOffice(root_url) as office,
    ):
        yield client.connect(), office


@pytest.fixture(scope="module")
def loaded(scenario: tuple[Path, Manifest], sandbox: tuple[SageClient, Any]) -> LoadSummary:
    client, office = sandbox
    try:
        client.get("nominal_report_categories")
    except SageApiError as err:
        if err.status != 404:
            raise
        pytest.skip("the sandbox does not list nominal_report_categories, which POST nominal_codes needs")
    return load(scenario[0], client, office)


def count(client: SageClient, resource: str, **equals: Any) -> int:
    params = {"$filter": " and ".join(f"{k} eq '{v}'" for k, v in equals.items())} if equals else None
    return sum(1 for _ in client.get_all(resource, params))


def test_sage_holds_what_the_manifest_counts(
    loaded: LoadSummary, scenario: tuple[Path, Manifest], sandbox: tuple[SageClient, Any]
) -> None:
    client, _ = sandbox
    counts = scenario[1].counts
    assert count(client, "customers") == counts["customers"]
    assert count(client, "products") == counts["products"]
    assert count(client, "warehouse_holdings") == counts["warehouse_holdings"]
    assert count(client, "sop_orders") == counts["sales_orders"]
    assert count(client, "sop_despatch_receipts") == counts["despatches"]
    assert count(client, "sales_posted_transactions", trader_transaction_type=INVOICE) == counts["invoices"]
    assert {kind: n for kind, n in loaded.created.items()} == {kind: counts[kind] for kind in loaded.created}


def test_orders_carry_the_customer_po_numbers(
    loaded: LoadSummary, scenario: tuple[Path, Manifest], sandbox: tuple[SageClient, Any]
) -> None:
    client, _ = sandbox
    events = read_event_stream(scenario[0] / HISTORY_FILE)
    expected = {e["customer_document_no"] for e in events if e["event"] == "sales_order"}
    assert {order["customer_document_no"] for order in client.get_all("sop_orders")} == expected


def test_amazon_balance_is_the_sum_of_its_invoices(loaded: LoadSummary, sandbox: tuple[SageClient, Any]) -> None:
    client, _ = sandbox
    (amazon,) = client.get("customers", {"$filter": "reference eq 'AMA001'"})
    invoices = list(
        client.get_all(
            "sales_posted_transactions",
            {"$filter": f"customer_id eq {amazon['id']} and trader_transaction_type eq '{INVOICE}'"},
        )
    )
    assert invoices
    assert Decimal(str(amazon["balance"])) == sum(Decimal(str(i["document_gross_value"])) for i in invoices)


def test_remittances_pay_the_invoices_sage_posted(
    loaded: LoadSummary, scenario: tuple[Path, Manifest], sandbox: tuple[SageClient, Any]
) -> None:
    """The generator knows the sandbox's invoice numbers in advance: number, PO and gross must all agree. A
    planted payment's line names its invoice as the manifest expects it matched (maybe not by its number), or
    none when Sage holds no such invoice."""
    client, _ = sandbox
    posted = {
        i["reference"]: (i["second_reference"], Decimal(str(i["document_gross_value"])))
        for i in client.get_all("sales_posted_transactions", {"$filter": f"trader_transaction_type eq '{INVOICE}'"})
    }
    matched_as = {
        (payment["payment_number"], line["line_number"]): line["expected_invoice_reference"]
        for payment in scenario[1].planted_remittances
        for line in payment["lines"]
    }
    paid = {}
    unknown = []
    for export in sorted((scenario[0] / "inbox").glob("*/REMITTANCE_*.csv")):
        parsed = read_remittance_export(export.read_bytes(), export.name, date_order="DMY")
        for result in parsed.sets:
            assert isinstance(result.document, RemittancePayment)
            for number, line in enumerate(result.document.lines, start=1):
                if line.description != "Invoice":
                    continue
                invoice = matched_as.get((result.document.payment_number, number), line.invoice_number)
                if invoice is None:
                    unknown.append(line.invoice_number)
                else:
                    paid[invoice] = (line.po_number, line.gross_amount)
    assert paid
    assert {number: posted[number] for number in paid} == paid
    assert unknown == ["9999999999"] and unknown[0] not in posted


def test_the_month_before_as_of_is_closed(loaded: LoadSummary, sandbox: tuple[SageClient, Any]) -> None:
    client, _ = sandbox
    closed = client.post("transaction_date_validation", {"date": "2026-02-27T00:00:00Z"})
    still_open = client.post("transaction_date_validation", {"date": "2026-03-02T00:00:00Z"})
    assert closed["classification"] == "Unacceptable"
    assert still_open["classification"] != "Unacceptable"


def test_loading_twice_is_refused(
    loaded: LoadSummary, scenario: tuple[Path, Manifest], sandbox: tuple[SageClient, Any]
) -> None:
    client, office = sandbox
    with pytest.raises(AlreadyLoaded, match="AMA001"):
        load(scenario[0], client, office)


def test_the_price_book_is_loaded(
    loaded: LoadSummary, scenario: tuple[Path, Manifest], sandbox: tuple[SageClient, Any]
) -> None:
    client, _ = sandbox
    masters = json.loads((scenario[0] / MASTERS_FILE).read_text(encoding="utf-8"))
    bands = {band["name"]: band for band in client.get_all("price_bands")}
    assert {(name, band["is_standard_band"]) for name, band in bands.items()} == {
        ("Standard", True),
        ("Amazon", False),
    }
    prices = {
        (row["product_code"], row["price_band_name"]): Decimal(str(row["product_price_price"]))
        for row in client.get_all("product_price_views")
    }
    assert prices == {(p["sku"], p["price_band"]): Decimal(p["price"]) for p in masters["product_prices"]}
    customers = {c["reference"]: c["price_band_id"] for c in client.get_all("customers")}
    assert customers.pop("AMA001") == bands["Amazon"]["id"]
    assert set(customers.values()) == {bands["Standard"]["id"]}


def test_sage_holds_the_planted_products_and_free_stock_for_the_new_pos(
    loaded: LoadSummary, scenario: tuple[Path, Manifest], sandbox: tuple[SageClient, Any]
) -> None:
    """Sage's free stock is at least what the generator counted on (opening stock and receipts less all
    that was ordered), and exact for the planted products, which nothing else orders."""
    client, _ = sandbox
    masters = json.loads((scenario[0] / MASTERS_FILE).read_text(encoding="utf-8"))
    products = {p["code"]: p for p in client.get_all("products")}
    free: dict[str, Decimal] = defaultdict(Decimal)
    codes = {p["id"]: code for code, p in products.items()}
    for holding in client.get_all("warehouse_holdings"):
        free[codes[holding["product_id"]]] += Decimal(str(holding["free_stock_available"]))
    counted_on = free_stock_at_least(scenario[0], masters)
    assert all(free[sku] >= eaches for sku, eaches in counted_on.items()), "Sage has less free stock"
    planted = [f"HF-PL-{n:04d}" for n in range(1, 6)]
    assert [free[sku] for sku in planted] == [counted_on[sku] for sku in planted] == [60, 24, 0, 144, 30]
    assert products[planted[0]]["barcode"] == products[planted[1]]["barcode"]
    assert {products[sku]["product_status_type"] for sku in planted} == {"Active"}


def free_stock_at_least(directory: Path, masters: dict[str, Any]) -> dict[str, int]:
    """Eaches of each product free of every open order after the history, as the generator counts them."""
    multiples = {
        p["sku"]: {u["name"]: int(u["multiple_of_base_unit"]) for u in p["units"]} for p in masters["products"]
    }
    free: Counter[str] = Counter({s["sku"]: int(s["quantity"]) for s in masters["opening_stock"]})
    for event in read_event_stream(directory / HISTORY_FILE):
        if event["event"] == "stock_adjustment":
            free[event["sku"]] += int(event["quantity"])
        elif event["event"] == "sales_order":
            for line in event["lines"]:
                free[line["sku"]] -= int(line["quantity"]) * multiples[line["sku"]][line["unit"]]
    return {sku: free[sku] for sku in multiples}
