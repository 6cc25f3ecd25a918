"""A ship notice as an X12 856 (005010): byte-exact against golden files, re-readable by our reader, valid against
our 856 map, its HL levels in the notice's shipment structure, and refused when the map or the notice says no.

After a deliberate change to the rendering, regenerate the golden files with
``AVC2SAGE_UPDATE_GOLDEN=1 pytest tests/shipments/test_x12_856.py`` and review the diff.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.amazon.documents import ProductIdentifier
from pipelines.edi.x12 import X12WriteError, parse_interchange
from pipelines.edi.x12.reader import Segment
from pipelines.edi.x12.validator import default_registry
from pipelines.shipments.model import (
    COLLECT,
    HIERARCHIES,
    LOOSE_ASSORTMENT_CASE,
    LOOSE_STANDARD_CASE,
    PALLETIZED_STANDARD_CASE,
    PREPAID,
    Carton,
    PackedItem,
    Pallet,
    ShipmentLine,
    ShipmentNotice,
)
from pipelines.shipments.sscc import build_sscc
from pipelines.shipments.x12 import STRUCTURE_CODES, ShipmentDocumentError, render_856

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("AVC2SAGE_UPDATE_GOLDEN") == "1"
NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
D = Decimal
PO = "4KT9ZQ2M"
OUR_X12_ID = "HAFINEDI"
AMAZON_X12_ID = "AMAZON"


def sscc(serial: int) -> str:
    return build_sscc(0, "5060123", serial)


def shipment_line(line_id: str, unit: str, unit_size: int, eaches: int, *pairs: str, **extra: object) -> ShipmentLine:
    return ShipmentLine(
        po_number=PO,
        line_id=line_id,
        identifiers=tuple(ProductIdentifier(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)),
        vendor_product_code=f"HAF-00{line_id}",
        unit_of_measure=unit,
        unit_size=D(unit_size),
        shipped_eaches=D(eaches),
        acknowledged_eaches=D(eaches),
        unit_cost=D("3.10"),
        **extra,
    )


def carton(serial: int, *contents: tuple[str, int]) -> Carton:
    return Carton(sscc(serial), tuple(PackedItem(line_id, PO, D(eaches)) for line_id, eaches in contents))


# Line 1 ordered in cases of 6, line 2 in eaches; the identifiers as the 850 sent them.
CASES_LINE = shipment_line("1", "CA", 6, 36, "EN", "5012345678900", "VN", "HAF-001", "BP", "B00HAF0001")
EACHES_LINE = shipment_line("2", "EA", 1, 24, "UP", "012345678905")
STANDARD_CARTONS = (carton(1, ("1", 18)), carton(2, ("1", 18)), carton(3, ("2", 24)))

LOOSE_STANDARD = ShipmentNotice(
    shipment_id="DN0004711",
    vendor_code="HAFIN",
    marketplace="US",
    standard="X12",
    despatch_number="DN0004711",
    sales_order_number="SO0001234",
    ship_from_id=OUR_X12_ID,
    ship_from_name="Hafin Foods Ltd",
    ship_to_qualifier="92",
    ship_to_id="ABE8",
    shipped_at=datetime(2026, 3, 14, 8, 0, tzinfo=UTC),
    estimated_delivery_at=datetime(2026, 3, 16, 14, 0, tzinfo=UTC),
    freight_terms=PREPAID,
    carrier_name="UPS",
    carrier_scac="UPSN",
    tracking_number="1Z999AA10123456784",
    bill_of_lading="BOL20260314001",
    amazon_reference_number=None,
    lines=(CASES_LINE, EACHES_LINE),
    pallets=(),
    loose_cartons=STANDARD_CARTONS,
    gross_weight_kg=D("84.5"),
)
# Collect freight on one pallet: Amazon's carrier, its ARN, no SCAC of ours.
PALLETISED = replace(
    LOOSE_STANDARD,
    freight_terms=COLLECT,
    carrier_name="AMZN Freight",
    carrier_scac=None,
    tracking_number=None,
    amazon_reference_number="3945718261",
    pallets=(Pallet(sscc(10), STANDARD_CARTONS),),
    loose_cartons=(),
)
# Carton 1 mixes both lines: an assortment case.
ASSORTMENT = replace(
    LOOSE_STANDARD,
    loose_cartons=(carton(1, ("1", 18), ("2", 12)), carton(2, ("1", 18)), carton(3, ("2", 12))),
)
PERISHABLE = replace(
    LOOSE_STANDARD,
    lines=(replace(CASES_LINE, lot_number="LOT42A", expiry_date=date(2026, 9, 30)), EACHES_LINE),
)

GOLDEN_NOTICES = [
    pytest.param(LOOSE_STANDARD, "x12_856_loose_standard.edi", id="loose-standard"),
    pytest.param(PALLETISED, "x12_856_palletised.edi", id="palletised"),
    pytest.param(ASSORTMENT, "x12_856_assortment.edi", id="assortment"),
    pytest.param(PERISHABLE, "x12_856_lot_expiry.edi", id="lot-expiry"),
]


def render(notice: ShipmentNotice) -> str:
    return render_856(
        notice, sender_id=OUR_X12_ID, receiver_id=AMAZON_X12_ID, isa13=1, gs06="1", st02="0001", prepared_at=NOW
    )


def body(text: str) -> list[str]:
    """The segments between ST and SE as text."""
    segments = [segment.strip() for segment in text.split("~") if segment.strip()]
    return segments[3:-3]


def matches_golden(content: bytes, name: str) -> bool:
    golden = GOLDEN / name
    if UPDATE_GOLDEN:
        golden.write_bytes(content)
    return content == golden.read_bytes()


@pytest.mark.parametrize(("notice", "golden"), GOLDEN_NOTICES)
def test_856_matches_its_golden_file(notice: ShipmentNotice, golden: str) -> None:
    assert matches_golden(render(notice).encode("utf-8"), golden)


def hl_segments(golden: str) -> list[Segment]:
    interchange = parse_interchange((GOLDEN / golden).read_bytes())
    (group,) = interchange.groups
    (transaction_set,) = group.sets
    return [segment for segment in transaction_set.segments if segment.tag == "HL"]


@pytest.mark.parametrize(("notice", "golden"), GOLDEN_NOTICES)
def test_golden_856_reads_back_and_passes_our_856_map(notice: ShipmentNotice, golden: str) -> None:
    interchange = parse_interchange((GOLDEN / golden).read_bytes())
    assert interchange.errors == []
    assert (interchange.version, interchange.separators.repetition) == ("00501", "^")
    (group,) = interchange.groups
    assert (group.functional_id, group.version) == ("SH", "005010")
    (transaction_set,) = group.sets
    assert transaction_set.set_id == "856"
    transaction_map = default_registry().find(group.version, "856")
    assert transaction_map.validate(transaction_set.segments, interchange.separators) == []


@pytest.mark.parametrize(("notice", "golden"), GOLDEN_NOTICES)
def test_every_hl_parent_is_an_earlier_hl_and_the_levels_follow_the_structure(
    notice: ShipmentNotice, golden: str
) -> None:
    levels: dict[str, str] = {}  # HL id -> the chain of level codes from the shipment down, e.g. "S-O-I"
    for position, segment in enumerate(hl_segments(golden), start=1):
        own_id, parent_id, code = segment.element(1), segment.element(2), segment.element(3)
        assert own_id == str(position)
        if code == "S":
            assert parent_id == ""
            levels[own_id] = code
            continue
        assert parent_id in levels  # ids are numbered in order, so a known parent is an earlier one
        levels[own_id] = f"{levels[parent_id]}-{code}"
    structure = HIERARCHIES[notice.structure]
    assert all(structure.startswith(chain) for chain in levels.values())
    assert structure in levels.values()


@pytest.mark.parametrize(("notice", "golden"), GOLDEN_NOTICES)
def test_hl04_says_whether_a_level_has_children(notice: ShipmentNotice, golden: str) -> None:
    segments = hl_segments(golden)
    parents = {segment.element(2) for segment in segments}
    for segment in segments:
        assert segment.element(4) == ("1" if segment.element(1) in parents else "0")


def test_loose_standard_cases_list_each_line_with_its_cartons() -> None:
    assert body(render(LOOSE_STANDARD)) == [
        "BSN*00*DN0004711*20260314*0930*0002",
        "HL*1**S*1",
        "TD1*CTN25*3****G*84.5*KG",
        "TD5**2*UPSN**UPS",
        "REF*BM*BOL20260314001",
        "REF*CN*1Z999AA10123456784",
        "DTM*011*20260314*0800*UT",
        "DTM*017*20260316*1400*UT",
        "N1*SF*Hafin Foods Ltd*92*HAFINEDI",
        "N1*ST**92*ABE8",
        "HL*2*1*O*1",
        "PRF*4KT9ZQ2M",
        "HL*3*2*I*1",
        "LIN*1*EN*5012345678900*VN*HAF-001*BP*B00HAF0001",
        "SN1**6*CA",
        "HL*4*3*P*0",
        f"MAN*GM*00{sscc(1)}",
        "HL*5*3*P*0",
        f"MAN*GM*00{sscc(2)}",
        "HL*6*2*I*1",
        "LIN*2*UP*012345678905",
        "SN1**24*EA",
        "HL*7*6*P*0",
        f"MAN*GM*00{sscc(3)}",
        "CTT*7*30",
    ]


def test_palletised_notice_puts_the_pallet_between_the_order_and_its_items() -> None:
    segments = body(render(PALLETISED))
    assert segments[0] == "BSN*00*DN0004711*20260314*0930*0002"
    assert segments[2:6] == ["TD1*CTN25*3****G*84.5*KG", "TD1*PLT94*1", "TD5*****AMZN Freight", "REF*BM*BOL20260314001"]
    assert "REF*BX*3945718261" in segments
    tare = segments.index("HL*3*2*T*1")
    assert segments[tare + 1 : tare + 5] == [
        f"MAN*GM*00{sscc(10)}",
        "HL*4*3*I*1",
        "LIN*1*EN*5012345678900*VN*HAF-001*BP*B00HAF0001",
        "SN1**6*CA",
    ]
    assert [segment for segment in segments if segment.startswith("HL")] == [
        "HL*1**S*1", "HL*2*1*O*1", "HL*3*2*T*1",
        "HL*4*3*I*1", "HL*5*4*P*0", "HL*6*4*P*0",
        "HL*7*3*I*1", "HL*8*7*P*0",
    ]  # fmt: skip


def test_an_assortment_carton_lists_both_items_with_what_it_holds_of_each() -> None:
    segments = body(render(ASSORTMENT))
    assert segments[0] == "BSN*00*DN0004711*20260314*0930*0001"
    first_carton = segments.index("HL*3*2*P*1")
    assert segments[first_carton + 1 : first_carton + 9] == [
        f"MAN*GM*00{sscc(1)}",
        "HL*4*3*I*0",
        "LIN*1*EN*5012345678900*VN*HAF-001*BP*B00HAF0001",
        "SN1**3*CA",
        "HL*5*3*I*0",
        "LIN*2*UP*012345678905",
        "SN1**12*EA",
        "HL*6*2*P*1",
    ]
    assert segments[-1] == "CTT*9*30"


def test_lot_and_expiry_follow_the_item_they_belong_to() -> None:
    segments = body(render(PERISHABLE))
    item = segments.index("LIN*1*EN*5012345678900*VN*HAF-001*BP*B00HAF0001")
    assert segments[item + 1 : item + 4] == ["SN1**6*CA", "REF*LT*LOT42A", "DTM*036*20260930"]
    assert not any(segment.startswith(("REF*LT", "DTM*036")) for segment in segments[item + 4 :])


def test_every_structure_code_we_write_is_one_our_856_map_accepts() -> None:
    bsn = default_registry().find("005010", "856").root.getnodebypath("/ST_LOOP/HEADER/BSN")
    assert set(STRUCTURE_CODES.values()) == set(bsn.get_child_node_by_ordinal(5).valid_codes)
    assert {LOOSE_STANDARD.structure, PALLETISED.structure, ASSORTMENT.structure} == {
        LOOSE_STANDARD_CASE,
        PALLETIZED_STANDARD_CASE,
        LOOSE_ASSORTMENT_CASE,
    }


def test_the_map_refuses_an_856_without_a_shipment_id() -> None:
    with pytest.raises(X12WriteError, match="breaks its map") as refused:
        render(replace(LOOSE_STANDARD, shipment_id=""))
    assert [(issue.segment_tag, issue.element) for issue in refused.value.issues] == [("BSN", 2)]


def test_a_notice_without_a_carrier_is_refused() -> None:
    with pytest.raises(ShipmentDocumentError, match=r"^shipment DN0004711 names no carrier"):
        render(replace(LOOSE_STANDARD, carrier_name=None, carrier_scac=None))


def test_cartons_that_do_not_hold_what_a_line_ships_are_refused() -> None:
    short = replace(LOOSE_STANDARD, loose_cartons=STANDARD_CARTONS[:2])
    with pytest.raises(ShipmentDocumentError) as refused:
        render(short)
    assert str(refused.value) == (
        "PO 4KT9ZQ2M line 2: the cartons hold 0 eaches but the line ships 24; the 856 lists what is in the"
        " cartons, so both must agree"
    )


def test_a_carton_holding_a_line_the_notice_does_not_ship_is_refused() -> None:
    stray = replace(LOOSE_STANDARD, loose_cartons=(*STANDARD_CARTONS, carton(4, ("9", 1))))
    with pytest.raises(ShipmentDocumentError, match=f"^carton {sscc(4)} holds PO 4KT9ZQ2M line 9, which"):
        render(stray)
