"""The planted remittances of the sample vendor: each loads, from every file Amazon sends it in, with the lines,
kinds and amounts the manifest gives; they are dated where the Sage periods say; and the manifest lists exactly
the exceptions they plant. The files are ingested by the project's own Amazon source into a DuckDB."""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.amazon import source
from pipelines.amazon.documents import ParsedFile, RemittanceLine, RemittancePayment
from pipelines.amazon.inbox import FileOutcome
from pipelines.amazon.remittance_export import read_remittance_export
from pipelines.edi.x12 import read_x12
from pipelines.scenario.amazon_documents import (
    Party,
    Payment,
    RemittanceItem,
    render_820,
    render_export_csv,
    render_export_xlsx,
)
from pipelines.scenario.amazon_side import INBOX
from pipelines.scenario.formats import read_event_stream
from pipelines.scenario.generate import HISTORY_FILE, generate
from pipelines.scenario.manifest import Manifest
from pipelines.settings import EXAMPLE_CONFIG, load_business_config

AS_OF = date(2026, 3, 15)
SEED = 7
LABELS = ["PA", "PB", "PC", "PD", "PE", "PF"]
X12_LABELS = {"PB", "PE"}  # HAFIX's: an 820 and the export; the others are HAFIN's export only
REMITTANCE_KINDS = {
    "remittance_invoice_short_paid",
    "remittance_line_unmatched",
    "remittance_unknown_deduction",
    "remittance_invoice_paid_twice",
    "remittance_payment_in_closed_period",
    "remittance_negative_net",
}
HAFIX_BLOCK = """
[[vendor_codes]]
code = "HAFIX"
marketplace = "UK"
sage_customer_account = "AMA001"
edi_standard = "X12"
currency = "GBP"
"""
# What ingestion keeps of a line, compared across an 820 and its export and with the manifest.
LINE_COLUMNS = "line_number, invoice_number, description, po_number, paid_amount, discount_amount"


@dataclass(frozen=True)
class Loaded:
    warehouse: Path
    outcomes: dict[str, FileOutcome]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("remittances")
    return out, generate(SEED, AS_OF, "small", out)


@pytest.fixture(scope="module")
def planted(scenario: tuple[Path, Manifest]) -> dict[str, dict[str, Any]]:
    return {payment["label"]: payment for payment in scenario[1].planted_remittances}


@pytest.fixture(scope="module")
def loaded(scenario: tuple[Path, Manifest], tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    """The whole generated inbox, loaded into raw_amazon by the Amazon source."""
    root = tmp_path_factory.mktemp("ingest")
    toml = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    if 'code = "HAFIX"' not in toml:
        toml += HAFIX_BLOCK
    (root / "avc2sage.toml").write_text(toml, encoding="utf-8")
    config = load_business_config(root / "avc2sage.toml")
    generated = scenario[0] / INBOX
    for path in sorted(generated.rglob("*")):
        if path.is_file():
            target = root / "inbox" / path.relative_to(generated)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
            os.utime(target, (path.stat().st_mtime, path.stat().st_mtime))
    outcomes: list[FileOutcome] = []
    source.run(root / "inbox", config, root / "warehouse.duckdb", root / "dlt", outcomes)
    return Loaded(root / "warehouse.duckdb", {outcome.file.name: outcome for outcome in outcomes})


def query(loaded: Loaded, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(loaded.warehouse), read_only=True) as connection:
        return connection.execute(sql, list(parameters)).fetchall()


def versions(loaded: Loaded, payment_number: str) -> dict[str, list[tuple[Any, ...]]]:
    """Each loaded version of a payment (by source format): its lines as ingestion numbered them."""
    rows = query(
        loaded,
        f"select p.source_format, {', '.join('l.' + c for c in LINE_COLUMNS.split(', '))} "
        f"from {source.DATASET_NAME}.remittance_payments p join {source.DATASET_NAME}.remittance_lines l "
        "using (payment_number, content_sha256) where payment_number = ? order by p.source_format, l.line_number",
        payment_number,
    )
    by_format: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for source_format, *line in rows:
        by_format[source_format].append(tuple(line))
    return dict(by_format)


def manifest_lines(payment: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            line["line_number"],
            line["invoice_number"],
            line["description"],
            line["po_number"],
            Decimal(line["amount"]),
            Decimal(line["discount_amount"]),
        )
        for line in payment["lines"]
    ]


def closes(out: Path) -> list[date]:
    """The ends of the periods the Sage history closes, in order."""
    return [
        date.fromisoformat(e["up_to"]) for e in read_event_stream(out / HISTORY_FILE) if e["event"] == "period_close"
    ]


# the files ---------------------------------------------------------------------------------------------------
def test_six_payments_are_planted_in_their_vendor_codes_formats(
    scenario: tuple[Path, Manifest], planted: dict[str, dict[str, Any]]
) -> None:
    out, manifest = scenario
    assert list(planted) == LABELS
    assert manifest.counts["amazon_remittance_payments_planted"] == len(LABELS)
    assert manifest.counts["amazon_remittance_lines_planted"] == sum(len(p["lines"]) for p in planted.values())
    numbers = [payment["payment_number"] for payment in planted.values()]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    names = [path.relative_to(out / INBOX).as_posix() for path in (out / INBOX).rglob("*") if path.is_file()]
    for label, payment in planted.items():
        code, number = payment["vendor_code"], payment["payment_number"]
        assert code == ("HAFIX" if label in X12_LABELS else "HAFIN")
        exports = [name for name in names if name.startswith(f"{code}/REMITTANCE_") and number in name]
        assert [Path(name).suffix for name in exports] == [".csv"], label
        edi = [
            name for name in names if "/820_" in name and f"*{number}*".encode() in (out / INBOX / name).read_bytes()
        ]
        assert len(edi) == (label in X12_LABELS), label


def test_every_planted_payment_loads_from_each_file_with_the_manifests_lines(
    loaded: Loaded, planted: dict[str, dict[str, Any]]
) -> None:
    assert {outcome.outcome for outcome in loaded.outcomes.values() if "REMITTANCE" in outcome.file.name} == {"loaded"}
    for label, payment in planted.items():
        found = versions(loaded, payment["payment_number"])
        formats = {"X12", "REMITTANCE_CSV"} if label in X12_LABELS else {"REMITTANCE_CSV"}
        assert set(found) == formats, label
        for lines in found.values():
            assert lines == manifest_lines(payment), label


def test_every_hafix_payment_reads_the_same_from_its_820_and_its_export(loaded: Loaded) -> None:
    numbers = query(
        loaded,
        f"select payment_number from {source.DATASET_NAME}.remittance_payments where source_format = 'X12'",
    )
    assert len(numbers) >= len(X12_LABELS)
    for (number,) in numbers:
        found = versions(loaded, number)
        assert found["X12"] == found["REMITTANCE_CSV"], number
        totals = query(
            loaded,
            f"select source_format, payment_date, amount from {source.DATASET_NAME}.remittance_payments "
            "where payment_number = ? order by source_format",
            number,
        )
        assert len({(day, amount) for _, day, amount in totals}) == 1, number


def test_payment_amounts_are_the_sum_of_their_lines(loaded: Loaded, planted: dict[str, dict[str, Any]]) -> None:
    for label, payment in planted.items():
        lines = sum((Decimal(line["amount"]) for line in payment["lines"]), Decimal("0.00"))
        assert Decimal(payment["amount"]) == lines, label
        amounts = query(
            loaded,
            f"select distinct amount from {source.DATASET_NAME}.remittance_payments where payment_number = ?",
            payment["payment_number"],
        )
        assert amounts == [(lines,)], label
    assert Decimal(planted["PF"]["amount"]) < 0
    assert all(Decimal(planted[label]["amount"]) > 0 for label in LABELS if label != "PF")


# what the lines are ------------------------------------------------------------------------------------------
def pattern_kind(line: dict[str, Any]) -> str:
    """A line's kind by the contract's pattern table, from what Amazon writes (reference, description, sign)."""
    reference, description = line["invoice_number"], line["description"]
    patterns = [
        (r"\d+(SCR)+SC", "revised_claim"),
        (r"\d+SCR", "claim_reversal"),
        (r"\d+SC", "shortage_claim"),
        (r"\d+VCBSINV", "chargeback"),
        (r"[A-Z]{4}-\d{8}", "coop_agreement"),
        (r"\d+-PROVISION FOR RECEIVABLESR", "provision_reversal"),
        (r"\d+-PROVISION FOR RECEIVABLES", "provision"),
        (r"IPAPUS\d{7}", "price_protection"),
    ]
    for pattern, kind in patterns:
        if re.fullmatch(pattern, reference):
            return kind
    if description == "Price variance":
        return "price_claim"
    return "invoice_payment" if description == "Invoice" else "other"


def test_line_kinds_and_signs_follow_the_contracts_patterns(planted: dict[str, dict[str, Any]]) -> None:
    positive = {"invoice_payment", "claim_reversal", "provision_reversal"}
    seen = set()
    for payment in planted.values():
        for line in payment["lines"]:
            assert line["line_kind"] == pattern_kind(line), line
            assert (Decimal(line["amount"]) > 0) == (line["line_kind"] in positive), line
            invoice_line = line["line_kind"] == "invoice_payment"
            assert (line["expected_match_status"] == "not_applicable") != invoice_line, line
            seen.add(line["line_kind"])
    assert seen == {
        "invoice_payment", "shortage_claim", "claim_reversal", "revised_claim", "chargeback", "coop_agreement",
        "provision", "provision_reversal", "price_protection", "price_claim", "other",
    }  # fmt: skip


def test_each_payment_holds_its_situations(planted: dict[str, dict[str, Any]]) -> None:
    pa, pb, pc, pd, pe, pf = (planted[label]["lines"] for label in LABELS)
    invoices = [line for line in pa if line["line_kind"] == "invoice_payment"]
    i1, _, i3, i4 = (line["invoice_number"] for line in invoices)
    assert [(line["line_kind"], line["invoice_number"]) for line in pa if line["line_kind"] != "invoice_payment"] == [
        ("shortage_claim", f"{i1}SC"),
        ("price_claim", i4),
    ]
    assert [line["expected_match_status"] for line in invoices] == [
        "matched", "partially_matched", "partially_matched", "matched",
    ]  # fmt: skip
    assert Decimal(invoices[3]["discount_amount"]) > 0
    pb_by_reference = {line["invoice_number"]: line for line in pb}
    assert pb_by_reference[i3]["expected_match_status"] == "matched"
    reversal, revised = Decimal(pb_by_reference[f"{i1}SCR"]["amount"]), Decimal(pb_by_reference[f"{i1}SCRSC"]["amount"])
    shortage = Decimal(next(line["amount"] for line in pa if line["invoice_number"] == f"{i1}SC"))
    assert reversal == -shortage and shortage < revised < 0
    assert {"QZPK-20260301", "HFMK-20260302"} <= set(pb_by_reference)
    provisions = sorted((r, Decimal(line["amount"])) for r, line in pb_by_reference.items() if "PROVISION" in r)
    assert len(provisions) == 2 and provisions[1][0] == provisions[0][0] + "R"
    assert 0 < provisions[1][1] <= -provisions[0][1]
    [chargeback] = [line for line in pb if line["line_kind"] == "chargeback"]
    assert chargeback["po_number"] == invoices[3]["po_number"]  # i4's PO, paid by PA
    assert {line["expected_match_method"] for line in pc} == {None, "normalised", "po_amount"}
    normalised = next(line for line in pc if line["expected_match_method"] == "normalised")
    assert normalised["invoice_number"] == normalised["expected_invoice_reference"].lstrip("0")
    by_po = next(line for line in pc if line["expected_match_method"] == "po_amount")
    assert by_po["invoice_number"] == "AMZ-REMIT-ADJ" and by_po["po_number"]
    assert pd[0]["invoice_number"] == i1
    assert len(pe) == 1 and pe[0]["expected_match_status"] == "matched"
    assert [line["line_kind"] for line in pf] == ["chargeback", "invoice_payment"]


def test_po_amount_and_normalised_matches_have_one_candidate(
    scenario: tuple[Path, Manifest], planted: dict[str, dict[str, Any]]
) -> None:
    """The n-th invoice event is Sage invoice n; its PO is the order's customer document number."""
    out, _ = scenario
    invoices = [e for e in read_event_stream(out / HISTORY_FILE) if e["event"] == "invoice"]
    po_of = {f"{n:010d}": event["customer_document_no"] for n, event in enumerate(invoices, start=1)}
    for line in planted["PC"]["lines"]:
        reference = line["expected_invoice_reference"]
        if line["expected_match_method"] == "po_amount":
            assert po_of[reference] == line["po_number"]
            assert list(po_of.values()).count(line["po_number"]) == 1
        if line["expected_match_method"] in ("normalised", "po_amount"):
            assert line["invoice_number"] not in po_of
    unknown = next(line for line in planted["PC"]["lines"] if line["expected_match_status"] == "unmatched")
    assert unknown["invoice_number"] not in po_of and unknown["po_number"] is None


# dates -------------------------------------------------------------------------------------------------------
def test_payments_are_dated_in_the_open_period_but_the_closed_one(
    scenario: tuple[Path, Manifest], planted: dict[str, dict[str, Any]]
) -> None:
    out, _ = scenario
    ends = closes(out)
    assert ends[-2:] == [date(2026, 1, 31), date(2026, 2, 28)]
    days = {label: date.fromisoformat(payment["payment_date"]) for label, payment in planted.items()}
    assert ends[-2] < days["PE"] <= ends[-1] and days["PE"].weekday() < 5
    assert ends[-1] < days["PA"] < days["PB"] < days["PC"] < days["PD"] <= AS_OF - timedelta(days=1)
    assert ends[-1] < days["PF"] <= AS_OF - timedelta(days=1)


def test_regular_payments_come_after_the_last_close_with_every_deduction_kind(
    scenario: tuple[Path, Manifest], planted: dict[str, dict[str, Any]]
) -> None:
    out, manifest = scenario
    ours = {payment["payment_number"] for payment in planted.values()}
    regular: list[RemittancePayment] = []
    for path in sorted((out / INBOX).glob("*/REMITTANCE_*")):
        parsed = read_remittance_export(path.read_bytes(), path.name, date_order="DMY")
        regular += [r.document for r in parsed.sets if isinstance(r.document, RemittancePayment)]
    regular = [payment for payment in regular if payment.payment_number not in ours]
    assert len(regular) == manifest.counts["amazon_remittance_payments"] - len(ours) > 0
    assert min(payment.payment_date for payment in regular) > closes(out)[-1]
    kinds = {
        pattern_kind({"invoice_number": line.invoice_number, "description": line.description})
        for payment in regular
        for line in payment.lines
    }
    assert kinds == {"invoice_payment", "shortage_claim", "price_claim", "coop_agreement", "chargeback"}


# what the manifest expects -----------------------------------------------------------------------------------
def test_the_manifest_lists_exactly_the_planted_exceptions(
    scenario: tuple[Path, Manifest], planted: dict[str, dict[str, Any]], loaded: Loaded
) -> None:
    manifest = scenario[1]
    number = {label: payment["payment_number"] for label, payment in planted.items()}

    def line_of(label: str, reference: str) -> str:
        rows = query(
            loaded,
            f"select distinct line_number from {source.DATASET_NAME}.remittance_lines "
            "where payment_number = ? and invoice_number = ?",
            number[label],
            reference,
        )
        assert len(rows) == 1, (label, reference)
        return f"{number[label]}#{rows[0][0]}"

    short_paid = next(line for line in planted["PA"]["lines"] if line["expected_match_status"] == "partially_matched")
    i1 = planted["PA"]["lines"][0]["invoice_number"]
    expected = {
        ("remittance_invoice_short_paid", short_paid["expected_invoice_reference"]),
        ("remittance_line_unmatched", line_of("PC", "9999999999")),
        ("remittance_unknown_deduction", line_of("PC", "ZZ-7781")),
        ("remittance_invoice_paid_twice", line_of("PD", i1)),
        ("remittance_payment_in_closed_period", number["PE"]),
        ("remittance_negative_net", number["PF"]),
    }
    found = [(a.kind, a.document_reference) for a in manifest.anomalies if a.kind.startswith("remittance_")]
    assert sorted(found) == sorted(expected)
    assert all(a.detail for a in manifest.anomalies if a.kind in REMITTANCE_KINDS)


def test_expected_outstanding_follows_the_files(
    scenario: tuple[Path, Manifest], planted: dict[str, dict[str, Any]], loaded: Loaded
) -> None:
    """i2 keeps what PA's export says remains, PE's invoice (refused) its gross, every other invoice nothing."""
    outstanding = {number: Decimal(value) for number, value in scenario[1].expected_invoice_outstanding.items()}
    touched = {
        line["expected_invoice_reference"] or line["root_invoice_number"]
        for payment in planted.values()
        for line in payment["lines"]
    } - {None}
    assert set(outstanding) == touched
    short_paid = next(line for line in planted["PA"]["lines"] if line["expected_match_status"] == "partially_matched")
    i2 = short_paid["expected_invoice_reference"]
    [(remaining,)] = query(
        loaded,
        f"select remaining_amount from {source.DATASET_NAME}.remittance_lines where payment_number = ? "
        "and invoice_number = ?",
        planted["PA"]["payment_number"],
        i2,
    )
    [refused] = planted["PE"]["lines"]
    [(gross,)] = query(
        loaded,
        f"select distinct gross_amount from {source.DATASET_NAME}.remittance_lines where payment_number = ?",
        planted["PE"]["payment_number"],
    )
    assert remaining > 0
    assert outstanding == dict.fromkeys(touched, Decimal("0.00")) | {
        i2: remaining,
        refused["expected_invoice_reference"]: gross,
    }


# rendering ---------------------------------------------------------------------------------------------------
def test_the_820_and_the_export_carry_discounts_part_payments_and_a_negative_net() -> None:
    """What the sample's HAFIX payments do not all use: a terms discount, a part payment and a negative net."""
    day = date(2026, 3, 10)
    invoice_day = date(2026, 1, 20)
    items = (
        RemittanceItem("invoice_payment", "0000000031", invoice_day, Decimal("98.00"), "PO31", discount=Decimal(2)),
        RemittanceItem("price_claim", "0000000031", day, Decimal("-3.00"), "PO31", "0000000031"),
        RemittanceItem(
            "invoice_payment", "0000000032", invoice_day, Decimal("60.00"), "PO32", gross=Decimal("80.00"),
            remaining=Decimal("20.00"),
        ),
        RemittanceItem("chargeback", "123456VCBSINV", day, Decimal("-400.00"), "PO77"),
        RemittanceItem("provision_reversal", "77-PROVISION FOR RECEIVABLESR", day, Decimal("5.00")),
        RemittanceItem("other", "ZZ-1", day, Decimal("-1.00"), description="Miscellaneous adjustment"),
    )  # fmt: skip
    payment = Payment("HAFIX", "4200000001", day, items)
    assert payment.amount == Decimal("-241.00")
    edi = render_820(payment, 7, datetime.combine(day, time(6)), "HARTLEYFINCH", Party("HARTLEY & FINCH LTD", "HAFIX"))
    readings = [
        read_x12(edi, "820.edi"),
        read_remittance_export(render_export_csv(payment), "export.csv", date_order="DMY"),
        read_remittance_export(render_export_xlsx(payment), "export.xlsx", date_order="DMY"),
    ]
    documents = [one_payment(parsed) for parsed in readings]
    for document in documents:
        assert (document.payment_number, document.payment_date, document.amount) == ("4200000001", day, payment.amount)
        assert [comparable(line) for line in document.lines] == [
            ("123456VCBSINV", "Vendor compliance chargeback", "PO77", Decimal(-400), Decimal(0), Decimal(-400)),
            ("77-PROVISION FOR RECEIVABLESR", "Provision for receivables reversal", None, Decimal("5.00"), Decimal(0),
             Decimal("5.00")),
            ("ZZ-1", "Miscellaneous adjustment", None, Decimal("-1.00"), Decimal(0), Decimal("-1.00")),
            ("0000000031", "Invoice", "PO31", Decimal("100.00"), Decimal("2.00"), Decimal("98.00")),
            ("0000000031", "Price variance", "PO31", Decimal("-3.00"), Decimal(0), Decimal("-3.00")),
            ("0000000032", "Invoice", "PO32", Decimal("80.00"), Decimal(0), Decimal("60.00")),
        ]  # fmt: skip
    assert [line.remaining_amount for line in documents[1].lines][3:] == [Decimal("0.00"), None, Decimal("20.00")]


def one_payment(parsed: ParsedFile) -> RemittancePayment:
    [result] = parsed.sets
    assert isinstance(result.document, RemittancePayment), result.error
    return result.document


def comparable(line: RemittanceLine) -> tuple[Any, ...]:
    return (
        line.invoice_number,
        line.description,
        line.po_number,
        line.gross_amount,
        line.discount_amount,
        line.paid_amount,
    )


def test_a_sample_dated_late_in_a_month_still_plants_the_payments_its_invoices_allow(tmp_path: Path) -> None:
    """On 27 November the sample's Sage invoices all fall after the close of October, which the regular payments
    settle first: the planted payments start later in the open days, and none can be dated in the closed period."""
    manifest = generate(seed=SEED, as_of=date(2026, 11, 27), scale="small", out=tmp_path / "sample")

    assert [payment["label"] for payment in manifest.planted_remittances] == ["PA", "PB", "PC", "PD", "PF"]
    assert sorted(a.kind for a in manifest.anomalies if a.kind.startswith("remittance_")) == [
        "remittance_invoice_paid_twice",
        "remittance_invoice_short_paid",
        "remittance_line_unmatched",
        "remittance_negative_net",
        "remittance_unknown_deduction",
    ]
    first_payment = min(date.fromisoformat(payment["payment_date"]) for payment in manifest.planted_remittances)
    assert first_payment > date(2026, 11, 2), "the first open day has no unpaid invoice before it"
