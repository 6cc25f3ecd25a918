"""An invoice as an X12 810 in 004010 and 005010: byte-exact against golden files, re-readable by our reader, valid
against our 810 maps, its totals in cents, and refused when the map or the money says no.

After a deliberate change to the rendering, regenerate the golden files with
``AVC2SAGE_UPDATE_GOLDEN=1 pytest tests/invoices/test_x12_810.py`` and review the diff.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.amazon.documents import ProductIdentifier
from pipelines.edi.x12 import X12WriteError, parse_interchange
from pipelines.edi.x12.validator import default_registry
from pipelines.invoices.model import ALLOWANCE, CHARGE, INVOICE, AmazonInvoice, InvoiceAdjustment, InvoiceLine
from pipelines.invoices.x12 import InvoiceDocumentError, render_810

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("AVC2SAGE_UPDATE_GOLDEN") == "1"
NOW = datetime(2026, 3, 20, 9, 30, tzinfo=UTC)
D = Decimal
OUR_X12_ID = "HAFINEDI"
AMAZON_X12_ID = "AMAZON"
VERSIONS = ("004010", "005010")

# Line 1: 6 cases of 6 at 3.10 each, 20% VAT; line 2: 24 eaches at 4.25, 5% VAT.
CASES_LINE = InvoiceLine(
    line_number=1,
    po_number="4KT9ZQ2M",
    line_id="1",
    identifiers=(ProductIdentifier("EN", "5012345678900"), ProductIdentifier("VN", "HAF-001")),
    vendor_product_code="HAF-001",
    unit_of_measure="CA",
    unit_size=D(6),
    invoiced_eaches=D(36),
    unit_cost=D("3.10"),
    net_amount=D("111.60"),
    tax_rate=D("20.00"),
    tax_amount=D("22.32"),
)
EACHES_LINE = InvoiceLine(
    line_number=2,
    po_number="4KT9ZQ2M",
    line_id="2",
    identifiers=(ProductIdentifier("UP", "012345678905"),),
    vendor_product_code="HAF-002",
    unit_of_measure="EA",
    unit_size=D(1),
    invoiced_eaches=D(24),
    unit_cost=D("4.25"),
    net_amount=D("102.00"),
    tax_rate=D("5.00"),
    tax_amount=D("5.10"),
)
INVOICE_WITH_ADJUSTMENTS = AmazonInvoice(
    invoice_number="SI0000123",
    invoice_date=date(2026, 3, 19),
    invoice_type=INVOICE,
    vendor_code="HAFIN",
    marketplace="US",
    standard="X12",
    currency="USD",
    po_number="4KT9ZQ2M",
    po_date=date(2026, 3, 13),
    sales_order_number="SO0001234",
    remit_to_id=OUR_X12_ID,
    remit_to_name="Hafin Foods Ltd",
    remit_to_vat_number="GB123456789",
    bill_to_id="AMAZON",
    ship_to_qualifier="92",
    ship_to_id="ABE8",
    payment_terms_days=60,
    lines=(CASES_LINE, EACHES_LINE),
    adjustments=(
        InvoiceAdjustment(ALLOWANCE, "C310", "Discount", D("10.00")),
        InvoiceAdjustment(CHARGE, "D240", "Freight", D("15.50")),
    ),
    net_total=D("219.10"),
    tax_total=D("27.42"),
    gross_total=D("246.52"),
)


def render(invoice: AmazonInvoice, version: str) -> str:
    return render_810(
        invoice,
        version=version,
        sender_id=OUR_X12_ID,
        receiver_id=AMAZON_X12_ID,
        isa13=1,
        gs06="1",
        st02="0001",
        prepared_at=NOW,
    )


def body(text: str) -> list[str]:
    """The segments between ST and SE as text."""
    segments = [segment.strip() for segment in text.split("~") if segment.strip()]
    return segments[3:-3]


def golden_name(version: str) -> str:
    return f"x12_810_{version}_vat_allowance_charge.edi"


@pytest.mark.parametrize("version", VERSIONS)
def test_810_matches_its_golden_file(version: str) -> None:
    content = render(INVOICE_WITH_ADJUSTMENTS, version).encode("utf-8")
    golden = GOLDEN / golden_name(version)
    if UPDATE_GOLDEN:
        golden.write_bytes(content)
    assert content == golden.read_bytes()


@pytest.mark.parametrize("version", VERSIONS)
def test_golden_810_reads_back_and_passes_our_810_map(version: str) -> None:
    interchange = parse_interchange((GOLDEN / golden_name(version)).read_bytes())
    assert interchange.errors == []
    assert interchange.version == version[:5]
    (group,) = interchange.groups
    assert (group.functional_id, group.version) == ("IN", version)
    (transaction_set,) = group.sets
    assert transaction_set.set_id == "810"
    transaction_map = default_registry().find(version, "810")
    assert transaction_map.validate(transaction_set.segments, interchange.separators) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_810_says_the_invoice_the_lines_the_vat_and_the_adjustments(version: str) -> None:
    assert body(render(INVOICE_WITH_ADJUSTMENTS, version)) == [
        "BIG*20260319*SI0000123*20260313*4KT9ZQ2M",
        "CUR*BT*USD",
        "REF*VN*SO0001234",
        "N1*BT**92*AMAZON",
        "N1*RI*Hafin Foods Ltd*92*HAFINEDI",
        "N1*ST**92*ABE8",
        "ITD*01*3*****60",
        "IT1*1*6*CA*3.10*PE*EN*5012345678900*VN*HAF-001",
        "IT1*2*24*EA*4.25*PE*UP*012345678905",
        "TDS*24652",
        "TXI*VA*22.32*20",
        "TXI*VA*5.10*5",
        "SAC*A*C310***1000**********Discount",
        "SAC*C*D240***1550**********Freight",
        "CTT*2*30",
    ]


def test_tds_is_the_gross_total_in_cents() -> None:
    segments = body(render(INVOICE_WITH_ADJUSTMENTS, "004010"))
    (tds,) = [segment for segment in segments if segment.startswith("TDS*")]
    assert Decimal(tds.split("*")[1]) == INVOICE_WITH_ADJUSTMENTS.gross_total * 100
    invoice = INVOICE_WITH_ADJUSTMENTS
    assert invoice.gross_total == invoice.net_total + invoice.tax_total
    assert invoice.net_total == sum(line.net_amount for line in invoice.lines) + invoice.adjustments_total()


def test_an_invoice_without_terms_or_ship_to_leaves_them_out() -> None:
    bare = replace(INVOICE_WITH_ADJUSTMENTS, payment_terms_days=None, ship_to_qualifier=None, ship_to_id=None)
    segments = body(render(bare, "005010"))
    assert not any(segment.startswith(("ITD", "N1*ST")) for segment in segments)


def test_the_map_refuses_an_810_without_an_invoice_number() -> None:
    with pytest.raises(X12WriteError, match="breaks its map") as refused:
        render(replace(INVOICE_WITH_ADJUSTMENTS, invoice_number=""), "004010")
    assert [(issue.segment_tag, issue.element) for issue in refused.value.issues] == [("BIG", 2)]


def test_a_version_without_a_map_is_refused() -> None:
    with pytest.raises(X12WriteError, match=r"^no map for 810 003050: we never write what we cannot validate$"):
        render(INVOICE_WITH_ADJUSTMENTS, "003050")


def test_vat_that_does_not_add_up_to_the_tax_total_is_refused() -> None:
    with pytest.raises(InvoiceDocumentError) as refused:
        render(replace(INVOICE_WITH_ADJUSTMENTS, tax_total=D("27.43")), "004010")
    assert str(refused.value) == (
        "invoice SI0000123: the lines' VAT adds up to 27.42, the invoice says 27.43; Amazon requires the header tax"
        " to equal the sum of the line taxes"
    )


def test_an_amount_with_a_fraction_of_a_cent_is_refused_not_rounded() -> None:
    adjustment = InvoiceAdjustment(CHARGE, "D240", "Freight", D("15.505"))
    with pytest.raises(InvoiceDocumentError, match=r"^charge D240 15\.505 has a fraction of a cent"):
        render(replace(INVOICE_WITH_ADJUSTMENTS, adjustments=(adjustment,)), "004010")
