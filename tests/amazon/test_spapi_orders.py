"""SP-API purchase orders in the inbox: Amazon's own sandbox responses read into the shared model, and loaded.

The fixtures in `tests/fixtures/amazon/spapi/` are response bodies copied from the `x-amzn-api-sandbox` static
responses (and one published example) of `vendorOrders.json` (see PROVENANCE.md there). Reader tests call
`read_spapi_orders` directly; the others go through `pipelines.amazon.ingest.ingest` into DuckDB, as
`test_ingest.py` does. The last section is about `inbound_files.receiver_id`, which every format fills.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.amazon import source
from pipelines.amazon.documents import (
    FileRejected,
    ProductIdentifier,
    PurchaseOrder,
    PurchaseOrderLine,
    SetResult,
)
from pipelines.amazon.inbox import PROCESSED_FOLDER, QUARANTINE_FOLDER, FileOutcome, detect_format
from pipelines.amazon.ingest import IngestSummary, ingest
from pipelines.amazon.source import DATASET_NAME
from pipelines.amazon.spapi_orders import read_spapi_orders
from pipelines.settings import EXAMPLE_CONFIG, Locations, load_business_config

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "amazon"
SPAPI = FIXTURES / "spapi"
ONE_ORDER = "getPurchaseOrder_4Z32PABC.json"
TWO_SELLERS = "getPurchaseOrders_2JK3S9VC_3TRD2IAB.json"
API01_ORDERS = "getPurchaseOrders_API01_TestPO2_TestPO3.json"
API01_CHANGED = "getPurchaseOrders_isPOChanged_TestPO2.json"
ITEM_CANCELLED = "getPurchaseOrders_itemCancelled_TestPO1.json"
CHANGED_LIST = "getPurchaseOrders_changed_TestPO2_TestPO1.json"
NO_DETAILS = "getPurchaseOrders_includeDetails_false.json"
PUBLISHED_EXAMPLE = "getPurchaseOrders_example_L8266355.json"
ARRIVAL = datetime(2026, 3, 1, 9, 0, tzinfo=UTC).timestamp()
# The example configuration plus the sandbox's selling parties as vendor codes exchanging through the API.
API_VENDORS = "".join(
    f'\n[[vendor_codes]]\ncode = "{code}"\nmarketplace = "US"\nsage_customer_account = "AMA003"\n'
    f'edi_standard = "API"\ncurrency = "USD"\n'
    for code in ("999US", "API01")
)


def fixture(name: str) -> bytes:
    return (SPAPI / name).read_bytes()


def body(name: str) -> dict[str, Any]:
    return json.loads(fixture(name))


def encoded(response: dict[str, Any]) -> bytes:
    return json.dumps(response, indent=2).encode()


# --- reading: the sandbox examples ----------------------------------------------------------------------


def test_the_sandbox_order_reads_as_exactly_this_purchase_order() -> None:
    parsed = read_spapi_orders(fixture(ONE_ORDER), ONE_ORDER)
    assert (parsed.format, parsed.sender_id, parsed.receiver_id, parsed.interchange_control_number) == (
        "SPAPI_JSON",
        "ABCD",
        "999US",
        None,
    )
    assert parsed.envelope_errors == []

    def line(line_id: str, quantity: int, price: str, asin: str, vendor_item: str) -> PurchaseOrderLine:
        return PurchaseOrderLine(
            line_id=line_id,
            quantity=Decimal(quantity),
            unit_of_measure="Eaches",
            unit_size=Decimal(1),
            unit_price=Decimal(price),
            price_basis="PE",
            identifiers=(ProductIdentifier("BP", asin), ProductIdentifier("VN", vendor_item)),
        )

    expected = PurchaseOrder(
        po_number="4Z32PABC",
        po_type="NE",
        purpose="00",  # purchaseOrderState "Closed": received, rejected or cancelled alike, never a cancel code
        po_date=date(2019, 7, 26),
        currency="USD",
        ship_to_qualifier="API",
        ship_to_id="ABCD",
        buyer_id="ABCD",
        supplier_id="999US",
        window_start=date(2019, 7, 26),
        window_end=date(2019, 8, 3),
        backorder_allowed=False,
        customer_reference=None,
        deal_number=None,
        lines=(
            line("1", 37, "140", "B0748G1ABC", "0017817748000"),
            line("2", 24, "15.62", "B0748JMABC", "0017817748000"),
            line("3", 1, "110.00", "B076SDSABC", "0017817755000"),
        ),
    )
    assert parsed.sets == [SetResult("4Z32PABC", "Order", expected)]
    # Equality alone would let a float pass (Decimal("140") == 140.0): the types are Decimal themselves.
    document = parsed.sets[0].document
    assert isinstance(document, PurchaseOrder)
    assert all(type(line.unit_price) is Decimal and type(line.quantity) is Decimal for line in document.lines)


def test_a_list_response_gives_one_set_per_order_each_read_as_sent() -> None:
    parsed = read_spapi_orders(fixture(TWO_SELLERS), TWO_SELLERS)
    assert [(result.control_number, result.error) for result in parsed.sets] == [("2JK3S9VC", None), ("3TRD2IAB", None)]
    first, second = (result.document for result in parsed.sets)
    assert isinstance(first, PurchaseOrder) and isinstance(second, PurchaseOrder)
    assert (parsed.sender_id, parsed.receiver_id) == ("ABCD", "999US")  # the first order's parties
    assert [(line.line_id, line.quantity, line.unit_price) for line in first.lines] == [
        ("1", Decimal(1), Decimal("346.27")),
        ("2", Decimal(2), Decimal("229.47")),
        ("3", Decimal(13), Decimal("412.71")),
    ]
    # shipWindow (collect freight) when there is no deliveryWindow.
    assert (first.window_start, first.window_end, first.backorder_allowed) == (
        date(2019, 8, 21),
        date(2019, 8, 27),
        False,
    )
    assert (second.supplier_id, second.ship_to_id, second.backorder_allowed) == ("998US", "ABC1", True)
    # Amazon's sandbox writes "CASES" and prices this item per pound: both kept as sent, never read as eaches.
    assert second.lines == (
        PurchaseOrderLine(
            line_id="1",
            quantity=Decimal(5),
            unit_of_measure="CASES",
            unit_size=Decimal(10),
            unit_price=Decimal("94.97"),
            price_basis="POUNDS",
            identifiers=(ProductIdentifier("BP", "B01LNRIIAB"), ProductIdentifier("VN", "B01LNRIIAB")),
        ),
    )


def test_a_cancelled_item_is_a_zero_quantity_on_an_original_order() -> None:
    (result,) = read_spapi_orders(fixture(ITEM_CANCELLED)).sets
    assert isinstance(result.document, PurchaseOrder)
    assert result.document.purpose == "00"
    assert [(line.line_id, line.quantity) for line in result.document.lines] == [("1", Decimal(0)), ("2", Decimal(10))]


@pytest.mark.parametrize(
    ("api_type", "code"),
    [("RegularOrder", "NE"), ("NewProductIntroduction", "NP"), ("RushOrder", "RO"), ("ConsignedOrder", "CN")],
)
def test_the_order_type_maps_to_the_x12_code(api_type: str, code: str) -> None:
    response = body(ONE_ORDER)
    response["payload"]["orderDetails"]["purchaseOrderType"] = api_type
    (result,) = read_spapi_orders(encoded(response)).sets
    assert isinstance(result.document, PurchaseOrder) and result.document.po_type == code


def test_delivery_window_deal_code_and_dates_are_read_in_utc() -> None:
    response = body(ONE_ORDER)
    details = response["payload"]["orderDetails"]
    details["purchaseOrderDate"] = "2026-03-01T20:30:00-05:00"  # already 2 March in UTC
    details["deliveryWindow"] = "2026-03-03T23:00:00-02:00--2026-03-09T10:00:00Z"
    details["dealCode"] = "BTS"
    details["items"][1]["isBackOrderAllowed"] = True  # one item of three: the order as a whole does not allow it
    (result,) = read_spapi_orders(encoded(response)).sets
    order = result.document
    assert isinstance(order, PurchaseOrder)
    assert (order.po_date, order.window_start, order.window_end) == (
        date(2026, 3, 2),
        date(2026, 3, 4),
        date(2026, 3, 9),
    )
    assert (order.deal_number, order.backorder_allowed) == ("BTS", False)


# --- reading: what is quarantined, and where --------------------------------------------------------------


BREAKAGES = {
    "quantity-as-text": (
        lambda o: o["orderDetails"]["items"][0]["orderedQuantity"].update(amount="5"),
        "amount is a string, not an integer",
        "payload.orders[1].orderDetails.items[0].orderedQuantity.amount",
    ),
    "negative-quantity": (
        lambda o: o["orderDetails"]["items"][0]["orderedQuantity"].update(amount=-1),
        "amount -1 is less than 0",
        "payload.orders[1].orderDetails.items[0].orderedQuantity.amount",
    ),
    "no-unit-of-measure": (
        lambda o: o["orderDetails"]["items"][0]["orderedQuantity"].pop("unitOfMeasure"),
        "unitOfMeasure is missing",
        "payload.orders[1].orderDetails.items[0].orderedQuantity.unitOfMeasure",
    ),
    "price-with-a-comma": (
        lambda o: o["orderDetails"]["items"][0]["netCost"].update(amount="94,97"),
        "amount '94,97' is not a decimal number",
        "payload.orders[1].orderDetails.items[0].netCost.amount",
    ),
    "date-without-offset": (
        lambda o: o["orderDetails"].update(purchaseOrderDate="2019-08-20T16:29:00"),
        "purchaseOrderDate '2019-08-20T16:29:00' has no UTC offset",
        "payload.orders[1].orderDetails.purchaseOrderDate",
    ),
    "unknown-order-type": (
        lambda o: o["orderDetails"].update(purchaseOrderType="StandingOrder"),
        "purchaseOrderType 'StandingOrder' is none of RegularOrder, NewProductIntroduction, RushOrder, ConsignedOrder",
        "payload.orders[1].orderDetails.purchaseOrderType",
    ),
    "window-not-an-interval": (
        lambda o: o["orderDetails"].update(shipWindow="2019-08-21T07:00:00Z"),
        "shipWindow '2019-08-21T07:00:00Z' is not an interval start--end",
        "payload.orders[1].orderDetails.shipWindow",
    ),
    "no-items": (
        lambda o: o["orderDetails"].update(items=[]),
        "the order has no items",
        "payload.orders[1].orderDetails.items",
    ),
    "two-currencies": (
        lambda o: o["orderDetails"]["items"].append(
            {
                **o["orderDetails"]["items"][0],
                "itemSequenceNumber": "2",
                "netCost": {"amount": "1", "currencyCode": "EUR"},
            }
        ),
        "netCost in EUR while payload.orders[1].orderDetails.items[0] is in USD: one order, one currency",
        "payload.orders[1].orderDetails.items[1].netCost.currencyCode",
    ),
    "backorder-flag-as-text": (
        lambda o: o["orderDetails"]["items"][0].update(isBackOrderAllowed="true"),
        "isBackOrderAllowed is a string, not true or false",
        "payload.orders[1].orderDetails.items[0].isBackOrderAllowed",
    ),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_broken_order_quarantines_only_itself_with_its_json_path(breakage: str) -> None:
    change, reason, path = BREAKAGES[breakage]
    response = body(TWO_SELLERS)
    change(response["payload"]["orders"][1])
    parsed = read_spapi_orders(encoded(response))
    good, broken = parsed.sets
    assert good.control_number == "2JK3S9VC" and isinstance(good.document, PurchaseOrder)
    assert (broken.control_number, broken.document_type, broken.document) == ("3TRD2IAB", "Order", None)
    assert (broken.error, broken.position) == (reason, path)


def test_an_order_that_is_not_an_object_or_repeats_a_po_number_keeps_a_unique_control_number() -> None:
    response = body(TWO_SELLERS)
    first = response["payload"]["orders"][0]
    response["payload"]["orders"] += ["3TRD2IAB", copy.deepcopy(first)]
    parsed = read_spapi_orders(encoded(response))
    assert [(result.control_number, result.error, result.position) for result in parsed.sets] == [
        ("2JK3S9VC", None, None),
        ("3TRD2IAB", None, None),
        ("payload.orders[2]", "expected an object, found a string", "payload.orders[2]"),
        (
            "payload.orders[3]",
            "purchase order 2JK3S9VC appears twice in this response (first at payload.orders[0])",
            "payload.orders[3].purchaseOrderNumber",
        ),
    ]


def test_amazons_own_examples_without_order_details_are_quarantined_where_they_break() -> None:
    # The published (non-sandbox) example puts deliveryWindow and items beside orderDetails, not inside it.
    (example,) = read_spapi_orders(fixture(PUBLISHED_EXAMPLE)).sets
    assert (example.control_number, example.error, example.position) == (
        "L8266355",
        "items is missing",
        "payload.orders[0].orderDetails.items",
    )
    summary_only = read_spapi_orders(fixture(NO_DETAILS))
    assert [(result.control_number, result.position) for result in summary_only.sets] == [
        ("2JK3S9XY", "payload.orders[0].orderDetails"),
        ("3TRD2ABC", "payload.orders[1].orderDetails"),
    ]
    assert summary_only.sets[0].error.startswith("orderDetails is missing (a list fetched with includeDetails=false")
    assert (summary_only.sender_id, summary_only.receiver_id) == (None, None)


def test_an_order_of_another_vendor_code_than_its_folder_is_quarantined() -> None:
    parsed = read_spapi_orders(fixture(TWO_SELLERS), vendor_code="999US")
    assert [(result.control_number, result.error, result.position) for result in parsed.sets] == [
        ("2JK3S9VC", None, None),
        (
            "3TRD2IAB",
            "the order is for vendor code 998US, but the file is in the folder of 999US",
            "payload.orders[1].orderDetails.sellingParty.partyId",
        ),
    ]


@pytest.mark.parametrize(
    ("data", "reason", "position"),
    [
        (b'{"payload": {"orders": [\n  {"purchaseOrderNumber": "2JK3S9VC",\n', "not valid JSON: Expecting", "line 3"),
        (
            b"{ this is not JSON }",
            "not valid JSON: Expecting property name enclosed in double quotes",
            "line 1, column 3",
        ),
        (b'{"payload": {}}\n{"payload": {}}', "not valid JSON: Extra data", "line 2, column 1"),
        (b'\n\n  {"payload": {"orders": [{"x": NaN}]}}', "not valid JSON: NaN is not a JSON number", "file"),
        (b'{"payload": "caf\xe9"}', "not UTF-8, so not an SP-API response", "line 1, column 17"),
        (b'{"orders": []}', "not a getPurchaseOrders or getPurchaseOrder response: it has no payload", "payload"),
        (b'{"payload": {"pagination": {}}}', "payload is neither an order list", "payload"),
        (b'{"payload": {"orders": {}}}', "payload.orders is an object, not an array", "payload.orders"),
        (
            b'{"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied."}]}',
            "Amazon answered with errors, not orders: Unauthorized: Access to requested resource is denied.",
            "errors",
        ),
    ],
    ids=[
        "truncated",
        "garbage",
        "two-documents",
        "nan",
        "latin-1",
        "no-payload",
        "no-orders",
        "orders-object",
        "errors",
    ],
)
def test_a_file_that_is_not_a_purchase_order_response_is_rejected_whole(
    data: bytes, reason: str, position: str
) -> None:
    with pytest.raises(FileRejected) as rejected:
        read_spapi_orders(data)
    assert rejected.value.reason.startswith(reason)
    assert rejected.value.position is not None and rejected.value.position.startswith(position)


# Values that have broken readers: out-of-range exponents and dates, empty intervals, the wrong JSON types.
AWKWARD = st.sampled_from(
    ["", " ", "--", "1E+1000000000000000000", "-0", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:00-01:00",
     "2019-08-21T07:00:00Z--", "2019-08-27T07:00:00Z--2019-08-21T07:00:00Z", "NaN", "Cases", 10**40, -1, True]
)  # fmt: skip
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12) | AWKWARD,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def node_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path inside a JSON value."""
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    return [path] + [found for key, child in children for found in node_paths(child, (*path, key))]


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_damage_to_an_order_quarantines_it_with_a_position_and_never_raises(data: st.DataObject) -> None:
    response = body(TWO_SELLERS)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = node_paths(response)[1:]
        if not paths:  # the payload itself is gone
            break
        path = data.draw(st.sampled_from(paths))
        *parents, last = path
        parent = functools.reduce(lambda node, key: node[key], parents, response)
        if data.draw(st.booleans()):
            parent[last] = data.draw(JSON_VALUES)
        elif isinstance(parent, dict):
            del parent[last]
    try:
        parsed = read_spapi_orders(encoded(response))
    except FileRejected as rejected:
        assert rejected.reason and rejected.position
        return
    for result in parsed.sets:
        assert (result.document is None) == (result.error is not None)
        assert result.document is not None or result.position
    assert len({result.control_number for result in parsed.sets}) == len(parsed.sets), "control numbers are keys"


def test_a_json_object_is_recognised_as_an_spapi_response_and_a_text_table_still_as_a_remittance() -> None:
    assert detect_format(fixture(ONE_ORDER)[:4096]) == "SPAPI_JSON"
    assert detect_format(b'\xef\xbb\xbf \r\n\t{"payload": {}}') == "SPAPI_JSON"
    assert detect_format(b"{ not JSON at all") == "SPAPI_JSON"  # quarantined later, with line and column
    assert detect_format(b"Payment Number,Invoice Number\n4100987654,INV1\n") == "REMITTANCE_CSV"
    assert detect_format(b"ISA*00*") == "X12"


# --- the inbox end to end -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """An installation under tmp_path whose configuration has API vendor codes 999US and API01."""

    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def config_file(self) -> Path:
        path = self.root / "avc2sage.toml"
        if not path.exists():
            path.write_text(EXAMPLE_CONFIG.read_text() + API_VENDORS)
        return path

    def put(self, name: str, data: bytes, arrival: int = 0) -> None:
        path = self.inbox / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (ARRIVAL + arrival, ARRIVAL + arrival))

    def ingest(self) -> IngestSummary:
        locations = Locations.resolve(
            warehouse=self.root / "warehouse.duckdb", inbox=self.inbox, outbox=self.outbox, config=self.config_file
        )
        return ingest(locations, load_business_config(self.config_file), self.root / "dlt")

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.root / "warehouse.duckdb"), read_only=True) as con:
            return con.execute(sql).fetchall()


def test_sp_api_files_are_loaded_unacknowledged_and_a_redelivery_is_a_duplicate(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.put(f"999US/{ONE_ORDER}", fixture(ONE_ORDER), 0)
    site.put(f"999US/{TWO_SELLERS}", fixture(TWO_SELLERS), 1)
    site.put("999US/broken.json", b'{"payload": {"orders": [\n  {"purchaseOrderNumber": 2JK3S9VC}]}}\n', 2)
    first = site.ingest()
    assert [(o.file.name, o.format, o.outcome, o.position) for o in first.outcomes] == [
        (f"999US/{ONE_ORDER}", "SPAPI_JSON", "loaded", None),
        (
            f"999US/{TWO_SELLERS}",
            "SPAPI_JSON",
            "partially_loaded",
            "payload.orders[1].orderDetails.sellingParty.partyId",
        ),
        ("999US/broken.json", None, "quarantined", "line 2, column 28"),  # rejected files have no format
    ]
    assert first.acknowledgements == [] and first.unacknowledged == []
    # Amazon's API has no 997: nothing in the outbox but the outbox's own control-number store.
    assert [path.name for path in site.outbox.iterdir()] == [".control_numbers.sqlite3"]
    assert sorted(
        site.query(
            f"select file_name, format, outcome, sets_total, sets_quarantined, sender_id, receiver_id,"
            f" interchange_control_number from {DATASET_NAME}.inbound_files"
        )
    ) == [
        ("999US/broken.json", None, "quarantined", 0, 0, None, None, None),
        (f"999US/{ONE_ORDER}", "SPAPI_JSON", "loaded", 1, 0, "ABCD", "999US", None),
        (f"999US/{TWO_SELLERS}", "SPAPI_JSON", "partially_loaded", 2, 1, "ABCD", "999US", None),
    ]
    assert sorted(
        site.query(f"select control_number, document_type, outcome, error_position from {DATASET_NAME}.inbound_sets")
    ) == [
        ("2JK3S9VC", "Order", "loaded", None),
        ("3TRD2IAB", "Order", "quarantined", "payload.orders[1].orderDetails.sellingParty.partyId"),
        ("4Z32PABC", "Order", "loaded", None),
    ]
    assert site.query(
        f"select po_number, source_format, vendor_code, po_type, purpose, po_date, currency, ship_to_qualifier,"
        f" ship_to_id, supplier_id, window_start, window_end, backorder_allowed, line_count"
        f" from {DATASET_NAME}.purchase_orders order by po_number"
    ) == [
        ("2JK3S9VC", "SPAPI_JSON", "999US", "NE", "00", date(2019, 8, 20), "USD", "API", "ABCD", "999US",
         date(2019, 8, 21), date(2019, 8, 27), False, 3),
        ("4Z32PABC", "SPAPI_JSON", "999US", "NE", "00", date(2019, 7, 26), "USD", "API", "ABCD", "999US",
         date(2019, 7, 26), date(2019, 8, 3), False, 3),
    ]  # fmt: skip
    assert site.query(
        f"select line_number, line_id, quantity, unit_of_measure, unit_size, unit_price, price_basis"
        f" from {DATASET_NAME}.purchase_order_lines where po_number = '4Z32PABC' order by line_number"
    ) == [
        (1, "1", Decimal(37), "Eaches", Decimal(1), Decimal("140.00"), "PE"),
        (2, "2", Decimal(24), "Eaches", Decimal(1), Decimal("15.62"), "PE"),
        (3, "3", Decimal(1), "Eaches", Decimal(1), Decimal("110.00"), "PE"),
    ]
    assert site.query(
        f"select line_number, position, qualifier, value from {DATASET_NAME}.purchase_order_line_identifiers"
        f" where po_number = '4Z32PABC' order by line_number, position"
    ) == [
        (1, 0, "BP", "B0748G1ABC"), (1, 1, "VN", "0017817748000"),
        (2, 0, "BP", "B0748JMABC"), (2, 1, "VN", "0017817748000"),
        (3, 0, "BP", "B076SDSABC"), (3, 1, "VN", "0017817755000"),
    ]  # fmt: skip
    reason = (site.inbox / QUARANTINE_FOLDER / "999US" / "broken.json.reason.txt").read_text().splitlines()
    assert reason[:2] == ["not valid JSON: Expecting ',' delimiter", "position: line 2, column 28"]
    (processed,) = site.inbox.joinpath(PROCESSED_FOLDER).glob(f"*/999US/{ONE_ORDER}")
    assert processed.read_bytes() == fixture(ONE_ORDER)

    counts = {table: site.query(f"select count(*) from {DATASET_NAME}.{table}") for table in source.TABLES}
    site.put(f"999US/{ONE_ORDER}", fixture(ONE_ORDER), 3)
    site.put("999US/the-same-response-saved-again.json", fixture(ONE_ORDER), 4)
    again = site.ingest()
    assert [(o.file.name, o.outcome) for o in again.outcomes] == [
        (f"999US/{ONE_ORDER}", "duplicate"),
        ("999US/the-same-response-saved-again.json", "duplicate"),
    ]
    assert again.acknowledgements == []
    assert {table: site.query(f"select count(*) from {DATASET_NAME}.{table}") for table in source.TABLES} == {
        **counts,
        "inbound_files": [(counts["inbound_files"][0][0] + 2,)],
    }


def test_a_changed_po_fetched_again_is_a_new_version_and_an_unchanged_one_is_not(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.put(f"API01/{API01_ORDERS}", fixture(API01_ORDERS), 0)
    # Fetched again with isPOChanged=true: a new purchaseOrderChangedDate, but the same order we store.
    site.put(f"API01/{API01_CHANGED}", fixture(API01_CHANGED), 1)
    # At the top of the inbox (vendor codes 999US and API01 in one response): TestPO1 before and after a change
    # of its ship window end and of item 1's vendor identifier.
    site.put(ITEM_CANCELLED, fixture(ITEM_CANCELLED), 2)
    site.put(CHANGED_LIST, fixture(CHANGED_LIST), 3)
    summary = site.ingest()
    assert [o.outcome for o in summary.outcomes] == ["loaded"] * 4
    assert sorted(site.query(f"select file_name, control_number, outcome from {DATASET_NAME}.inbound_sets")) == sorted(
        [
            (f"API01/{API01_CHANGED}", "TestPO2", "unchanged"),
            (f"API01/{API01_ORDERS}", "TestPO2", "loaded"),
            (f"API01/{API01_ORDERS}", "TestPO3", "loaded"),
            (CHANGED_LIST, "TestPO1", "loaded"),
            (CHANGED_LIST, "TestPO2", "unchanged"),
            (ITEM_CANCELLED, "TestPO1", "loaded"),
        ]
    )
    assert site.query(
        f"select po_number, source_file, window_end from {DATASET_NAME}.purchase_orders order by po_number, window_end"
    ) == [
        ("TestPO1", ITEM_CANCELLED, date(2020, 5, 29)),
        ("TestPO1", CHANGED_LIST, date(2020, 5, 30)),
        ("TestPO2", f"API01/{API01_ORDERS}", date(2020, 5, 29)),
        ("TestPO3", f"API01/{API01_ORDERS}", date(2020, 6, 3)),
    ]


# --- inbound_files.receiver_id, for every format --------------------------------------------------------


def test_the_receiver_of_x12_and_edifact_files_is_recorded_too(tmp_path: Path) -> None:
    site = Site(tmp_path)
    names = ["amz850_predi_1PCPDX1U.edi", "amz850_predi_guide_L8266355.edi", "amzeu_orders_d96a_vscode_edi_support.edi"]
    for arrival, name in enumerate(names):
        site.put(name, (FIXTURES / name).read_bytes(), arrival)
    site.put(f"API01/{API01_ORDERS}", fixture(API01_ORDERS), 3)
    site.ingest()
    assert sorted(
        site.query(f"select file_name, format, sender_id, receiver_id from {DATASET_NAME}.inbound_files")
    ) == [
        (f"API01/{API01_ORDERS}", "SPAPI_JSON", "ABCD", "API01"),
        ("amz850_predi_1PCPDX1U.edi", "X12", "AMAZON", "8009225524"),  # ISA08
        ("amz850_predi_guide_L8266355.edi", "X12", "AMAZON", "VENDOR"),
        ("amzeu_orders_d96a_vscode_edi_support.edi", "EDIFACT", "<Sender GLN>", "<Receiver GLN>"),  # UNB S003
    ]


@pytest.mark.parametrize("pipelines_folder_lost", [False, True], ids=["kept", "lost"])
def test_a_warehouse_loaded_before_receiver_id_existed_gains_the_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pipelines_folder_lost: bool
) -> None:
    site = Site(tmp_path)
    site.put("amz850_predi_1PCPDX1U.edi", (FIXTURES / "amz850_predi_1PCPDX1U.edi").read_bytes())
    with monkeypatch.context() as before:
        file_row = source.file_row
        columns = {name: kind for name, kind in source.TABLES["inbound_files"].items() if name != "receiver_id"}
        before.setitem(source.TABLES, "inbound_files", columns)

        def file_row_without_receiver(outcome: FileOutcome) -> dict[str, Any]:
            return {name: value for name, value in file_row(outcome).items() if name != "receiver_id"}

        before.setattr(source, "file_row", file_row_without_receiver)
        site.ingest()
    assert "receiver_id" not in {row[0] for row in site.query(f"describe {DATASET_NAME}.inbound_files")}
    if pipelines_folder_lost:  # dlt then takes the stored schema back from the warehouse
        shutil.rmtree(tmp_path / "dlt")

    site.put(f"API01/{API01_ORDERS}", fixture(API01_ORDERS), 1)
    site.ingest()
    assert sorted(site.query(f"select file_name, receiver_id from {DATASET_NAME}.inbound_files")) == [
        (f"API01/{API01_ORDERS}", "API01"),
        ("amz850_predi_1PCPDX1U.edi", None),  # loaded before the column existed
    ]
