"""Amazon's pre-transmission rules for a ship notice, checked once on the model whatever the channel.

Amazon refuses an ASN that breaks one of these, or accepts it and charges back later, so none is sent until
every rule passes. Each rule is a function of the notice and an `AsnContext` (what we sent before, carrier
settings, the clock) returning its failures; each failure's message says what is wrong and where to fix it: in
Sage, on the despatch note, or in configuration. Rule names are a public contract: the exceptions queue and the
sample scenario's planted anomalies name them.
"""

from __future__ import annotations

import functools
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from pipelines.orders.documents import quantity_text
from pipelines.shipments.model import (
    COLLECT,
    HIERARCHIES,
    LOOSE_STANDARD_CASE,
    PALLETIZED_STANDARD_CASE,
    Carton,
    ShipmentLine,
    ShipmentNotice,
)
from pipelines.shipments.sscc import sscc_problem

SHIPMENT_ID_UNIQUE_DAYS = 365
SSCC_UNIQUE_DAYS = 365
SHIPPED_DATE_MAX_PAST_DAYS = 7
SHIPPED_DATE_MAX_FUTURE_DAYS = 2
ASN_DUE_AFTER_DEPARTURE = timedelta(minutes=30)
ASN_DUE_BEFORE_APPOINTMENT = timedelta(hours=6)
STANDARD_CASE_STRUCTURES = (LOOSE_STANDARD_CASE, PALLETIZED_STANDARD_CASE)  # cartons of a single item
# What a bill of lading that is really a date or a time looks like (Amazon rejects those): the forms people and
# carriers' systems write them in, each as its exact shape (so a numeric bill of lading such as 1203045 is not
# read as 1203-04-5) and the time.strptime format that must then accept it as a real date or time.
DATE_TIME_FORMATS = (
    (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d"),
    (r"(19|20)\d{6}", "%Y%m%d"),
    (r"\d{2}/\d{2}/\d{4}", "%d/%m/%Y"),
    (r"\d{2}/\d{2}/\d{4}", "%m/%d/%Y"),
    (r"\d{2}/\d{2}/\d{2}", "%d/%m/%y"),
    (r"\d{2}\.\d{2}\.\d{4}", "%d.%m.%Y"),
    (r"\d{2}-\d{2}-\d{4}", "%d-%m-%Y"),
    (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", "%Y-%m-%dT%H:%M"),
    (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", "%Y-%m-%dT%H:%M:%S"),
    (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "%Y-%m-%d %H:%M"),
    (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "%Y-%m-%d %H:%M:%S"),
    (r"(19|20)\d{10}", "%Y%m%d%H%M"),
    (r"(19|20)\d{12}", "%Y%m%d%H%M%S"),
    (r"\d{1,2}:\d{2}", "%H:%M"),
    (r"\d{1,2}:\d{2}:\d{2}", "%H:%M:%S"),
)


@dataclass(frozen=True)
class RuleFailure:
    rule: str
    message: str  # what is wrong and how to fix it


@dataclass(frozen=True)
class CarrierRequirement:
    """What Amazon asks of the carrier details for one marketplace and freight terms (a configuration row)."""

    marketplace: str
    freight_terms: str
    requires_carrier: bool  # a carrier name or SCAC
    requires_scac: bool
    requires_tracking_number: bool
    requires_bill_of_lading: bool
    requires_amazon_reference_number: bool


@dataclass(frozen=True)
class PurchaseOrderDestination:
    """Where Amazon's PO asked for delivery, and under which vendor code it was ordered."""

    vendor_code: str
    ship_to_qualifier: str | None
    ship_to_id: str | None


@dataclass(frozen=True)
class AsnContext:
    now: datetime  # timezone-aware
    shipment_ids_sent: Mapping[str, datetime]  # shipment id -> when an ASN of another despatch carried it
    ssccs_used: Mapping[str, str]  # SSCC -> shipment id that used it within 365 days (other notices)
    bills_of_lading_used: Mapping[str, str]  # bill of lading -> shipment id
    carrier_requirements: Sequence[CarrierRequirement]
    perishable_products: frozenset[str]  # SKUs (Sage product codes) that need lot and expiry
    note_problems: tuple[str, ...] = ()  # `DespatchNotes.problems` of the despatch note
    # PO number -> its destination; a PO not in it is not checked against the notice's destination.
    po_destinations: Mapping[str, PurchaseOrderDestination] = field(default_factory=dict)


Rule = Callable[[ShipmentNotice, AsnContext], list[RuleFailure]]


def _rule(check: Callable[[ShipmentNotice, AsnContext], Iterator[str]]) -> Rule:
    """A rule from a check yielding its messages; the rule is named as the check's function, so they never differ."""

    @functools.wraps(check)
    def rule(notice: ShipmentNotice, context: AsnContext) -> list[RuleFailure]:
        return [RuleFailure(check.__name__, message) for message in check(notice, context)]

    return rule


@_rule
def shipment_id_unique(notice: ShipmentNotice, context: AsnContext) -> Iterator[str]:
    """The shipment id is present and no other despatch's ASN carried it in the last 365 days."""
    if not notice.shipment_id.strip():
        yield "the ship notice has no shipment id: the Sage despatch needs a despatch number"
        return
    sent_at = context.shipment_ids_sent.get(notice.shipment_id)
    if sent_at is not None and context.now - sent_at <= timedelta(days=SHIPMENT_ID_UNIQUE_DAYS):
        yield (
            f"shipment id {notice.shipment_id} (Sage despatch {notice.despatch_number}) was already sent on an ASN"
            f" at {_utc(sent_at)}, and Amazon needs it unique for {SHIPMENT_ID_UNIQUE_DAYS} days: record the"
            " despatch in Sage under a new despatch number"
        )


@_rule
def bill_of_lading_valid(notice: ShipmentNotice, context: AsnContext) -> Iterator[str]:
    """When given, the bill of lading is not a date or time, not one character and not another shipment's."""
    bill = (notice.bill_of_lading or "").strip()
    fix = "put the carrier's bill of lading number on the despatch note (BOL: line)"
    if not bill:
        return
    if len(bill) == 1:
        yield f"bill of lading {bill!r} is a single character, which Amazon rejects: {fix}"
    elif _is_date_or_time(bill):
        yield f"bill of lading {bill!r} is a date or time, which Amazon rejects: {fix}"
    elif context.bills_of_lading_used.get(bill, notice.shipment_id) != notice.shipment_id:
        yield (
            f"bill of lading {bill} is already on shipment {context.bills_of_lading_used[bill]}, and Amazon needs"
            f" it unique: {fix}"
        )


@_rule
def carrier_requirements(notice: ShipmentNotice, context: AsnContext) -> Iterator[str]:
    """The carrier details the marketplace's freight terms require are there; an ARN only on collect freight."""
    if notice.amazon_reference_number and notice.freight_terms != COLLECT:
        yield (
            f"the despatch note gives ARN {notice.amazon_reference_number} but the freight is {notice.freight_terms}:"
            " Amazon issues ARNs only for collect freight; remove the ARN: line from the despatch note"
        )
    requirement = next(
        (
            row
            for row in context.carrier_requirements
            if (row.marketplace, row.freight_terms) == (notice.marketplace, notice.freight_terms)
        ),
        None,
    )
    if requirement is None:
        return
    wanted = (
        (requirement.requires_carrier, notice.carrier_name or notice.carrier_scac, "a carrier",
         "set the courier on the despatch in Sage"),
        (requirement.requires_scac, notice.carrier_scac, "the carrier's SCAC",
         "add a SCAC: line to the despatch note"),
        (requirement.requires_tracking_number, notice.tracking_number, "a tracking number",
         "enter the consignment number on the despatch in Sage"),
        (requirement.requires_bill_of_lading, notice.bill_of_lading, "a bill of lading",
         "add a BOL: line to the despatch note"),
        (requirement.requires_amazon_reference_number, notice.amazon_reference_number,
         "an Amazon Reference Number", "add an ARN: line with the ARN Amazon gave to the despatch note"),
    )  # fmt: skip
    for required, value, what, fix in wanted:
        if required and not (value or "").strip():
            yield f"{notice.marketplace} {notice.freight_terms} freight needs {what}, and the notice has none: {fix}"


@_rule
def shipped_date_window(notice: ShipmentNotice, context: AsnContext) -> Iterator[str]:
    """Shipped at most 7 days before now and at most 2 days after it."""
    shipped, now = notice.shipped_at, context.now
    if now - shipped > timedelta(days=SHIPPED_DATE_MAX_PAST_DAYS):
        yield (
            f"shipped at {_utc(shipped)}, more than {SHIPPED_DATE_MAX_PAST_DAYS} days ago, and"
            " Amazon refuses older shipments: correct the despatch date in Sage if it is wrong; if the goods really"
            " left then, the ASN can no longer be sent: tell Amazon through Vendor Central"
        )
    elif shipped - now > timedelta(days=SHIPPED_DATE_MAX_FUTURE_DAYS):
        yield (
            f"shipped at {_utc(shipped)}, more than {SHIPPED_DATE_MAX_FUTURE_DAYS} days ahead, and"
            " Amazon refuses shipments dated ahead: correct the despatch date in Sage"
        )


@_rule
def sscc_valid(notice: ShipmentNotice, context: AsnContext) -> Iterator[str]:
    """Every pallet and carton SSCC is 18 digits with a correct GS1 check digit."""
    for number, pallet in enumerate(notice.pallets, 1):
        problem = sscc_problem(pallet.sscc)
        if problem is not None:
            yield (
                f"pallet {number} {problem}: pallet SSCCs are built from the GS1 company prefix, so check the prefix"
                " in configuration"
            )
    for number, carton in enumerate(notice.cartons, 1):
        problem = sscc_problem(carton.sscc)
        if problem is not None:
            yield (
                f"carton {number} {problem}: correct the SSCC on the despatch note (SSCC: line) or remove it to have"
                " one assigned"
            )


@_rule
def sscc_unique(notice: ShipmentNotice, context: AsnContext) -> Iterator[str]:
    """No SSCC twice in the notice, nor one another shipment used within 365 days."""
    containers = _containers(notice)
    for sscc, count in Counter(sscc for _, sscc in containers).items():
        if count > 1:
            where = " and ".join(name for name, used in containers if used == sscc)
            yield (
                f"SSCC {sscc} is on {where} of this shipment, and every container needs its own: correct the SSCC:"
                " line of the despatch note"
            )
    for name, sscc in containers:
        other = context.ssccs_used.get(sscc, notice.shipment_id)
        if other != notice.shipment_id:
            yield (
                f"{name} SSCC {sscc} was used by shipment {other} within {SSCC_UNIQUE_DAYS} days, and Amazon refuses"
                " a reused SSCC: relabel the carton and correct the SSCC: line of the despatch note, or remove it to"
                " have a new one assigned"
            )


@_rule
def hierarchy_allowed(notice: ShipmentNotice, context: AsnContext) -> Iterator[str]:
    """The packing is one of Amazon's shipment structures, and the containers match it."""
    repack = "check the despatch quantities in Sage and the packing settings in configuration"
    if not notice.cartons:
        yield f"the ship notice has no cartons, and every Amazon shipment structure needs some: {repack}"
        return
    structure = notice.structure
    if structure not in HIERARCHIES:
        yield f"shipment structure {structure} is not one Amazon allows: {repack}"
        return
    if notice.pallets and notice.loose_cartons:
        yield (
            f"{len(notice.loose_cartons)} loose cartons ship beside {len(notice.pallets)} pallets, which no Amazon"
            " shipment structure allows: put every carton on a pallet or none (cartons per pallet in configuration)"
        )
    for number, pallet in enumerate(notice.pallets, 1):
        if not pallet.cartons:
            yield f"pallet {number} holds no cartons: {repack}"
    for number, carton in enumerate(notice.cartons, 1):
        if not carton.items:
            yield f"carton {number} holds no items: {repack}"
        elif structure in STANDARD_CASE_STRUCTURES and not carton.is_standard_case:
            yield f"carton {number} mixes items, which {structure} ({HIERARCHIES[structure]}) forbids: {repack}"


@_rule
def one_destination(notice: ShipmentNotice, context: AsnContext) -> Iterator[str]:
    """One fulfilment centre and one vendor code: the notice names them, and every PO on it agrees."""
    if not notice.ship_to_id:
        yield (
            "the ship notice has no ship-to fulfilment centre: check the Sage order carries the delivery location of"
            " Amazon's PO"
        )
    if not notice.vendor_code:
        yield "the ship notice has no vendor code: check the Amazon customer account of the Sage order"
    for po_number in notice.po_numbers:
        destination = context.po_destinations.get(po_number)
        if destination is None:
            continue
        if (destination.ship_to_qualifier, destination.ship_to_id) != (notice.ship_to_qualifier, notice.ship_to_id):
            yield (
                f"PO {po_number} is for fulfilment centre {destination.ship_to_id}, not {notice.ship_to_id}, and one"
                f" ASN goes to one fulfilment centre: despatch PO {po_number} on a despatch of its own in Sage"
            )
        if destination.vendor_code != notice.vendor_code:
            yield (
                f"PO {po_number} was ordered under vendor code {destination.vendor_code}, not {notice.vendor_code},"
                f" and one ASN carries one vendor code: despatch PO {po_number} on a despatch of its own in Sage"
            )


@_rule
def shipped_within_acknowledged(notice: ShipmentNotice, context: AsnContext) -> Iterator[str]:
    """No line ships more than we acknowledged, over all its despatches."""
    for line in notice.lines:
        if line.announced_before_eaches + line.shipped_eaches > line.acknowledged_eaches:
            acknowledged = _in_po_unit(line, line.acknowledged_eaches)
            left = _in_po_unit(line, max(line.acknowledged_eaches - line.announced_before_eaches, Decimal(0)))
            earlier = (
                f" after {_in_po_unit(line, line.announced_before_eaches)} on earlier notices"
                if line.announced_before_eaches
                else ""
            )
            yield (
                f"{_line_name(line)} ships {_in_po_unit(line, line.shipped_eaches)}{earlier} but {acknowledged} were"
                f" acknowledged, and Amazon refuses more than acknowledged: reduce the despatch in Sage to at most"
                f" {left}"
            )


@_rule
def whole_cases(notice: ShipmentNotice, context: AsnContext) -> Iterator[str]:
    """A line ordered in cases ships whole cases."""
    for line in notice.lines:
        cases = line.shipped_quantity
        if line.unit_size > 1 and cases != cases.to_integral_value():
            fewer = cases.to_integral_value(rounding=ROUND_FLOOR)
            yield (
                f"{_line_name(line)} ships {quantity_text(line.shipped_eaches)} eaches, {quantity_text(cases)} cases of"
                f" {quantity_text(line.unit_size)}, and Amazon takes whole cases of a line ordered in cases: despatch"
                f" {quantity_text(fewer)} or {quantity_text(fewer + 1)} cases in Sage"
            )


@_rule
def perishable_lot_expiry(notice: ShipmentNotice, context: AsnContext) -> Iterator[str]:
    """Perishable products carry lot and expiry, and no product has two lot/expiry values in one container."""
    for line in notice.lines:
        if line.vendor_product_code in context.perishable_products and not (line.lot_number and line.expiry_date):
            yield (
                f"{_line_name(line)} is perishable and Amazon needs its lot number and expiry date: add the line"
                f" 'LOT: {line.vendor_product_code} <lot number> <expiry YYYY-MM-DD>' to the despatch note"
            )
    for number, pallet in enumerate(notice.pallets, 1):
        # A mix already inside one of the pallet's cartons is reported for that carton, not again here.
        in_cartons = {sku for carton in pallet.cartons for sku in _mixed_lots(notice, (carton,))}
        for sku, values in _mixed_lots(notice, pallet.cartons).items():
            if sku not in in_cartons:
                yield _mixed_lot_message(f"pallet {number}", sku, values)
    for number, carton in enumerate(notice.cartons, 1):
        for sku, values in _mixed_lots(notice, (carton,)).items():
            yield _mixed_lot_message(f"carton {number}", sku, values)


@_rule
def arrives_before_receipt(notice: ShipmentNotice, context: AsnContext) -> Iterator[str]:
    """The ASN must reach Amazon before the goods are received: Amazon receives against it."""
    arrival = notice.estimated_delivery_at
    if arrival is not None and arrival <= context.now:
        yield (
            f"shipment {notice.shipment_id} was due at the fulfilment centre at {_utc(arrival)}, already past:"
            " Amazon receives against the ASN, so one sent now comes too late to be used;"
            " contact Amazon through Vendor Central about receiving this shipment"
        )


@_rule
def despatch_note_readable(notice: ShipmentNotice, context: AsnContext) -> Iterator[str]:
    """Every despatch note line with a known key could be read (else its fact would be missing from the ASN)."""
    for problem in context.note_problems:
        yield f"despatch note {problem}: correct the line in the despatch note in Sage (until then it is left out)"


RULES: tuple[tuple[str, Rule], ...] = tuple(
    (rule.__name__, rule)
    for rule in (
        shipment_id_unique,
        bill_of_lading_valid,
        carrier_requirements,
        shipped_date_window,
        sscc_valid,
        sscc_unique,
        hierarchy_allowed,
        one_destination,
        shipped_within_acknowledged,
        whole_cases,
        perishable_lot_expiry,
        arrives_before_receipt,
        despatch_note_readable,
    )
)


def validate(notice: ShipmentNotice, context: AsnContext) -> list[RuleFailure]:
    """Every rule's failures, in RULES order; empty when the notice may be sent."""
    return [failure for _, rule in RULES for failure in rule(notice, context)]


def asn_due_at(shipped_at: datetime, appointment_at: datetime | None) -> datetime:
    """When the ASN must be with Amazon: 30 minutes after departure, or 6 hours before the appointment if sooner."""
    after_departure = shipped_at + ASN_DUE_AFTER_DEPARTURE
    if appointment_at is None:
        return after_departure
    return min(after_departure, appointment_at - ASN_DUE_BEFORE_APPOINTMENT)


# --- shared ----------------------------------------------------------------------------------------------


def _is_date_or_time(value: str) -> bool:
    for shape, pattern in DATE_TIME_FORMATS:
        if not re.fullmatch(shape, value):
            continue
        try:
            time.strptime(value, pattern)
        except ValueError:
            continue
        return True
    return False


def _containers(notice: ShipmentNotice) -> list[tuple[str, str]]:
    """(name, SSCC) of every pallet and carton, as messages name them."""
    pallets = [(f"pallet {number}", pallet.sscc) for number, pallet in enumerate(notice.pallets, 1)]
    return pallets + [(f"carton {number}", carton.sscc) for number, carton in enumerate(notice.cartons, 1)]


def _mixed_lots(notice: ShipmentNotice, cartons: Sequence[Carton]) -> dict[str, list[str]]:
    """SKU -> its lot/expiry values, for each SKU with more than one value in `cartons`."""
    values: dict[str, dict[str, None]] = {}
    for carton in cartons:
        for item in carton.items:
            line = notice.line(item.po_number, item.line_id)
            if line.lot_number or line.expiry_date:
                value = f"lot {line.lot_number or '-'} expiry {line.expiry_date or '-'}"
                values.setdefault(line.vendor_product_code, {})[value] = None
    return {sku: list(found) for sku, found in values.items() if len(found) > 1}


def _mixed_lot_message(container: str, sku: str, values: Sequence[str]) -> str:
    return (
        f"{container} holds {sku} with {len(values)} lot/expiry values ({'; '.join(values)}), and Amazon allows one"
        " per carton and pallet: pack each lot apart, or correct the LOT: line of the despatch note"
    )


def _line_name(line: ShipmentLine) -> str:
    return f"PO {line.po_number} line {line.line_id} ({line.vendor_product_code})"


def _in_po_unit(line: ShipmentLine, eaches: Decimal) -> str:
    """A quantity as the PO ordered it: "5 cases of 6" for a case-ordered line, "24 eaches" otherwise."""
    if line.unit_size > 1:
        cases = eaches / line.unit_size
        return f"{quantity_text(cases)} {'case' if cases == 1 else 'cases'} of {quantity_text(line.unit_size)}"
    return f"{quantity_text(eaches)} {'each' if eaches == 1 else 'eaches'}"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
