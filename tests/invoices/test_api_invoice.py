"""An invoice as the SP-API `submitInvoices` JSON: byte-exact against a golden file, valid against Amazon's
schema, refused with the JSON path when it is not, and never a rounded quantity.

After a deliberate change to the rendering, regenerate the golden file with
``AVC2SAGE_UPDATE_GOLDEN=1 pytest tests/invoices/test_api_invoice.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.amazon.documents import ProductIdentifier
from pipelines.invoices.api import InvoiceApiError, InvoiceSchemaError, render_api_invoice, validate_api_invoice
from pipelines.invoices.model import (
    ALLOWANCE,
    CHARGE,
    CREDIT_NOTE,
    INVOICE,
    AmazonInvoice,
    InvoiceAdjustment,
    InvoiceLine,
)

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_FILE = "api_invoice_vat_allowance_charge.json"
UPDATE_GOLDEN = os.environ.get("AVC2SAGE_UPDATE_GOLDEN") == "1"
D = Decimal
PO = "4KT9ZQ2M"


def line(
    number: int,
    unit: str,
    unit_size: int,
    eaches: int | str,
    cost: str,
    net: str,
    rate: str,
    tax: str,
    *identifiers: tuple[str, str],
) -> InvoiceLine:
    return InvoiceLine(
        line_number=number,
        po_number=PO,
        line_id=str(number),
        identifiers=tuple(ProductIdentifier(qualifier, value) for qualifier, value in identifiers),
        vendor_product_code=f"SKU-{number}",
        unit_of_measure=unit,
        unit_size=D(unit_size),
        invoiced_eaches=D(eaches),
        unit_cost=D(cost),
        net_amount=D(net),
        tax_rate=D(rate),
        tax_amount=D(tax),
    )


# Two standard-rated lines (one in cases of six), a zero-rated one, freight charged and a discount allowed.
INVOICE_WITH_VAT = AmazonInvoice(
    invoice_number="SI-0004512",
    invoice_date=date(2026, 3, 16),
    invoice_type=INVOICE,
    vendor_code="HAFIN",
    marketplace="UK",
    standard="API",
    currency="GBP",
    po_number=PO,
    po_date=date(2026, 3, 13),
    sales_order_number="SO-0009876",
    remit_to_id="HAFIN",
    remit_to_name="Hafin Ltd",
    remit_to_vat_number="GB123456789",
    bill_to_id="AMAZON-EU",
    ship_to_qualifier=None,
    ship_to_id="LTN1",
    payment_terms_days=60,
    lines=(
        line(1, "Eaches", 1, 10, "4.25", "42.50", "20.00", "8.50", ("BP", "B00HAF0001"), ("VN", "HAF-001")),
        line(2, "Cases", 6, 144, "3.10", "446.40", "20.00", "89.28", ("VN", "HAF-002")),
        line(3, "Eaches", 1, 5, "6.00", "30.00", "0.00", "0.00", ("BP", "B00HAF0003")),
    ),
    adjustments=(
        InvoiceAdjustment(CHARGE, "D240", "Freight to LTN1", D("15.00")),
        InvoiceAdjustment(ALLOWANCE, "C310", "Early order discount", D("10.00")),
    ),
    net_total=D("523.90"),
    tax_total=D("97.78"),
    gross_total=D("621.68"),
)


def golden_invoice() -> dict:
    payload = json.loads((GOLDEN / GOLDEN_FILE).read_text(encoding="utf-8"))
    validate_api_invoice(payload)
    (invoice,) = payload["invoices"]
    return invoice


def test_rendering_matches_its_golden_file() -> None:
    content = render_api_invoice(INVOICE_WITH_VAT)
    if UPDATE_GOLDEN:
        (GOLDEN / GOLDEN_FILE).write_text(content, encoding="utf-8")
    assert content.encode("utf-8") == (GOLDEN / GOLDEN_FILE).read_bytes()


def test_header_carries_parties_terms_total_and_vat_per_rate() -> None:
    invoice = golden_invoice()
    assert (invoice["invoiceType"], invoice["id"], invoice["date"]) == ("Invoice", "SI-0004512", "2026-03-16T00:00:00Z")
    assert invoice["remitToParty"] == {
        "partyId": "HAFIN",
        "taxRegistrationDetails": [{"taxRegistrationType": "VAT", "taxRegistrationNumber": "GB123456789"}],
    }
    assert (invoice["billToParty"], invoice["shipToParty"]) == ({"partyId": "AMAZON-EU"}, {"partyId": "LTN1"})
    assert invoice["paymentTerms"] == {"type": "Basic", "netDueDays": 60}
    assert invoice["invoiceTotal"] == {"currencyCode": "GBP", "amount": "621.68"}
    assert invoice["taxDetails"] == [
        {
            "taxType": "VAT",
            "taxRate": "20.00",
            "taxAmount": {"currencyCode": "GBP", "amount": "97.78"},
            "taxableAmount": {"currencyCode": "GBP", "amount": "488.90"},
        },
        {
            "taxType": "VAT",
            "taxRate": "0.00",
            "taxAmount": {"currencyCode": "GBP", "amount": "0.00"},
            "taxableAmount": {"currencyCode": "GBP", "amount": "30.00"},
        },
    ]
    assert invoice["chargeDetails"] == [
        {
            "type": "Freight",
            "description": "Freight to LTN1",
            "chargeAmount": {"currencyCode": "GBP", "amount": "15.00"},
        }
    ]
    assert invoice["allowanceDetails"] == [
        {
            "type": "Discount",
            "description": "Early order discount",
            "allowanceAmount": {"currencyCode": "GBP", "amount": "10.00"},
        }
    ]


def test_items_carry_quantity_in_the_ordered_unit_and_cost_per_each() -> None:
    items = golden_invoice()["items"]
    assert items[1] == {
        "itemSequenceNumber": 2,
        "vendorProductIdentifier": "HAF-002",
        "invoicedQuantity": {"amount": 24, "unitOfMeasure": "Cases", "unitSize": 6},
        "netCost": {"currencyCode": "GBP", "amount": "3.10"},
        "purchaseOrderNumber": PO,
        "taxDetails": [
            {
                "taxType": "VAT",
                "taxRate": "20.00",
                "taxAmount": {"currencyCode": "GBP", "amount": "89.28"},
                "taxableAmount": {"currencyCode": "GBP", "amount": "446.40"},
            }
        ],
    }
    assert items[0]["invoicedQuantity"] == {"amount": 10, "unitOfMeasure": "Eaches"}
    assert (items[0]["amazonProductIdentifier"], items[0]["vendorProductIdentifier"]) == ("B00HAF0001", "HAF-001")
    # Our SKU stands in when the order sent no vendor identifier.
    assert (items[2]["amazonProductIdentifier"], items[2]["vendorProductIdentifier"]) == ("B00HAF0003", "SKU-3")


def test_optional_parties_and_terms_are_left_out_when_unknown() -> None:
    bare = replace(INVOICE_WITH_VAT, remit_to_vat_number=None, ship_to_id=None, payment_terms_days=None, adjustments=())
    invoice = json.loads(render_api_invoice(bare))["invoices"][0]
    assert invoice["remitToParty"] == {"partyId": "HAFIN"}
    assert [key for key in ("shipToParty", "paymentTerms", "chargeDetails", "allowanceDetails") if key in invoice] == []


def test_a_fractional_case_count_is_refused_not_rounded() -> None:
    short = line(2, "Cases", 6, 141, "3.10", "437.10", "20.00", "87.42", ("VN", "HAF-002"))
    invoice = replace(INVOICE_WITH_VAT, lines=(INVOICE_WITH_VAT.lines[0], short))
    with pytest.raises(InvoiceApiError) as raised:
        render_api_invoice(invoice)
    assert str(raised.value) == "line 2: invoiced case count 23.5 is not whole; Amazon's API takes whole numbers only"


def test_an_adjustment_without_an_api_type_is_refused() -> None:
    handling = InvoiceAdjustment(CHARGE, "D500", "Handling", D("5.00"))
    with pytest.raises(InvoiceApiError) as raised:
        render_api_invoice(replace(INVOICE_WITH_VAT, adjustments=(handling,)))
    assert str(raised.value) == "charge D500 (Handling) has no SP-API type; known charge codes: D240, D980"


def test_a_credit_note_is_refused() -> None:
    with pytest.raises(InvoiceApiError) as raised:
        render_api_invoice(replace(INVOICE_WITH_VAT, invoice_type=CREDIT_NOTE))
    assert str(raised.value) == "invoice SI-0004512: only Invoice is rendered, not CreditNote"


@pytest.mark.parametrize(
    ("break_it", "path", "message"),
    [
        pytest.param(
            lambda invoice: invoice.pop("id"),
            "$.invoices[0].id",
            "'id' is a required property",
            id="missing-id",
        ),
        pytest.param(
            lambda invoice: invoice["items"][2].pop("netCost"),
            "$.invoices[0].items[2].netCost",
            "'netCost' is a required property",
            id="missing-net-cost",
        ),
        pytest.param(
            lambda invoice: invoice["items"][0].update(itemSequenceNumber="1"),
            "$.invoices[0].items[0].itemSequenceNumber",
            "'1' is not of type 'integer'",
            id="sequence-as-string",
        ),
        pytest.param(
            lambda invoice: invoice["invoiceTotal"].update(amount=621.68),
            "$.invoices[0].invoiceTotal.amount",
            "621.68 is not of type 'string'",
            id="amount-as-number",
        ),
        pytest.param(
            lambda invoice: invoice["chargeDetails"][0].update(type="Shipping"),
            "$.invoices[0].chargeDetails[0].type",
            "'Shipping' is not one of",
            id="unknown-charge-type",
        ),
    ],
)
def test_a_broken_payload_is_refused_naming_its_path(break_it, path: str, message: str) -> None:
    payload = json.loads((GOLDEN / GOLDEN_FILE).read_text(encoding="utf-8"))
    break_it(payload["invoices"][0])
    with pytest.raises(InvoiceSchemaError) as raised:
        validate_api_invoice(payload)
    assert raised.value.path == path
    assert str(raised.value).startswith(
        f"the invoice breaks Amazon's SubmitInvoicesRequest schema at {path}: {message}"
    )
    assert isinstance(raised.value, ValueError)
