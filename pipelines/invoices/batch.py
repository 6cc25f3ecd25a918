"""Invoices to Amazon for the Sage invoices of the orders avc2sage placed: check, then send the ones that pass.

The work comes from dbt (`intermediate.int_invoice_lines_prepared`): each Sage invoice of an order whose PO
avc2sage acknowledged, not yet sent, with what Sage invoiced per line, what was acknowledged and what was
despatched. Each is checked against what Amazon will otherwise claim back (`pipelines.invoices.rules`: the
acknowledged cost, the shipped quantity, the totals identity, the dates, a number never sent before) and

- passes: it is written through the outbox and recorded as sent, never to be sent again; or
- fails: the rules it broke are recorded (once per change of outcome) and become an exception for finance;
  the next run checks it again (a credit note and a corrected invoice in Sage is the usual fix).

One invoice failing never holds up another. An invoice written just before a crash is found again in the
outbox registry (registered under ``sage_invoice:<Sage id>``) and recorded, never written twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import duckdb

from pipelines.amazon.documents import ProductIdentifier
from pipelines.edi.outbox import Outbox, ensure_outbound_schema
from pipelines.edi.work import (
    API,
    DOCUMENT_RENDERS,
    FAILED_VALIDATION,
    ITEM_ON_PURCHASE_ORDER,
    NOT_CHECKED,
    SENT,
    BatchSummary,
    DocumentWork,
    po_version,
    read_work,
    says_nothing_new,
    written_document,
)
from pipelines.invoices.documents import DOCUMENT_TYPES, write_invoice
from pipelines.invoices.model import INVOICE, AmazonInvoice, InvoiceLine
from pipelines.invoices.rules import InvoiceContext, RuleFailure, validate
from pipelines.orders.batch import read_line_identifiers
from pipelines.settings import BusinessConfig, Locations
from pipelines.warehouse.audit import ensure_audit_schema

log = logging.getLogger(__name__)

# Not one of Amazon's rules: Amazon matches an invoice to one PO, so a Sage invoice of several orders cannot go.
ONE_PURCHASE_ORDER = "one_purchase_order"

WORK_QUERY = """
select *
from intermediate.int_invoice_lines_prepared
-- The table is as of the last dbt build; the audit trail is as of now.
where not has_invoice_sent
    and sage_invoice_id not in (select sage_invoice_id from audit.invoice_submissions where status = 'sent')
order by sage_invoice_id, line_number nulls last, sales_order_line_id
"""
SENT_NUMBERS_QUERY = """
select invoice_number, min(checked_at) from audit.invoice_submissions where status = 'sent' group by invoice_number
"""
LAST_CHECK_QUERY = """
select submissions.status,
    list([failures.rule, failures.message] order by failures.rule, failures.message)
        filter (where failures.rule is not null)
from audit.invoice_submissions as submissions
left join audit.invoice_submission_failures as failures on submissions.submission_id = failures.submission_id
where submissions.submission_id = (
    select submission_id from audit.invoice_submissions where sage_invoice_id = ?
    order by sequence_number desc limit 1
)
group by submissions.status
"""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def run_invoice_batch(
    locations: Locations,
    config: BusinessConfig,
    *,
    clock: Callable[[], datetime] = _utc_now,
    run_id: str | None = None,
) -> BatchSummary:
    """Check and send every Sage invoice dbt lists (after a dbt build)."""
    summary = BatchSummary("invoices")
    with duckdb.connect(str(locations.warehouse)) as con:
        ensure_audit_schema(con)
        ensure_outbound_schema(con)
        work = read_invoices(con)
        if not work:
            return summary
        outbox = Outbox(locations.outbox, locations.warehouse, clock=clock)
        records = _Records(con, run_id, clock)
        context = _context(work, records, clock(), config)
        identifiers = read_line_identifiers(con, sorted({po_version(row) for item in work for row in item.rows}))
        for invoice in work:
            try:
                _handle(invoice, identifiers, context, outbox, records, config, summary)
            except Exception as error:  # one invoice failing never stops the others; the next run tries again
                log.exception("invoice %s failed", invoice.invoice_number)
                records.failed(invoice, [RuleFailure(NOT_CHECKED, f"{type(error).__name__}: {error}")])
                summary.failed[NOT_CHECKED] += 1
    return summary


def _handle(
    work: DocumentWork,
    identifiers: dict[tuple[str, int], tuple[ProductIdentifier, ...]],
    context: InvoiceContext,
    outbox: Outbox,
    records: _Records,
    config: BusinessConfig,
    summary: BatchSummary,
) -> None:
    invoice = _invoice(work, identifiers, config, records.clock())
    related = f"sage_invoice:{work.sage_invoice_id}"
    # An invoice already in the outbox (a run that died before recording it) is recorded, never checked again.
    written = records.written(related)
    if written is None:
        failures = validate(invoice, context) + _unmapped_lines(work) + _purchase_orders(work)
        if failures:
            records.failed(work, failures)
            summary.stopped(failures)
            return
        try:
            document = write_invoice(
                invoice, outbox, our_id=invoice.remit_to_id, partner_id=work.partner_id, related_inbound=related
            )
        except ValueError as error:  # the renderer refused it: a defect to fix, recorded like a broken rule
            records.failed(work, [RuleFailure(DOCUMENT_RENDERS, str(error))])
            summary.failed[DOCUMENT_RENDERS] += 1
            return
        written = (document.document_id, document.file_name)
    records.sent(work, written)
    summary.sent += 1
    context.invoice_numbers_sent[invoice.invoice_number] = records.clock()
    for line in invoice.lines:
        key = (line.po_number, line.line_id)
        context.invoiced_before_eaches[key] = context.invoiced_before_eaches.get(key, Decimal(0)) + line.invoiced_eaches


def _invoice(
    work: DocumentWork,
    identifiers: dict[tuple[str, int], tuple[ProductIdentifier, ...]],
    config: BusinessConfig,
    now: datetime,
) -> AmazonInvoice:
    vendor = config.vendor(work.vendor_code)
    our_id = work.our_party_id or work.vendor_code
    return AmazonInvoice(
        invoice_number=work.invoice_number,
        invoice_date=work.invoice_date,
        invoice_type=INVOICE,
        vendor_code=work.vendor_code,
        marketplace=vendor.marketplace,
        standard=work.edi_standard,
        currency=work.currency,
        po_number=work.po_number,
        po_date=work.po_date,
        sales_order_number=work.sales_order_number,
        remit_to_id=work.vendor_code if work.edi_standard == API else our_id,
        remit_to_name=config.company.name,
        remit_to_vat_number=None,
        bill_to_id=work.partner_id or "",
        ship_to_qualifier=work.ship_to_qualifier,
        ship_to_id=work.ship_to_id,
        payment_terms_days=work.payment_terms_days,
        lines=_invoice_lines(work, identifiers),
        adjustments=(),
        net_total=work.invoice_net_value,
        tax_total=work.invoice_tax_value,
        gross_total=work.invoice_gross_value,
        prepared_at=now,
    )


def _invoice_lines(
    work: DocumentWork, identifiers: dict[tuple[str, int], tuple[ProductIdentifier, ...]]
) -> tuple[InvoiceLine, ...]:
    """One line per PO line: an accepted and a backordered Sage line of one PO line are invoiced as one."""
    grouped: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in work.rows:
        if row["line_number"] is not None:
            grouped.setdefault((row["po_number"], row["line_number"]), []).append(row)
    lines = []
    for sequence, ((_, line_number), rows) in enumerate(grouped.items(), start=1):
        first = rows[0]
        # A Sage line priced unlike the acknowledgement is the one the cost rule must see.
        unit_cost = next(
            (row["invoiced_unit_cost"] for row in rows if row["invoiced_unit_cost"] != row["acknowledged_unit_cost"]),
            first["invoiced_unit_cost"],
        )
        lines.append(
            InvoiceLine(
                line_number=sequence,
                po_number=first["po_number"],
                line_id=first["line_id"],
                identifiers=identifiers.get((po_version(first), line_number), ()),
                vendor_product_code=first["product_code"],
                unit_of_measure=first["unit_of_measure"],
                unit_size=first["eaches_per_unit"],
                invoiced_eaches=sum((row["invoiced_eaches"] for row in rows), Decimal(0)),
                unit_cost=unit_cost,
                net_amount=sum((row["line_net_amount"] for row in rows), Decimal("0.00")),
                tax_rate=first["tax_rate"],
                tax_amount=sum((row["line_tax_amount"] for row in rows), Decimal("0.00")),
            )
        )
    return tuple(lines)


def _unmapped_lines(work: DocumentWork) -> list[RuleFailure]:
    return [
        RuleFailure(
            ITEM_ON_PURCHASE_ORDER,
            f"{row['product_code']} is invoiced on Sage invoice {row['invoice_number']} but is on no line of PO"
            f" {row['po_number']}: Amazon pays only for what it ordered. Credit it in Sage and invoice it on its"
            " own PO.",
        )
        for row in work.rows
        if row["line_number"] is None
    ]


def _purchase_orders(work: DocumentWork) -> list[RuleFailure]:
    orders = sorted({row["po_number"] for row in work.rows})
    if len(orders) == 1:
        return []
    return [
        RuleFailure(
            ONE_PURCHASE_ORDER,
            f"Sage invoice {work.invoice_number} bills {len(orders)} POs ({', '.join(orders)}) and Amazon matches an"
            " invoice to one PO: credit it in Sage and invoice each order on its own.",
        )
    ]


def _context(work: Sequence[DocumentWork], records: _Records, now: datetime, config: BusinessConfig) -> InvoiceContext:
    acknowledged: dict[tuple[str, str], Decimal] = {}
    shipped: dict[tuple[str, str], Decimal] = {}
    invoiced_before: dict[tuple[str, str], Decimal] = {}
    for invoice in work:
        for row in invoice.rows:
            if row["line_number"] is None:
                continue
            key = (row["po_number"], row["line_id"])
            acknowledged[key] = row["acknowledged_unit_cost"]
            shipped[key] = row["shipped_eaches"]
            invoiced_before[key] = row["invoiced_before_eaches"]
    return InvoiceContext(
        now=now,
        acknowledged_costs=acknowledged,
        shipped_eaches=shipped,
        invoiced_before_eaches=invoiced_before,
        invoice_numbers_sent=records.sent_numbers(),
        timezone=config.company.timezone,
    )


# --- the warehouse -------------------------------------------------------------------------------------


def read_invoices(con: duckdb.DuckDBPyConnection) -> list[DocumentWork]:
    """The Sage invoices dbt says still need sending, oldest first, each with its lines."""
    return read_work(con, WORK_QUERY, "sage_invoice_id")


class _Records:
    """The batch's own audit rows: checks, failures, invoices sent."""

    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: str | None, clock: Callable[[], datetime]) -> None:
        self.con = con
        self.run_id = run_id
        self.clock = clock

    def sent_numbers(self) -> dict[str, datetime]:
        return dict(self.con.execute(SENT_NUMBERS_QUERY).fetchall())

    def written(self, related: str) -> tuple[str, str] | None:
        return written_document(self.con, related, list(DOCUMENT_TYPES.values()))

    def failed(self, work: DocumentWork, failures: Sequence[RuleFailure]) -> None:
        """Record the check unless the invoice's last check failed in just the same way (nothing new to say)."""
        if says_nothing_new(self.con.execute(LAST_CHECK_QUERY, [work.sage_invoice_id]).fetchone(), failures):
            return
        self.con.execute("begin transaction")
        try:
            submission_id = self._submission(work, FAILED_VALIDATION, None)
            self.con.executemany(
                "insert into audit.invoice_submission_failures (submission_id, rule, message) values (?, ?, ?)",
                sorted({(submission_id, failure.rule, failure.message) for failure in failures}),
            )
            self.con.execute("commit")
        except Exception:
            self.con.execute("rollback")
            raise

    def sent(self, work: DocumentWork, document: tuple[str, str]) -> None:
        self._submission(work, SENT, document)

    def _submission(self, work: DocumentWork, status: str, document: tuple[str, str] | None) -> str:
        """One check of the invoice, as Sage states it."""
        submission_id = str(uuid.uuid4())
        document_id, file_name = document if document else (None, None)
        self.con.execute(
            "insert into audit.invoice_submissions (submission_id, sage_invoice_id, invoice_number, po_number,"
            " sales_order_number, vendor_code, standard, status, invoice_date, gross_amount, document_id, file_name,"
            " checked_at, run_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [submission_id, work.sage_invoice_id, work.invoice_number, work.po_number, work.sales_order_number,
             work.vendor_code, work.edi_standard, status, work.invoice_date, work.invoice_gross_value, document_id,
             file_name, self.clock(), self.run_id],
        )  # fmt: skip
        return submission_id
