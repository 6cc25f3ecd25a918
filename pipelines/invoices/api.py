"""An invoice as the SP-API `submitInvoices` JSON (Vendor Invoices v1).

The rendering is a pure function of the invoice, so an invoice renders to the same bytes anywhere, and it never
returns JSON that has not passed Amazon's own SubmitInvoicesRequest schema from the Vendor Invoices model vendored
in ``pipelines/amazon/spapi``. The checks before sending (`pipelines.invoices.rules`: totals add up, costs match
the acknowledgement) run upstream on the invoice; this module only refuses what the API cannot say (a fractional
quantity, an adjustment code with no API type, a credit note) and never rounds.

Money is rendered from Sage's Decimals as Decimal strings at the scale Sage gave them: totals as Sage printed
them, tax per rate as the sum of the lines at that rate, unit costs per each as Amazon prices them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from pipelines.amazon.spapi_schema import VENDOR_FIELD, api_product_identifiers, request_validator, schema_problems
from pipelines.invoices.model import ALLOWANCE, CHARGE, INVOICE, AmazonInvoice, InvoiceAdjustment, InvoiceLine
from pipelines.orders.documents import CASES, EACHES, UNIT_KINDS

MODEL_FILE = "vendorInvoices.json"
REQUEST_DEFINITION = "SubmitInvoicesRequest"
VAT = "VAT"  # taxType and taxRegistrationType: Sage invoices carry VAT
BASIC_TERMS = "Basic"  # PaymentTerms.type: net days from the invoice date, as a Sage customer account's terms are
# ChargeDetails.type / AllowanceDetails.type per X12 SAC02 code (code list 1300, as the adjustments carry them).
# The pairs are our reading of the two code lists' names; which type Amazon books each under is unconfirmed.
CHARGE_TYPES = {
    "D240": "Freight",  # Freight
    "D980": "InsuranceFee",  # Insurance
}
ALLOWANCE_TYPES = {
    "C310": "Discount",  # Discount
    "C300": "Discount",  # Discount - Special
    "I530": "Discount",  # Volume Discount
}


class InvoiceApiError(ValueError):
    """The invoice cannot be said in Amazon's API as it stands: nothing was rendered."""


class InvoiceSchemaError(InvoiceApiError):
    """The JSON breaks Amazon's SubmitInvoicesRequest schema; `path` names the first place it does."""

    def __init__(self, message: str, path: str, problems: Sequence[str]) -> None:
        super().__init__(message)
        self.path = path
        self.problems = tuple(problems)


def render_api_invoice(invoice: AmazonInvoice) -> str:
    """The `submitInvoices` body for `invoice` as indented JSON, held to Amazon's schema.

    Keys follow the order of Amazon's model; amounts and rates are Decimal strings, quantities integers, never
    floats. The invoice date is that day at 00:00Z. Raises `InvoiceApiError` (or its `InvoiceSchemaError`) when
    the JSON cannot be valid.
    """
    if invoice.invoice_type != INVOICE:
        # A credit note needs creditNoteDetails that this flow does not have: credit notes are out of its scope.
        raise InvoiceApiError(
            f"invoice {invoice.invoice_number}: only {INVOICE} is rendered, not {invoice.invoice_type}"
        )
    document: dict[str, Any] = {
        "invoiceType": invoice.invoice_type,
        "id": invoice.invoice_number,
        "date": f"{invoice.invoice_date.isoformat()}T00:00:00Z",
        "remitToParty": _remit_to(invoice),
    }
    if invoice.ship_to_id:
        document["shipToParty"] = {"partyId": invoice.ship_to_id}
    document["billToParty"] = {"partyId": invoice.bill_to_id}
    if invoice.payment_terms_days is not None:
        document["paymentTerms"] = {"type": BASIC_TERMS, "netDueDays": invoice.payment_terms_days}
    document["invoiceTotal"] = money_text(invoice.gross_total, invoice.currency)
    document["taxDetails"] = _tax_per_rate(invoice.lines, invoice.currency)
    charges = [adjustment for adjustment in invoice.adjustments if adjustment.kind == CHARGE]
    allowances = [adjustment for adjustment in invoice.adjustments if adjustment.kind == ALLOWANCE]
    if charges:
        document["chargeDetails"] = [_charge(charge, invoice.currency) for charge in charges]
    if allowances:
        document["allowanceDetails"] = [_allowance(allowance, invoice.currency) for allowance in allowances]
    document["items"] = [_item(line, invoice.currency) for line in invoice.lines]
    payload = {"invoices": [document]}
    validate_api_invoice(payload)
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def validate_api_invoice(payload: dict[str, Any]) -> None:
    """Hold `payload` to SubmitInvoicesRequest from Amazon's Vendor Invoices model.

    Raises `InvoiceSchemaError` naming the JSON path of the first problem (``$.invoices[0].items[1].netCost
    .amount``); for a missing property the path ends in that property. `problems` lists them all.
    """
    problems = schema_problems(request_validator(MODEL_FILE, REQUEST_DEFINITION), payload)
    if problems:
        raise InvoiceSchemaError(
            f"the invoice breaks Amazon's {REQUEST_DEFINITION} schema at {problems[0]}",
            problems[0].path,
            [str(problem) for problem in problems],
        )


def _remit_to(invoice: AmazonInvoice) -> dict[str, Any]:
    """Our party id, with our VAT number when Sage has one (Amazon's VAT invoices need the supplier's)."""
    party: dict[str, Any] = {"partyId": invoice.remit_to_id}
    if invoice.remit_to_vat_number:
        party["taxRegistrationDetails"] = [
            {"taxRegistrationType": VAT, "taxRegistrationNumber": invoice.remit_to_vat_number}
        ]
    return party


def _tax_per_rate(lines: Sequence[InvoiceLine], currency: str) -> list[dict[str, Any]]:
    """One entry per VAT rate, in the order the rates first appear on the lines."""
    taxable: dict[Decimal, Decimal] = {}
    tax: dict[Decimal, Decimal] = {}
    for line in lines:
        taxable[line.tax_rate] = taxable.get(line.tax_rate, Decimal(0)) + line.net_amount
        tax[line.tax_rate] = tax.get(line.tax_rate, Decimal(0)) + line.tax_amount
    return [_tax(rate, tax[rate], taxable[rate], currency) for rate in taxable]


def _tax(rate: Decimal, tax_amount: Decimal, taxable_amount: Decimal, currency: str) -> dict[str, Any]:
    # taxRate is the percentage as Sage states it (20.00 for 20 %): "Tax percentage applied" in Amazon's model.
    return {
        "taxType": VAT,
        "taxRate": _decimal(rate),
        "taxAmount": money_text(tax_amount, currency),
        "taxableAmount": money_text(taxable_amount, currency),
    }


def _charge(charge: InvoiceAdjustment, currency: str) -> dict[str, Any]:
    return {
        "type": _adjustment_type(charge, CHARGE_TYPES),
        "description": charge.description,
        "chargeAmount": money_text(charge.amount, currency),
    }


def _allowance(allowance: InvoiceAdjustment, currency: str) -> dict[str, Any]:
    return {
        "type": _adjustment_type(allowance, ALLOWANCE_TYPES),
        "description": allowance.description,
        "allowanceAmount": money_text(allowance.amount, currency),
    }


def _adjustment_type(adjustment: InvoiceAdjustment, types: dict[str, str]) -> str:
    api_type = types.get(adjustment.code)
    if api_type is None:
        raise InvoiceApiError(
            f"{adjustment.kind} {adjustment.code} ({adjustment.description}) has no SP-API type;"
            f" known {adjustment.kind} codes: {', '.join(sorted(types))}"
        )
    return api_type


def _item(line: InvoiceLine, currency: str) -> dict[str, Any]:
    item: dict[str, Any] = {"itemSequenceNumber": line.line_number}
    identifiers = api_product_identifiers(line.identifiers)
    # Amazon wants the vendor's identifier as its order sent it; an order that sent none gets our SKU.
    identifiers.setdefault(VENDOR_FIELD, line.vendor_product_code)
    item.update(identifiers)
    item["invoicedQuantity"] = quantity_text(line)
    item["netCost"] = money_text(line.unit_cost, currency)
    item["purchaseOrderNumber"] = line.po_number
    item["taxDetails"] = [_tax(line.tax_rate, line.tax_amount, line.net_amount, currency)]
    return item


def quantity_text(line: InvoiceLine) -> dict[str, Any]:
    """The invoiced eaches in the unit Amazon ordered the line in; unitSize only for cases, as the model says."""
    where = f"line {line.line_number}"
    unit = UNIT_KINDS.get(line.unit_of_measure)
    if unit is None:
        raise InvoiceApiError(
            f"{where}: unit {line.unit_of_measure!r} is not one we can say in the API ({', '.join(sorted(UNIT_KINDS))})"
        )
    if unit == EACHES:
        return {"amount": _whole(line.invoiced_eaches, f"{where}: invoiced eaches"), "unitOfMeasure": EACHES}
    return {
        "amount": _whole(line.invoiced_quantity, f"{where}: invoiced case count"),
        "unitOfMeasure": CASES,
        "unitSize": _whole(line.unit_size, f"{where}: case size"),
    }


def _whole(value: Decimal, what: str) -> int:
    if value != value.to_integral_value():
        raise InvoiceApiError(f"{what} {value} is not whole; Amazon's API takes whole numbers only")
    return int(value)


def money_text(amount: Decimal, currency: str) -> dict[str, str]:
    return {"currencyCode": currency, "amount": _decimal(amount)}


def _decimal(value: Decimal) -> str:
    """A Decimal string in plain notation at the scale it was given (24.50 stays 24.50; never an exponent)."""
    return format(value, "f")
