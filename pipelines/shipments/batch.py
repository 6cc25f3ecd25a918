"""Ship notices for Sage's confirmed despatches: pack, label, check Amazon's rules, send the ones that pass.

The work comes from dbt (`intermediate.int_shipment_lines_prepared`): the despatch lines of the Sage orders
avc2sage acknowledged, whose despatch has no notice sent yet. A notice is built only from what Sage confirms
was despatched, so nothing is announced that has not left the warehouse.

For each despatch, oldest first: the shipped quantities are packed into cartons (and pallets) with SSCCs,
the notice is checked against every Amazon rule (`pipelines.shipments.rules`), and then either

- it passes: the carton labels (PDF, for the warehouse) and the notice (through the outbox) are written and
  the notice is recorded as sent, never to be sent again; or
- it fails: the rules it broke are recorded (once per change of outcome) and become an exception; the next
  run checks it again, since the fix is usually made in Sage or on the despatch note.

One despatch failing never holds up another. SSCCs come from a persisted serial and are kept per despatch
(`audit.shipment_containers`), so a despatch checked again prints the same labels and no SSCC serves two.
A notice written just before a crash is found again in the outbox registry (registered under
``despatch:<Sage id>``) and recorded, never written twice.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from pipelines.amazon.documents import ProductIdentifier
from pipelines.edi.outbox import Outbox, ensure_outbound_schema, write_file_atomically
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
from pipelines.orders.batch import read_line_identifiers
from pipelines.settings import BusinessConfig, Locations
from pipelines.shipments.despatch_notes import DespatchNotes, read_despatch_notes
from pipelines.shipments.documents import DOCUMENT_TYPES, write_shipment_notice
from pipelines.shipments.labels import render_carton_labels
from pipelines.shipments.model import Carton, Pallet, ShipmentLine, ShipmentNotice
from pipelines.shipments.packing import PackingError, pack
from pipelines.shipments.rules import (
    SHIPMENT_ID_UNIQUE_DAYS,
    AsnContext,
    CarrierRequirement,
    PurchaseOrderDestination,
    RuleFailure,
    asn_due_at,
    validate,
)
from pipelines.shipments.sscc import build_sscc, serial_capacity
from pipelines.warehouse.audit import ensure_audit_schema

log = logging.getLogger(__name__)

DESPATCH_NOTE_READABLE = "despatch_note_readable"
# Carton labels are for the warehouse, not for Amazon: beside the outbox, never inside it (the transfer agent
# sends whatever it finds there).
LABELS_FOLDER = "labels"

WORK_QUERY = """
select *
from intermediate.int_shipment_lines_prepared
-- The table is as of the last dbt build; the audit trail is as of now.
where not has_notice_sent
    and despatch_id not in (select despatch_id from audit.shipment_notices where status = 'sent')
order by despatch_id, line_number nulls last, despatch_line_id
"""
LOCATIONS_QUERY = """
select ship_to_qualifier, ship_to_id, postal_name, address_1, address_2, city, postcode, country
from seeds.amazon_locations
"""
CARRIER_REQUIREMENTS_QUERY = """
select marketplace, freight_terms, requires_carrier, requires_scac, requires_tracking_number,
    requires_bill_of_lading, requires_amazon_reference_number
from seeds.asn_carrier_requirements
"""
PERISHABLES_QUERY = "select product_code from seeds.perishable_products"
SENT_NOTICES_QUERY = """
select notice_id, shipment_id, bill_of_lading, checked_at
from audit.shipment_notices
where status = 'sent' and checked_at >= ?
"""
SENT_CONTAINERS_QUERY = """
select containers.sscc, notices.shipment_id
from audit.shipment_notice_containers as containers
inner join audit.shipment_notices as notices on containers.notice_id = notices.notice_id
where notices.status = 'sent' and notices.checked_at >= ?
"""
LAST_CHECK_QUERY = """
select notices.status,
    list([failures.rule, failures.message] order by failures.rule, failures.message)
        filter (where failures.rule is not null)
from audit.shipment_notices as notices
left join audit.shipment_notice_failures as failures on notices.notice_id = failures.notice_id
where notices.notice_id = (
    select notice_id from audit.shipment_notices where despatch_id = ? order by sequence_number desc limit 1
)
group by notices.status
"""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def run_shipment_batch(
    locations: Locations,
    config: BusinessConfig,
    *,
    clock: Callable[[], datetime] = _utc_now,
    run_id: str | None = None,
) -> BatchSummary:
    """Check and send a ship notice for every despatch dbt lists (after a dbt build)."""
    summary = BatchSummary("ship notices")
    with duckdb.connect(str(locations.warehouse)) as con:
        ensure_audit_schema(con)
        ensure_outbound_schema(con)
        work = read_despatches(con)
        if not work:
            return summary
        outbox = Outbox(locations.outbox, locations.warehouse, clock=clock)
        records = _Records(con, run_id, clock)
        context = records.context(clock())
        identifiers = read_line_identifiers(con, sorted({po_version(row) for item in work for row in item.rows}))
        ship_to_addresses = _ship_to_addresses(con)
        labels = Path(locations.outbox).parent / LABELS_FOLDER
        for despatch in work:
            try:
                _handle(despatch, identifiers, ship_to_addresses, context, outbox, records, labels, config, summary)
            except Exception as error:  # one despatch failing never stops the others; the next run tries again
                log.exception("ship notice for despatch %s failed", despatch.despatch_number)
                records.failed(despatch, [RuleFailure(NOT_CHECKED, f"{type(error).__name__}: {error}")])
                summary.failed[NOT_CHECKED] += 1
    return summary


def _handle(
    despatch: DocumentWork,
    identifiers: dict[tuple[str, int], tuple[ProductIdentifier, ...]],
    ship_to_addresses: dict[tuple[str, str], tuple[str, ...]],
    context: AsnContext,
    outbox: Outbox,
    records: _Records,
    labels: Path,
    config: BusinessConfig,
    summary: BatchSummary,
) -> None:
    now = records.clock()
    notes = read_despatch_notes(despatch.despatch_notes)
    lines = _shipment_lines(despatch, identifiers, notes)
    failures = _unmapped_lines(despatch)
    ssccs = _SsccAssigner(records, outbox, despatch.despatch_id, config)

    def packed(next_sscc: Callable[[], str]) -> tuple[tuple[Pallet, ...], tuple[Carton, ...]]:
        return pack(
            lines,
            carton_eaches=config.shipping.carton_eaches,
            cartons_per_pallet=config.shipping.cartons_per_pallet or None,
            next_sscc=next_sscc,
            scanned_ssccs=notes.ssccs,
        )

    try:
        # A dry run counts the SSCCs the packing asks for, so exactly that many serials are reserved at once.
        asked = itertools.count()
        packed(lambda: str(next(asked)))
        ssccs.reserve(next(asked))
        pallets, loose = packed(ssccs.next)
    except PackingError as error:  # e.g. more SSCCs scanned than cartons: the note is wrong, not the code
        pallets, loose = (), ()
        failures.append(RuleFailure(DESPATCH_NOTE_READABLE, str(error)))
    ssccs.save()
    notice = _notice(despatch, lines, pallets, loose, notes, config, now)
    due = _due(notice, config)
    related = f"despatch:{despatch.despatch_id}"
    # A notice already in the outbox (a run that died before recording it) is recorded, never checked again:
    # it is with Amazon whatever the rules say today.
    written = records.written(related)
    if written is None:
        failures += validate(notice, _context_for(despatch, context, notes))
        if failures:
            records.failed(despatch, failures, notice, due)
            summary.stopped(failures)
            return
        try:
            document = write_shipment_notice(
                notice, outbox, our_id=_our_id(despatch), partner_id=despatch.partner_id, related_inbound=related
            )
        except ValueError as error:  # the renderer refused it: a defect to fix, recorded like a broken rule
            records.failed(despatch, [RuleFailure(DOCUMENT_RENDERS, str(error))], notice, due)
            summary.failed[DOCUMENT_RENDERS] += 1
            return
        written = (document.document_id, document.file_name)
    # The labels follow the notice: the same SSCCs, rewritten whole if a run died half-way.
    label_file = labels / _label_name(notice, despatch)
    ship_from = [part for part in (config.company.name, despatch.warehouse_name) if part]
    ship_to = ship_to_addresses.get((notice.ship_to_qualifier or "", notice.ship_to_id or ""), ())
    pdf = render_carton_labels(
        notice,
        company_prefix_length=len(config.company.gs1_company_prefix),
        ship_from_address=ship_from,
        ship_to_address=ship_to,
    )
    label_file.parent.mkdir(parents=True, exist_ok=True)
    write_file_atomically(label_file, pdf, replace=True)
    records.sent(despatch, notice, due, written, label_file)
    summary.sent += 1
    context.shipment_ids_sent[notice.shipment_id] = now
    if notice.bill_of_lading:
        context.bills_of_lading_used[notice.bill_of_lading] = notice.shipment_id
    for container in (*notice.pallets, *notice.cartons):
        context.ssccs_used[container.sscc] = notice.shipment_id


def _notice(
    despatch: DocumentWork,
    lines: tuple[ShipmentLine, ...],
    pallets: tuple[Pallet, ...],
    loose: tuple[Carton, ...],
    notes: DespatchNotes,
    config: BusinessConfig,
    now: datetime,
) -> ShipmentNotice:
    vendor = config.vendor(despatch.vendor_code)
    return ShipmentNotice(
        # Sage's despatch note number: unique in Sage while its number series is not reset, and what the
        # warehouse and Amazon's receiving team can both find.
        shipment_id=despatch.despatch_number,
        vendor_code=despatch.vendor_code,
        marketplace=vendor.marketplace,
        standard=despatch.edi_standard,
        despatch_number=despatch.despatch_number,
        sales_order_number=despatch.sales_order_number,
        ship_from_id=_our_id(despatch) if despatch.edi_standard != API else despatch.vendor_code,
        ship_from_name=config.company.name,
        ship_to_qualifier=despatch.ship_to_qualifier,
        ship_to_id=despatch.ship_to_id,
        shipped_at=despatch.despatched_at.astimezone(UTC),
        estimated_delivery_at=notes.estimated_delivery,
        freight_terms=vendor.freight_terms,
        carrier_name=despatch.courier_name or None,
        carrier_scac=notes.carrier_scac,
        tracking_number=despatch.consignment_number or None,
        bill_of_lading=notes.bill_of_lading,
        amazon_reference_number=notes.amazon_reference_number,
        lines=lines,
        pallets=pallets,
        loose_cartons=loose,
        prepared_at=now,
    )


def _shipment_lines(
    despatch: DocumentWork,
    identifiers: dict[tuple[str, int], tuple[ProductIdentifier, ...]],
    notes: DespatchNotes,
) -> tuple[ShipmentLine, ...]:
    """The despatch's lines per PO line: an accepted and a backordered Sage line of one PO line ship as one."""
    shipped: dict[int, Decimal] = {}
    first: dict[int, dict[str, Any]] = {}
    for row in despatch.rows:
        if row["line_number"] is None:
            continue
        shipped[row["line_number"]] = shipped.get(row["line_number"], Decimal(0)) + row["despatched_eaches"]
        first.setdefault(row["line_number"], row)
    lines = []
    for line_number, row in first.items():
        lot = notes.lots.get(row["product_code"])
        lines.append(
            ShipmentLine(
                po_number=row["po_number"],
                line_id=row["line_id"],
                identifiers=identifiers.get((po_version(row), line_number), ()),
                vendor_product_code=row["product_code"],
                unit_of_measure=row["unit_of_measure"],
                unit_size=row["eaches_per_unit"],
                shipped_eaches=shipped[line_number],
                acknowledged_eaches=row["acknowledged_eaches"],
                announced_before_eaches=row["announced_before_eaches"],
                unit_cost=row["unit_cost"],
                lot_number=lot[0] if lot else None,
                expiry_date=lot[1] if lot else None,
            )
        )
    return tuple(lines)


def _unmapped_lines(despatch: DocumentWork) -> list[RuleFailure]:
    # No PO line number: the Sage line names no line of the acknowledged PO (or one its version dropped).
    return [
        RuleFailure(
            ITEM_ON_PURCHASE_ORDER,
            f"{row['product_code']} was despatched on Sage order {row['sales_order_number']} but is on no line of"
            f" PO {row['po_number']}: Amazon receives only what it ordered. Take it off the despatch in Sage (or"
            " send it on its own PO).",
        )
        for row in despatch.rows
        if row["line_number"] is None
    ]


def _context_for(despatch: DocumentWork, context: AsnContext, notes: DespatchNotes) -> AsnContext:
    """The batch's context with what only this despatch knows: its note's problems, its POs' destinations."""
    destinations = {
        row["po_number"]: PurchaseOrderDestination(row["vendor_code"], row["ship_to_qualifier"], row["ship_to_id"])
        for row in despatch.rows
    }
    return dataclasses.replace(context, note_problems=notes.problems, po_destinations=destinations)


def _due(notice: ShipmentNotice, config: BusinessConfig) -> datetime:
    """When the notice must be with Amazon. Sage records the day a despatch left, not the hour: a despatch
    stamped at midnight left at an unknown time that day, so its notice is due by the end of that day (or 6
    hours before the appointment, if sooner) rather than at 00:30, which would call every notice late."""
    shipped = notice.shipped_at.astimezone(UTC)
    if shipped.time() != time(0):
        return asn_due_at(notice.shipped_at, notice.estimated_delivery_at)
    end_of_day = datetime.combine(shipped.date() + timedelta(days=1), time(0), tzinfo=config.company.tzinfo)
    return min(end_of_day, asn_due_at(end_of_day, notice.estimated_delivery_at)).astimezone(UTC)


def _our_id(despatch: DocumentWork) -> str:
    """The id Amazon addressed the PO to: the notice answers from it (the vendor code when the PO had none)."""
    return despatch.our_party_id or despatch.vendor_code


def _label_name(notice: ShipmentNotice, despatch: DocumentWork) -> str:
    return f"labels-{notice.vendor_code}-{notice.po_numbers[0]}-{despatch.despatch_number}-{despatch.despatch_id}.pdf"


class _SsccAssigner:
    """Hands the packing its SSCCs: the despatch's own from an earlier check, else new ones from the serial.

    The serials a despatch needs are reserved in one transaction and its new SSCCs recorded together (`save`):
    a year's cartons would otherwise cost a transaction each.
    """

    def __init__(self, records: _Records, outbox: Outbox, despatch_id: int, config: BusinessConfig) -> None:
        self.records = records
        self.outbox = outbox
        self.despatch_id = despatch_id
        self.prefix = config.company.gs1_company_prefix
        self.extension = config.shipping.sscc_extension_digit
        self.kept = records.assigned_ssccs(despatch_id)
        self.calls = 0
        self.reserved: list[int] = []
        self.new: list[tuple[int, str]] = []

    def reserve(self, asked: int) -> None:
        """Reserve the serials `asked` SSCCs need beyond those the despatch already has."""
        missing = sum(1 for call in range(1, asked + 1) if call not in self.kept)
        if missing:
            series = f"sscc:{self.prefix}"
            first = self.outbox.control_numbers.reserve(series, missing, maximum=serial_capacity(self.prefix))
            self.reserved = list(range(first + missing - 1, first - 1, -1))

    def next(self) -> str:
        self.calls += 1
        if self.calls in self.kept:
            return self.kept[self.calls]
        sscc = build_sscc(self.extension, self.prefix, self.reserved.pop())
        self.new.append((self.calls, sscc))
        return sscc

    def save(self) -> None:
        self.records.assign_ssccs(self.despatch_id, self.new)
        self.new = []


# --- the warehouse -------------------------------------------------------------------------------------


def read_despatches(con: duckdb.DuckDBPyConnection) -> list[DocumentWork]:
    """The despatches dbt says still need their notice, oldest first, each with its lines."""
    return read_work(con, WORK_QUERY, "despatch_id")


def _ship_to_addresses(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], tuple[str, ...]]:
    return {
        (qualifier, ship_to_id): tuple(part for part in address if part)
        for qualifier, ship_to_id, *address in con.execute(LOCATIONS_QUERY).fetchall()
    }


class _Records:
    """The batch's own audit rows: checks, failures, notices sent, SSCCs assigned."""

    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: str | None, clock: Callable[[], datetime]) -> None:
        self.con = con
        self.run_id = run_id
        self.clock = clock

    def context(self, now: datetime) -> AsnContext:
        since = now - timedelta(days=SHIPMENT_ID_UNIQUE_DAYS)
        sent = self.con.execute(SENT_NOTICES_QUERY, [since]).fetchall()
        requirements = [CarrierRequirement(*row) for row in self.con.execute(CARRIER_REQUIREMENTS_QUERY).fetchall()]
        return AsnContext(
            now=now,
            shipment_ids_sent={shipment_id: checked_at for _, shipment_id, _, checked_at in sent},
            ssccs_used=dict(self.con.execute(SENT_CONTAINERS_QUERY, [since]).fetchall()),
            bills_of_lading_used={bol: shipment_id for _, shipment_id, bol, _ in sent if bol},
            carrier_requirements=requirements,
            perishable_products=frozenset(code for (code,) in self.con.execute(PERISHABLES_QUERY).fetchall()),
        )

    def assigned_ssccs(self, despatch_id: int) -> dict[int, str]:
        return dict(
            self.con.execute(
                "select assignment_number, sscc from audit.shipment_containers where despatch_id = ?", [despatch_id]
            ).fetchall()
        )

    def assign_ssccs(self, despatch_id: int, assigned: Sequence[tuple[int, str]]) -> None:
        if not assigned:
            return
        # One statement over lists, not executemany: DuckDB runs executemany a row at a time, and a despatch
        # has a hundred cartons or more.
        numbers, ssccs = zip(*assigned, strict=True)
        self.con.execute(
            "insert into audit.shipment_containers (despatch_id, assignment_number, sscc, assigned_at)"
            " select ?, unnest(?), unnest(?), ?",
            [despatch_id, list(numbers), list(ssccs), self.clock()],
        )

    def written(self, related: str) -> tuple[str, str] | None:
        return written_document(self.con, related, list(DOCUMENT_TYPES.values()))

    def failed(
        self,
        despatch: DocumentWork,
        failures: Sequence[RuleFailure],
        notice: ShipmentNotice | None = None,
        due: datetime | None = None,
    ) -> None:
        """Record the check unless the despatch's last check failed in just the same way (nothing new to say)."""
        if says_nothing_new(self.con.execute(LAST_CHECK_QUERY, [despatch.despatch_id]).fetchone(), failures):
            return
        found = sorted({(failure.rule, failure.message) for failure in failures})
        self.con.execute("begin transaction")
        try:
            notice_id = self._notice(despatch, FAILED_VALIDATION, notice, due, None, None)
            self.con.executemany(
                "insert into audit.shipment_notice_failures (notice_id, rule, message) values (?, ?, ?)",
                [(notice_id, rule, message) for rule, message in found],
            )
            self.con.execute("commit")
        except Exception:
            self.con.execute("rollback")
            raise

    def sent(
        self,
        despatch: DocumentWork,
        notice: ShipmentNotice,
        due: datetime,
        document: tuple[str, str],
        label_file: Path,
    ) -> None:
        self.con.execute("begin transaction")
        try:
            notice_id = self._notice(despatch, SENT, notice, due, document, label_file)
            containers = [("pallet", n, pallet.sscc) for n, pallet in enumerate(notice.pallets, 1)]
            containers += [("carton", n, carton.sscc) for n, carton in enumerate(notice.cartons, 1)]
            if containers:
                levels, positions, ssccs = zip(*containers, strict=True)
                self.con.execute(
                    "insert into audit.shipment_notice_containers (notice_id, level, position, sscc)"
                    " select ?, unnest(?), unnest(?), unnest(?)",
                    [notice_id, list(levels), list(positions), list(ssccs)],
                )
            self.con.execute("commit")
        except Exception:
            self.con.execute("rollback")
            raise

    def _notice(
        self,
        despatch: DocumentWork,
        status: str,
        notice: ShipmentNotice | None,
        due: datetime | None,
        document: tuple[str, str] | None,
        label_file: Path | None,
    ) -> str:
        """One check of the despatch; without a notice (the check itself failed) from what Sage says alone."""
        notice_id = str(uuid.uuid4())
        document_id, file_name = document if document else (None, None)
        shipped_at = notice.shipped_at if notice else despatch.despatched_at
        self.con.execute(
            "insert into audit.shipment_notices (notice_id, despatch_id, despatch_number, shipment_id, po_number,"
            " sales_order_number, vendor_code, standard, status, cartons, pallets, bill_of_lading, shipped_at,"
            " asn_due_at, document_id, file_name, label_file, checked_at, run_id)"
            " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [notice_id, despatch.despatch_id, despatch.despatch_number,
             notice.shipment_id if notice else despatch.despatch_number, despatch.po_number,
             despatch.sales_order_number, despatch.vendor_code, despatch.edi_standard, status,
             len(notice.cartons) if notice else 0, len(notice.pallets) if notice else 0,
             notice.bill_of_lading if notice else None, shipped_at, due or shipped_at, document_id, file_name,
             str(label_file) if label_file else None, self.clock(), self.run_id],
        )  # fmt: skip
        return notice_id
