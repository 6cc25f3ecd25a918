"""Amazon's rules for an invoice: a clean invoice passes every rule, and an invoice breaking exactly one rule
fails exactly that rule, with a message that says what is wrong and how to fix it in Sage."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from pipelines.amazon.documents import ProductIdentifier
from pipelines.invoices.model import ALLOWANCE, CHARGE, INVOICE, AmazonInvoice, InvoiceAdjustment, InvoiceLine
from pipelines.invoices.rules import RULES, InvoiceContext, validate
from pipelines.shipments.rules import RuleFailure

D = Decimal
NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
PO = "4KT9ZQ2M"
ADJUSTMENTS = (
    InvoiceAdjustment(CHARGE, "D240", "Freight", D("5.00")),
    InvoiceAdjustment(ALLOWANCE, "C310", "Discount", D("2.00")),
)


def invoice_line(
    number: int,
    eaches: str | int,
    unit_cost: str,
    *,
    net: str | None = None,
    identifiers: tuple[ProductIdentifier, ...] | None = None,
) -> InvoiceLine:
    """A line whose net is eaches x cost and whose tax is 20% of it, unless `net` says otherwise."""
    net_amount = D(net) if net is not None else (D(eaches) * D(unit_cost)).quantize(D("0.01"), ROUND_HALF_UP)
    return InvoiceLine(
        line_number=number,
        po_number=PO,
        line_id=str(number),
        identifiers=identifiers if identifiers is not None else (ProductIdentifier("EN", f"501234567890{number}"),),
        vendor_product_code=f"HAF-00{number}",
        unit_of_measure="EA",
        unit_size=D(1),
        invoiced_eaches=D(eaches),
        unit_cost=D(unit_cost),
        net_amount=net_amount,
        tax_rate=D("20.00"),
        tax_amount=(net_amount * D("0.20")).quantize(D("0.01"), ROUND_HALF_UP),
    )


LINES = (invoice_line(1, 12, "3.10"), invoice_line(2, 8, "1.99"))


def clean_invoice(
    lines: tuple[InvoiceLine, ...] = LINES, adjustments: tuple[InvoiceAdjustment, ...] = ADJUSTMENTS, **changes: object
) -> AmazonInvoice:
    """An invoice whose totals add up from `lines` and `adjustments` (unless `changes` says otherwise)."""
    net = sum((line.net_amount for line in lines), D("0.00")) + sum(
        (a.amount if a.kind == CHARGE else -a.amount for a in adjustments), D("0.00")
    )
    tax = sum((line.tax_amount for line in lines), D("0.00"))
    invoice = AmazonInvoice(
        invoice_number="SI0000123",
        invoice_date=date(2026, 3, 14),
        invoice_type=INVOICE,
        vendor_code="HAFIN",
        marketplace="UK",
        standard="EDIFACT",
        currency="GBP",
        po_number=PO,
        po_date=date(2026, 3, 10),
        sales_order_number="SO0001234",
        remit_to_id="5060123450004",
        remit_to_name="Hafren Foods Ltd",
        remit_to_vat_number="GB123456789",
        bill_to_id="5450534000024",
        ship_to_qualifier="92",
        ship_to_id="LTN1",
        payment_terms_days=60,
        lines=lines,
        adjustments=adjustments,
        net_total=net,
        tax_total=tax,
        gross_total=net + tax,
    )
    return replace(invoice, **changes)  # type: ignore[arg-type]


def clean_context(**changes: object) -> InvoiceContext:
    context = InvoiceContext(
        now=NOW,
        acknowledged_costs={(PO, "1"): D("3.10"), (PO, "2"): D("1.990")},
        shipped_eaches={(PO, "1"): D(12), (PO, "2"): D(16)},
        invoiced_before_eaches={(PO, "2"): D(8)},
        invoice_numbers_sent={"SI0000100": datetime(2026, 3, 1, 12, 0, tzinfo=UTC)},
    )
    return replace(context, **changes)  # type: ignore[arg-type]


def failing(rule: str, *messages: str) -> list[RuleFailure]:
    return [RuleFailure(rule, message) for message in messages]


def test_rules_are_named_and_ordered_as_the_contract_says() -> None:
    assert [name for name, _ in RULES] == [
        "unit_cost_matches_acknowledged",
        "invoiced_within_shipped",
        "totals_add_up",
        "invoice_total_not_zero",
        "invoice_date_not_future",
        "invoice_date_not_before_po",
        "invoice_number_unique",
        "product_identified",
    ]


def test_a_clean_invoice_passes_every_rule() -> None:
    invoice = clean_invoice()
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (D("56.12"), D("10.62"), D("66.74"))
    assert validate(invoice, clean_context()) == []


def test_a_line_net_within_a_penny_of_eaches_times_cost_passes() -> None:
    lines = (invoice_line(1, 12, "3.10", net="37.21"), LINES[1])
    assert validate(clean_invoice(lines), clean_context()) == []


def test_the_business_date_is_london_s() -> None:
    # 23:30 UTC on 14 June is already 15 June in London (BST): an invoice of the 15th is not in the future.
    late_evening = datetime(2026, 6, 14, 23, 30, tzinfo=UTC)
    assert validate(clean_invoice(invoice_date=date(2026, 6, 15)), clean_context(now=late_evening)) == []
    in_utc = clean_context(now=late_evening, timezone="UTC")
    assert validate(clean_invoice(invoice_date=date(2026, 6, 15)), in_utc) == failing(
        "invoice_date_not_future",
        "invoice SI0000123 is dated 2026-06-15, after today (2026-06-14, UTC), and Amazon rejects future-dated"
        " invoices: it is sent on its date; to send it sooner, credit the invoice in Sage and invoice again dated"
        " today",
    )


BROKEN = [
    pytest.param(
        clean_invoice((invoice_line(1, 12, "3.26"), LINES[1])),
        clean_context(),
        failing(
            "unit_cost_matches_acknowledged",
            "invoice line 1 (PO 4KT9ZQ2M line 1, HAF-001) costs 3.26 per each but 3.10 was acknowledged, and Amazon"
            " claims the difference back: correct the price on the Sage order line to 3.10 per each, then credit"
            " the invoice in Sage and invoice again",
        ),
        id="unit_cost_matches_acknowledged",
    ),
    pytest.param(
        clean_invoice(),
        clean_context(acknowledged_costs={(PO, "1"): D("3.10")}),
        failing(
            "unit_cost_matches_acknowledged",
            "invoice line 2 (PO 4KT9ZQ2M line 2, HAF-002) has no acknowledged cost: the PO line was never"
            " acknowledged, so check the invoice is for the right Sage order",
        ),
        id="unit_cost_matches_acknowledged-never-acknowledged",
    ),
    pytest.param(
        clean_invoice((LINES[0], invoice_line(2, 9, "1.99"))),
        clean_context(),
        failing(
            "invoiced_within_shipped",
            "PO 4KT9ZQ2M line 2: this invoice bills 9 eaches and earlier ones 8, more than the 16 despatched, and"
            " Amazon pays only for what it received: despatch the rest in Sage first, or credit the invoice in Sage"
            " and invoice again for at most 8 eaches",
        ),
        id="invoiced_within_shipped",
    ),
    pytest.param(
        clean_invoice((invoice_line(1, 12, "3.10", net="37.22"), LINES[1])),
        clean_context(),
        failing(
            "totals_add_up",
            "invoice line 1 (PO 4KT9ZQ2M line 1, HAF-001): net 37.22 is not 12 eaches x 3.10 = 37.20; the Sage"
            " invoice does not add up: credit the invoice in Sage and invoice again",
        ),
        id="totals_add_up-line",
    ),
    pytest.param(
        clean_invoice(net_total=D("54.12"), gross_total=D("64.74")),
        clean_context(),
        failing(
            "totals_add_up",
            "net total 54.12 is not the lines' 53.12 plus charges less allowances (3.00) = 56.12; the Sage invoice"
            " does not add up: credit the invoice in Sage and invoice again",
        ),
        id="totals_add_up-net",
    ),
    pytest.param(
        clean_invoice(tax_total=D("10.60"), gross_total=D("66.72")),
        clean_context(),
        failing(
            "totals_add_up",
            "tax total 10.60 is not the lines' tax 10.62; the Sage invoice does not add up: credit the invoice in"
            " Sage and invoice again",
        ),
        id="totals_add_up-tax",
    ),
    pytest.param(
        clean_invoice(gross_total=D("66.75")),
        clean_context(),
        failing(
            "totals_add_up",
            "gross total 66.75 is not net 56.12 plus tax 10.62 = 66.74; the Sage invoice does not add up: credit the"
            " invoice in Sage and invoice again",
        ),
        id="totals_add_up-gross",
    ),
    pytest.param(
        clean_invoice((invoice_line(1, 0, "3.10"), invoice_line(2, 0, "1.99")), ()),
        clean_context(),
        failing(
            "invoice_total_not_zero",
            "invoice SI0000123 totals 0.00, and Amazon rejects an invoice that is not above zero: check its lines"
            " and prices in Sage; it will not be sent",
        ),
        id="invoice_total_not_zero",
    ),
    pytest.param(
        clean_invoice(invoice_date=date(2026, 3, 15)),
        clean_context(),
        failing(
            "invoice_date_not_future",
            "invoice SI0000123 is dated 2026-03-15, after today (2026-03-14, Europe/London), and Amazon rejects"
            " future-dated invoices: it is sent on its date; to send it sooner, credit the invoice in Sage and"
            " invoice again dated today",
        ),
        id="invoice_date_not_future",
    ),
    pytest.param(
        clean_invoice(invoice_date=date(2026, 3, 9)),
        clean_context(),
        failing(
            "invoice_date_not_before_po",
            "invoice SI0000123 is dated 2026-03-09, before PO 4KT9ZQ2M of 2026-03-10, and Amazon rejects that:"
            " credit the invoice in Sage and invoice again with a date on or after 2026-03-10",
        ),
        id="invoice_date_not_before_po",
    ),
    pytest.param(
        clean_invoice(invoice_number="SI0000100"),
        clean_context(),
        failing(
            "invoice_number_unique",
            "invoice number SI0000100 was already sent to Amazon at 2026-03-01 12:00 UTC, and Amazon needs invoice"
            " numbers unique forever: credit the invoice in Sage and invoice again under a new number",
        ),
        id="invoice_number_unique",
    ),
    pytest.param(
        clean_invoice(invoice_number=""),
        clean_context(),
        failing("invoice_number_unique", "the invoice has no number: check the invoice in Sage"),
        id="invoice_number_unique-missing",
    ),
    pytest.param(
        clean_invoice((LINES[0], invoice_line(2, 8, "1.99", identifiers=(ProductIdentifier("EN", " "),)))),
        clean_context(),
        failing(
            "product_identified",
            "invoice line 2 (PO 4KT9ZQ2M line 2, HAF-002) carries no product identifier from Amazon's PO, so Amazon"
            " cannot match it: check the Sage order line is linked to its Amazon PO line",
        ),
        id="product_identified",
    ),
]


@pytest.mark.parametrize(("invoice", "context", "failures"), BROKEN)
def test_an_invoice_breaking_one_rule_fails_exactly_that_rule(
    invoice: AmazonInvoice, context: InvoiceContext, failures: list[RuleFailure]
) -> None:
    assert validate(invoice, context) == failures


def test_two_lines_of_one_po_line_count_together_against_what_shipped() -> None:
    lines = (LINES[0], invoice_line(2, 4, "1.99"), replace(invoice_line(3, 5, "1.99"), line_id="2"))
    context = clean_context()
    assert validate(clean_invoice(lines), context) == failing(
        "invoiced_within_shipped",
        "PO 4KT9ZQ2M line 2: this invoice bills 9 eaches and earlier ones 8, more than the 16 despatched, and Amazon"
        " pays only for what it received: despatch the rest in Sage first, or credit the invoice in Sage and invoice"
        " again for at most 8 eaches",
    )
