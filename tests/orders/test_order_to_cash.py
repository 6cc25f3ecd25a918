"""Order to cash on the sample vendor, end to end: Amazon's files in the inbox, the sandbox serving the sample's
Sage company, a real warehouse and outbox. The Sage orders are read back through the API and compared with
what the generator planted; the acknowledgements are read back from the outbox.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from pipelines.edi.edifact.d96a import ORDRSP
from pipelines.edi.edifact.definitions import Validator
from pipelines.edi.edifact.reader import read_interchange
from pipelines.edi.x12 import default_registry, parse_interchange
from pipelines.orders.batch import run_order_batch
from pipelines.passes import PassSummary, full_pass, load_stages
from pipelines.sage200.client import SageClient
from pipelines.sage200.sandbox.backoffice import BackOffice
from pipelines.settings import EXAMPLE_CONFIG, Locations, load_business_config
from pipelines.transform import run_dbt

ACK_STANDARD = {"HAFIN": "EDIFACT", "HAFIX": "X12"}
# Seeds and models only where a test builds the warehouse for its own set-up: the other e2e tests run dbt's tests.
WITHOUT_TESTS = "resource_type:test resource_type:unit_test"
BACKORDER_DAYS = 7  # lead_times.backorder_days in the example configuration


def now_for(manifest: Any) -> datetime:
    """09:00 on the sample's as-of day: the new POs arrived over the two days before."""
    return datetime.combine(manifest.as_of, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)


def locations_for(sample_sandbox: Any, tmp_path: Path) -> Locations:
    locations = Locations.resolve(
        warehouse=str(tmp_path / "warehouse" / "avc2sage.duckdb"),
        sage_url=sample_sandbox.api_url,
        config=str(EXAMPLE_CONFIG),
        inbox=str(tmp_path / "inbox"),
        outbox=str(tmp_path / "outbox"),
    )
    shutil.copytree(sample_sandbox.sample / "inbox", locations.inbox)
    locations.warehouse.parent.mkdir(parents=True)
    return locations


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def sage_orders(api_url: str, po_numbers: set[str]) -> dict[str, list[dict[str, Any]]]:
    """Every Sage order carrying one of the PO numbers, with its lines, by PO number."""
    found: dict[str, list[dict[str, Any]]] = {}
    with SageClient(api_url, "sandbox").connect() as client:
        for po in sorted(po_numbers):
            for order in client.get("sop_orders", {"$filter": f"customer_document_no eq '{po}'"}):
                found.setdefault(po, []).append(client.get(f"sop_orders/{order['id']}", {"$expand": "lines"}))
    return found


def order_lines(order: dict[str, Any]) -> list[tuple]:
    return sorted(
        (
            line["code"],
            line["selling_unit_description"],
            Decimal(line["line_quantity"]),
            Decimal(line["selling_unit_price"]),
            line["promised_delivery_date"][:10],
        )
        for line in order["lines"]
    )


def new_po_numbers(warehouse: Path) -> set[str]:
    rows = query(warehouse, "select purchase_order_number from marts.purchase_orders where order_status <> "
                            "'ordered_outside_avc2sage'")  # fmt: skip
    return {po for (po,) in rows}


def test_new_pos_become_sage_orders_and_acknowledgements_exactly_as_planted(sample_sandbox, tmp_path: Path) -> None:
    manifest = sample_sandbox.manifest
    now = now_for(manifest)
    today = now.date()
    locations = locations_for(sample_sandbox, tmp_path)
    config = load_business_config(EXAMPLE_CONFIG)
    summary = full_pass(locations, config, "sandbox", trigger="manual", clock=lambda: now)
    warehouse = locations.warehouse

    # Which POs were acted on: exactly the ones not in Sage yet; one of them (every line rejected) gets no order.
    new = new_po_numbers(warehouse)
    assert len(new) == manifest.counts["amazon_purchase_orders_not_in_sage"]
    assert len(summary.orders.orders_created) == manifest.counts["amazon_purchase_orders_to_order_in_sage"]
    assert summary.orders.not_done == {}
    statuses = dict(query(warehouse, "select acknowledgement_status, count(*) from marts.purchase_orders group by 1"))
    assert statuses == {"sent": len(new), "not_required": manifest.counts["amazon_purchase_orders"] - len(new)}

    # The planted lines: exactly the acknowledgement the generator expects, line by line.
    planted = {(line["po_number"], line["line_id"]): line for line in manifest.expected_po_lines}
    decided = {
        (po, line_id): (code, unit, accepted, backordered, rejected, reason)
        for po, line_id, code, unit, accepted, backordered, rejected, reason in query(
            warehouse,
            "select purchase_order_number, line_id, sage_product_code, sage_selling_unit, accepted_quantity,"
            " backordered_quantity, rejected_quantity, rejection_reason from marts.purchase_order_lines",
        )
    }
    for key, expected in planted.items():
        code, unit, accepted, backordered, rejected, reason = decided[key]
        assert (accepted, backordered, rejected, reason) == (
            Decimal(expected["accepted_quantity"]),
            Decimal(expected["backordered_quantity"]),
            Decimal(expected["rejected_quantity"]),
            expected["rejection_reason"],
        ), key
        assert (code, unit) == (expected["sage_product_code"], expected["selling_unit"]), key
    # Every other new line was in stock and is accepted in full.
    others = query(
        warehouse,
        "select purchase_order_number, line_id, resolution_status, acknowledgement_code, accepted_quantity,"
        " ordered_quantity from marts.purchase_order_lines join marts.purchase_orders using (purchase_order_number)"
        " where order_status <> 'ordered_outside_avc2sage'",
    )
    for po, line_id, resolution, code, accepted, ordered in others:
        if (po, line_id) not in planted:
            assert (resolution, code, accepted) == ("resolved", "Accepted", ordered), (po, line_id)

    # The Sage orders, read back through the API: product, selling unit, quantity, price and promised date.
    windows = dict(query(warehouse, "select purchase_order_number, window_start_date from marts.purchase_orders"))
    expected_orders: dict[str, list[tuple]] = {}
    for po, line_id, code, unit, multiple, cost, accepted, backordered in query(
        warehouse,
        "select lines.purchase_order_number, lines.line_id, lines.sage_product_code, lines.sage_selling_unit,"
        " lines.unit_size, lines.unit_cost, lines.accepted_quantity, lines.backordered_quantity"
        " from marts.purchase_order_lines as lines join marts.purchase_orders using (purchase_order_number)"
        " where order_status = 'ordered'",
    ):
        if not accepted + backordered:
            continue
        price = cost * multiple
        ship = max(today, windows[po]).isoformat()
        for quantity, promised in ((accepted, ship), (backordered, (today + timedelta(BACKORDER_DAYS)).isoformat())):
            if quantity:
                expected_orders.setdefault(po, []).append((code, unit, quantity, price, promised))
        if (po, line_id) in planted and planted[po, line_id]["accepted_quantity"] != "0":
            assert cost == Decimal(planted[po, line_id]["unit_cost"])  # the PO's price, also when off the list
    in_sage = sage_orders(sample_sandbox.api_url, new)
    assert set(in_sage) == set(expected_orders), "one order per PO with anything to order, none for the rest"
    for po, orders in in_sage.items():
        assert len(orders) == 1, po
        assert order_lines(orders[0]) == sorted(expected_orders[po]), po
        assert orders[0]["delivery_address"]["postal_name"].startswith("Amazon ")
    part_filled = {line[0] for lines in expected_orders.values() for line in lines if sum(
        other[0] == line[0] for other in lines) == 2}  # fmt: skip
    assert "HF-PL-0005" in part_filled, "a part fill is two Sage lines: accepted now, the rest backordered"

    # Exactly the planted exceptions, and no deadline at risk.
    open_po_exceptions = set(
        query(
            warehouse,
            "select kind, document_reference from marts.exceptions where status = 'open' and kind like 'po%'",
        )
    )
    assert open_po_exceptions == {(a.kind, a.document_reference) for a in manifest.anomalies if a.kind.startswith("po")}

    # One acknowledgement per new PO in its vendor code's syntax, each read back and valid.
    acknowledgements = query(
        warehouse, "select po_number, vendor_code, standard, file_name from audit.purchase_order_acknowledgements"
    )
    assert sorted(po for po, *_ in acknowledgements) == sorted(new)
    for po, vendor_code, standard, file_name in acknowledgements:
        assert standard == ACK_STANDARD[vendor_code]
        data = (locations.outbox / file_name).read_bytes()
        if standard == "X12":
            interchange = parse_interchange(data)
            (group,) = interchange.groups
            (transaction_set,) = group.sets
            assert (
                default_registry().find(group.version, "855").validate(transaction_set.segments, interchange.separators)
                == []
            )
            assert f"BAK*00*AC*{po}*" in data.decode() or f"BAK*00*AD*{po}*" in data.decode()
        else:
            interchange = read_interchange(data)
            (result,) = interchange.messages
            message = result.message
            assert message.identifier == ("ORDRSP", "D", "96A", "UN")
            Validator(interchange.chars).validate(ORDRSP, message.body, message.segments[-1])  # raises if invalid
            assert f"BGM+231+{po}+".encode() in data

    # The batch again an hour later (its work is read from views over the audit trail, so it sees what it
    # did without a rebuild) finds nothing to do: no order, no acknowledgement twice.
    with SageClient(sample_sandbox.api_url, "sandbox").connect() as client:
        later = run_order_batch(locations, config, client, clock=lambda: now + timedelta(hours=1))
    assert (later.orders_created, later.orders_found, sum(later.acknowledged.values())) == ([], [], 0)
    assert {po: len(orders) for po, orders in sage_orders(sample_sandbox.api_url, new).items()} == dict.fromkeys(
        expected_orders, 1
    )
    assert query(warehouse, "select count(*) from audit.purchase_order_acknowledgements") == [(len(new),)]


CRASHING_BATCH = textwrap.dedent(
    """
    import os, sys
    from datetime import datetime
    from pathlib import Path
    from pipelines.orders.batch import run_order_batch
    from pipelines.sage200.client import SageClient
    from pipelines.settings import Locations, load_business_config

    api, warehouse, config, inbox, outbox, now = sys.argv[1:7]

    class DiesAfterPost(SageClient):
        def post(self, path, body):
            super().post(path, body)
            os._exit(9)  # Sage has the order; the process dies before recording Sage's answer

    locations = Locations.resolve(warehouse=warehouse, sage_url=api, config=config, inbox=inbox, outbox=outbox)
    pinned = datetime.fromisoformat(now)
    with DiesAfterPost(api, "sandbox").connect() as client:
        run_order_batch(locations, load_business_config(Path(config)), client, clock=lambda: pinned)
    """
)


def test_a_crash_and_lost_answers_still_leave_one_order_per_po(sample_sandbox, tmp_path: Path) -> None:
    manifest = sample_sandbox.manifest
    now = now_for(manifest)
    locations = locations_for(sample_sandbox, tmp_path)
    config = load_business_config(EXAMPLE_CONFIG)
    load_stages(locations, config, "sandbox", "manual", PassSummary("", locations.warehouse), lambda _: None)
    run_dbt("build", locations.warehouse, now=now, exclude=WITHOUT_TESTS)
    to_order = manifest.counts["amazon_purchase_orders_to_order_in_sage"]

    # 1. The process dies right after Sage took the first order, before recording Sage's answer.
    arguments = [sample_sandbox.api_url, str(locations.warehouse), str(EXAMPLE_CONFIG), str(locations.inbox)]
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_BATCH, *arguments, str(locations.outbox), now.isoformat()],
        capture_output=True,
        text=True,
        check=False,
    )
    assert crashed.returncode == 9, crashed.stderr
    new = new_po_numbers(locations.warehouse)
    [crashed_po] = sage_orders(sample_sandbox.api_url, new)
    # The next pass loads Sage first: the crashed POST's order is in the warehouse now, and it is still ours.
    load_stages(locations, config, "sandbox", "manual", PassSummary("", locations.warehouse), lambda _: None)
    run_dbt("build", locations.warehouse, now=now, exclude=WITHOUT_TESTS)
    assert query(
        locations.warehouse,
        f"select order_status from intermediate.int_purchase_orders_prepared where po_number = '{crashed_po}'",
    ) == [("pending",)]

    # 2. Every answer is lost: Sage commits each order, then hangs past the client's patience.
    with BackOffice(sample_sandbox.root) as office:
        office.post("faults", {"hang_after_commit": {"count": 100, "seconds": 3}})
        with SageClient(sample_sandbox.api_url, "sandbox", timeout=1.5).connect() as impatient:
            lost = run_order_batch(locations, config, impatient, clock=lambda: now)
        office.delete("faults")
    assert lost.orders_created == [] and lost.not_done == {}
    assert len(lost.orders_found) == to_order, "each order found in Sage after its unanswered POST"

    # 3. A crash right after an acknowledgement was written, before its record: the outbox has the file, the
    # batch's own record is missing (the state such a crash leaves).
    files_before = sorted(path.name for path in locations.outbox.iterdir())
    with duckdb.connect(str(locations.warehouse)) as con:
        con.execute(f"delete from audit.purchase_order_acknowledgements where po_number = '{crashed_po}'")

    # 4. A normal re-run sends nothing twice: the lost record is restored from the outbox; Sage holds exactly
    # one order per PO.
    with SageClient(sample_sandbox.api_url, "sandbox").connect() as client:
        again = run_order_batch(locations, config, client, clock=lambda: now)
    # The one restored acknowledgement is recorded, not written again.
    assert (again.orders_created, again.orders_found, sum(again.acknowledged.values())) == ([], [], 1)
    assert sorted(path.name for path in locations.outbox.iterdir()) == files_before
    orders = sage_orders(sample_sandbox.api_url, new)
    assert len(orders) == to_order and all(len(found) == 1 for found in orders.values())
    acknowledged = query(
        locations.warehouse, "select po_number, count(*) from audit.purchase_order_acknowledgements group by 1"
    )
    assert sorted(acknowledged) == sorted((po, 1) for po in new)
    # The crashed PO kept the decision its order was made from, and its acknowledgement carries it.
    decisions = query(
        locations.warehouse, f"select decision_id from audit.purchase_order_decisions where po_number = '{crashed_po}'"
    )
    acknowledged_decision = query(
        locations.warehouse,
        f"select decision_id from audit.purchase_order_acknowledgements where po_number = '{crashed_po}'",
    )
    assert len(decisions) == 1 and acknowledged_decision == decisions
