"""The warehouse step: the planted despatch POs E to L despatched and invoiced in Sage as a warehouse and an order
desk would, each planting what the module docstring of pipelines/scenario/warehouse.py says, recorded in
warehouse.json; and played once only.

The small sample vendor (tests/conftest.py, loaded once per session) gets the Sage orders of E to L entered here
through the API, as `avc2sage run` enters them (every line accepted in full, in the PO's unit, at the PO's cost);
the order batch itself is not run. Sage numbers despatches and invoices in series from 1, and the history used
`counts["despatches"]` and `counts["invoices"]` of them, so the numbers the warehouse gets are known.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from pipelines.sage200.client import SageClient
from pipelines.sage200.sandbox.backoffice import BackOffice
from pipelines.sage200.sandbox.server import api_url, run_in_thread
from pipelines.scenario.generate import MANIFEST_FILE, MASTERS_FILE
from pipelines.scenario.identifiers import gs1_check_digit
from pipelines.scenario.manifest import Manifest
from pipelines.scenario.warehouse import (
    WAREHOUSE_FILE,
    WarehouseActivity,
    WarehouseNotReady,
    WarehousePlayedAlready,
    play_warehouse,
)

DAY = date(2026, 3, 15)  # the sample's as-of date (tests/conftest.py TODAY): the sandbox's today
LABELS = "EFGHIJKL"
D = Decimal


def scenario_copy(sample: Path, folder: Path) -> Path:
    """The files the warehouse reads, in a folder of the test's own (it writes warehouse.json beside them)."""
    for name in (MANIFEST_FILE, MASTERS_FILE):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sample / name, folder / name)
    return folder


@dataclass(frozen=True)
class EnteredOrder:
    label: str
    po_number: str
    id: int
    number: str
    line_ids: tuple[int, int]
    quantities: tuple[Decimal, Decimal]  # cases
    prices: tuple[Decimal, Decimal]  # per case


def enter_order(client: SageClient, manifest: Manifest, label: str) -> EnteredOrder:
    """The Sage order `avc2sage run` would enter for a despatch PO: its lines as accepted, priced per case."""
    [po] = [po for po in manifest.planted_pos if po["label"] == label]
    [customer] = client.get("customers", {"$filter": "reference eq 'AMA001'"})
    lines = []
    for entry in (e for e in manifest.expected_po_lines if e["po_number"] == po["po_number"]):
        [product] = client.get("products", {"$filter": f"code eq '{entry['sage_product_code']}'", "$expand": "units"})
        [unit] = [unit for unit in product["units"] if unit["unit"]["name"] == entry["selling_unit"]]
        holdings = client.get("warehouse_holdings", {"$filter": f"product_id eq {product['id']}"})
        holding = max(holdings, key=lambda h: (h["free_stock_available"], -h["warehouse_id"]))
        lines.append(
            {
                "line_type": "EnumLineTypeStandard",
                "product_id": product["id"],
                "warehouse_id": holding["warehouse_id"],
                "code": product["code"],
                "description": product["name"],
                "line_quantity": D(entry["accepted_quantity"]),
                "selling_unit_id": unit["unit_id"],
                "selling_unit_price": D(entry["unit_cost"]) * unit["multiple_of_base_unit"],
            }
        )
    body = {
        "customer_id": customer["id"],
        "document_no": "",
        "document_date": f"{DAY.isoformat()}T00:00:00Z",
        "customer_document_no": po["po_number"],
        "lines": lines,
    }
    order = client.post("sop_orders", body)
    entered = client.get(f"sop_orders/{order['id']}/sop_order_lines", {"$orderby": "line_number"})
    return EnteredOrder(
        label,
        po["po_number"],
        order["id"],
        order["document_no"],
        (entered[0]["id"], entered[1]["id"]),
        (entered[0]["line_quantity"], entered[1]["line_quantity"]),
        (entered[0]["selling_unit_price"], entered[1]["selling_unit_price"]),
    )


@dataclass(frozen=True)
class Played:
    client: SageClient
    office: BackOffice
    folder: Path
    manifest: Manifest
    orders: dict[str, EnteredOrder]
    activity: WarehouseActivity

    def despatch_notes(self, label: str) -> list[dict[str, Any]]:
        of_order = {"$filter": f"sop_order_id eq {self.orders[label].id}", "$orderby": "sop_despatch_id"}
        return self.client.get("sop_order_despatch_views", of_order)

    def despatched(self, label: str) -> list[tuple[int, Decimal]]:
        """(line number, quantity) of every despatch line of the order."""
        of_order = {"$filter": f"sop_order_id eq {self.orders[label].id}", "$orderby": "sop_despatch_line_id"}
        views = self.client.get("sop_order_despatch_line_views", of_order)
        return [(view["sop_order_line_print_sequence_number"], view["sop_despatch_line_quantity"]) for view in views]

    def invoices(self, label: str) -> list[dict[str, Any]]:
        of_order = {"$filter": f"sop_order_return_id eq {self.orders[label].id}"}
        return self.client.get("sop_order_return_invoice_credit_views", of_order)


@pytest.fixture(scope="module")
def played(sample_vendor_db: tuple[Path, Manifest, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:
    """The sample in a sandbox of the module's own, E to L entered as Sage orders, the warehouse played once."""
    db_path, manifest, sample = sample_vendor_db
    work = tmp_path_factory.mktemp("warehouse")
    shutil.copyfile(db_path, work / db_path.name)  # its server has stopped: one checkpointed file
    folder = scenario_copy(sample, work / "scenario")
    with (
        run_in_thread(work / db_path.name) as root,
        SageClient(api_url(root), "sandbox").connect() as client,
        BackOffice(root) as office,
    ):
        orders = {label: enter_order(client, manifest, label) for label in LABELS}
        activity = play_warehouse(folder, client, office, day=DAY)
        yield Played(client, office, folder, manifest, orders, activity)


def sage_number(n: int) -> str:
    return f"{n:010d}"


def test_the_warehouse_needs_the_sage_orders_first(
    sample_vendor_db: tuple[Path, Manifest, Path], sample_sandbox: Any, tmp_path: Path
) -> None:
    folder = scenario_copy(sample_sandbox.sample, tmp_path / "scenario")
    e_number = next(po["po_number"] for po in sample_sandbox.manifest.planted_pos if po["label"] == "E")
    with (
        SageClient(sample_sandbox.api_url, "sandbox").connect() as client,
        BackOffice(sample_sandbox.root) as office,
        pytest.raises(WarehouseNotReady) as refused,
    ):
        play_warehouse(folder, client, office, day=DAY)
    assert str(refused.value) == (
        f"PO E ({e_number}) has no Sage sales order yet: run `avc2sage run` first, then the warehouse"
    )
    assert not (folder / WAREHOUSE_FILE).exists()


def test_despatch_numbers_follow_sages_series_but_h_reuses_es(played: Played) -> None:
    before = played.manifest.counts["despatches"]
    numbers = {label: [note["sop_despatch_document_no"] for note in played.despatch_notes(label)] for label in LABELS}
    assert numbers == {
        "E": [sage_number(before + 1)],
        "F": [sage_number(before + 2)],
        "G": [sage_number(before + 3)],
        "H": [sage_number(before + 1)],
        "I": [sage_number(before + 4)],
        "J": [sage_number(before + 5)],
        "K": [sage_number(before + 6)],
        "L": [sage_number(before + 7)],
    }


def test_what_each_despatch_ships_and_when(played: Played) -> None:
    orders = played.orders
    shipped = {label: played.despatched(label) for label in LABELS}
    full = {label: [(1, orders[label].quantities[0]), (2, orders[label].quantities[1])] for label in "EFGHL"}
    assert shipped == full | {
        "I": [(1, orders["I"].quantities[0] - 1), (2, orders["I"].quantities[1])],
        "J": [(1, orders["J"].quantities[0] + 1), (2, orders["J"].quantities[1])],
        "K": [(1, D("1.5")), (2, orders["K"].quantities[1])],
    }
    notes = {label: played.despatch_notes(label)[0] for label in LABELS}
    assert {label: note["sop_despatch_date"] for label, note in notes.items()} == {
        label: "2026-03-06T00:00:00Z" if label == "L" else "2026-03-15T00:00:00Z" for label in LABELS
    }
    assert {note["sop_despatch_courier_name"] for note in notes.values()} == {"DPD"}
    consignments = {label: note["sop_despatch_consignment_no"] for label, note in notes.items()}
    assert consignments["I"] == ""
    assert all(len(consignments[label]) == 13 and consignments[label].startswith("DPD") for label in "EFGHJKL")
    assert len(set(consignments.values())) == len(LABELS)
    assert {label: note["sop_despatch_notes"] for label, note in notes.items() if note["sop_despatch_notes"]} == {
        "G": f"SSCC: {g_sscc(played)}"
    }


def g_sscc(played: Played) -> str:
    [note] = played.despatch_notes("G")
    return note["sop_despatch_notes"].removeprefix("SSCC: ")


def test_gs_sscc_is_ours_with_a_wrong_check_digit(played: Played) -> None:
    sscc = g_sscc(played)
    assert len(sscc) == 18 and sscc.isdigit() and sscc.startswith("05060123")
    assert int(sscc[17]) == (gs1_check_digit(sscc[:17]) + 1) % 10


def test_the_desk_amends_gs_price_and_js_quantity(played: Played) -> None:
    g, j = played.orders["G"], played.orders["J"]
    g_line = played.client.get(f"sop_orders/{g.id}/sop_order_lines/{g.line_ids[0]}")
    raised = (g.prices[0] * D("1.05")).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert (g_line["selling_unit_price"], g_line["line_quantity"]) == (raised, g.quantities[0])
    assert raised != g.prices[0]
    j_line = played.client.get(f"sop_orders/{j.id}/sop_order_lines/{j.line_ids[0]}")
    assert (j_line["line_quantity"], j_line["selling_unit_price"]) == (j.quantities[0] + 1, j.prices[0])
    assert j_line["despatch_receipt_status"] == "Complete"


def test_invoice_numbers_dates_and_quantities(played: Played) -> None:
    before = played.manifest.counts["invoices"]
    invoices = {label: played.invoices(label) for label in LABELS}
    assert {label: [i["sop_invoice_credit_document_no"] for i in found] for label, found in invoices.items()} == {
        "E": [sage_number(before + 1)],
        "F": [sage_number(before + 2)],
        "G": [sage_number(before + 3)],
        "H": [],
        "I": [sage_number(before + 4)],
        "J": [],
        "K": [sage_number(before + 5)],
        "L": [sage_number(before + 1)],
    }
    dates = {label: found[0]["sop_invoice_credit_document_date"] for label, found in invoices.items() if found}
    assert dates == {label: "2026-03-20T00:00:00Z" if label == "K" else "2026-03-15T00:00:00Z" for label in "EFGIKL"}
    invoiced = {
        label: [
            (line["invoice_credit_quantity"], line["despatch_receipt_quantity"])
            for line in played.client.get(f"sop_orders/{order.id}/sop_order_lines", {"$orderby": "line_number"})
        ]
        for label, order in played.orders.items()
    }
    i_first, i_second = played.orders["I"].quantities
    assert invoiced["I"] == [(i_first, i_first - 1), (i_second, i_second)]  # invoiced more than shipped
    assert invoiced["K"] == [(D("1.5"), D("1.5")), (played.orders["K"].quantities[1],) * 2]
    assert [invoiced[label] for label in "HJ"] == [
        [(0, played.orders["H"].quantities[0]), (0, played.orders["H"].quantities[1])],
        [(0, played.orders["J"].quantities[0] + 1), (0, played.orders["J"].quantities[1])],
    ]


def test_warehouse_json_records_every_document_and_anomaly(played: Played) -> None:
    orders = played.orders
    despatch = {label: played.despatch_notes(label)[0]["sop_despatch_document_no"] for label in LABELS}
    invoice = {
        label: found[0]["sop_invoice_credit_document_no"] for label in LABELS if (found := played.invoices(label))
    }
    po = {label: order.po_number for label, order in orders.items()}
    sscc = g_sscc(played)
    g_price = orders["G"].prices[0]
    g_raised = (g_price * D("1.05")).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    g_code, i_code, j_code, k_code = (
        played.client.get(f"sop_orders/{orders[label].id}/sop_order_lines/{orders[label].line_ids[0]}")["code"]
        for label in "GIJK"
    )
    i_cases, j_cases = orders["I"].quantities[0], orders["J"].quantities[0]
    asn_rules = {"G": "sscc_valid", "H": "shipment_id_unique", "I": "carrier_requirements"}
    asn_rules |= {"J": "shipped_within_acknowledged", "K": "whole_cases", "L": "shipped_date_window"}
    invoice_rules = {"G": "unit_cost_matches_acknowledged", "I": "invoiced_within_shipped"}
    invoice_rules |= {"K": "invoice_date_not_future", "L": "invoice_number_unique"}

    def asn(label: str, detail: str) -> dict[str, str]:
        reference = f"{po[label]}/{despatch[label]}"
        return {"kind": "asn_failed_validation", "document_reference": reference, "detail": detail}

    def inv(label: str, detail: str) -> dict[str, str]:
        reference = f"{po[label]}/{invoice[label]}"
        return {"kind": "invoice_failed_validation", "document_reference": reference, "detail": detail}

    expected = {
        "day": "2026-03-15",
        "despatches": [
            {
                "label": label,
                "po_number": po[label],
                "sales_order_number": orders[label].number,
                "despatch_number": despatch[label],
                "expected_rule": asn_rules.get(label),
            }
            for label in LABELS
        ],
        "invoices": [
            {
                "label": label,
                "po_number": po[label],
                "invoice_number": invoice[label],
                "expected_rule": invoice_rules.get(label),
            }
            for label in "EFGIKL"
        ],
        "anomalies": [
            asn(
                "G",
                f"PO G: the despatch note gives SSCC {sscc}, whose check digit should be "
                f"{gs1_check_digit(sscc[:17])} (sscc_valid)",
            ),
            inv(
                "G",
                f"PO G: line 1 ({g_code}) invoiced at {g_raised} a case, 5% over the acknowledged {g_price} "
                "(unit_cost_matches_acknowledged)",
            ),
            asn("H", f"PO H: despatched under despatch number {despatch['E']}, PO E's (shipment_id_unique)"),
            asn("I", "PO I: shipped by DPD with no consignment (tracking) number (carrier_requirements)"),
            inv(
                "I",
                f"PO I: line 1 ({i_code}) invoiced for {i_cases} cases, {i_cases - 1} shipped "
                "(invoiced_within_shipped)",
            ),
            asn(
                "J",
                f"PO J: line 1 ({j_code}) amended to {j_cases + 1} cases and shipped: {j_cases} acknowledged "
                "(shipped_within_acknowledged)",
            ),
            asn("K", f"PO K: line 1 ({k_code}) shipped as 1.5 cases: not whole cases (whole_cases)"),
            inv("K", "PO K: invoice dated 2026-03-20, 5 days ahead of 2026-03-15 (invoice_date_not_future)"),
            asn("L", "PO L: shipped 9 days before 2026-03-15 (shipped_date_window)"),
            inv(
                "L",
                f"PO L: invoiced as {invoice['E']}, PO E's invoice ({po['E']}) (invoice_number_unique)",
            ),
        ],
    }
    assert json.loads((played.folder / WAREHOUSE_FILE).read_text(encoding="utf-8")) == expected
    assert played.activity.to_json() == expected
    assert WarehouseActivity.read(played.folder / WAREHOUSE_FILE) == played.activity


def test_playing_again_the_same_day_changes_nothing(played: Played) -> None:
    notes_before = played.client.get("sop_order_despatch_views", {"$count": "true"})
    record = (played.folder / WAREHOUSE_FILE).read_bytes()
    assert play_warehouse(played.folder, played.client, played.office, day=DAY) == played.activity
    assert played.client.get("sop_order_despatch_views", {"$count": "true"}) == notes_before
    assert (played.folder / WAREHOUSE_FILE).read_bytes() == record


def test_playing_another_day_or_without_the_record_is_refused(played: Played, tmp_path: Path) -> None:
    notes_before = played.client.get("sop_order_despatch_views", {"$count": "true"})
    with pytest.raises(WarehousePlayedAlready) as refused:
        play_warehouse(played.folder, played.client, played.office, day=date(2026, 3, 16))
    assert str(refused.value) == (
        f"{played.folder / WAREHOUSE_FILE} records the warehouse's activity of 2026-03-15, not 2026-03-16: "
        "it plays once; nothing done"
    )
    unrecorded = scenario_copy(played.folder, tmp_path / "scenario")
    with pytest.raises(WarehousePlayedAlready) as refused:
        play_warehouse(unrecorded, played.client, played.office, day=DAY)
    e = played.orders["E"]
    assert str(refused.value) == (
        f"sales order {e.number} (PO E, {e.po_number}) is despatched already but {unrecorded / WAREHOUSE_FILE} "
        "is missing: the warehouse has played on this Sage company before; nothing done"
    )
    assert played.client.get("sop_order_despatch_views", {"$count": "true"}) == notes_before
    assert not (unrecorded / WAREHOUSE_FILE).exists()
