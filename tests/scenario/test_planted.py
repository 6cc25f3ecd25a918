"""The planted PO situations: the products Sage holds for them, the POs as our readers see them, and the
manifest's expected outcomes, checked against an independent reading of the order-to-cash rules. Also the
committed dbt seeds the rules read (delivery locations, SKU cross-references) against the generator."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pipelines.amazon.documents import FileRejected, ProductIdentifier, PurchaseOrder, PurchaseOrderLine
from pipelines.edi.edifact import read_edifact
from pipelines.edi.x12 import read_x12
from pipelines.scenario.amazon_side import FC_GLNS, INBOX
from pipelines.scenario.formats import read_event_stream
from pipelines.scenario.generate import HISTORY_FILE, MASTERS_FILE, generate
from pipelines.scenario.manifest import Manifest
from pipelines.scenario.planted import CROSS_REFERENCED_ASIN
from pipelines.scenario.sage_side import FULFILMENT_CENTRES

AS_OF = date(2026, 3, 16)
SEED = 20260316
SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
PRICE_TOLERANCE_PERCENT = Decimal("1.0")  # avc2sage.example.toml [tolerances]
CASE_UNITS = ("CA", "CS")
PLANTED_SKUS = [f"HF-PL-{n:04d}" for n in range(1, 6)]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("planted")
    return out, generate(SEED, AS_OF, "small", out)


@pytest.fixture(scope="module")
def masters(small: tuple[Path, Manifest]) -> dict[str, Any]:
    return json.loads((small[0] / MASTERS_FILE).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def products(masters: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {product["sku"]: product for product in masters["products"]}


@dataclass(frozen=True)
class ArrivedPo:
    arrival: datetime
    file: str
    po: PurchaseOrder


@pytest.fixture(scope="module")
def arrived(small: tuple[Path, Manifest]) -> list[ArrivedPo]:
    """Every readable PO in the inbox, read by our readers, in order of arrival (file time, then name)."""
    pos = []
    inbox = small[0] / INBOX
    for path in sorted(inbox.rglob("*.edi")):
        data = path.read_bytes()
        try:
            parsed = read_edifact(data, path.name) if data.startswith(b"UN") else read_x12(data, path.name)
        except FileRejected:
            continue
        arrival = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        pos += [
            ArrivedPo(arrival, path.relative_to(inbox).as_posix(), result.document)
            for result in parsed.sets
            if isinstance(result.document, PurchaseOrder)
        ]
    return sorted(pos, key=lambda p: (p.arrival, p.file))


@pytest.fixture(scope="module")
def new_pos(small: tuple[Path, Manifest], arrived: list[ArrivedPo]) -> list[ArrivedPo]:
    """The latest version of every PO that has no Sage order, in order of arrival."""
    in_sage = {
        event["customer_document_no"]
        for event in read_event_stream(small[0] / HISTORY_FILE)
        if event["event"] == "sales_order" and event["customer"] == "AMA001"
    }
    latest = {p.po.po_number: p for p in arrived if p.po.po_number not in in_sage}
    return sorted(latest.values(), key=lambda p: (p.arrival, p.file))


# A to D (order to cash, part 1), then E to L (despatch to invoice), by the vendor code each arrives under.
PLANTED_VENDORS = [
    *("HAFIN", "HAFIX", "HAFIX", "HAFIN"),
    *("HAFIN", "HAFIX", "HAFIX", "HAFIN", "HAFIX", "HAFIX", "HAFIN", "HAFIX"),
]


def planted_numbers(manifest: Manifest) -> list[str]:
    return list(dict.fromkeys(line["po_number"] for line in manifest.expected_po_lines))


# --- the rules, read independently ------------------------------------------------------------------------


@dataclass
class Book:
    """What the rules read: Sage's products and prices, the cross-reference seed, and Sage's free stock."""

    products: dict[str, dict[str, Any]]
    by_barcode: dict[str, set[str]]
    cross_reference: dict[str, str]
    amazon_prices: dict[str, Decimal]
    free: dict[str, int] = field(default_factory=dict)

    def resolve(self, line: PurchaseOrderLine) -> set[str]:
        found = set()
        for identifier in line.identifiers:
            if identifier.qualifier in ("EN", "UP"):
                found |= self.by_barcode.get(identifier.value, set())
            if identifier.qualifier in ("VN", "SA") and identifier.value in self.products:
                found.add(identifier.value)
            if identifier.value in self.cross_reference:
                found.add(self.cross_reference[identifier.value])
        return found


def build_book(directory: Path, masters: dict[str, Any]) -> Book:
    products = {p["sku"]: p for p in masters["products"]}
    by_barcode: dict[str, set[str]] = defaultdict(set)
    for product in products.values():
        by_barcode[product["ean"]].add(product["sku"])
    with (SEEDS / "sku_cross_reference.csv").open(encoding="utf-8", newline="") as seed:
        cross_reference = {row["amazon_identifier"]: row["sage_product_code"] for row in csv.DictReader(seed)}
    prices = {p["sku"]: Decimal(p["price"]) for p in masters["product_prices"] if p["price_band"] == "Amazon"}
    book = Book(products, by_barcode, cross_reference, prices)
    book.free = free_stock_at_least(directory, masters)
    return book


def free_stock_at_least(directory: Path, masters: dict[str, Any]) -> dict[str, int]:
    """Eaches free of every open order after the history: opening stock and goods received less all that was
    ordered. Sage never allocates an order more than it still needs, so its free stock is at least this."""
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


def answer(book: Book, po: PurchaseOrder, line: PurchaseOrderLine) -> tuple[dict[str, Any], list[str]]:
    """One line's outcome under the order-to-cash rules, and the exception kinds it raises."""
    entry: dict[str, Any] = {
        "po_number": po.po_number,
        "line_id": line.line_id,
        "sage_product_code": None,
        "selling_unit": None,
        "accepted_quantity": Decimal(0),
        "backordered_quantity": Decimal(0),
        "rejected_quantity": Decimal(0),
        "rejection_reason": None,
        "unit_cost": line.unit_price,
    }

    def rejected(reason: str, kind: str) -> tuple[dict[str, Any], list[str]]:
        entry.update(rejected_quantity=line.quantity, rejection_reason=reason)
        return entry, [kind]

    found = book.resolve(line)
    if len(found) != 1:
        kind = "po_line_unknown_product" if not found else "po_line_ambiguous_product"
        return rejected("InvalidProductIdentifier", kind)
    [sku] = found
    product = book.products[sku]
    entry["sage_product_code"] = sku
    units = {Decimal(u["multiple_of_base_unit"]): u["name"] for u in product["units"]}
    # Cases: the PO's case size, else Sage's case unit; eaches: the base unit.
    size = (line.unit_size or max(units)) if line.unit_of_measure in CASE_UNITS else Decimal(1)
    entry["selling_unit"] = units.get(size)
    if not product["active"]:
        return rejected("ObsoleteProduct", "po_line_discontinued_product")
    if entry["selling_unit"] is None:
        return rejected("InvalidProductIdentifier", "po_line_unit_mismatch")
    if line.quantity != line.quantity.to_integral_value():
        return rejected("InvalidProductIdentifier", "po_line_fractional_quantity")
    kinds = []
    band_price = book.amazon_prices[sku]
    assert line.unit_price is not None
    if abs(line.unit_price - band_price) * 100 > band_price * PRICE_TOLERANCE_PERCENT:
        kinds.append("po_line_price_outside_tolerance")
    multiple = int(size)
    taken = min(int(line.quantity), max(0, book.free[sku]) // multiple)
    book.free[sku] -= taken * multiple
    short = line.quantity - taken
    entry["accepted_quantity"] = Decimal(taken)
    if short:
        assert po.backorder_allowed is not None, f"{po.po_number}#{line.line_id}: short, and the PO has no flag"
        if po.backorder_allowed:
            entry["backordered_quantity"] = short
            kinds.append("po_line_backordered")
        else:
            entry.update(rejected_quantity=short, rejection_reason="TemporarilyUnavailable")
            kinds.append("po_line_out_of_stock")
    return entry, kinds


def as_manifest(entry: dict[str, Any]) -> dict[str, Any]:
    def text(value: Decimal) -> str:
        return f"{value.normalize():f}"

    quantities = ("accepted_quantity", "backordered_quantity", "rejected_quantity")
    return entry | {key: text(entry[key]) for key in quantities} | {"unit_cost": f"{entry['unit_cost']:.2f}"}


@pytest.fixture(scope="module")
def outcomes(
    small: tuple[Path, Manifest], masters: dict[str, Any], new_pos: list[ArrivedPo]
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Every new PO line answered in order of arrival: the entries, and (kind, reference) of each exception."""
    book = build_book(small[0], masters)
    entries, exceptions = [], []
    for arrived_po in new_pos:
        for line in arrived_po.po.lines:
            entry, kinds = answer(book, arrived_po.po, line)
            entries.append(as_manifest(entry))
            exceptions += [(kind, f"{arrived_po.po.po_number}#{line.line_id}") for kind in kinds]
    return entries, exceptions


# --- planted products -------------------------------------------------------------------------------------


def test_planted_products_are_in_sage_with_units_tax_holdings_and_prices(
    masters: dict[str, Any], products: dict[str, dict[str, Any]]
) -> None:
    planted = [products[sku] for sku in PLANTED_SKUS]
    assert all(p["active"] and p["group"] == "PL" and p["amazon_unit"] == "Cases" for p in planted)
    assert {"code": "PL", "description": "Promotions & launches"} in masters["product_groups"]
    for product in planted:
        assert [u["name"] for u in product["units"]] == ["Each", product["case_unit"]]
        assert (product["tax_code"], product["revenue_nominal"], product["base_unit"]) == (1, "4000", "Each")
        assert {h["warehouse"] for h in masters["holdings"] if h["sku"] == product["sku"]} == {"Main", "Overflow"}
        prices = {p["price_band"]: p["price"] for p in masters["product_prices"] if p["sku"] == product["sku"]}
        assert prices == {"Standard": product["trade_price"], "Amazon": product["amazon_cost"]}
    duplicate, old_code, no_stock, asin_only, small_stock = planted
    assert duplicate["ean"] == old_code["ean"]
    assert sum(p["ean"] == duplicate["ean"] for p in masters["products"]) == 2
    assert asin_only["asin"] == CROSS_REFERENCED_ASIN
    stock = {s["sku"]: int(s["quantity"]) for s in masters["opening_stock"]}
    assert stock[duplicate["sku"]] > 0 and stock[old_code["sku"]] > 0 and stock[asin_only["sku"]] > 0
    assert no_stock["sku"] not in stock
    assert stock[small_stock["sku"]] == 5 * small_stock["case_pack"]


def test_planted_products_are_never_ordered_in_the_history(small: tuple[Path, Manifest]) -> None:
    ordered = {
        line["sku"]
        for event in read_event_stream(small[0] / HISTORY_FILE)
        if event["event"] == "sales_order"
        for line in event["lines"]
    }
    assert not ordered & set(PLANTED_SKUS)


def test_planted_products_are_the_same_for_any_seed_and_day(masters: dict[str, Any], tmp_path: Path) -> None:
    generate(SEED + 1, date(2026, 4, 1), "small", tmp_path)
    theirs = json.loads((tmp_path / MASTERS_FILE).read_text(encoding="utf-8"))

    def planted(m: dict[str, Any]) -> list[Any]:
        stock = {s["sku"]: s["quantity"] for s in m["opening_stock"]}
        return [(p, stock.get(p["sku"])) for p in m["products"] if p["sku"] in PLANTED_SKUS]

    assert planted(theirs) == planted(masters)


def test_the_amazon_customer_buys_on_the_amazon_price_band(masters: dict[str, Any]) -> None:
    assert [(b["name"], b["is_standard_band"]) for b in masters["price_bands"]] == [
        ("Standard", True),
        ("Amazon", False),
    ]
    bands = {c["reference"]: c.get("price_band") for c in masters["customers"]}
    assert bands == {"AMA001": "Amazon", "LARDER01": None, "HARROG01": None, "PENNYW01": None}
    priced = Counter((p["sku"], p["price_band"]) for p in masters["product_prices"])
    assert set(priced.values()) == {1}
    assert len(priced) == 2 * len(masters["products"])


# --- planted POs, as our readers see them ----------------------------------------------------------------


def test_planted_pos_arrive_last_on_the_day_before_as_of(
    small: tuple[Path, Manifest], arrived: list[ArrivedPo]
) -> None:
    planted = planted_numbers(small[1])
    count = len(PLANTED_VENDORS)
    assert len(planted) == small[1].counts["amazon_purchase_orders_planted"] == count
    day = AS_OF - timedelta(days=1)
    that_day = [p for p in arrived if p.arrival.date() == day]
    assert [p.po.po_number for p in that_day[-count:]] == planted
    assert all(p.po.po_date == day for p in that_day[-count:])
    assert [p.file.split("/")[0] for p in that_day[-count:]] == PLANTED_VENDORS


def test_planted_pos_read_back_with_their_quantities_unit_sizes_and_identifiers(
    small: tuple[Path, Manifest], new_pos: list[ArrivedPo], products: dict[str, dict[str, Any]]
) -> None:
    by_number = {p.po.po_number: p.po for p in new_pos}
    a, b, c, d = (by_number[number] for number in planted_numbers(small[1])[:4])
    assert [line.quantity for line in a.lines][2] == Decimal("2.5")
    assert a.lines[2].unit_of_measure == "CS" and a.lines[2].unit_size is None
    assert a.lines[5].identifiers == (ProductIdentifier("BP", CROSS_REFERENCED_ASIN),)
    assert (b.backorder_allowed, c.backorder_allowed) == (False, True)
    assert (a.backorder_allowed, d.backorder_allowed) == (None, None)  # EDIFACT ORDERS carries no flag
    expected = {(e["po_number"], e["line_id"]): e for e in small[1].expected_po_lines}
    mismatch, stated = c.lines[0], c.lines[1]
    mismatch_product = products[expected[c.po_number, "1"]["sage_product_code"]]
    stated_product = products[expected[c.po_number, "2"]["sage_product_code"]]
    assert mismatch.unit_size is not None and mismatch.unit_size != mismatch_product["case_pack"]
    assert stated.unit_size == stated_product["case_pack"]
    assert [line.unit_size for line in c.lines[2:]] == [None, None]


# --- expected outcomes ----------------------------------------------------------------------------------


def test_expected_lines_follow_the_order_to_cash_rules(
    small: tuple[Path, Manifest], outcomes: tuple[list[dict[str, Any]], list[tuple[str, str]]]
) -> None:
    manifest = small[1]
    entries, _ = outcomes
    planted = set(planted_numbers(manifest))
    assert [e for e in entries if e["po_number"] in planted] == manifest.expected_po_lines


def test_the_drawn_new_pos_are_accepted_in_full_from_stock(
    small: tuple[Path, Manifest], outcomes: tuple[list[dict[str, Any]], list[tuple[str, str]]]
) -> None:
    """However the stock runs, every line of a new PO that is not planted is accepted in full: stock
    received before the new-PO days covers them and the planted POs' ordinary lines together."""
    planted = set(planted_numbers(small[1]))
    entries, exceptions = outcomes
    drawn = [e for e in entries if e["po_number"] not in planted]
    assert drawn and len({e["po_number"] for e in drawn}) == small[1].counts[
        "amazon_purchase_orders_not_in_sage"
    ] - len(PLANTED_VENDORS)
    assert all(
        e["accepted_quantity"] != "0" and e["rejected_quantity"] == e["backordered_quantity"] == "0" for e in drawn
    )
    assert [kind for kind, reference in exceptions if reference.split("#")[0] not in planted] == []


def test_every_planted_exception_is_in_the_manifest_once(
    small: tuple[Path, Manifest], outcomes: tuple[list[dict[str, Any]], list[tuple[str, str]]]
) -> None:
    manifest = small[1]
    _, exceptions = outcomes
    planted = [(a.kind, a.document_reference) for a in manifest.anomalies if a.kind.startswith("po_line_")]
    assert sorted(planted) == sorted(exceptions)
    assert Counter(kind for kind, _ in planted) == {
        "po_line_unknown_product": 2,
        "po_line_ambiguous_product": 1,
        "po_line_fractional_quantity": 1,
        "po_line_price_outside_tolerance": 1,
        "po_line_discontinued_product": 2,
        "po_line_out_of_stock": 1,
        "po_line_unit_mismatch": 1,
        "po_line_backordered": 2,
    }
    numbers = planted_numbers(manifest)
    every_line_rejected = [
        number
        for number in numbers
        if all(e["rejected_quantity"] != "0" and e["accepted_quantity"] == e["backordered_quantity"] == "0"
               for e in manifest.expected_po_lines if e["po_number"] == number)
    ]  # fmt: skip
    assert every_line_rejected == [numbers[3]]
    assert manifest.counts["amazon_purchase_orders_to_order_in_sage"] == (
        manifest.counts["amazon_purchase_orders_not_in_sage"] - 1
    )


def test_the_part_fill_and_the_split_line(small: tuple[Path, Manifest]) -> None:
    lines = {(e["sage_product_code"], e["po_number"]): e for e in small[1].expected_po_lines}
    numbers = planted_numbers(small[1])
    part = lines["HF-PL-0005", numbers[2]]
    assert (part["accepted_quantity"], part["backordered_quantity"], part["selling_unit"]) == ("5", "3", "Case of 6")
    rejected, backordered = lines["HF-PL-0003", numbers[1]], lines["HF-PL-0003", numbers[2]]
    assert (rejected["rejected_quantity"], rejected["rejection_reason"]) == ("2", "TemporarilyUnavailable")
    assert (backordered["backordered_quantity"], backordered["rejection_reason"]) == ("4", None)


def test_the_changed_po_has_a_sage_order(small: tuple[Path, Manifest]) -> None:
    manifest = small[1]
    [changed] = [a for a in manifest.anomalies if a.kind == "po_changed_after_order"]
    [event] = [e for e in manifest.events if e["kind"] == "po_version_changed"]
    assert changed.document_reference == event["po_number"]
    in_sage = {
        e["customer_document_no"] for e in read_event_stream(small[0] / HISTORY_FILE) if e["event"] == "sales_order"
    }
    assert changed.document_reference in in_sage


# --- committed seeds ------------------------------------------------------------------------------------


def read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(encoding="utf-8", newline="") as seed:
        return list(csv.DictReader(seed))


def test_the_location_seed_names_every_fulfilment_centre_as_the_loader_addresses_it(masters: dict[str, Any]) -> None:
    assert masters["fulfilment_centres"] == [dict(fc) for fc in FULFILMENT_CENTRES]
    expected = [
        {
            "ship_to_qualifier": qualifier,
            "ship_to_id": FC_GLNS[fc["code"]] if qualifier == "9" else fc["code"],
            "location_code": fc["code"],
            # As load.py's _delivery_address writes a Sage order's delivery address.
            "postal_name": f"Amazon {fc['code']}",
            "address_1": fc["address_1"],
            "address_2": "",
            "city": fc["city"],
            "postcode": fc["postcode"],
            "country": "United Kingdom",
        }
        for qualifier in ("92", "9", "API")
        for fc in masters["fulfilment_centres"]
    ]
    assert read_seed("amazon_locations.csv") == expected


def test_the_cross_reference_seed_maps_the_asin_only_product(products: dict[str, dict[str, Any]]) -> None:
    rows = read_seed("sku_cross_reference.csv")
    assert [row["amazon_identifier"] for row in rows] == [CROSS_REFERENCED_ASIN]
    for row in rows:
        product = products[row["sage_product_code"]]
        assert product["active"] and product["asin"] == row["amazon_identifier"] and row["note"]
        others = {p["ean"] for p in products.values()} | set(products)
        assert row["amazon_identifier"] not in others
