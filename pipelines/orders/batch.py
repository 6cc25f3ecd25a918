"""The order batch: every PO that still needs acknowledging gets its decision, its Sage order, its acknowledgement.

Per PO, in the order the POs arrived: decide each line against Sage's free stock (read once, at the start),
record the decision, create the Sage sales order exactly once (`pipelines.sage200.postings`), and only when
the order exists — or nothing was accepted, so none is needed — write the acknowledgement to the outbox.
A PO that fails at any step is recorded with why (``audit.purchase_order_failures``) and the batch goes on
with the next; the next run picks it up again, re-using the recorded decision once an order exists, so the
acknowledgement always says what the order says.

The work comes from dbt (`intermediate.int_purchase_orders_prepared` and the resolved lines), so the
rules about what a PO needs live in SQL; this module only acts on them.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb

from pipelines.amazon.documents import ProductIdentifier
from pipelines.edi.outbox import Outbox, ensure_outbound_schema
from pipelines.orders.acknowledgement import (
    ACCEPTED,
    BACKORDERED,
    REJECTED,
    Acknowledgement,
    AcknowledgementLine,
    LineOutcome,
)
from pipelines.orders.decisions import FreeStock, Holding, LineDecision, LineToDecide, decide_lines
from pipelines.orders.documents import DOCUMENT_TYPES, write_acknowledgement
from pipelines.orders.readiness import write_back_blockers
from pipelines.sage200.client import SageClient, sage_date
from pipelines.sage200.postings import UNANSWERED, PostingLog, post_once, recover_unanswered
from pipelines.settings import BusinessConfig, Locations
from pipelines.warehouse.audit import ensure_audit_schema

log = logging.getLogger(__name__)

STANDARD_LINE = "EnumLineTypeStandard"
SALES_ORDERS = "sop_orders"
ACKNOWLEDGEMENT_DOCUMENT_TYPES = tuple(DOCUMENT_TYPES.values())
# Product ids per holdings request: keeps each OData filter well under any URL length limit.
HOLDINGS_FILTER_CHUNK = 40

# Columns named as PurchaseOrderWork's fields (the delivery address as delivery_<field>), read by name.
WORK_QUERY = """
select
    po_number, content_sha256, vendor_code, edi_standard, po_date, currency, customer_id,
    window_start_date as window_start, window_end_date as window_end,
    coalesce(is_backorder_allowed, false) as backorder_allowed, ship_to_qualifier, ship_to_id,
    delivery_postal_name, delivery_address_1, delivery_address_2, delivery_city, delivery_postcode,
    delivery_country, partner_id, our_id, source_file, order_status, decision_id, decided_version_id,
    sales_order_number, order_posting_key as posting_key, last_order_posting_status, last_order_posting_version
from intermediate.int_purchase_orders_prepared
where acknowledgement_status in ('on_time', 'at_risk', 'overdue')
    and order_status in ('pending', 'failed', 'ordered', 'not_needed')
order by received_at, po_number
"""
ADDRESS_FIELDS = ("postal_name", "address_1", "address_2", "city", "postcode", "country")

LINES_QUERY = """
select
    lines.po_number, lines.line_number, lines.line_id, lines.ordered_quantity, lines.unit_of_measure,
    lines.ordered_unit, lines.unit_size, lines.acknowledged_unit_cost,
    lines.resolution_status, lines.product_id, lines.product_code, lines.product_name, lines.selling_unit_id,
    lines.selling_unit_multiple, lines.stock_unit_multiple, lines.selling_unit_price
from intermediate.int_purchase_order_lines_resolved as lines
where lines.po_number in (select unnest(?))
order by lines.po_number, lines.line_number
"""

IDENTIFIERS_QUERY = """
select purchase_order_version_id, line_number, identifier_qualifier, identifier_value
from staging.stg_amazon__purchase_order_line_identifiers
where purchase_order_version_id in (select unnest(?))
order by purchase_order_version_id, line_number, identifier_position
"""

DECISION_LINES_QUERY = """
select decision_id, line_number, line_id, decision_status, decided_quantity, rejection_reason, ship_date,
    warehouse_id
from staging.stg_app__purchase_order_decision_lines
where decision_id in (select unnest(?))
order by decision_id, line_number, decision_status
"""


@dataclass(frozen=True)
class WorkLine:
    line_number: int
    line_id: str
    ordered_quantity: Decimal
    unit_of_measure: str
    ordered_unit: str | None  # case / each
    unit_size: Decimal | None
    unit_cost: Decimal  # per each, as acknowledged and ordered (dbt blocks a PO with a line lacking one)
    resolution_status: str
    product_id: int | None
    product_code: str | None
    product_name: str | None
    selling_unit_id: int | None
    selling_unit_multiple: Decimal | None
    stock_unit_multiple: Decimal | None
    selling_unit_price: Decimal | None
    identifiers: tuple[ProductIdentifier, ...] = ()


@dataclass(frozen=True)
class PurchaseOrderWork:
    po_number: str
    content_sha256: str
    vendor_code: str
    edi_standard: str
    po_date: date
    currency: str | None
    customer_id: int
    window_start: date | None
    window_end: date | None
    backorder_allowed: bool
    ship_to_qualifier: str | None
    ship_to_id: str | None
    delivery_address: dict[str, str]
    partner_id: str | None
    our_id: str | None
    source_file: str | None
    order_status: str
    decision_id: str | None
    decided_version_id: str | None
    sales_order_number: str | None
    posting_key: str  # the exactly-once key of its Sage order
    last_order_posting_status: str | None
    last_order_posting_version: str | None  # the PO version that posting was made from
    lines: tuple[WorkLine, ...]

    @property
    def version_id(self) -> str:
        return f"{self.po_number}:{self.content_sha256}"

    @property
    def has_unanswered_post(self) -> bool:
        return self.last_order_posting_status in UNANSWERED

    @property
    def keeps_its_decision(self) -> bool:
        """Whether the recorded decision stands: an order was made from it, none is needed, or a POST made
        from it went unanswered (Sage may hold that very order). Otherwise the PO is decided afresh."""
        if self.decision_id is None or self.decided_version_id != self.version_id:
            return False
        if self.order_status in ("ordered", "not_needed"):
            return True
        return self.has_unanswered_post and self.last_order_posting_version == self.content_sha256


class WriteBackBlocked(RuntimeError):
    """The order marts break a rule the write-back relies on: nothing was ordered or acknowledged."""


@dataclass
class OrderBatchSummary:
    orders_created: list[str] = field(default_factory=list)  # PO numbers
    orders_found: list[str] = field(default_factory=list)  # already in Sage (an earlier, unrecorded POST)
    acknowledged: Counter[str] = field(default_factory=Counter)  # per standard
    not_ordered: list[str] = field(default_factory=list)  # every line rejected: acknowledged, no order
    not_done: dict[str, str] = field(default_factory=dict)  # PO number → why it was left for a person or retry

    def lines(self) -> list[str]:
        sent = ", ".join(f"{count} {standard}" for standard, count in sorted(self.acknowledged.items())) or "none"
        lines = [
            f"{len(self.orders_created)} sales order(s) created in Sage"
            + (f", {len(self.orders_found)} found already there" if self.orders_found else ""),
            f"{sum(self.acknowledged.values())} acknowledgement(s) written ({sent})"
            + (f"; {len(self.not_ordered)} PO(s) rejected whole, no order" if self.not_ordered else ""),
        ]
        lines += [f"PO {po} not done: {reason}" for po, reason in sorted(self.not_done.items())]
        return lines


def _utc_now() -> datetime:
    return datetime.now(UTC)


def run_order_batch(
    locations: Locations,
    config: BusinessConfig,
    client: SageClient,
    *,
    clock: Callable[[], datetime] = _utc_now,
    run_id: str | None = None,
) -> OrderBatchSummary:
    """Order and acknowledge every PO the warehouse says still needs it (after a dbt build).

    Raises WriteBackBlocked, before any write, when the marts break a rule of `readiness`.
    """
    summary = OrderBatchSummary()
    started = clock()
    today = started.astimezone(config.company.tzinfo).date()
    with duckdb.connect(str(locations.warehouse)) as con:
        ensure_audit_schema(con)
        ensure_outbound_schema(con)
        blockers = write_back_blockers(con)
        if blockers:
            raise WriteBackBlocked("; ".join(blockers))
        work = read_work(con)
        if not work:
            return summary
        stock = FreeStock(read_free_stock(client, _products_to_decide(work)))
        postings = PostingLog(con, run_id=run_id, clock=clock)
        outbox = Outbox(locations.outbox, locations.warehouse, clock=clock)
        records = _Records(con, run_id, clock)
        for po in work:
            try:
                _handle(po, client, postings, outbox, records, stock, today, config, summary)
            except Exception as error:  # one PO failing never stops the others; it is recorded for a person
                log.exception("PO %s failed", po.po_number)
                posting = postings.latest(po.posting_key)
                ordered = (posting is not None and posting.is_settled) or po.order_status != "pending"
                records.failure(po, "acknowledgement" if ordered else "sales_order", f"{type(error).__name__}: {error}")
                summary.not_done[po.po_number] = str(error)
    return summary


def _handle(
    po: PurchaseOrderWork,
    client: SageClient,
    postings: PostingLog,
    outbox: Outbox,
    records: _Records,
    stock: FreeStock,
    today: date,
    config: BusinessConfig,
    summary: OrderBatchSummary,
) -> None:
    def find() -> dict[str, Any] | None:
        return find_sales_order(client, po.customer_id, po.po_number)

    if po.order_status == "ordered" and po.decided_version_id != po.version_id:
        # Acknowledging the old decision would contradict the new PO; exception po_changed_after_order.
        summary.not_done[po.po_number] = "Amazon changed the PO after its Sage order: amend the order by hand"
        return
    if po.has_unanswered_post and po.last_order_posting_version != po.content_sha256:
        # A POST for an earlier version went unanswered: settle it before deciding anything for this one.
        recovered = recover_unanswered(
            postings, key=po.posting_key, resource=SALES_ORDERS, find_existing=find, reference_of=_order_number
        )
        if recovered is not None:
            summary.not_done[po.po_number] = (
                f"Sage order {recovered.sage_reference} was made from an earlier version of the PO: amend it by hand"
            )
            return
    keeps_decision = po.keeps_its_decision
    if keeps_decision:
        decision_id, decisions = po.decision_id, records.decision_lines(po.decision_id)
    else:
        ship_date = max(today, po.window_start) if po.window_start else today
        decisions = decide_lines(
            (_line_to_decide(line) for line in po.lines),
            stock,
            backorder_allowed=po.backorder_allowed,
            ship_date=ship_date,
            today=today,
            backorder_days=config.lead_times.backorder_days,
        )
        decision_id = records.decision(po, decisions)
    # Built before any write: a PO that cannot be acknowledged is not ordered either.
    acknowledgement = build_acknowledgement(po, decisions, po.sales_order_number, records.clock())
    sales_order_number = po.sales_order_number
    if not _has_units_to_order(decisions):
        summary.not_ordered.append(po.po_number)
    elif po.order_status != "ordered":
        posting = post_once(
            client,
            postings,
            key=po.posting_key,
            resource=SALES_ORDERS,
            body=sales_order_body(po, decisions, today),
            find_existing=find,
            reference_of=_order_number,
            source_version=po.content_sha256,
        )
        if posting.status == "found_existing":
            summary.not_done[po.po_number] = (
                f"Sage order {posting.sage_reference} for this PO was keyed outside avc2sage: left to a person"
            )
            return
        if not posting.is_settled:
            records.failure(po, "sales_order", f"Sage order {posting.status}: {posting.message}")
            summary.not_done[po.po_number] = f"Sage order {posting.status}: {posting.message}"
            return
        if posting.status == "posted":
            summary.orders_created.append(po.po_number)
            if keeps_decision:
                _take_stock_for(po, decisions, stock)  # decided before this batch's stock was read
        else:
            summary.orders_found.append(po.po_number)
        sales_order_number = posting.sage_reference
        acknowledgement = replace(acknowledgement, sales_order_number=sales_order_number)
    # The outbox registers what it wrote under the PO it answers, so an acknowledgement written just before a
    # crash (its own record lost) is recorded from the outbox rather than sent twice.
    answers = f"{po.source_file}#{po.po_number}"
    written = records.written_acknowledgement(answers)
    if written is None:
        try:
            document = write_acknowledgement(
                acknowledgement,
                outbox,
                standard=po.edi_standard,
                our_id=po.our_id or "",
                partner_id=po.partner_id or "",
                related_inbound=answers,
            )
        except Exception as error:
            records.failure(po, "acknowledgement", f"{type(error).__name__}: {error}")
            summary.not_done[po.po_number] = f"acknowledgement not written: {error}"
            return
        written = (document.document_id, document.file_name)
    records.acknowledgement(po, decision_id, sales_order_number, *written)
    summary.acknowledged[po.edi_standard] += 1


def _order_number(order: dict[str, Any]) -> str:
    return str(order["document_no"])


def _take_stock_for(po: PurchaseOrderWork, decisions: Sequence[LineDecision], stock: FreeStock) -> None:
    lines = {line.line_number: line for line in po.lines}
    for decision in decisions:
        line = lines[decision.line_number]
        if line.product_id is not None and line.selling_unit_multiple is not None:
            units = decision.quantity(ACCEPTED)
            stock.take(line.product_id, units, line.selling_unit_multiple)


def _line_to_decide(line: WorkLine) -> LineToDecide:
    return LineToDecide(
        line_number=line.line_number,
        line_id=line.line_id,
        ordered_quantity=line.ordered_quantity,
        resolution_status=line.resolution_status,
        product_id=line.product_id,
        selling_unit_multiple=line.selling_unit_multiple,
    )


def _has_units_to_order(decisions: Sequence[LineDecision]) -> bool:
    return any(d.quantity(ACCEPTED) + d.quantity(BACKORDERED) > 0 for d in decisions)


def _products_to_decide(work: Iterable[PurchaseOrderWork]) -> dict[int, Decimal]:
    """Each product a new decision may need stock of, with its stock unit's multiple."""
    return {
        line.product_id: line.stock_unit_multiple
        for po in work
        if po.order_status in ("pending", "failed")
        for line in po.lines
        if line.product_id is not None and line.stock_unit_multiple is not None
    }


# --- Sage ----------------------------------------------------------------------------------------------


def read_free_stock(client: SageClient, stock_multiples: dict[int, Decimal]) -> list[Holding]:
    """Sage's free stock now for the products, in base units (holdings count in stock units)."""
    holdings = []
    product_ids = sorted(stock_multiples)
    for start in range(0, len(product_ids), HOLDINGS_FILTER_CHUNK):
        chunk = product_ids[start : start + HOLDINGS_FILTER_CHUNK]
        condition = " or ".join(f"product_id eq {product_id}" for product_id in chunk)
        for holding in client.get_all("warehouse_holdings", {"$filter": condition}):
            product_id = int(holding["product_id"])
            holdings.append(
                Holding(
                    product_id=product_id,
                    warehouse_id=int(holding["warehouse_id"]),
                    free_base_quantity=Decimal(holding["free_stock_available"]) * stock_multiples[product_id],
                )
            )
    return holdings


def find_sales_order(client: SageClient, customer_id: int, po_number: str) -> dict[str, Any] | None:
    """The customer's Sage order carrying the PO number, if there is one (the exactly-once lookup)."""
    quoted = po_number.replace("'", "''")
    condition = f"customer_document_no eq '{quoted}' and customer_id eq {customer_id}"
    found = client.get("sop_orders", {"$filter": condition, "$orderby": "id", "$top": 1})
    return found[0] if found else None


# The Sage order line field that carries Amazon's PO line id (Sage's spare text, free for clients to use).
SAGE_LINE_PO_LINE_FIELD = "spare_text_1"


def sales_order_body(po: PurchaseOrderWork, decisions: Sequence[LineDecision], today: date) -> dict[str, Any]:
    """The Sage order: accepted units on one line each, backordered units on their own lines with their date."""
    lines_by_number = {line.line_number: line for line in po.lines}
    requested = sage_date(po.window_end) if po.window_end else None
    order_lines = []
    for decision in decisions:
        line = lines_by_number[decision.line_number]
        for outcome in decision.outcomes:
            if outcome.status == REJECTED or not outcome.quantity:
                continue
            order_line = {
                "line_type": STANDARD_LINE,
                "product_id": line.product_id,
                "warehouse_id": decision.warehouse_id,
                "code": line.product_code,
                "description": line.product_name,
                # The PO's unit is the selling unit for a resolved line (a case of N is the Sage unit of N).
                "line_quantity": whole_or_exact(outcome.quantity),
                "selling_unit_id": line.selling_unit_id,
                "selling_unit_price": line.selling_unit_price,
                "promised_delivery_date": sage_date(outcome.ship_date),
                # Amazon's line id travels with the Sage line, so its despatches and invoices map back to the
                # PO line even after someone edits the order (the ASN and the invoice must echo it).
                SAGE_LINE_PO_LINE_FIELD: line.line_id,
            }
            if requested:
                order_line["requested_delivery_date"] = requested
            order_lines.append(order_line)
    address = {key: value for key, value in po.delivery_address.items() if value}
    body: dict[str, Any] = {
        "customer_id": po.customer_id,
        "document_no": "",  # Sage numbers the order; the PO number is our key
        "document_date": sage_date(today),
        "customer_document_no": po.po_number,
        "delivery_address": address,
        "lines": order_lines,
    }
    if requested:
        body["requested_delivery_date"] = requested
    return body


def whole_or_exact(quantity: Decimal) -> Decimal:
    """12.00000 as 12, 2.5 as 2.5: the warehouse's fixed scale is not Sage's."""
    whole = quantity.to_integral_value()
    return whole if quantity == whole else quantity.normalize()


def build_acknowledgement(
    po: PurchaseOrderWork, decisions: Sequence[LineDecision], sales_order_number: str | None, now: datetime
) -> Acknowledgement:
    decided = {decision.line_number: decision for decision in decisions}
    lines = []
    for line in po.lines:
        lines.append(
            AcknowledgementLine(
                line_id=line.line_id,
                identifiers=line.identifiers,
                ordered_quantity=line.ordered_quantity,
                unit_of_measure=line.unit_of_measure,
                unit_size=line.unit_size if line.ordered_unit == "case" else None,
                unit_cost=line.unit_cost,
                outcomes=decided[line.line_number].outcomes,
            )
        )
    return Acknowledgement(
        po_number=po.po_number,
        po_date=po.po_date,
        vendor_code=po.vendor_code,
        currency=po.currency or "",
        acknowledged_at=now,
        ship_to_qualifier=po.ship_to_qualifier,
        ship_to_id=po.ship_to_id,
        sales_order_number=sales_order_number,
        lines=tuple(lines),
    )


# --- the warehouse -------------------------------------------------------------------------------------


def read_work(con: duckdb.DuckDBPyConnection) -> list[PurchaseOrderWork]:
    """The POs dbt says need ordering or acknowledging, oldest first, with their lines and identifiers."""
    cursor = con.execute(WORK_QUERY)
    names = [column[0] for column in cursor.description]
    headers = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    if not headers:
        return []
    identifiers = read_line_identifiers(
        con, [f"{header['po_number']}:{header['content_sha256']}" for header in headers]
    )
    lines: dict[str, list[WorkLine]] = {}
    for row in con.execute(LINES_QUERY, [[header["po_number"] for header in headers]]).fetchall():
        po_number, line_number, *rest = row
        version = next(f"{h['po_number']}:{h['content_sha256']}" for h in headers if h["po_number"] == po_number)
        line = WorkLine(line_number, *rest, identifiers=identifiers.get((version, line_number), ()))
        lines.setdefault(po_number, []).append(line)
    work = []
    for header in headers:
        address = {field: header.pop(f"delivery_{field}") for field in ADDRESS_FIELDS}
        work.append(
            PurchaseOrderWork(**header, delivery_address=address, lines=tuple(lines.get(header["po_number"], ())))
        )
    return work


def read_line_identifiers(
    con: duckdb.DuckDBPyConnection, versions: Sequence[str]
) -> dict[tuple[str, int], tuple[ProductIdentifier, ...]]:
    """Every identifier Amazon sent for each line of the PO versions (``<PO>:<content hash>``), in its order,
    by (version, line number): what every document about the line must echo back exactly."""
    found: dict[tuple[str, int], list[ProductIdentifier]] = {}
    for version, line_number, qualifier, value in con.execute(IDENTIFIERS_QUERY, [list(versions)]).fetchall():
        found.setdefault((version, line_number), []).append(ProductIdentifier(qualifier, value))
    return {key: tuple(value) for key, value in found.items()}


class _Records:
    """The batch's own audit rows: decisions, acknowledgements, failures."""

    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: str | None, clock: Callable[[], datetime]) -> None:
        self.con = con
        self.run_id = run_id
        self.clock = clock

    def decision(self, po: PurchaseOrderWork, decisions: Sequence[LineDecision]) -> str:
        decision_id = str(uuid.uuid4())
        costs = {line.line_number: line.unit_cost for line in po.lines}
        rows = [
            (decision_id, d.line_number, d.line_id, o.status, o.quantity, o.rejection_reason, o.ship_date,
             costs[d.line_number], d.warehouse_id)
            for d in decisions
            for o in d.outcomes
        ]  # fmt: skip
        self.con.execute("begin transaction")
        try:
            self.con.execute(
                "insert into audit.purchase_order_decisions (decision_id, po_number, content_sha256, vendor_code,"
                " decided_at, run_id) values (?, ?, ?, ?, ?, ?)",
                [decision_id, po.po_number, po.content_sha256, po.vendor_code, self.clock(), self.run_id],
            )
            self.con.executemany(
                "insert into audit.purchase_order_decision_lines (decision_id, line_number, line_id, status, quantity,"
                " rejection_reason, ship_date, unit_cost, warehouse_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self.con.execute("commit")
        except Exception:
            self.con.execute("rollback")
            raise
        return decision_id

    def decision_lines(self, decision_id: str) -> tuple[LineDecision, ...]:
        outcomes: dict[int, list[LineOutcome]] = {}
        line_ids: dict[int, str] = {}
        warehouses: dict[int, int | None] = {}
        order = {ACCEPTED: 0, BACKORDERED: 1, REJECTED: 2}
        rows = self.con.execute(DECISION_LINES_QUERY, [[decision_id]]).fetchall()
        for _, line_number, line_id, status, quantity, reason, ship_date, warehouse_id in sorted(
            rows, key=lambda row: (row[1], order[row[3]])
        ):
            outcomes.setdefault(line_number, []).append(LineOutcome(status, quantity, ship_date, reason))
            line_ids[line_number] = line_id
            warehouses[line_number] = warehouse_id
        return tuple(
            LineDecision(number, line_ids[number], tuple(outcomes[number]), warehouses[number])
            for number in sorted(outcomes)
        )

    def written_acknowledgement(self, answers: str) -> tuple[str, str] | None:
        """The document id and file of an acknowledgement already in the outbox for `answers` (file#PO)."""
        return self.con.execute(
            "select document_id, file_name from audit.outbound_documents"
            " where related_inbound = ? and document_type in (?, ?, ?) order by written_at desc limit 1",
            [answers, *ACKNOWLEDGEMENT_DOCUMENT_TYPES],
        ).fetchone()

    def acknowledgement(
        self,
        po: PurchaseOrderWork,
        decision_id: str,
        sales_order_number: str | None,
        document_id: str,
        file_name: str,
    ) -> None:
        self.con.execute(
            "insert into audit.purchase_order_acknowledgements (acknowledgement_id, decision_id, po_number,"
            " content_sha256, vendor_code, standard, sales_order_number, document_id, file_name, acknowledged_at,"
            " run_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [str(uuid.uuid4()), decision_id, po.po_number, po.content_sha256, po.vendor_code, po.edi_standard,
             sales_order_number, document_id, file_name, self.clock(), self.run_id],
        )  # fmt: skip

    def failure(self, po: PurchaseOrderWork, step: str, message: str) -> None:
        self.con.execute(
            "insert into audit.purchase_order_failures (failure_id, po_number, content_sha256, step, message,"
            " failed_at, run_id) values (?, ?, ?, ?, ?, ?, ?)",
            [str(uuid.uuid4()), po.po_number, po.content_sha256, step, message, self.clock(), self.run_id],
        )
