"""A ship notice rendered as an EDIFACT D.96A DESADV (EANCOM 1997), the ASN of vendors trading with Amazon EU/UK.

Like `render_ordrsp`, `render_desadv` is a pure function of the notice and its envelope values (the same bytes
anywhere) and returns nothing that has not passed our DESADV definition (`pipelines.edi.edifact.d96a.DESADV`,
through `write_interchange`); a document that breaks it is refused with `InvalidDocument`.

The packing travels as EANCOM's consignment packing sequence: CPS 1 is the consignment; under it one CPS per
pallet and, under its pallet (or under the consignment when loose), one CPS per carton; every package carries its
SSCC (PCI 33E + GIN BJ) and every carton a LIN for each PO line packed in it, so a standard case holds one LIN and
an assortment case several. Each LIN says its quantity in the unit the PO ordered in, its PO (RFF ON) and, when
known, its lot and expiry.

Codes follow Amazon EU's own DESADV example (see the DESADV definition) and practitioners' DESADVs to Amazon EU;
each constant says which, and what no source settled is marked unconfirmed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from datetime import date, datetime

from pipelines.amazon.documents import ProductIdentifier
from pipelines.edi.edifact import Envelope, OutboundMessage, write_interchange
from pipelines.edi.edifact.d96a import DESADV
from pipelines.edi.edifact.writer import Value
from pipelines.orders.documents import (
    CCYYMMDD,
    DOCUMENT_DATE,
    EAN_PARTY,
    EDIFACT,
    GLN_AGENCY,
    ORDER_NUMBER,
    PIA_ITEMS,
    PRODUCT_IDENTIFICATION,
    SYNTAX,
    SYNTAX_VERSION,
    ccyymmdd,
    lin_and_pia_items,
    quantity_text,
    unit_code,
)
from pipelines.shipments.model import Carton, PackedItem, ShipmentLine, ShipmentNotice

Segments = list[tuple[str, Sequence[Value]]]

# UNH S009 0057: EANCOM 1997's DESADV, as Amazon EU's example and practitioners' DESADVs to Amazon EU say it
# (EAN007 is the DESADV of EANCOM 2002, built on D.01B, not D.96A).
EANCOM_DESADV = "EAN005"
DESPATCH_ADVICE = "351"  # BGM 1001
EAN_CODE_LIST = "9"  # BGM 3055, as Amazon's example writes BGM+351::9
ORIGINAL = "9"  # BGM 1225
DESPATCH_DATE = "11"
# DTM 2005 of the appointment or expected arrival: 132 estimated delivery, as Amazon's example says it (EANCOM
# also offers 17, estimated arrival).
ESTIMATED_DELIVERY_DATE = "132"
# MEA: the consignment's gross weight in kilograms, said as practitioners' booking requests to Amazon EU say it
# (AAE measurement, G gross weight). Where a DESADV to Amazon carries it is unconfirmed.
MEASUREMENT = "AAE"
GROSS_WEIGHT = "G"
KILOGRAMS = "KGM"
# RFF 1153: DQ despatch note and ON purchase order as in Amazon's example; BM bill of lading and CN the carrier's
# reference (our tracking / consignment number) as practitioners' DESADVs to Amazon EU send them; ACD
# ("additional reference number") carries the Amazon Reference Number in those DESADVs and in the routing
# instructions Amazon sends them. Amazon's guide itself is not at hand: BM, CN and ACD are unconfirmed.
DESPATCH_NOTE = "DQ"
BILL_OF_LADING = "BM"
CARRIER_REFERENCE = "CN"
AMAZON_REFERENCE = "ACD"
DELIVERY_PARTY = "DP"
SUPPLIER = "SU"
CARRIER = "CA"
SCAC_AGENCY = "182"  # 3055 for a SCAC: US, Standard Carrier Alpha Code (Motor); unconfirmed for Amazon EU
# TDT: 20 main carriage, 30 road, 31 truck, as Amazon's example writes TDT+20++30+31.
MAIN_CARRIAGE = "20"
ROAD = "30"
TRUCK = "31"
CONSIGNMENT = "1"  # CPS 7164 of the whole consignment; packages are numbered from 2, parents before children
# PAC per package: one, barcoded GS1-128 (7233 52), 201 a pallet or PK a package (a carton), as Amazon's example
# says them; the consignment's PAC counts pallets and cartons the same way.
BARCODED_GS1_128 = "52"
PALLET = "201"
CARTON = "PK"
MARKED_WITH_SSCC = "33E"  # PCI 4233
SSCC = "BJ"  # GIN 7405
# Lot and expiry of an item, as Amazon's example gives them: PCI 17, DTM 361 with the date, GIN BX with the lot.
LOT_AND_EXPIRY = "17"
EXPIRY_DATE = "361"
LOT_NUMBER = "BX"
DESPATCH_QUANTITY = "12"
LINE_ITEMS = "2"  # CNT 6069: the number of LIN segments


class ShipNoticeDocumentError(ValueError):
    """The ship notice cannot be said as a DESADV (a carton holds a line the notice does not list): nothing written."""


def render_desadv(
    notice: ShipmentNotice,
    *,
    sender_id: str,
    receiver_id: str,
    unb_reference: str,
    unh_reference: str,
    prepared_at: datetime,
) -> bytes:
    """The DESADV interchange (one message) as bytes, validated by our D.96A DESADV definition.

    `sender_id` is our GLN (UNB sender), `receiver_id` Amazon's (UNB recipient); NAD+SU is the notice's ship-from
    id. `prepared_at` stamps the UNB and the document date (DTM 137). Raises `InvalidDocument` when a segment
    breaks the definition (a carrier name over 35 characters, more than ten references ...),
    `ShipNoticeDocumentError` for a carton holding a line the notice does not list.
    """
    envelope = Envelope(
        syntax=SYNTAX,
        version=SYNTAX_VERSION,
        sender=(sender_id, EAN_PARTY),
        recipient=(receiver_id, EAN_PARTY),
        prepared=prepared_at,
        reference=unb_reference,
    )
    message = OutboundMessage(unh_reference, DESADV, _desadv_body(notice, prepared_at.date()), EANCOM_DESADV)
    return write_interchange(envelope, [message])


def _desadv_body(notice: ShipmentNotice, document_date: date) -> Segments:
    # The despatch date in the zone Sage recorded it in: the business day the goods left.
    body: Segments = [
        ("BGM", [(DESPATCH_ADVICE, "", EAN_CODE_LIST), notice.shipment_id, ORIGINAL]),
        ("DTM", [(DESPATCH_DATE, ccyymmdd(notice.shipped_at.date()), CCYYMMDD)]),
    ]
    if notice.estimated_delivery_at is not None:
        body.append(("DTM", [(ESTIMATED_DELIVERY_DATE, ccyymmdd(notice.estimated_delivery_at.date()), CCYYMMDD)]))
    body.append(("DTM", [(DOCUMENT_DATE, ccyymmdd(document_date), CCYYMMDD)]))
    if notice.gross_weight_kg is not None:
        body.append(("MEA", [MEASUREMENT, GROSS_WEIGHT, (KILOGRAMS, quantity_text(notice.gross_weight_kg))]))
    body += _references(notice)
    body += _parties(notice)
    body.append(("TDT", [MAIN_CARRIAGE, "", ROAD, TRUCK, _carrier(notice)]))
    packing = _packing(notice)
    body += packing
    body.append(("CNT", [(LINE_ITEMS, str(sum(tag == "LIN" for tag, _ in packing)))]))
    return body


def _references(notice: ShipmentNotice) -> Segments:
    references = [
        (DESPATCH_NOTE, notice.despatch_number),
        *((ORDER_NUMBER, po_number) for po_number in notice.po_numbers),
        (BILL_OF_LADING, notice.bill_of_lading),
        (CARRIER_REFERENCE, notice.tracking_number),
        (AMAZON_REFERENCE, notice.amazon_reference_number),
    ]
    return [("RFF", [(qualifier, value)]) for qualifier, value in references if value]


def _parties(notice: ShipmentNotice) -> Segments:
    parties: Segments = []
    if notice.ship_to_id:
        parties.append(("NAD", [DELIVERY_PARTY, (notice.ship_to_id, "", notice.ship_to_qualifier or "")]))
    parties.append(("NAD", [SUPPLIER, (notice.ship_from_id, "", GLN_AGENCY)]))
    if notice.carrier_scac or notice.carrier_name:
        scac = (notice.carrier_scac, "", SCAC_AGENCY) if notice.carrier_scac else None
        parties.append(("NAD", [CARRIER, scac, None, notice.carrier_name]))
    return parties


def _carrier(notice: ShipmentNotice) -> Value:
    """TDT C040: the carrier's SCAC and name, whichever the despatch note gave."""
    if not (notice.carrier_scac or notice.carrier_name):
        return None
    scac = notice.carrier_scac or ""
    return (scac, "", SCAC_AGENCY if scac else "", notice.carrier_name or "")


def _packing(notice: ShipmentNotice) -> Segments:
    """CPS 1 with the package counts, then pallets with their cartons, then loose cartons, parents first."""
    lines = {(line.po_number, line.line_id): line for line in notice.lines}
    segments: Segments = [("CPS", [CONSIGNMENT])]
    if notice.pallets:
        segments.append(("PAC", [str(len(notice.pallets)), None, PALLET]))
    segments.append(("PAC", [str(len(notice.cartons)), None, CARTON]))
    numbers = (str(number) for number in itertools.count(int(CONSIGNMENT) + 1))
    for pallet in notice.pallets:
        pallet_number = next(numbers)
        segments += _package(pallet_number, CONSIGNMENT, PALLET, pallet.sscc)
        for carton in pallet.cartons:
            segments += _carton(next(numbers), pallet_number, carton, lines)
    for carton in notice.loose_cartons:
        segments += _carton(next(numbers), CONSIGNMENT, carton, lines)
    return segments


def _package(number: str, parent: str, package_type: str, sscc: str) -> Segments:
    return [
        ("CPS", [number, parent]),
        ("PAC", ["1", ("", BARCODED_GS1_128), package_type]),
        ("PCI", [MARKED_WITH_SSCC]),
        ("GIN", [SSCC, sscc]),
    ]


def _carton(number: str, parent: str, carton: Carton, lines: dict[tuple[str, str], ShipmentLine]) -> Segments:
    segments = _package(number, parent, CARTON, carton.sscc)
    for item in carton.items:
        line = lines.get((item.po_number, item.line_id))
        if line is None:
            raise ShipNoticeDocumentError(
                f"carton {carton.sscc} holds PO {item.po_number} line {item.line_id}, which the notice does not list"
            )
        segments += _item(item, line)
    return segments


def _item(item: PackedItem, line: ShipmentLine) -> Segments:
    """One PO line's share of a carton: identifiers as Amazon sent them, quantity in the PO's unit, PO, lot, expiry."""
    segments = item_identification(line.line_id, line.identifiers)
    quantity = item.eaches / line.unit_size
    segments += [
        ("QTY", [(DESPATCH_QUANTITY, quantity_text(quantity), unit_code(line, EDIFACT))]),
        ("RFF", [(ORDER_NUMBER, item.po_number)]),
    ]
    if line.lot_number or line.expiry_date:
        segments.append(("PCI", [LOT_AND_EXPIRY]))
        if line.expiry_date:
            segments.append(("DTM", [(EXPIRY_DATE, ccyymmdd(line.expiry_date), CCYYMMDD)]))
        if line.lot_number:
            segments.append(("GIN", [LOT_NUMBER, line.lot_number]))
    return segments


def item_identification(line_number: str, identifiers: Sequence[ProductIdentifier]) -> Segments:
    """LIN with the item number Amazon puts there (a GTIN type, when it comes first) and PIA 5 for the rest.

    The ORDRSP's LIN says the same without its action code; the INVOIC's LIN is written by this function too.
    """
    in_lin, in_pia = lin_and_pia_items(identifiers)
    segments: Segments = [("LIN", [line_number, "", (in_lin.value, in_lin.qualifier) if in_lin else None])]
    segments += [("PIA", [PRODUCT_IDENTIFICATION, *items]) for items in _in_fives(in_pia)]
    return segments


def _in_fives(identifiers: list[ProductIdentifier]) -> Iterator[list[tuple[str, str]]]:
    for start in range(0, len(identifiers), PIA_ITEMS):
        yield [(item.value, item.qualifier) for item in identifiers[start : start + PIA_ITEMS]]
