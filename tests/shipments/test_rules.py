"""Amazon's pre-transmission rules for a ship notice: a clean notice passes every rule, and a notice breaking
exactly one rule fails exactly that rule, with a message that says what is wrong and how to fix it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from pipelines.amazon.documents import ProductIdentifier
from pipelines.shipments.model import COLLECT, PREPAID, Carton, PackedItem, Pallet, ShipmentLine, ShipmentNotice
from pipelines.shipments.rules import (
    RULES,
    AsnContext,
    CarrierRequirement,
    PurchaseOrderDestination,
    RuleFailure,
    asn_due_at,
    validate,
)
from pipelines.shipments.sscc import build_sscc

D = Decimal
NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
PO = "4KT9ZQ2M"
SHIPMENT = "DN0000123"
SSCCS = tuple(build_sscc(0, "5060123", serial) for serial in range(1, 10))
UK_PREPAID = CarrierRequirement("UK", PREPAID, True, False, True, False, False)
US_COLLECT = CarrierRequirement("US", COLLECT, True, True, True, True, True)
DESPATCH_NOTE_PROBLEM = "line 4 ('DELIVERY: tomorrow'): 'tomorrow' is not a date and time YYYY-MM-DD[ HH:MM]"


def shipment_line(
    line_id: str,
    sku: str,
    *,
    shipped: str | int,
    unit_size: int,
    lot: str | None = None,
    expiry: date | None = None,
    po_number: str = PO,
) -> ShipmentLine:
    return ShipmentLine(
        po_number=po_number,
        line_id=line_id,
        identifiers=(ProductIdentifier("EN", f"501234567890{line_id}"),),
        vendor_product_code=sku,
        unit_of_measure="CA",
        unit_size=D(unit_size),
        shipped_eaches=D(shipped),
        acknowledged_eaches=D(12) if line_id == "1" else D(8),
        unit_cost=D("3.10"),
        lot_number=lot,
        expiry_date=expiry,
    )


def carton(sscc: str, line_id: str, eaches: int, po_number: str = PO) -> Carton:
    return Carton(sscc, (PackedItem(line_id, po_number, D(eaches)),))


LINES = (
    shipment_line("1", "HAF-001", shipped=12, unit_size=6, lot="L2603A", expiry=date(2027, 3, 31)),
    shipment_line("2", "HAF-002", shipped=8, unit_size=4),
)
CARTONS = (carton(SSCCS[0], "1", 6), carton(SSCCS[1], "1", 6), carton(SSCCS[2], "2", 4), carton(SSCCS[3], "2", 4))


def clean_notice(**changes: object) -> ShipmentNotice:
    notice = ShipmentNotice(
        shipment_id=SHIPMENT,
        vendor_code="HAFIN",
        marketplace="UK",
        standard="EDIFACT",
        despatch_number=SHIPMENT,
        sales_order_number="SO0001234",
        ship_from_id="5060123450004",
        ship_from_name="Hafren Foods Ltd",
        ship_to_qualifier="92",
        ship_to_id="LTN1",
        shipped_at=NOW - timedelta(hours=20),
        estimated_delivery_at=NOW + timedelta(days=1),
        freight_terms=PREPAID,
        carrier_name="DPD",
        carrier_scac=None,
        tracking_number="15501234567890",
        bill_of_lading=None,
        amazon_reference_number=None,
        lines=LINES,
        pallets=(),
        loose_cartons=CARTONS,
    )
    return replace(notice, **changes)  # type: ignore[arg-type]


def clean_context(**changes: object) -> AsnContext:
    context = AsnContext(
        now=NOW,
        shipment_ids_sent={"DN0000100": NOW - timedelta(days=3), SHIPMENT: NOW - timedelta(days=366)},
        ssccs_used={SSCCS[8]: "DN0000100", SSCCS[0]: SHIPMENT},
        bills_of_lading_used={"BOL-77": "DN0000100", "BOL-123": SHIPMENT},
        carrier_requirements=(UK_PREPAID, US_COLLECT),
        perishable_products=frozenset({"HAF-001"}),
        po_destinations={PO: PurchaseOrderDestination("HAFIN", "92", "LTN1")},
    )
    return replace(context, **changes)  # type: ignore[arg-type]


def failing(rule: str, *messages: str) -> list[RuleFailure]:
    return [RuleFailure(rule, message) for message in messages]


def test_rules_are_named_and_ordered_as_the_contract_says() -> None:
    assert [name for name, _ in RULES] == [
        "shipment_id_unique",
        "bill_of_lading_valid",
        "carrier_requirements",
        "shipped_date_window",
        "sscc_valid",
        "sscc_unique",
        "hierarchy_allowed",
        "one_destination",
        "shipped_within_acknowledged",
        "whole_cases",
        "perishable_lot_expiry",
        "arrives_before_receipt",
        "despatch_note_readable",
    ]


def test_a_clean_notice_passes_every_rule() -> None:
    assert validate(clean_notice(), clean_context()) == []
    # Its own bill of lading and SSCCs, recorded against it earlier (a re-send), are not "another shipment's".
    assert validate(clean_notice(bill_of_lading="BOL-123"), clean_context()) == []


def test_a_clean_palletised_notice_passes_every_rule() -> None:
    notice = clean_notice(pallets=(Pallet(SSCCS[4], CARTONS[:2]), Pallet(SSCCS[5], CARTONS[2:])), loose_cartons=())
    assert validate(notice, clean_context()) == []


BROKEN = [
    pytest.param(
        clean_notice(),
        clean_context(shipment_ids_sent={SHIPMENT: NOW - timedelta(days=365)}),
        failing(
            "shipment_id_unique",
            "shipment id DN0000123 (Sage despatch DN0000123) was already sent on an ASN at 2025-03-14 09:30 UTC, and"
            " Amazon needs it unique for 365 days: record the despatch in Sage under a new despatch number",
        ),
        id="shipment_id_unique-reused",
    ),
    pytest.param(
        clean_notice(shipment_id=" "),
        clean_context(ssccs_used={}),
        failing("shipment_id_unique", "the ship notice has no shipment id: the Sage despatch needs a despatch number"),
        id="shipment_id_unique-missing",
    ),
    pytest.param(
        clean_notice(bill_of_lading="2026-03-14"),
        clean_context(),
        failing(
            "bill_of_lading_valid",
            "bill of lading '2026-03-14' is a date or time, which Amazon rejects: put the carrier's bill of lading"
            " number on the despatch note (BOL: line)",
        ),
        id="bill_of_lading_valid-date",
    ),
    pytest.param(
        clean_notice(bill_of_lading="14:05"),
        clean_context(),
        failing(
            "bill_of_lading_valid",
            "bill of lading '14:05' is a date or time, which Amazon rejects: put the carrier's bill of lading number"
            " on the despatch note (BOL: line)",
        ),
        id="bill_of_lading_valid-time",
    ),
    pytest.param(
        clean_notice(bill_of_lading="X"),
        clean_context(),
        failing(
            "bill_of_lading_valid",
            "bill of lading 'X' is a single character, which Amazon rejects: put the carrier's bill of lading number"
            " on the despatch note (BOL: line)",
        ),
        id="bill_of_lading_valid-one-character",
    ),
    pytest.param(
        clean_notice(bill_of_lading="BOL-77"),
        clean_context(),
        failing(
            "bill_of_lading_valid",
            "bill of lading BOL-77 is already on shipment DN0000100, and Amazon needs it unique: put the carrier's"
            " bill of lading number on the despatch note (BOL: line)",
        ),
        id="bill_of_lading_valid-reused",
    ),
    pytest.param(
        clean_notice(tracking_number=None),
        clean_context(),
        failing(
            "carrier_requirements",
            "UK prepaid freight needs a tracking number, and the notice has none: enter the consignment number on"
            " the despatch in Sage",
        ),
        id="carrier_requirements-tracking",
    ),
    pytest.param(
        clean_notice(amazon_reference_number="5012345678"),
        clean_context(),
        failing(
            "carrier_requirements",
            "the despatch note gives ARN 5012345678 but the freight is prepaid: Amazon issues ARNs only for collect"
            " freight; remove the ARN: line from the despatch note",
        ),
        id="carrier_requirements-arn-on-prepaid",
    ),
    pytest.param(
        clean_notice(marketplace="US", freight_terms=COLLECT, carrier_name=None, tracking_number=""),
        clean_context(),
        failing(
            "carrier_requirements",
            "US collect freight needs a carrier, and the notice has none: set the courier on the despatch in Sage",
            "US collect freight needs the carrier's SCAC, and the notice has none: add a SCAC: line to the despatch"
            " note",
            "US collect freight needs a tracking number, and the notice has none: enter the consignment number on"
            " the despatch in Sage",
            "US collect freight needs a bill of lading, and the notice has none: add a BOL: line to the despatch note",
            "US collect freight needs an Amazon Reference Number, and the notice has none: add an ARN: line with"
            " the ARN Amazon gave to the despatch note",
        ),
        id="carrier_requirements-all-missing",
    ),
    pytest.param(
        clean_notice(shipped_at=NOW - timedelta(days=7, minutes=1)),
        clean_context(),
        failing(
            "shipped_date_window",
            "shipped at 2026-03-07 09:29 UTC, more than 7 days ago, and Amazon refuses"
            " older shipments: correct the despatch date in Sage if it is wrong; if the goods really left then, the"
            " ASN can no longer be sent: tell Amazon through Vendor Central",
        ),
        id="shipped_date_window-past",
    ),
    pytest.param(
        clean_notice(shipped_at=NOW + timedelta(days=2, minutes=1), estimated_delivery_at=None),
        clean_context(),
        failing(
            "shipped_date_window",
            "shipped at 2026-03-16 09:31 UTC, more than 2 days ahead, and Amazon refuses"
            " shipments dated ahead: correct the despatch date in Sage",
        ),
        id="shipped_date_window-future",
    ),
    pytest.param(
        clean_notice(loose_cartons=(CARTONS[0], carton("050601230000000028", "1", 6), *CARTONS[2:])),
        clean_context(),
        failing(
            "sscc_valid",
            "carton 2 SSCC 050601230000000028 has check digit 8, GS1 gives 3: correct the SSCC on the despatch note"
            " (SSCC: line) or remove it to have one assigned",
        ),
        id="sscc_valid-carton",
    ),
    pytest.param(
        clean_notice(pallets=(Pallet("5060123", CARTONS),), loose_cartons=()),
        clean_context(),
        failing(
            "sscc_valid",
            "pallet 1 SSCC '5060123' is not 18 digits: pallet SSCCs are built from the GS1 company prefix, so check"
            " the prefix in configuration",
        ),
        id="sscc_valid-pallet",
    ),
    pytest.param(
        clean_notice(loose_cartons=(*CARTONS[:3], carton(SSCCS[0], "2", 4))),
        clean_context(),
        failing(
            "sscc_unique",
            f"SSCC {SSCCS[0]} is on carton 1 and carton 4 of this shipment, and every container needs its own:"
            " correct the SSCC: line of the despatch note",
        ),
        id="sscc_unique-twice-in-notice",
    ),
    pytest.param(
        clean_notice(loose_cartons=(*CARTONS[:3], carton(SSCCS[8], "2", 4))),
        clean_context(),
        failing(
            "sscc_unique",
            f"carton 4 SSCC {SSCCS[8]} was used by shipment DN0000100 within 365 days, and Amazon refuses a reused"
            " SSCC: relabel the carton and correct the SSCC: line of the despatch note, or remove it to have a new"
            " one assigned",
        ),
        id="sscc_unique-used-before",
    ),
    pytest.param(
        clean_notice(pallets=(Pallet(SSCCS[4], CARTONS[:2]),), loose_cartons=CARTONS[2:]),
        clean_context(),
        failing(
            "hierarchy_allowed",
            "2 loose cartons ship beside 1 pallets, which no Amazon shipment structure allows: put every carton on a"
            " pallet or none (cartons per pallet in configuration)",
        ),
        id="hierarchy_allowed-pallets-and-loose",
    ),
    pytest.param(
        clean_notice(loose_cartons=(*CARTONS, Carton(SSCCS[4], ()))),
        clean_context(),
        failing(
            "hierarchy_allowed",
            "carton 5 holds no items: check the despatch quantities in Sage and the packing settings in configuration",
        ),
        id="hierarchy_allowed-empty-carton",
    ),
    pytest.param(
        clean_notice(loose_cartons=()),
        clean_context(),
        failing(
            "hierarchy_allowed",
            "the ship notice has no cartons, and every Amazon shipment structure needs some: check the despatch"
            " quantities in Sage and the packing settings in configuration",
        ),
        id="hierarchy_allowed-no-cartons",
    ),
    pytest.param(
        clean_notice(),
        clean_context(po_destinations={PO: PurchaseOrderDestination("HAFIN", "92", "BHX4")}),
        failing(
            "one_destination",
            "PO 4KT9ZQ2M is for fulfilment centre BHX4, not LTN1, and one ASN goes to one fulfilment centre:"
            " despatch PO 4KT9ZQ2M on a despatch of its own in Sage",
        ),
        id="one_destination-other-fc",
    ),
    pytest.param(
        clean_notice(),
        clean_context(po_destinations={PO: PurchaseOrderDestination("HAFI2", "92", "LTN1")}),
        failing(
            "one_destination",
            "PO 4KT9ZQ2M was ordered under vendor code HAFI2, not HAFIN, and one ASN carries one vendor code:"
            " despatch PO 4KT9ZQ2M on a despatch of its own in Sage",
        ),
        id="one_destination-other-vendor-code",
    ),
    pytest.param(
        clean_notice(ship_to_qualifier=None, ship_to_id=None),
        clean_context(po_destinations={}),
        failing(
            "one_destination",
            "the ship notice has no ship-to fulfilment centre: check the Sage order carries the delivery location of"
            " Amazon's PO",
        ),
        id="one_destination-no-ship-to",
    ),
    pytest.param(
        clean_notice(lines=(LINES[0], replace(LINES[1], shipped_eaches=D(12)))),
        clean_context(),
        failing(
            "shipped_within_acknowledged",
            "PO 4KT9ZQ2M line 2 (HAF-002) ships 3 cases of 4 but 2 cases of 4 were acknowledged, and Amazon refuses"
            " more than acknowledged: reduce the despatch in Sage to at most 2 cases of 4",
        ),
        id="shipped_within_acknowledged",
    ),
    pytest.param(
        clean_notice(lines=(replace(LINES[0], shipped_eaches=D(9)), LINES[1])),
        clean_context(),
        failing(
            "whole_cases",
            "PO 4KT9ZQ2M line 1 (HAF-001) ships 9 eaches, 1.5 cases of 6, and Amazon takes whole cases of a line"
            " ordered in cases: despatch 1 or 2 cases in Sage",
        ),
        id="whole_cases",
    ),
    pytest.param(
        clean_notice(lines=(replace(LINES[0], expiry_date=None), LINES[1])),
        clean_context(),
        failing(
            "perishable_lot_expiry",
            "PO 4KT9ZQ2M line 1 (HAF-001) is perishable and Amazon needs its lot number and expiry date: add the"
            " line 'LOT: HAF-001 <lot number> <expiry YYYY-MM-DD>' to the despatch note",
        ),
        id="perishable_lot_expiry-missing",
    ),
    pytest.param(
        clean_notice(estimated_delivery_at=NOW),
        clean_context(),
        failing(
            "arrives_before_receipt",
            "shipment DN0000123 was due at the fulfilment centre at 2026-03-14 09:30 UTC, already past: Amazon"
            " receives against the ASN, so one sent now comes too late to be used; contact Amazon through Vendor"
            " Central about receiving this shipment",
        ),
        id="arrives_before_receipt",
    ),
    pytest.param(
        clean_notice(),
        clean_context(note_problems=(DESPATCH_NOTE_PROBLEM,)),
        failing(
            "despatch_note_readable",
            "despatch note line 4 ('DELIVERY: tomorrow'): 'tomorrow' is not a date and time YYYY-MM-DD[ HH:MM]:"
            " correct the line in the despatch note in Sage (until then it is left out)",
        ),
        id="despatch_note_readable",
    ),
]


@pytest.mark.parametrize(("notice", "context", "failures"), BROKEN)
def test_a_notice_breaking_one_rule_fails_exactly_that_rule(
    notice: ShipmentNotice, context: AsnContext, failures: list[RuleFailure]
) -> None:
    assert validate(notice, context) == failures


def test_one_sku_with_two_lots_in_a_carton_and_across_a_pallet() -> None:
    # The same product on two POs, from two lots: mixed in carton 1, and across the cartons of pallet 1.
    other_po = "7QX2LM4P"
    lines = (
        *LINES,
        shipment_line(
            "1", "HAF-001", shipped=12, unit_size=6, lot="L2603B", expiry=date(2027, 4, 30), po_number=other_po
        ),
    )
    mixed = Carton(SSCCS[0], (PackedItem("1", PO, D(6)), PackedItem("1", other_po, D(6))))
    first_lot, second_lot = carton(SSCCS[6], "1", 6), carton(SSCCS[7], "1", 6, other_po)
    notice = clean_notice(
        lines=lines,
        pallets=(Pallet(SSCCS[4], (mixed,)), Pallet(SSCCS[5], (first_lot, second_lot, *CARTONS[2:]))),
        loose_cartons=(),
    )
    context = clean_context(po_destinations={})
    lots = "lot L2603A expiry 2027-03-31; lot L2603B expiry 2027-04-30"
    fix = (
        "and Amazon allows one per carton and pallet: pack each lot apart, or correct the LOT: line of the despatch"
        " note"
    )
    assert validate(notice, context) == failing(
        "perishable_lot_expiry",
        f"pallet 2 holds HAF-001 with 2 lot/expiry values ({lots}), {fix}",
        f"carton 1 holds HAF-001 with 2 lot/expiry values ({lots}), {fix}",
    )


def test_limits_are_inclusive() -> None:
    on_the_limits = clean_notice(shipped_at=NOW - timedelta(days=7), estimated_delivery_at=NOW + timedelta(seconds=1))
    sent_just_over_a_year_ago = clean_context(shipment_ids_sent={SHIPMENT: NOW - timedelta(days=365, seconds=1)})
    assert validate(on_the_limits, sent_just_over_a_year_ago) == []
    assert validate(clean_notice(shipped_at=NOW + timedelta(days=2), estimated_delivery_at=None), clean_context()) == []


def test_asn_due_30_minutes_after_departure_or_6_hours_before_the_appointment_if_sooner() -> None:
    departed = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)
    assert asn_due_at(departed, None) == datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
    assert asn_due_at(departed, datetime(2026, 3, 15, 8, 0, tzinfo=UTC)) == datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
    assert asn_due_at(departed, datetime(2026, 3, 14, 14, 0, tzinfo=UTC)) == datetime(2026, 3, 14, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("bill", ["20260314", "14/03/2026", "03/31/2026", "14.03.2026", "2026-03-14T09:30", "9:30"])
def test_a_bill_of_lading_written_as_a_date_or_time_fails(bill: str) -> None:
    assert [failure.rule for failure in validate(clean_notice(bill_of_lading=bill), clean_context())] == [
        "bill_of_lading_valid"
    ]


@pytest.mark.parametrize("bill", ["1203045", "20261340", "7741203", "BOL-2026-03", "12:75"])
def test_a_bill_of_lading_that_only_looks_numeric_passes(bill: str) -> None:
    assert validate(clean_notice(bill_of_lading=bill), clean_context()) == []
