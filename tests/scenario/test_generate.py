"""The sample vendor generator: deterministic, believable, and internally consistent."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pipelines.scenario.formats import month_end, read_event_stream, read_event_stream_header
from pipelines.scenario.generate import HISTORY_FILE, MANIFEST_FILE, MASTERS_FILE, generate
from pipelines.scenario.identifiers import gs1_check_digit, is_valid_ean13
from pipelines.scenario.manifest import GENERATOR_VERSION, Manifest
from pipelines.scenario.scales import SCALES, Scale, resolve_scale

AS_OF = date(2026, 3, 16)
SEED = 20260316
PLANTED_PRODUCTS = 5  # pipelines/scenario/planted.py
MONEY = re.compile(r"^-?\d+\.\d{2}$")


def file_hashes(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("small")
    return out, generate(SEED, AS_OF, "small", out)


@pytest.fixture(scope="module")
def masters(small: tuple[Path, Manifest]) -> dict[str, Any]:
    return json.loads((small[0] / MASTERS_FILE).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def events(small: tuple[Path, Manifest]) -> list[dict[str, Any]]:
    return list(read_event_stream(small[0] / HISTORY_FILE))


# determinism -------------------------------------------------------------------------------------------
def test_same_inputs_give_identical_bytes(small: tuple[Path, Manifest], tmp_path: Path) -> None:
    generate(SEED, AS_OF, "small", tmp_path)
    assert file_hashes(tmp_path) == file_hashes(small[0])
    assert {name for name in file_hashes(tmp_path) if not name.startswith("inbox/")} == {
        "manifest.json",
        "sage/history.json",
        "sage/masters.json",
    }


def test_a_different_seed_gives_a_different_vendor(small: tuple[Path, Manifest], tmp_path: Path) -> None:
    generate(SEED + 1, AS_OF, "small", tmp_path)
    theirs, ours = file_hashes(tmp_path), file_hashes(small[0])
    assert theirs["sage/masters.json"] != ours["sage/masters.json"]
    assert theirs["sage/history.json"] != ours["sage/history.json"]


def test_files_are_valid_json_without_floats(small: tuple[Path, Manifest]) -> None:
    for name in (MASTERS_FILE, HISTORY_FILE, MANIFEST_FILE):
        json.loads((small[0] / name).read_text(encoding="utf-8"), parse_float=_refuse_float)


def _refuse_float(text: str) -> None:
    raise AssertionError(f"a float reached a generated file: {text}")


# manifest ----------------------------------------------------------------------------------------------
def test_manifest_describes_the_run(small: tuple[Path, Manifest]) -> None:
    out, manifest = small
    written = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert written == manifest.to_json()
    assert written["seed"] == SEED
    assert written["as_of"] == "2026-03-16"
    assert written["scale"] == "small"
    assert written["generator_version"] == GENERATOR_VERSION
    # The Amazon side plants one unreadable file and one unreadable PO (tests/scenario/test_amazon_side.py), a
    # PO changed after its Sage order, the planted POs' line exceptions (tests/scenario/test_planted.py) and the
    # planted payments' exceptions (tests/scenario/test_planted_remittances.py).
    kinds = [anomaly["kind"] for anomaly in written["anomalies"]]
    assert kinds[:3] == ["inbound_file_quarantined", "inbound_set_quarantined", "po_changed_after_order"]
    po_lines = [kind for kind in kinds[3:] if kind.startswith("po_line_")]
    assert kinds[3:] == po_lines + [kind for kind in kinds[3:] if kind.startswith("remittance_")]
    assert len(kinds) - 3 - len(po_lines) == 6
    assert len(written["expected_po_lines"]) == written["counts"]["amazon_purchase_order_lines_planted"] > 0
    assert len(written["planted_remittances"]) == written["counts"]["amazon_remittance_payments_planted"] == 6
    assert written["expected_invoice_outstanding"]
    assert Manifest.read(out / MANIFEST_FILE) == manifest


def test_counts_agree_with_the_files(
    small: tuple[Path, Manifest], masters: dict[str, Any], events: list[dict[str, Any]]
) -> None:
    counts = small[1].counts
    kinds = Counter(event["event"] for event in events)
    assert counts["sales_orders"] == kinds["sales_order"]
    assert counts["despatches"] == kinds["despatch"]
    assert counts["invoices"] == kinds["invoice"]
    assert counts["period_closes"] == kinds["period_close"]
    assert counts["stock_receipts"] == kinds["stock_adjustment"]
    assert counts["sales_order_lines"] == sum(len(e["lines"]) for e in events if e["event"] == "sales_order")
    assert counts["products"] == len(masters["products"])
    assert counts["customers"] == len(masters["customers"])


def test_counts_are_plausible_for_a_small_vendor(small: tuple[Path, Manifest]) -> None:
    counts = small[1].counts
    scale = SCALES["small"]
    assert counts["products"] == scale.products + PLANTED_PRODUCTS
    assert counts["amazon_orders"] == scale.amazon_orders
    assert counts["trade_orders"] == scale.trade_orders
    assert 4 * scale.amazon_orders <= counts["sales_order_lines"] <= 10 * scale.amazon_orders
    assert 0 < counts["partial_despatches"] < counts["despatches"] / 4
    assert counts["sales_orders"] * 0.8 <= counts["invoices"] <= counts["despatches"]
    assert counts["customers"] == 4
    assert 2 <= counts["zero_rated_products"] <= 3
    assert counts["active_products"] < counts["products"]


# catalogue ---------------------------------------------------------------------------------------------
def test_gs1_check_digit_matches_known_barcodes() -> None:
    assert gs1_check_digit("400638133393") == 1  # GTIN-13 4006381333931, GS1's worked example
    assert is_valid_ean13("5060123001013")
    assert not is_valid_ean13("5060123001014")


def test_every_barcode_is_a_valid_ean13_under_our_prefix(masters: dict[str, Any]) -> None:
    barcodes = [p["ean"] for p in masters["products"]]
    assert all(is_valid_ean13(code) and code.startswith("5060123") for code in barcodes)
    # One barcode is on two products, planted: an old product code never retired.
    shared = [code for code, n in Counter(barcodes).items() if n > 1]
    assert len(shared) == 1 and Counter(barcodes)[shared[0]] == 2


def test_products_have_amazon_and_vendor_identifiers(masters: dict[str, Any]) -> None:
    products = masters["products"]
    assert all(re.fullmatch(r"B0[A-Z0-9]{8}", p["asin"]) for p in products)
    assert all(re.fullmatch(r"HF-[A-Z]{2}-\d{4}", p["sku"]) for p in products)
    assert len({p["asin"] for p in products}) == len({p["sku"] for p in products}) == len(products)
    assert all(len(p["name"]) <= 60 for p in products)


def test_every_product_has_a_base_unit_and_a_case_unit(masters: dict[str, Any]) -> None:
    for product in masters["products"]:
        assert product["base_unit"] == "Each"
        assert product["case_pack"] in (6, 12, 24)
        assert product["units"] == [
            {"name": "Each", "multiple_of_base_unit": "1"},
            {"name": f"Case of {product['case_pack']}", "multiple_of_base_unit": str(product["case_pack"])},
        ]
    unit_names = {unit["name"] for unit in masters["units"]}
    assert {u["name"] for p in masters["products"] for u in p["units"]} <= unit_names
    assert {p["amazon_unit"] for p in masters["products"]} == {"Cases", "Eaches"}


def test_prices_are_pence_and_books_are_zero_rated(masters: dict[str, Any]) -> None:
    for product in masters["products"]:
        for price in ("rrp", "amazon_cost", "trade_price"):
            assert MONEY.match(product[price]), product
        assert Decimal(product["amazon_cost"]) < Decimal(product["trade_price"]) < Decimal(product["rrp"])
        if product["group"] == "BK":
            assert (product["vat"], product["tax_code"], product["revenue_nominal"]) == ("zero", 2, "4010")
        else:
            assert (product["vat"], product["tax_code"], product["revenue_nominal"]) == ("standard", 1, "4000")


def test_discontinued_products_are_never_ordered(masters: dict[str, Any], events: list[dict[str, Any]]) -> None:
    inactive = {p["sku"] for p in masters["products"] if not p["active"]}
    ordered = {line["sku"] for e in events if e["event"] == "sales_order" for line in e["lines"]}
    assert inactive
    assert not inactive & ordered
    assert all("inactivation_date" in p for p in masters["products"] if not p["active"])


# masters -----------------------------------------------------------------------------------------------
def test_chart_of_accounts_and_banks(masters: dict[str, Any]) -> None:
    references = {code["reference"] for code in masters["nominal_codes"]}
    expected = "1001 1100 1150 1200 1210 1230 2150 2200 2201 3000 4000 4010 4050 4060 4070 5000 6100 6200 6300 9999"
    assert set(expected.split()) <= references
    assert set(masters["control_accounts"].values()) <= references
    assert {(b["code"], b["nominal"]) for b in masters["banks"]} == {
        ("AMZCLR", "1210"),
        ("BARC01", "1200"),
        ("CIT01", "1230"),
    }
    assert {(t["code"], t["tax_rate"]) for t in masters["tax_codes"]} == {
        (0, "0.00"),
        (1, "20.00"),
        (2, "0.00"),
        (9, "0.00"),
    }
    centres = {c["code"] for c in masters["cost_centres"]} | {""}
    departments = {d["code"] for d in masters["departments"]} | {""}
    assert all(c["cost_centre"] in centres and c["department"] in departments for c in masters["nominal_codes"])
    accounts = [(c["reference"], c["cost_centre"], c["department"]) for c in masters["nominal_codes"]]
    assert len(set(accounts)) == len(accounts)


def test_customers_warehouses_and_stock(masters: dict[str, Any]) -> None:
    customers = {c["reference"]: c for c in masters["customers"]}
    assert customers["AMA001"]["name"] == "Amazon EU SARL (UK)"
    assert len(customers) == 4 and all(len(reference) <= 8 for reference in customers)
    assert [w["name"] for w in masters["warehouses"]] == ["Main", "Overflow"]
    stocked = {s["warehouse"] for s in masters["opening_stock"]}
    assert stocked == {"Main", "Overflow"}
    assert all(int(s["quantity"]) > 0 for s in masters["opening_stock"])
    assert len(masters["holdings"]) == 2 * len(masters["products"])


def test_financial_years_cover_the_history(masters: dict[str, Any]) -> None:
    starts = [date.fromisoformat(y["start_date"]) for y in masters["financial_years"]]
    assert all(start.day == 1 and start.month == 4 for start in starts)
    assert starts[0] <= AS_OF - timedelta(days=60)
    assert date(starts[-1].year + 1, 3, 31) >= AS_OF


# history -----------------------------------------------------------------------------------------------
def test_history_spans_the_days_before_as_of(small: tuple[Path, Manifest], events: list[dict[str, Any]]) -> None:
    header = read_event_stream_header(small[0] / HISTORY_FILE)
    assert header == {"as_of": "2026-03-16", "days": 60}
    dates = [date.fromisoformat(e["date"]) for e in events]
    assert dates == sorted(dates)
    order_dates = [date.fromisoformat(e["date"]) for e in events if e["event"] == "sales_order"]
    assert AS_OF - timedelta(days=60) <= min(order_dates) <= AS_OF - timedelta(days=57)
    assert AS_OF - timedelta(days=4) <= max(dates) < AS_OF


def test_amazon_orders_carry_real_looking_po_numbers(events: list[dict[str, Any]]) -> None:
    orders = [e for e in events if e["event"] == "sales_order"]
    amazon = [e["customer_document_no"] for e in orders if e["customer"] == "AMA001"]
    assert all(re.fullmatch(r"[A-Z0-9]{8}", po) for po in amazon)
    numbers = [e["customer_document_no"] for e in orders]
    assert len(set(numbers)) == len(numbers)
    for order in orders:
        assert [line["line_no"] for line in order["lines"]] == list(range(1, len(order["lines"]) + 1))
        assert all(MONEY.match(line["unit_price"]) and int(line["quantity"]) > 0 for line in order["lines"])


def test_despatches_follow_orders_and_invoices_follow_despatches(events: list[dict[str, Any]]) -> None:
    ordered: dict[str, dict[str, Any]] = {}
    despatched: dict[tuple[str, int], date] = {}
    outstanding: dict[str, dict[int, int]] = {}
    invoiced: set[tuple[str, int]] = set()
    for event in events:
        day = date.fromisoformat(event["date"])
        document = event.get("customer_document_no")
        if event["event"] == "sales_order":
            ordered[document] = event
            outstanding[document] = {line["line_no"]: int(line["quantity"]) for line in event["lines"]}
        elif event["event"] == "despatch":
            assert day > date.fromisoformat(ordered[document]["date"])
            earlier = [n for (doc, n) in despatched if doc == document]
            assert all((document, n) in invoiced for n in earlier), "a despatch before the last one is invoiced"
            for line in event["lines"]:
                outstanding[document][line["line_no"]] -= int(line["quantity"])
            assert min(outstanding[document].values()) >= 0
            assert event["order_complete"] == (not any(outstanding[document].values()))
            despatched[(document, event["despatch_no"])] = day
        elif event["event"] == "invoice":
            key = (document, event["despatch_no"])
            assert day >= despatched[key]
            assert key not in invoiced
            invoiced.add(key)
    assert any(len([k for k in despatched if k[0] == d]) > 1 for d in ordered), "no order was despatched in parts"


def test_stock_never_goes_negative(masters: dict[str, Any], events: list[dict[str, Any]]) -> None:
    multiples = {
        p["sku"]: {u["name"]: int(u["multiple_of_base_unit"]) for u in p["units"]} for p in masters["products"]
    }
    stock = Counter({s["sku"]: int(s["quantity"]) for s in masters["opening_stock"]})
    lines: dict[tuple[str, int], tuple[str, int]] = {}
    for event in events:
        if event["event"] == "sales_order":
            for line in event["lines"]:
                multiple = multiples[line["sku"]][line["unit"]]
                lines[(event["customer_document_no"], line["line_no"])] = (line["sku"], multiple)
        elif event["event"] == "despatch":
            for line in event["lines"]:
                sku, multiple = lines[(event["customer_document_no"], line["line_no"])]
                stock[sku] -= int(line["quantity"]) * multiple
                assert stock[sku] >= 0, sku
        elif event["event"] == "stock_adjustment":
            stock[event["sku"]] += int(event["quantity"])


def test_the_month_before_as_of_is_closed_after_its_history(events: list[dict[str, Any]]) -> None:
    closes = [i for i, e in enumerate(events) if e["event"] == "period_close"]
    last = events[closes[-1]]
    assert last["up_to"] == "2026-02-28"
    assert [events[i]["up_to"] for i in closes] == ["2026-01-31", "2026-02-28"]
    for index in closes:
        up_to = events[index]["up_to"]
        assert all(e["date"] > up_to for e in events[index + 1 :]), "a posting into a closed period"


def test_a_month_start_as_of_closes_the_previous_month(tmp_path: Path) -> None:
    tiny = Scale(
        "tiny",
        products=12,
        history_days=20,
        amazon_orders=8,
        amazon_lines_per_order=3,
        trade_orders=2,
        trade_lines_per_order=2,
    )
    generate(1, date(2026, 4, 1), tiny, tmp_path)
    closes = [e for e in read_event_stream(tmp_path / HISTORY_FILE) if e["event"] == "period_close"]
    assert closes[-1] == {"event": "period_close", "date": "2026-03-31", "up_to": "2026-03-31"}
    assert month_end(date(2026, 2, 10)) == date(2026, 2, 28)


# scales ------------------------------------------------------------------------------------------------
def test_scales_are_a_registry() -> None:
    assert resolve_scale("large") is SCALES["large"]
    assert SCALES["large"].amazon_orders * SCALES["large"].amazon_lines_per_order >= 240_000
    with pytest.raises(ValueError, match="unknown scale"):
        resolve_scale("enormous")


def test_a_reduced_year_long_scale_generates(tmp_path: Path) -> None:
    year = Scale(
        "year-lite",
        products=80,
        history_days=365,
        amazon_orders=300,
        amazon_lines_per_order=12,
        trade_orders=40,
        trade_lines_per_order=4,
    )
    manifest = generate(SEED, AS_OF, year, tmp_path)
    assert manifest.scale == "year-lite"
    assert manifest.counts["amazon_orders"] == 300
    assert manifest.counts["period_closes"] == 12
    assert manifest.counts["stock_receipts"] > 0
    assert manifest.counts["products"] == 80 + PLANTED_PRODUCTS
