"""The ship notice (ASN) as an X12 856, release 005010: Amazon's retail 856 exists in 5010 only.

`render_856` is a pure function of the notice and its envelope values, built like
`pipelines.orders.documents.render_855`: it lays out the segments and `write_x12` refuses anything our 856 map
(``pipelines/edi/x12/maps/856.5010.xml``) rejects, so no 856 leaves that has not passed it.

The HL loops follow the notice's shipment structure (`HIERARCHIES[notice.structure]`): S shipment (carrier, bill of
lading, dates, ship-from and ship-to), O one per purchase order, then T pallets, P cartons and I items in the
structure's order. Each level holds only what lies under its parent: under an order only that order's cartons and
items, under a pallet only its cartons, under a carton only its items. HL ids count from 1 in document order, so a
parent always comes before its children.

Code values come from Amazon's retail 856 guide as mirrored by Stedi, Amazon's Prep and Transportation manual
and the X12 005010 dictionary; each constant says which, and what no source settled is marked unconfirmed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from itertools import count

from pipelines.edi.x12 import OutboundSet
from pipelines.edi.x12.writer import SegmentValues
from pipelines.orders.documents import (
    ORIGINAL,
    SHIP_TO,
    X12,
    ccyymmdd,
    quantity_text,
    unit_code,
    write_one_set,
)
from pipelines.shipments.model import (
    HIERARCHIES,
    LOOSE_ASSORTMENT_CASE,
    LOOSE_STANDARD_CASE,
    PALLETIZED_ASSORTMENT_CASE,
    PALLETIZED_STANDARD_CASE,
    Carton,
    PackedItem,
    Pallet,
    ShipmentLine,
    ShipmentNotice,
)

SHIP_NOTICE_GROUP = "SH"  # GS01
VERSION = "005010"
# BSN05 per structure. X12 005010 has codes for S-O-P-I (0001) and S-O-I-P (0002) but none with a tare level
# (0008 "Shipment, Order, Tare, Pack" arrives in 006020), so a palletised structure says the order of its carton
# and item levels and the T level sits between O and them: unconfirmed against Amazon's guide.
STRUCTURE_CODES = {
    LOOSE_ASSORTMENT_CASE: "0001",
    PALLETIZED_ASSORTMENT_CASE: "0001",
    LOOSE_STANDARD_CASE: "0002",
    PALLETIZED_STANDARD_CASE: "0002",
}
# HL03 level codes (X12 735).
SHIPMENT = "S"
ORDER = "O"
TARE = "T"
PACK = "P"
ITEM = "I"
HAS_CHILDREN, NO_CHILDREN = "1", "0"  # HL04
# DTM qualifiers: the two dates Amazon's guide requires at shipment level, and the expiry of a perishable item.
SHIPPED = "011"
ESTIMATED_DELIVERY = "017"
EXPIRATION = "036"
UNIVERSAL_TIME = "UT"  # DTM04: our times are UTC
# TD1 packaging codes (X12 103: form + material) as practitioners' Amazon ASNs send them: CTN25 corrugated
# carton, PLT94 wooden pallet; Amazon's guide does not list its own: unconfirmed.
CARTONS = "CTN25"
PALLETS = "PLT94"
GROSS_WEIGHT = "G"
KILOGRAMS = "KG"
SCAC = "2"  # TD502: TD503 is a Standard Carrier Alpha Code
# Shipment-level REF qualifiers from the four Amazon's guide lists. BM and CN are the X12 codes for its "Bill of
# Lading Number" and "Carrier's Tracking/Airbill Number" (the PRO / consignment number). The Amazon Reference
# Number has no REF of its own there; it goes in BX, the guide's "Buyer's Shipment Mark Number", because the ARN
# is the number Amazon (the buyer) gives the shipment: unconfirmed.
BILL_OF_LADING = "BM"
CARRIER_REFERENCE = "CN"
AMAZON_REFERENCE = "BX"
LOT_NUMBER = "LT"
SHIP_FROM = "SF"
# N103 for our ship-from id: 92, assigned by the buyer, since it is the id Amazon addresses us by: unconfirmed.
ASSIGNED_BY_BUYER = "92"
SSCC_MARKS = "GM"  # MAN01: SSCC-18, as Amazon's guide and its labelling rules say
# Amazon's Prep and Transportation manual: the SSCC is always written with its GS1 application identifier 00,
# 20 digits in all, in MAN02 exactly as on the carton's GS1-128 label.
SSCC_APPLICATION_IDENTIFIER = "00"


class ShipmentDocumentError(ValueError):
    """The notice cannot be said as an 856: nothing was written."""


@dataclass
class _Level:
    """One HL level before numbering: its code, its own segments after the HL, and the levels under it."""

    code: str
    segments: list[SegmentValues]
    children: list[_Level] = field(default_factory=list)


@dataclass(frozen=True)
class _Packed:
    """One packed item with where it sits: the pallet (None for a loose carton) and the carton."""

    pallet: Pallet | None
    carton: Carton
    item: PackedItem


def render_856(
    notice: ShipmentNotice,
    *,
    sender_id: str,
    receiver_id: str,
    isa13: int,
    gs06: str,
    st02: str,
    prepared_at: datetime,
    usage: str = "P",
) -> str:
    """The 856 interchange (one group, one set) as X12 005010 text, validated by our 856 map.

    `sender_id` is our interchange and application id (ISA06, GS02), `receiver_id` Amazon's (ISA08, GS03);
    `prepared_at` (UTC) dates the envelope and BSN. Raises `X12WriteError` when the set breaks the map,
    `ShipmentDocumentError` when the notice cannot be said (no carrier, cartons that disagree with the lines).
    """
    return write_one_set(
        SHIP_NOTICE_GROUP,
        OutboundSet("856", st02, _856_body(notice, prepared_at)),
        sender_id=sender_id,
        receiver_id=receiver_id,
        isa13=isa13,
        gs06=gs06,
        prepared_at=prepared_at,
        version=VERSION,
        usage=usage,
    )


def _856_body(notice: ShipmentNotice, prepared_at: datetime) -> list[SegmentValues]:
    packed = _packed_items(notice)
    below_order = HIERARCHIES[notice.structure].split("-")[2:]
    orders = [
        _Level(
            ORDER,
            [("PRF", po_number)],
            _levels(notice, below_order, [p for p in packed if p.item.po_number == po_number]),
        )
        for po_number in notice.po_numbers
    ]
    shipment = _Level(SHIPMENT, _shipment_segments(notice), orders)
    hierarchy = list(_numbered(shipment, "", count(1)))
    beginning = (
        "BSN", ORIGINAL, notice.shipment_id, ccyymmdd(prepared_at), prepared_at.strftime("%H%M"),
        STRUCTURE_CODES[notice.structure],
    )  # fmt: skip
    levels = sum(1 for segment in hierarchy if segment[0] == "HL")
    shipped_total = sum((Decimal(segment[2]) for segment in hierarchy if segment[0] == "SN1"), Decimal(0))
    return [beginning, *hierarchy, ("CTT", str(levels), quantity_text(shipped_total))]


def _packed_items(notice: ShipmentNotice) -> list[_Packed]:
    """Every packed item in label order, after checking that the cartons hold exactly what the lines ship."""
    placed = [(pallet, carton) for pallet in notice.pallets for carton in pallet.cartons]
    placed += [(None, carton) for carton in notice.loose_cartons]
    packed = [_Packed(pallet, carton, item) for pallet, carton in placed for item in carton.items]
    shipped = {(line.po_number, line.line_id): line.shipped_eaches for line in notice.lines}
    in_cartons = dict.fromkeys(shipped, Decimal(0))
    for entry in packed:
        key = (entry.item.po_number, entry.item.line_id)
        if key not in in_cartons:
            raise ShipmentDocumentError(
                f"carton {entry.carton.sscc} holds PO {key[0]} line {key[1]}, which the notice does not ship"
            )
        in_cartons[key] += entry.item.eaches
    for (po_number, line_id), eaches in in_cartons.items():
        if eaches != shipped[(po_number, line_id)]:
            raise ShipmentDocumentError(
                f"PO {po_number} line {line_id}: the cartons hold {eaches} eaches but the line ships"
                f" {shipped[(po_number, line_id)]}; the 856 lists what is in the cartons, so both must agree"
            )
    return packed


def _shipment_segments(notice: ShipmentNotice) -> list[SegmentValues]:
    if notice.gross_weight_kg is None:
        segments: list[SegmentValues] = [("TD1", CARTONS, str(len(notice.cartons)))]
    else:
        weight = quantity_text(notice.gross_weight_kg)
        segments = [("TD1", CARTONS, str(len(notice.cartons)), "", "", "", GROSS_WEIGHT, weight, KILOGRAMS)]
    if notice.pallets:
        segments.append(("TD1", PALLETS, str(len(notice.pallets))))
    segments.append(_carrier(notice))
    references = (
        (BILL_OF_LADING, notice.bill_of_lading),
        (CARRIER_REFERENCE, notice.tracking_number),
        (AMAZON_REFERENCE, notice.amazon_reference_number),
    )
    segments += [("REF", qualifier, value) for qualifier, value in references if value]
    segments.append(("DTM", SHIPPED, *_utc_date_time(notice.shipped_at)))
    if notice.estimated_delivery_at is not None:
        segments.append(("DTM", ESTIMATED_DELIVERY, *_utc_date_time(notice.estimated_delivery_at)))
    segments.append(("N1", SHIP_FROM, notice.ship_from_name, ASSIGNED_BY_BUYER, notice.ship_from_id))
    if notice.ship_to_id:
        segments.append(("N1", SHIP_TO, "", notice.ship_to_qualifier or "", notice.ship_to_id))
    return segments


def _carrier(notice: ShipmentNotice) -> SegmentValues:
    """TD5, which Amazon's guide requires: the SCAC when we have one, the carrier's name (TD505) when we have it."""
    if notice.carrier_scac:
        return ("TD5", "", SCAC, notice.carrier_scac, "", notice.carrier_name or "")
    if notice.carrier_name:
        return ("TD5", "", "", "", "", notice.carrier_name)
    raise ShipmentDocumentError(f"shipment {notice.shipment_id} names no carrier (SCAC or name); the 856 needs one")


def _utc_date_time(moment: datetime) -> tuple[str, str, str]:
    utc = moment.astimezone(UTC)
    return ccyymmdd(utc), utc.strftime("%H%M"), UNIVERSAL_TIME


def _levels(notice: ShipmentNotice, codes: Sequence[str], packed: list[_Packed]) -> list[_Level]:
    """The levels `codes` (e.g. T, P, I) over `packed`, grouped level by level in label order."""
    if not codes:
        return []
    code, below = codes[0], codes[1:]
    if code == TARE:
        loose = [entry for entry in packed if entry.pallet is None]
        pallets = _grouped((entry for entry in packed if entry.pallet is not None), lambda e: e.pallet.sscc)
        levels = [_Level(TARE, [_sscc(sscc)], _levels(notice, below, group)) for sscc, group in pallets.items()]
        # A loose carton beside the pallets has no tare above it: it hangs from the order.
        return levels + _levels(notice, below, loose)
    if code == PACK:
        cartons = _grouped(packed, lambda entry: entry.carton.sscc)
        return [_Level(PACK, [_sscc(sscc)], _levels(notice, below, group)) for sscc, group in cartons.items()]
    items = _grouped(packed, lambda entry: (entry.item.po_number, entry.item.line_id))
    line_order = {(line.po_number, line.line_id): index for index, line in enumerate(notice.lines)}
    return [
        _Level(ITEM, _item_segments(notice.line(*key), group), _levels(notice, below, group))
        for key, group in sorted(items.items(), key=lambda pair: line_order[pair[0]])
    ]


def _grouped(packed: Iterable[_Packed], key: Callable[[_Packed], Hashable]) -> dict[Hashable, list[_Packed]]:
    """`packed` grouped by `key`, groups in the order their first entry comes."""
    groups: dict[Hashable, list[_Packed]] = {}
    for entry in packed:
        groups.setdefault(key(entry), []).append(entry)
    return groups


def _sscc(sscc: str) -> SegmentValues:
    return ("MAN", SSCC_MARKS, SSCC_APPLICATION_IDENTIFIER + sscc)


def _item_segments(line: ShipmentLine, packed: list[_Packed]) -> list[SegmentValues]:
    """LIN with the identifiers exactly as Amazon sent them, SN1 with what this level holds in the PO's unit."""
    identifiers = [part for identifier in line.identifiers for part in (identifier.qualifier, identifier.value)]
    eaches = sum((entry.item.eaches for entry in packed), Decimal(0))
    segments: list[SegmentValues] = [
        ("LIN", line.line_id, *identifiers),
        ("SN1", "", quantity_text(eaches / line.unit_size), unit_code(line, X12)),
    ]
    if line.lot_number:
        segments.append(("REF", LOT_NUMBER, line.lot_number))
    if line.expiry_date is not None:
        segments.append(("DTM", EXPIRATION, ccyymmdd(line.expiry_date)))
    return segments


def _numbered(level: _Level, parent_id: str, ids: Iterator[int]) -> Iterator[SegmentValues]:
    """The level's HL (its id, its parent's, its code, whether it has children), its segments, then its children."""
    own_id = str(next(ids))
    yield ("HL", own_id, parent_id, level.code, HAS_CHILDREN if level.children else NO_CHILDREN)
    yield from level.segments
    for child in level.children:
        yield from _numbered(child, own_id, ids)
