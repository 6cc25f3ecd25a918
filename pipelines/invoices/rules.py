"""Amazon's rules for an invoice, checked once on the model before it is sent, whatever the channel.

An invoice Amazon refuses is never paid, and one it accepts with the wrong cost or quantity comes back as a
price or shortage claim on a remittance, so none is sent until every rule passes. Each rule is a function of
the invoice and an `InvoiceContext` (what we acknowledged, despatched and invoiced before, the clock) returning
its failures (the ship notice rules' `RuleFailure`, so both queue alike); each message says what is wrong and how
to fix it in Sage. Rule names are a public contract: the exceptions queue and the sample scenario's planted
anomalies name them.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from pipelines.invoices.model import AmazonInvoice, InvoiceLine
from pipelines.orders.documents import quantity_text
from pipelines.shipments.rules import RuleFailure

# A line's net may differ from eaches x unit cost, rounded, by this much: Sage rounds per line from a price
# that may carry more places than the per-each cost Amazon sees.
LINE_NET_TOLERANCE = Decimal("0.01")
CENTS = Decimal("0.01")
FIX_IN_SAGE = "credit the invoice in Sage and invoice again"


@dataclass(frozen=True)
class InvoiceContext:
    now: datetime  # timezone-aware
    acknowledged_costs: Mapping[tuple[str, str], Decimal]  # (PO, line id) -> acknowledged cost per each
    shipped_eaches: Mapping[tuple[str, str], Decimal]  # (PO, line id) -> eaches despatched in Sage
    invoiced_before_eaches: Mapping[tuple[str, str], Decimal]  # (PO, line id) -> eaches on invoices sent earlier
    invoice_numbers_sent: Mapping[str, datetime]  # invoice number -> when it was sent to Amazon
    timezone: str = "Europe/London"  # the business date "not in the future" is judged in

    @property
    def business_date(self) -> date:
        return self.now.astimezone(ZoneInfo(self.timezone)).date()


Rule = Callable[[AmazonInvoice, InvoiceContext], list[RuleFailure]]


def _rule(check: Callable[[AmazonInvoice, InvoiceContext], Iterator[str]]) -> Rule:
    """A rule from a check yielding its messages; the rule is named as the check's function, so they never differ."""

    @functools.wraps(check)
    def rule(invoice: AmazonInvoice, context: InvoiceContext) -> list[RuleFailure]:
        return [RuleFailure(check.__name__, message) for message in check(invoice, context)]

    return rule


@_rule
def unit_cost_matches_acknowledged(invoice: AmazonInvoice, context: InvoiceContext) -> Iterator[str]:
    """Each line's cost per each is the cost we acknowledged (else Amazon deducts a price claim)."""
    for line in invoice.lines:
        acknowledged = context.acknowledged_costs.get((line.po_number, line.line_id))
        if acknowledged is None:
            yield (
                f"{_line_name(line)} has no acknowledged cost: the PO line was never acknowledged, so check the"
                " invoice is for the right Sage order"
            )
        elif line.unit_cost != acknowledged:
            yield (
                f"{_line_name(line)} costs {line.unit_cost} per each but {acknowledged} was acknowledged, and Amazon"
                f" claims the difference back: correct the price on the Sage order line to {acknowledged} per each,"
                f" then {FIX_IN_SAGE}"
            )


@_rule
def invoiced_within_shipped(invoice: AmazonInvoice, context: InvoiceContext) -> Iterator[str]:
    """What this and earlier invoices bill for a PO line is no more than was despatched."""
    on_this_invoice: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for line in invoice.lines:
        on_this_invoice[(line.po_number, line.line_id)] += line.invoiced_eaches
    for (po_number, line_id), eaches in on_this_invoice.items():
        before = context.invoiced_before_eaches.get((po_number, line_id), Decimal(0))
        shipped = context.shipped_eaches.get((po_number, line_id), Decimal(0))
        if before + eaches > shipped:
            yield (
                f"PO {po_number} line {line_id}: this invoice bills {quantity_text(eaches)} eaches and earlier ones"
                f" {quantity_text(before)}, more than the {quantity_text(shipped)} despatched, and Amazon pays only for"
                f" what it received: despatch the rest in Sage first, or {FIX_IN_SAGE} for at most"
                f" {quantity_text(max(shipped - before, Decimal(0)))} eaches"
            )


@_rule
def totals_add_up(invoice: AmazonInvoice, context: InvoiceContext) -> Iterator[str]:
    """Lines, charges, allowances, tax and the header totals agree, and each line's net is eaches x cost."""
    fix = f"the Sage invoice does not add up: {FIX_IN_SAGE}"
    for line in invoice.lines:
        expected = (line.invoiced_eaches * line.unit_cost).quantize(CENTS, ROUND_HALF_UP)
        if abs(line.net_amount - expected) > LINE_NET_TOLERANCE:
            yield (
                f"{_line_name(line)}: net {line.net_amount} is not {quantity_text(line.invoiced_eaches)} eaches x"
                f" {line.unit_cost} = {expected}; {fix}"
            )
    lines_net = sum((line.net_amount for line in invoice.lines), Decimal("0.00"))
    adjustments = invoice.adjustments_total()
    if lines_net + adjustments != invoice.net_total:
        yield (
            f"net total {invoice.net_total} is not the lines' {lines_net} plus charges less allowances"
            f" ({adjustments}) = {lines_net + adjustments}; {fix}"
        )
    lines_tax = sum((line.tax_amount for line in invoice.lines), Decimal("0.00"))
    if lines_tax != invoice.tax_total:
        yield f"tax total {invoice.tax_total} is not the lines' tax {lines_tax}; {fix}"
    if invoice.net_total + invoice.tax_total != invoice.gross_total:
        yield (
            f"gross total {invoice.gross_total} is not net {invoice.net_total} plus tax {invoice.tax_total}"
            f" = {invoice.net_total + invoice.tax_total}; {fix}"
        )


@_rule
def invoice_total_not_zero(invoice: AmazonInvoice, context: InvoiceContext) -> Iterator[str]:
    """An invoice bills something: Amazon rejects one that totals zero (a negative one would be a credit note)."""
    if invoice.gross_total <= 0:
        yield (
            f"invoice {invoice.invoice_number} totals {invoice.gross_total}, and Amazon rejects an invoice that is not"
            " above zero: check its lines and prices in Sage; it will not be sent"
        )


@_rule
def invoice_date_not_future(invoice: AmazonInvoice, context: InvoiceContext) -> Iterator[str]:
    """Dated no later than today, the business date in the company's timezone."""
    today = context.business_date
    if invoice.invoice_date > today:
        yield (
            f"invoice {invoice.invoice_number} is dated {invoice.invoice_date}, after today ({today},"
            f" {context.timezone}), and Amazon rejects future-dated invoices: it is sent on its date; to send it"
            f" sooner, {FIX_IN_SAGE} dated today"
        )


@_rule
def invoice_date_not_before_po(invoice: AmazonInvoice, context: InvoiceContext) -> Iterator[str]:
    """Dated no earlier than the PO it bills."""
    if invoice.invoice_date < invoice.po_date:
        yield (
            f"invoice {invoice.invoice_number} is dated {invoice.invoice_date}, before PO {invoice.po_number} of"
            f" {invoice.po_date}, and Amazon rejects that: {FIX_IN_SAGE} with a date on or after {invoice.po_date}"
        )


@_rule
def invoice_number_unique(invoice: AmazonInvoice, context: InvoiceContext) -> Iterator[str]:
    """A number Amazon has never had from us: invoice numbers are unique forever."""
    if not invoice.invoice_number.strip():
        yield "the invoice has no number: check the invoice in Sage"
        return
    sent_at = context.invoice_numbers_sent.get(invoice.invoice_number)
    if sent_at is not None:
        yield (
            f"invoice number {invoice.invoice_number} was already sent to Amazon at"
            f" {sent_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC, and Amazon needs invoice numbers unique forever:"
            f" {FIX_IN_SAGE} under a new number"
        )


@_rule
def product_identified(invoice: AmazonInvoice, context: InvoiceContext) -> Iterator[str]:
    """Every line carries an identifier Amazon sent on the PO: it matches invoice lines by them."""
    for line in invoice.lines:
        if not any(identifier.value.strip() for identifier in line.identifiers):
            yield (
                f"{_line_name(line)} carries no product identifier from Amazon's PO, so Amazon cannot match it: check"
                " the Sage order line is linked to its Amazon PO line"
            )


RULES: tuple[tuple[str, Rule], ...] = tuple(
    (rule.__name__, rule)
    for rule in (
        unit_cost_matches_acknowledged,
        invoiced_within_shipped,
        totals_add_up,
        invoice_total_not_zero,
        invoice_date_not_future,
        invoice_date_not_before_po,
        invoice_number_unique,
        product_identified,
    )
)


def validate(invoice: AmazonInvoice, context: InvoiceContext) -> list[RuleFailure]:
    """Every rule's failures, in RULES order; empty when the invoice may be sent."""
    return [failure for _, rule in RULES for failure in rule(invoice, context)]


def _line_name(line: InvoiceLine) -> str:
    return f"invoice line {line.line_number} (PO {line.po_number} line {line.line_id}, {line.vendor_product_code})"
