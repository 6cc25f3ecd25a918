"""An invoice as an EDIFACT INVOIC: byte-exact against a golden file, re-readable by our EDIFACT reader and valid
against our INVOIC definition, its summary amounts the model's totals.

After a deliberate change to the rendering, regenerate the golden file with
``AVC2SAGE_UPDATE_GOLDEN=1 pytest tests/invoices/test_edifact_invoic.py`` and review the diff.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.amazon.documents import ProductIdentifier
from pipelines.edi.edifact import InvalidDocument, read_interchange
from pipelines.edi.edifact.d96a import INVOIC
from pipelines.edi.edifact.definitions import Validator
from pipelines.invoices.edifact import InvoiceDocumentError, render_invoic
from pipelines.invoices.model import ALLOWANCE, CHARGE, INVOICE, AmazonInvoice, InvoiceAdjustment, InvoiceLine

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_INVOIC = GOLDEN / "edifact_invoic_vat_adjustments.edi"
UPDATE_GOLDEN = os.environ.get("AVC2SAGE_UPDATE_GOLDEN") == "1"
PREPARED_AT = datetime(2026, 3, 20, 7, 45, tzinfo=UTC)
OUR_GLN = "5060123450004"
AMAZON_GLN = "5450534000024"
D = Decimal


def invoice_line(number: int, *ids: str, unit: str, size: int, eaches: int, cost: str, net: str, rate: str, tax: str):
    return InvoiceLine(
        line_number=number,
        po_number="4KT9ZQ2M",
        line_id=str(number + 9),
        identifiers=tuple(ProductIdentifier(ids[i], ids[i + 1]) for i in range(0, len(ids), 2)),
        vendor_product_code=f"HAF-00{number}",
        unit_of_measure=unit,
        unit_size=D(size),
        invoiced_eaches=D(eaches),
        unit_cost=D(cost),
        net_amount=D(net),
        tax_rate=D(rate),
        tax_amount=D(tax),
    )


# 12 eaches at 4.25 with 20% VAT; 4 cases of 6 at 3.10 a piece, zero-rated; a 5.00 allowance and 7.50 freight.
INVOICE_DOCUMENT = AmazonInvoice(
    invoice_number="SI0007788",
    invoice_date=date(2026, 3, 19),
    invoice_type=INVOICE,
    vendor_code="HAFIN",
    marketplace="UK",
    standard="EDIFACT",
    currency="GBP",
    po_number="4KT9ZQ2M",
    po_date=date(2026, 3, 13),
    sales_order_number="SO0001234",
    remit_to_id=OUR_GLN,
    remit_to_name="Hafren Fine Foods of the Welsh Marches Limited",
    remit_to_vat_number="GB123456789",
    bill_to_id=AMAZON_GLN,
    ship_to_qualifier="9",
    ship_to_id="5450534000109",
    payment_terms_days=60,
    lines=(
        invoice_line(
            1, "EN", "5012345678900", "SA", "HAF-001", unit="PCE", size=1, eaches=12, cost="4.25", net="51.00",
            rate="20.00", tax="10.20",
        ),
        invoice_line(
            2, "EN", "5012345678917", unit="CS", size=6, eaches=24, cost="3.10", net="74.4", rate="0.00", tax="0",
        ),
    ),
    adjustments=(
        InvoiceAdjustment(ALLOWANCE, "C310", "Promotional discount", D("5.00")),
        InvoiceAdjustment(CHARGE, "D240", "Freight", D("7.50")),
    ),
    net_total=D("127.90"),
    tax_total=D("10.20"),
    gross_total=D("138.10"),
)  # fmt: skip


def render(invoice: AmazonInvoice) -> bytes:
    return render_invoic(
        invoice,
        sender_id=OUR_GLN,
        receiver_id=AMAZON_GLN,
        unb_reference="31",
        unh_reference="44",
        prepared_at=PREPARED_AT,
    )


def segments(data: bytes) -> list[str]:
    return data.decode("ascii").split("'")[:-1]


def test_invoic_matches_its_golden_file() -> None:
    content = render(INVOICE_DOCUMENT)
    if UPDATE_GOLDEN:
        GOLDEN_INVOIC.write_bytes(content)
    assert content == GOLDEN_INVOIC.read_bytes()


def test_golden_invoic_reads_back_and_passes_our_invoic_definition() -> None:
    interchange = read_interchange(GOLDEN_INVOIC.read_bytes())
    assert interchange.envelope_errors == []
    assert interchange.trailer_error is None
    assert (interchange.syntax, interchange.version, interchange.sender, interchange.reference) == (
        "UNOA",
        "2",
        OUR_GLN,
        "31",
    )
    (result,) = interchange.messages
    message = result.message
    assert message.identifier == ("INVOIC", "D", "96A", "UN")
    assert message.header.get(2, 5) == "EAN008"
    Validator(interchange.chars).validate(INVOIC, message.body, message.segments[-1])


def test_invoic_says_the_invoice_segment_by_segment() -> None:
    assert segments(render(INVOICE_DOCUMENT))[3:] == [
        "BGM+380+SI0007788+9",
        "DTM+137:20260319:102",
        "RFF+ON:4KT9ZQ2M",
        "DTM+171:20260313:102",
        "RFF+VN:SO0001234",
        "NAD+SU+5060123450004::9++Hafren Fine Foods of the Welsh Marc:hes Limited",
        "RFF+VA:GB123456789",
        "NAD+BY+5450534000024::9",
        "NAD+IV+5450534000024::9",
        "NAD+DP+5450534000109::9",
        "CUX+2:GBP:4",
        "PAT+1++5:3:D:60",
        "ALC+A+C310+++:::Promotional discount",
        "MOA+8:5.00",
        "ALC+C+D240+++:::Freight",
        "MOA+8:7.50",
        "LIN+1++5012345678900:EN",
        "PIA+5+HAF-001:SA",
        "QTY+47:12:PCE",
        "MOA+203:51.00",
        "PRI+AAA:4.25:::1:PCE",
        "RFF+ON:4KT9ZQ2M:10",
        "TAX+7+VAT+++:::20",
        "MOA+124:10.20",
        "LIN+2++5012345678917:EN",
        "QTY+47:4:CS",
        "MOA+203:74.40",
        "PRI+AAA:3.10:::1:PCE",
        "RFF+ON:4KT9ZQ2M:11",
        "TAX+7+VAT+++:::0",
        "MOA+124:0.00",
        "UNS+S",
        "CNT+2:2",
        "MOA+77:138.10",
        "MOA+79:125.40",
        "MOA+86:138.10",
        "MOA+124:10.20",
        "MOA+125:125.40",
        "MOA+131:2.50",
        "TAX+7+VAT+++:::20",
        "MOA+125:51.00",
        "MOA+124:10.20",
        "TAX+7+VAT+++:::0",
        "MOA+125:74.40",
        "MOA+124:0.00",
        "UNT+47+44",
        "UNZ+1+31",
    ]


def test_summary_amounts_are_the_models_totals() -> None:
    summary = segments(render(INVOICE_DOCUMENT))
    summary = summary[summary.index("CNT+2:2") + 1 :]
    totals = {}
    for segment in summary[: summary.index("TAX+7+VAT+++:::20")]:
        qualifier, amount = segment.removeprefix("MOA+").split(":")
        totals[qualifier] = D(amount)
    invoice = INVOICE_DOCUMENT
    assert totals["77"] == totals["86"] == invoice.gross_total
    assert totals["124"] == invoice.tax_total
    assert totals["131"] == invoice.adjustments_total()
    assert totals["79"] + totals["131"] == invoice.net_total
    assert totals["125"] + totals["124"] + totals["131"] == invoice.gross_total


def test_allowances_above_charges_give_a_negative_adjustments_total() -> None:
    invoice = replace(
        INVOICE_DOCUMENT,
        adjustments=(InvoiceAdjustment(ALLOWANCE, "C310", "Promotional discount", D("12.00")),),
        net_total=D("113.40"),
        gross_total=D("123.60"),
    )
    text = "'".join(segments(render(invoice)))
    assert "MOA+77:123.60'MOA+79:125.40'MOA+86:123.60'MOA+124:10.20'MOA+125:125.40'MOA+131:-12.00'" in text


def test_an_invoice_without_vat_number_terms_or_ship_to_leaves_them_out() -> None:
    invoice = replace(INVOICE_DOCUMENT, remit_to_vat_number=None, payment_terms_days=None, ship_to_id=None)
    text = "'".join(segments(render(invoice)))
    assert "Limited'NAD+BY+5450534000024::9'NAD+IV+5450534000024::9'CUX+2:GBP:4'ALC+A" in text


def test_an_amount_finer_than_a_penny_is_refused() -> None:
    line = replace(INVOICE_DOCUMENT.lines[0], net_amount=D("51.004"))
    with pytest.raises(InvoiceDocumentError) as refused:
        render(replace(INVOICE_DOCUMENT, lines=(line, INVOICE_DOCUMENT.lines[1])))
    assert str(refused.value) == "line 1 net amount 51.004 is finer than a penny: Sage's amounts are rounded to 0.01"


def test_a_value_the_definition_does_not_allow_is_refused() -> None:
    with pytest.raises(InvalidDocument) as refused:
        render(replace(INVOICE_DOCUMENT, invoice_number="SI" + "0" * 34))
    assert str(refused.value) == (
        f"INVOIC:D:96A:UN 44: 1004 Document/message number 'SI{'0' * 34}' is longer than 35"
        " at segment 2 (BGM), element 2"
    )
