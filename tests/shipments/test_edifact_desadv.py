"""A ship notice as an EDIFACT DESADV: byte-exact against golden files for each way of packing, re-readable by our
EDIFACT reader and valid against our DESADV definition, with the packing hierarchy Amazon's example uses.

After a deliberate change to the rendering, regenerate the golden files with
``AVC2SAGE_UPDATE_GOLDEN=1 pytest tests/shipments/test_edifact_desadv.py`` and review the diff.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipelines.amazon.documents import ProductIdentifier
from pipelines.edi.edifact import InvalidDocument, read_interchange
from pipelines.edi.edifact.d96a import DESADV
from pipelines.edi.edifact.definitions import Validator
from pipelines.shipments.edifact import ShipNoticeDocumentError, render_desadv
from pipelines.shipments.model import (
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

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("AVC2SAGE_UPDATE_GOLDEN") == "1"
LONDON = ZoneInfo("Europe/London")
PREPARED_AT = datetime(2026, 3, 18, 16, 5, tzinfo=UTC)
OUR_GLN = "5060123450004"
AMAZON_GLN = "5450534000024"
D = Decimal

# Carton and pallet SSCCs: GS1 prefix 5060123, valid check digits.
SSCC_1 = "050601230000000013"
SSCC_2 = "050601230000000020"
SSCC_3 = "050601230000000037"
PALLET_SSCC = "050601230000000044"


def line(line_id: str, po_number: str, *ids: str, unit: str = "PCE", size: int = 1, eaches: int) -> ShipmentLine:
    return ShipmentLine(
        po_number=po_number,
        line_id=line_id,
        identifiers=tuple(ProductIdentifier(ids[i], ids[i + 1]) for i in range(0, len(ids), 2)),
        vendor_product_code=f"HAF-00{line_id}",
        unit_of_measure=unit,
        unit_size=D(size),
        shipped_eaches=D(eaches),
        acknowledged_eaches=D(eaches),
        unit_cost=D("4.25"),
    )


# Line 1 ordered in eaches (a GTIN in LIN, the supplier's article in PIA); line 2 in cases of 6.
EACHES_LINE = line("1", "4KT9ZQ2M", "EN", "5012345678900", "SA", "HAF-001", eaches=12)
CASES_LINE = line("2", "4KT9ZQ2M", "EN", "5012345678917", unit="CS", size=6, eaches=12)


def carton(sscc: str, *items: tuple[ShipmentLine, int]) -> Carton:
    return Carton(sscc, tuple(PackedItem(item.line_id, item.po_number, D(eaches)) for item, eaches in items))


def notice(lines: tuple[ShipmentLine, ...], pallets: tuple[Pallet, ...], loose: tuple[Carton, ...]) -> ShipmentNotice:
    return ShipmentNotice(
        shipment_id="DN0004711",
        vendor_code="HAFIN",
        marketplace="UK",
        standard="EDIFACT",
        despatch_number="DN0004711",
        sales_order_number="SO0001234",
        ship_from_id=OUR_GLN,
        ship_from_name="Hafren Fine Foods",
        ship_to_qualifier="9",
        ship_to_id="5450534000109",
        shipped_at=datetime(2026, 3, 18, 15, 40, tzinfo=LONDON),
        estimated_delivery_at=datetime(2026, 3, 19, 10, 0, tzinfo=LONDON),
        freight_terms=PREPAID,
        carrier_name="DPD",
        carrier_scac=None,
        tracking_number="15501234567890",
        bill_of_lading="BOL-4711",
        amazon_reference_number=None,
        lines=lines,
        pallets=pallets,
        loose_cartons=loose,
        gross_weight_kg=D("38.5"),
    )


# Loose standard cases: two cartons of the eaches line, one case of line 2 per carton.
LOOSE = notice(
    (EACHES_LINE, CASES_LINE),
    (),
    (
        carton(SSCC_1, (EACHES_LINE, 12)),
        carton(SSCC_2, (CASES_LINE, 6)),
        carton(SSCC_3, (CASES_LINE, 6)),
    ),
)
# The same cartons on one pallet.
PALLETISED = replace(LOOSE, pallets=(Pallet(PALLET_SSCC, LOOSE.loose_cartons),), loose_cartons=())
# One assortment carton holding both lines, of two POs.
OTHER_PO_LINE = line("1", "7BX2KQ9P", "UP", "012345678905", eaches=4)
ASSORTMENT = notice(
    (EACHES_LINE, OTHER_PO_LINE),
    (),
    (carton(SSCC_1, (EACHES_LINE, 12), (OTHER_PO_LINE, 4)),),
)
# A perishable line with lot and expiry, and one with a lot only; collect freight with its Amazon reference.
LOT_LINE = replace(EACHES_LINE, lot_number="L2603A", expiry_date=date(2026, 9, 30))
LOT_ONLY_LINE = replace(CASES_LINE, lot_number="L2603B")
LOT_AND_EXPIRY = replace(
    notice(
        (LOT_LINE, LOT_ONLY_LINE),
        (),
        (carton(SSCC_1, (LOT_LINE, 12)), carton(SSCC_2, (LOT_ONLY_LINE, 6)), carton(SSCC_3, (LOT_ONLY_LINE, 6))),
    ),
    carrier_scac="DPDU",
    amazon_reference_number="5678901234",
    estimated_delivery_at=None,
    gross_weight_kg=None,
)


def render(shipment: ShipmentNotice) -> bytes:
    return render_desadv(
        shipment,
        sender_id=OUR_GLN,
        receiver_id=AMAZON_GLN,
        unb_reference="17",
        unh_reference="23",
        prepared_at=PREPARED_AT,
    )


def segments(data: bytes) -> list[str]:
    return data.decode("ascii").split("'")[:-1]


def matches_golden(content: bytes, name: str) -> bool:
    golden = GOLDEN / name
    if UPDATE_GOLDEN:
        golden.write_bytes(content)
    return content == golden.read_bytes()


GOLDEN_NOTICES = [
    pytest.param(LOOSE, LOOSE_STANDARD_CASE, "edifact_desadv_loose_standard.edi", id="loose-standard"),
    pytest.param(PALLETISED, PALLETIZED_STANDARD_CASE, "edifact_desadv_palletised.edi", id="palletised"),
    pytest.param(ASSORTMENT, LOOSE_ASSORTMENT_CASE, "edifact_desadv_assortment.edi", id="assortment"),
    pytest.param(LOT_AND_EXPIRY, LOOSE_STANDARD_CASE, "edifact_desadv_lot_expiry.edi", id="lot-expiry"),
]


@pytest.mark.parametrize(("shipment", "structure", "golden"), GOLDEN_NOTICES)
def test_desadv_matches_its_golden_file(shipment: ShipmentNotice, structure: str, golden: str) -> None:
    assert shipment.structure == structure
    assert matches_golden(render(shipment), golden)


@pytest.mark.parametrize("golden", [param.values[2] for param in GOLDEN_NOTICES])
def test_golden_desadv_reads_back_and_passes_our_desadv_definition(golden: str) -> None:
    interchange = read_interchange((GOLDEN / golden).read_bytes())
    assert interchange.envelope_errors == []
    assert interchange.trailer_error is None
    assert (interchange.syntax, interchange.version, interchange.sender, interchange.reference) == (
        "UNOA",
        "2",
        OUR_GLN,
        "17",
    )
    (result,) = interchange.messages
    message = result.message
    assert message.identifier == ("DESADV", "D", "96A", "UN")
    assert message.header.get(2, 5) == "EAN005"
    Validator(interchange.chars).validate(DESADV, message.body, message.segments[-1])


def test_loose_standard_cases_are_one_carton_cps_each_under_the_consignment() -> None:
    assert segments(render(LOOSE))[3:] == [
        "BGM+351::9+DN0004711+9",
        "DTM+11:20260318:102",
        "DTM+132:20260319:102",
        "DTM+137:20260318:102",
        "MEA+AAE+G+KGM:38.5",
        "RFF+DQ:DN0004711",
        "RFF+ON:4KT9ZQ2M",
        "RFF+BM:BOL-4711",
        "RFF+CN:15501234567890",
        "NAD+DP+5450534000109::9",
        "NAD+SU+5060123450004::9",
        "NAD+CA+++DPD",
        "TDT+20++30+31+:::DPD",
        "CPS+1",
        "PAC+3++PK",
        "CPS+2+1",
        "PAC+1+:52+PK",
        "PCI+33E",
        f"GIN+BJ+{SSCC_1}",
        "LIN+1++5012345678900:EN",
        "PIA+5+HAF-001:SA",
        "QTY+12:12:PCE",
        "RFF+ON:4KT9ZQ2M",
        "CPS+3+1",
        "PAC+1+:52+PK",
        "PCI+33E",
        f"GIN+BJ+{SSCC_2}",
        "LIN+2++5012345678917:EN",
        "QTY+12:1:CS",
        "RFF+ON:4KT9ZQ2M",
        "CPS+4+1",
        "PAC+1+:52+PK",
        "PCI+33E",
        f"GIN+BJ+{SSCC_3}",
        "LIN+2++5012345678917:EN",
        "QTY+12:1:CS",
        "RFF+ON:4KT9ZQ2M",
        "CNT+2:3",
        "UNT+40+23",
        "UNZ+1+17",
    ]


def test_palletised_cartons_hang_under_their_pallet() -> None:
    packing = [segment for segment in segments(render(PALLETISED)) if segment.startswith(("CPS", "PAC", "GIN"))]
    assert packing == [
        "CPS+1",
        "PAC+1++201",
        "PAC+3++PK",
        "CPS+2+1",
        "PAC+1+:52+201",
        f"GIN+BJ+{PALLET_SSCC}",
        "CPS+3+2",
        "PAC+1+:52+PK",
        f"GIN+BJ+{SSCC_1}",
        "CPS+4+2",
        "PAC+1+:52+PK",
        f"GIN+BJ+{SSCC_2}",
        "CPS+5+2",
        "PAC+1+:52+PK",
        f"GIN+BJ+{SSCC_3}",
    ]


def test_an_assortment_carton_holds_a_lin_per_line_each_with_its_po() -> None:
    text = "'".join(segments(render(ASSORTMENT)))
    assert "RFF+ON:4KT9ZQ2M'RFF+ON:7BX2KQ9P'" in text
    assert (
        f"CPS+2+1'PAC+1+:52+PK'PCI+33E'GIN+BJ+{SSCC_1}'"
        "LIN+1++5012345678900:EN'PIA+5+HAF-001:SA'QTY+12:12:PCE'RFF+ON:4KT9ZQ2M'"
        "LIN+1++012345678905:UP'QTY+12:4:PCE'RFF+ON:7BX2KQ9P'CNT+2:2'"
    ) in text


def test_lot_and_expiry_follow_their_line_and_collect_freight_carries_the_amazon_reference() -> None:
    text = "'".join(segments(render(LOT_AND_EXPIRY)))
    assert "RFF+CN:15501234567890'RFF+ACD:5678901234'" in text
    assert "NAD+CA+DPDU::182++DPD'TDT+20++30+31+DPDU::182:DPD'" in text
    assert "QTY+12:12:PCE'RFF+ON:4KT9ZQ2M'PCI+17'DTM+361:20260930:102'GIN+BX+L2603A'" in text
    assert "QTY+12:1:CS'RFF+ON:4KT9ZQ2M'PCI+17'GIN+BX+L2603B'" in text
    assert "DTM+132" not in text and "MEA+" not in text


def test_a_despatch_without_carrier_details_names_no_carrier() -> None:
    text = "'".join(segments(render(replace(LOOSE, carrier_name=None, tracking_number=None))))
    assert "NAD+CA" not in text and "RFF+CN" not in text
    assert "NAD+SU+5060123450004::9'TDT+20++30+31'CPS+1'" in text


def test_a_carton_holding_a_line_the_notice_does_not_list_is_refused() -> None:
    with pytest.raises(ShipNoticeDocumentError) as refused:
        render(replace(LOOSE, lines=(EACHES_LINE,)))
    assert str(refused.value) == f"carton {SSCC_2} holds PO 4KT9ZQ2M line 2, which the notice does not list"


def test_a_value_the_definition_does_not_allow_is_refused() -> None:
    with pytest.raises(InvalidDocument) as refused:
        render(replace(LOOSE, carrier_name="Northern Ireland Parcel Express Services Ltd"))
    assert str(refused.value) == (
        "DESADV:D:96A:UN 23: 3036 Party name 'Northern Ireland Parcel Express Services Ltd' is longer than 35"
        " at segment 13 (NAD), element 4, component 1"
    )
