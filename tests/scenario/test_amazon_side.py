"""The sample vendor's Amazon inbox: deterministic, readable by our own readers, consistent with the Sage
history, and ingested with exactly the outcomes the manifest plants."""

from __future__ import annotations

import hashlib
import os
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.amazon import source
from pipelines.amazon.documents import FileRejected, ParsedFile, ProductIdentifier, PurchaseOrder, RemittancePayment
from pipelines.amazon.inbox import FileOutcome
from pipelines.amazon.remittance_export import read_remittance_export
from pipelines.edi.edifact import read_edifact
from pipelines.edi.x12 import read_x12
from pipelines.scenario import amazon_side
from pipelines.scenario.amazon_documents import EDIFACT, X12, AmazonPo, PoInterchange, PoLine
from pipelines.scenario.amazon_side import FC_GLNS, INBOX
from pipelines.scenario.formats import read_event_stream
from pipelines.scenario.generate import HISTORY_FILE, generate
from pipelines.scenario.manifest import Manifest
from pipelines.scenario.planted import CROSS_REFERENCED_ASIN
from pipelines.settings import EXAMPLE_CONFIG, load_business_config

AS_OF = date(2026, 3, 16)
SEED = 20260316
HAFIX_BLOCK = """
[[vendor_codes]]
code = "HAFIX"
marketplace = "UK"
sage_customer_account = "AMA001"
edi_standard = "X12"
currency = "GBP"
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("amazon")
    return out, generate(SEED, AS_OF, "small", out)


def inbox_files(out: Path) -> dict[str, Path]:
    """Every generated inbox file by its name as the inbox stores it (relative to the inbox)."""
    inbox = out / INBOX
    return {path.relative_to(inbox).as_posix(): path for path in sorted(inbox.rglob("*")) if path.is_file()}


def read(name: str, path: Path) -> ParsedFile:
    data = path.read_bytes()
    if name.endswith((".csv", ".xlsx")):
        return read_remittance_export(data, name, date_order="DMY")
    return read_edifact(data, name) if data.startswith(b"UN") else read_x12(data, name)


@pytest.fixture(scope="module")
def parsed(small: tuple[Path, Manifest]) -> dict[str, ParsedFile | FileRejected]:
    results: dict[str, ParsedFile | FileRejected] = {}
    for name, path in inbox_files(small[0]).items():
        try:
            results[name] = read(name, path)
        except FileRejected as rejected:
            results[name] = rejected
    return results


def purchase_orders(parsed: dict[str, ParsedFile | FileRejected]) -> list[tuple[str, PurchaseOrder]]:
    return [
        (name, result.document)
        for name, file in parsed.items()
        if isinstance(file, ParsedFile)
        for result in file.sets
        if isinstance(result.document, PurchaseOrder)
    ]


def payments(parsed: dict[str, ParsedFile | FileRejected]) -> list[tuple[str, RemittancePayment]]:
    return [
        (name, result.document)
        for name, file in parsed.items()
        if isinstance(file, ParsedFile)
        for result in file.sets
        if isinstance(result.document, RemittancePayment)
    ]


# determinism -------------------------------------------------------------------------------------------
def test_same_inputs_give_identical_files_and_times(small: tuple[Path, Manifest], tmp_path: Path) -> None:
    generate(SEED, AS_OF, "small", tmp_path)
    ours, theirs = inbox_files(small[0]), inbox_files(tmp_path)
    assert list(ours) == list(theirs)
    assert any(name.endswith(".xlsx") for name in ours)
    planted = [payment["payment_number"] for payment in small[1].planted_remittances]
    assert planted and all(any(number in name for name in ours) for number in planted)
    for name, path in ours.items():
        assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(theirs[name].read_bytes()).digest(), name
        assert path.stat().st_mtime == theirs[name].stat().st_mtime, name


# layout ------------------------------------------------------------------------------------------------
def test_each_vendor_code_has_its_own_folder_and_standard(small: tuple[Path, Manifest]) -> None:
    names = list(inbox_files(small[0]))
    assert {name.split("/")[0] for name in names} == {"HAFIN", "HAFIX"}
    kinds = Counter((name.split("/")[0], name.split("/")[1].split("_")[0], Path(name).suffix) for name in names)
    assert set(kinds) == {
        ("HAFIN", "ORDERS", ".edi"),
        ("HAFIN", "REMITTANCE", ".csv"),
        ("HAFIN", "REMITTANCE", ".xlsx"),
        ("HAFIX", "850", ".edi"),
        ("HAFIX", "820", ".edi"),
        ("HAFIX", "REMITTANCE", ".csv"),
    }
    counts = small[1].counts
    assert len(names) == counts["amazon_inbox_files"]
    assert kinds["HAFIX", "820", ".edi"] == kinds["HAFIX", "REMITTANCE", ".csv"]


def test_files_are_timed_by_arrival_in_document_order(small: tuple[Path, Manifest]) -> None:
    for name, path in inbox_files(small[0]).items():
        arrival = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        stamp = name.split("/")[1].split("_")[1]
        assert arrival.date() == date.fromisoformat(f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}"), name
        assert arrival.date() <= AS_OF, name


# purchase orders ---------------------------------------------------------------------------------------
def test_every_po_file_reads_except_the_planted_ones(
    small: tuple[Path, Manifest], parsed: dict[str, ParsedFile | FileRejected]
) -> None:
    inbound = ("inbound_file_quarantined", "inbound_set_quarantined")
    anomalies = {(a.kind, a.document_reference) for a in small[1].anomalies if a.kind in inbound}
    rejected = {name for name, file in parsed.items() if isinstance(file, FileRejected)}
    quarantined = {
        f"{name}#{result.control_number}"
        for name, file in parsed.items()
        if isinstance(file, ParsedFile)
        for result in file.sets
        if result.document is None
    }
    assert anomalies == {("inbound_file_quarantined", name) for name in rejected} | {
        ("inbound_set_quarantined", reference) for reference in quarantined
    }
    assert len(rejected) == len(quarantined) == 1
    for file in parsed.values():
        if isinstance(file, ParsedFile):
            assert file.envelope_errors == []
    [reference] = quarantined
    broken = parsed[reference.split("#")[0]]
    assert isinstance(broken, ParsedFile) and sum(r.document is not None for r in broken.sets) >= 1


def test_every_sage_order_has_its_purchase_order(
    small: tuple[Path, Manifest], parsed: dict[str, ParsedFile | FileRejected]
) -> None:
    out, manifest = small
    sage_pos = {
        event["customer_document_no"]
        for event in read_event_stream(out / HISTORY_FILE)
        if event["event"] == "sales_order" and event["customer"] == "AMA001"
    }
    orders = purchase_orders(parsed)
    found = {po.po_number for _, po in orders}
    assert sage_pos <= found
    new = found - sage_pos
    assert len(new) == manifest.counts["amazon_purchase_orders_not_in_sage"] > 0
    assert {po.po_date for _, po in orders if po.po_number in new} <= {AS_OF - timedelta(days=d) for d in (1, 2)}
    assert len(found) == manifest.counts["amazon_purchase_orders"]


def test_purchase_orders_say_what_amazon_says(parsed: dict[str, ParsedFile | FileRejected]) -> None:
    orders = purchase_orders(parsed)
    x12 = [po for name, po in orders if name.startswith("HAFIX/")]
    edifact = [po for name, po in orders if name.startswith("HAFIN/")]
    assert x12 and edifact
    for po in x12:
        assert (po.po_type, po.purpose, po.ship_to_qualifier, po.currency) == ("NE", "00", "92", "GBP")
        assert po.ship_to_id in FC_GLNS and po.backorder_allowed is not None and po.customer_reference == "HAFIX"
        assert {line.unit_of_measure for line in po.lines} <= {"CA", "EA"}
        assert {line.price_basis for line in po.lines} == {"PE"}
    for po in edifact:
        assert (po.po_type, po.purpose, po.ship_to_qualifier, po.currency) == ("220", "9", "9", "GBP")
        assert po.ship_to_id in FC_GLNS.values() and po.customer_reference == "HAFIN"
        assert {line.unit_of_measure for line in po.lines} <= {"CS", "PCE"}
    without_ean = []
    for po in x12 + edifact:
        assert po.po_date < po.window_start <= po.window_end
        assert len(po.po_number) == 8 and not po.is_test
        for line in po.lines:
            qualifiers = [identifier.qualifier for identifier in line.identifiers]
            assert set(qualifiers) <= {"EN", "VN", "SA", "BP"}
            if qualifiers[0] != "EN":
                without_ean.append(line.identifiers)
            assert line.quantity > 0 and line.unit_price is not None and line.unit_price > 0
    # Every line names its EAN first but the planted one Amazon orders by ASIN only.
    assert without_ean == [(ProductIdentifier("BP", CROSS_REFERENCED_ASIN),)]
    qualifiers = {i.qualifier for po in x12 + edifact for line in po.lines for i in line.identifiers}
    assert qualifiers == {"EN", "VN", "SA", "BP"}
    assert {line.unit_of_measure for po in x12 for line in po.lines} == {"CA", "EA"}


def test_changed_and_resent_pos_are_listed_as_events(
    small: tuple[Path, Manifest], parsed: dict[str, ParsedFile | FileRejected]
) -> None:
    events = {event["kind"]: event for event in small[1].events}
    assert set(events) == {"po_version_changed", "po_resent_unchanged"}
    versions: dict[str, list[PurchaseOrder]] = defaultdict(list)
    for _, po in purchase_orders(parsed):
        versions[po.po_number].append(po)
    changed, resent = (
        versions[events["po_version_changed"]["po_number"]],
        versions[events["po_resent_unchanged"]["po_number"]],
    )
    assert len(changed) == 2 and changed[0].window_end != changed[1].window_end
    assert changed[0].lines == changed[1].lines
    assert len(resent) == 2 and resent[0] == resent[1]
    for event in events.values():
        assert event["file"] in parsed


# remittances -------------------------------------------------------------------------------------------
def test_remittances_add_up_and_pay_sage_invoices(
    small: tuple[Path, Manifest], parsed: dict[str, ParsedFile | FileRejected]
) -> None:
    out, manifest = small
    invoice_count = sum(1 for event in read_event_stream(out / HISTORY_FILE) if event["event"] == "invoice")
    sage_invoices = {f"{n:010d}" for n in range(1, invoice_count + 1)}
    paid = payments(parsed)
    assert paid
    # The planted payments (tests/scenario/test_planted_remittances.py) include one with a negative net and
    # lines for invoices Sage does not hold; the regular weekly runs pay Sage's invoices.
    planted = {payment["payment_number"] for payment in manifest.planted_remittances}
    by_number: dict[str, list[RemittancePayment]] = defaultdict(list)
    references: list[str] = []
    for name, payment in paid:
        assert payment.currency == "GBP" and payment.payment_date <= AS_OF
        assert sum(line.paid_amount for line in payment.lines) == payment.amount, name
        by_number[payment.payment_number].append(payment)
        if payment.payment_number not in planted:
            assert payment.amount > 0, name
            references += [line.invoice_number for line in payment.lines]
    assert len(by_number) == manifest.counts["amazon_remittance_payments"]
    for copies in by_number.values():
        # HAFIX's payments come as an 820 and as the export: the same money either way.
        assert len({(p.amount, p.payment_date, len(p.lines)) for p in copies}) == 1
    kinds: Counter[str] = Counter()
    for reference in references:
        kinds[_kind(reference, sage_invoices)] += 1
    assert set(kinds) == {"invoice", "shortage", "chargeback", "coop"}
    roots = {ref.removesuffix("SC") for ref in references if _kind(ref, sage_invoices) in ("invoice", "shortage")}
    assert roots <= sage_invoices
    lines = [line for _, payment in paid if payment.payment_number not in planted for line in payment.lines]
    assert any(line.invoice_number in sage_invoices and line.paid_amount < 0 for line in lines), "no price claim"


def _kind(reference: str, sage_invoices: set[str]) -> str:
    """What a remittance line is, by the pattern of its invoice number (see the domain notes)."""
    if reference.endswith("VCBSINV"):
        return "chargeback"
    if "-" in reference:
        return "coop"
    if reference.endswith("SC"):
        return "shortage"
    return "invoice" if reference in sage_invoices else "unknown"


# ingestion ---------------------------------------------------------------------------------------------
def test_ingestion_gives_the_planted_outcomes(small: tuple[Path, Manifest], tmp_path: Path) -> None:
    out, manifest = small
    toml = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    if 'code = "HAFIX"' not in toml:
        toml += HAFIX_BLOCK
    (tmp_path / "avc2sage.toml").write_text(toml, encoding="utf-8")
    config = load_business_config(tmp_path / "avc2sage.toml")
    assert {vendor.code for vendor in config.vendor_codes} >= {"HAFIN", "HAFIX"}
    inbox = tmp_path / "inbox"
    for name, path in inbox_files(out).items():
        target = inbox / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
        os.utime(target, (path.stat().st_mtime, path.stat().st_mtime))
    outcomes: list[FileOutcome] = []
    source.run(inbox, config, tmp_path / "warehouse.duckdb", tmp_path / "dlt", outcomes)

    by_name = {outcome.file.name: outcome for outcome in outcomes}
    assert set(by_name) == set(inbox_files(out))
    planted = {anomaly.kind: anomaly.document_reference for anomaly in manifest.anomalies}
    broken_file, broken_set = planted["inbound_set_quarantined"].split("#")
    expected = dict.fromkeys(by_name, "loaded") | {
        planted["inbound_file_quarantined"]: "quarantined",
        broken_file: "partially_loaded",
    }
    assert {name: outcome.outcome for name, outcome in by_name.items()} == expected
    assert [r.control_number for r in by_name[broken_file].parsed.sets if r.document is None] == [broken_set]
    resend = next(event for event in manifest.events if event["kind"] == "po_resent_unchanged")
    assert by_name[resend["file"]].parsed is not None
    assert {outcome.file.vendor_code for outcome in outcomes} == {"HAFIN", "HAFIX"}
    unchanged = _set_outcomes(tmp_path / "warehouse.duckdb", "unchanged")
    assert unchanged == [resend["file"]]


def _set_outcomes(warehouse: Path, outcome: str) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            f"select file_name from {source.DATASET_NAME}.inbound_sets where outcome = ? order by file_name", [outcome]
        ).fetchall()
    return [row[0] for row in rows]


def test_rendering_in_worker_processes_gives_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch, parsed: dict[str, ParsedFile | FileRejected]
) -> None:
    """Large scales render PO files in a process pool; the bytes must not depend on where they are rendered."""
    pos = [po for _, po in purchase_orders(parsed)][:8]
    interchanges = [
        PoInterchange(standard, n, datetime.combine(AS_OF, time(9, n)), "HARTLEYFINCH", (amazon_po(po),))
        for n, po in enumerate(pos)
        for standard in (X12, EDIFACT)
    ]
    serial = amazon_side._render_all(interchanges)
    monkeypatch.setattr(amazon_side, "PARALLEL_FROM_FILES", 2)
    assert amazon_side._render_all(interchanges) == serial


def amazon_po(po: PurchaseOrder) -> AmazonPo:
    """A parsed PO back as the generator's own, to render again."""
    lines = tuple(
        PoLine(
            line_no=int(line.line_id),
            ean=next((i.value for i in line.identifiers if i.qualifier == "EN"), None),
            vendor_sku=None,
            asin=next((i.value for i in line.identifiers if i.qualifier == "BP"), None),
            quantity=line.quantity,
            in_cases=line.unit_of_measure in ("CA", "CS"),
            price_per_each=line.unit_price or Decimal(1),
            case_size=int(line.unit_size) if line.unit_size is not None else None,
        )
        for line in po.lines
    )
    gln = next(iter(FC_GLNS.values()))
    return AmazonPo(po.po_number, "HAFIX", po.po_date, po.window_start or po.po_date, po.window_end or po.po_date,
                    "LTN1", gln, True, lines)  # fmt: skip
