"""A ship notice as the SP-API `submitShipmentConfirmations` JSON (Vendor Shipments v1).

The rendering is a pure function of the notice, so a notice renders to the same bytes anywhere, and it never
returns JSON that has not passed Amazon's own SubmitShipmentConfirmationsRequest schema from the Vendor Shipments
model vendored in ``pipelines/amazon/spapi``. Amazon's pre-transmission rules (`pipelines.shipments.rules`) are
checked upstream on the notice; this module only refuses what the API cannot say (a fractional case count, a line
its cartons cannot point to) and never rounds.

The notice becomes one ShipmentConfirmation: the items once per PO line (`shippedItems`), then every carton with
its contents and every pallet with the cartons on it, each level pointing to the one below by sequence number.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pipelines.amazon.spapi_schema import VENDOR_FIELD, api_product_identifiers, request_validator, schema_problems
from pipelines.orders.documents import CASES, EACHES, UNIT_KINDS
from pipelines.shipments.model import Carton, PackedItem, Pallet, ShipmentLine, ShipmentNotice

MODEL_FILE = "vendorShipments.json"
REQUEST_DEFINITION = "SubmitShipmentConfirmationsRequest"
ORIGINAL = "Original"  # shipmentConfirmationType: replacements are a separate, rarer flow
# shipmentType: loose cartons go with a parcel carrier, one label each; palletised freight shares a truck
# with other shippers' pallets. A Sage despatch does not say whether it filled a truck, so TruckLoad is not used.
SMALL_PARCEL = "SmallParcel"
LESS_THAN_TRUCKLOAD = "LessThanTruckLoad"
ROAD = "Road"  # transportationMode: Sage despatches go by road
SSCC = "SSCC"  # containerIdentificationType: every carton and pallet label carries an SSCC
KILOGRAMS = "Kg"  # Weight.unitOfMeasure: Sage weighs in kilograms


class ShipmentConfirmationError(ValueError):
    """The notice cannot be said in Amazon's API as it stands: nothing was rendered."""


class ShipmentConfirmationSchemaError(ShipmentConfirmationError):
    """The JSON breaks Amazon's SubmitShipmentConfirmationsRequest schema; `path` names the first place it does."""

    def __init__(self, message: str, path: str, problems: Sequence[str]) -> None:
        super().__init__(message)
        self.path = path
        self.problems = tuple(problems)


def render_api_shipment_confirmation(notice: ShipmentNotice) -> str:
    """The `submitShipmentConfirmations` body for `notice` as indented JSON, held to Amazon's schema.

    Keys follow the order of Amazon's model; quantities are integers in the unit Amazon ordered in, weights
    Decimal strings, never floats. Dates are ISO 8601 in UTC; an expiry date is that day at 00:00Z. The notice
    must carry `prepared_at` (it becomes `shipmentConfirmationDate`). Raises `ShipmentConfirmationError` (or its
    `ShipmentConfirmationSchemaError`) when the JSON cannot be valid.
    """
    if notice.prepared_at is None:
        raise ShipmentConfirmationError(
            f"shipment {notice.shipment_id} has no prepared_at: the API requires a shipmentConfirmationDate"
        )
    lines = _lines_by_reference(notice)
    confirmation: dict[str, Any] = {
        "shipmentIdentifier": notice.shipment_id,
        "shipmentConfirmationType": ORIGINAL,
        "shipmentType": LESS_THAN_TRUCKLOAD if notice.pallets else SMALL_PARCEL,
        "shipmentStructure": notice.structure,
        "transportationDetails": _transportation_details(notice),
    }
    if notice.amazon_reference_number:
        confirmation["amazonReferenceNumber"] = notice.amazon_reference_number
    confirmation["shipmentConfirmationDate"] = iso_utc(notice.prepared_at, "prepared_at")
    confirmation["shippedDate"] = iso_utc(notice.shipped_at, "shipped_at")
    if notice.estimated_delivery_at is not None:
        confirmation["estimatedDeliveryDate"] = iso_utc(notice.estimated_delivery_at, "estimated_delivery_at")
    confirmation["sellingParty"] = {"partyId": notice.vendor_code}
    confirmation["shipFromParty"] = {"partyId": notice.ship_from_id}
    # Without a ship-to the schema names the missing party, which says more than a message of our own would.
    if notice.ship_to_id:
        confirmation["shipToParty"] = {"partyId": notice.ship_to_id}
    confirmation["shipmentMeasurements"] = _measurements(notice)
    confirmation["shippedItems"] = [_shipped_item(line) for line in notice.lines]
    if notice.cartons:
        confirmation["cartons"] = [
            _carton(carton, _carton_sequence_number(index), lines) for index, carton in enumerate(notice.cartons)
        ]
    if notice.pallets:
        confirmation["pallets"] = _pallets(notice.pallets)
    payload = {"shipmentConfirmations": [confirmation]}
    validate_api_shipment_confirmation(payload)
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def validate_api_shipment_confirmation(payload: dict[str, Any]) -> None:
    """Hold `payload` to SubmitShipmentConfirmationsRequest from Amazon's Vendor Shipments model.

    Raises `ShipmentConfirmationSchemaError` naming the JSON path of the first problem
    (``$.shipmentConfirmations[0].cartons[1].items[0].shippedQuantity.amount``); for a missing property the path
    ends in that property. `problems` lists them all.
    """
    problems = schema_problems(request_validator(MODEL_FILE, REQUEST_DEFINITION), payload)
    if problems:
        raise ShipmentConfirmationSchemaError(
            f"the shipment confirmation breaks Amazon's {REQUEST_DEFINITION} schema at {problems[0]}",
            problems[0].path,
            [str(problem) for problem in problems],
        )


def _lines_by_reference(notice: ShipmentNotice) -> dict[tuple[str, str], ShipmentLine]:
    """The notice's lines by (PO, line id), refusing two POs' lines with one id.

    A line's `itemSequenceNumber` is its PO line id, and a carton names its contents by that number alone
    (`itemReference`): two lines with one id could not be told apart in the cartons.
    """
    lines: dict[tuple[str, str], ShipmentLine] = {}
    po_by_line_id: dict[str, str] = {}
    for line in notice.lines:
        other_po = po_by_line_id.setdefault(line.line_id, line.po_number)
        if other_po != line.po_number:
            raise ShipmentConfirmationError(
                f"shipment {notice.shipment_id}: POs {other_po} and {line.po_number} both have a line"
                f" {line.line_id}; the API's itemReference could not tell their cartons apart"
            )
        lines[(line.po_number, line.line_id)] = line
    return lines


def _transportation_details(notice: ShipmentNotice) -> dict[str, str]:
    details = {}
    if notice.carrier_scac:
        details["carrierScac"] = notice.carrier_scac
    if notice.tracking_number:
        details["carrierShipmentReferenceNumber"] = notice.tracking_number
    details["transportationMode"] = ROAD
    if notice.bill_of_lading:
        details["billOfLadingNumber"] = notice.bill_of_lading
    return details


def _measurements(notice: ShipmentNotice) -> dict[str, Any]:
    """Weight when Sage has it, and one count: pallets for palletised freight, cartons otherwise (as Amazon asks)."""
    measurements: dict[str, Any] = {}
    if notice.gross_weight_kg is not None:
        measurements["grossShipmentWeight"] = {"unitOfMeasure": KILOGRAMS, "value": _decimal(notice.gross_weight_kg)}
    if notice.pallets:
        measurements["palletCount"] = len(notice.pallets)
    else:
        measurements["cartonCount"] = len(notice.loose_cartons)
    return measurements


def _shipped_item(line: ShipmentLine) -> dict[str, Any]:
    item: dict[str, Any] = {"itemSequenceNumber": line.line_id}
    identifiers = api_product_identifiers(line.identifiers)
    # Amazon wants the vendor's identifier as its order sent it; an order that sent none gets our SKU.
    identifiers.setdefault(VENDOR_FIELD, line.vendor_product_code)
    item.update(identifiers)
    item["shippedQuantity"] = quantity_text(line, line.shipped_eaches, f"line {line.po_number}/{line.line_id}")
    item["itemDetails"] = _item_details(line)
    return item


def _carton(carton: Carton, sequence_number: str, lines: dict[tuple[str, str], ShipmentLine]) -> dict[str, Any]:
    return {
        "cartonIdentifiers": [_sscc(carton.sscc)],
        "cartonSequenceNumber": sequence_number,
        "items": [_carton_item(carton, packed, lines) for packed in carton.items],
    }


def _carton_item(carton: Carton, packed: PackedItem, lines: dict[tuple[str, str], ShipmentLine]) -> dict[str, Any]:
    line = lines.get((packed.po_number, packed.line_id))
    if line is None:
        raise ShipmentConfirmationError(
            f"carton {carton.sscc} holds line {packed.po_number}/{packed.line_id}, which the notice does not ship"
        )
    where = f"carton {carton.sscc}, line {packed.po_number}/{packed.line_id}"
    return {
        "itemReference": line.line_id,
        "shippedQuantity": quantity_text(line, packed.eaches, where),
        "itemDetails": _item_details(line),
    }


def _pallets(pallets: Sequence[Pallet]) -> list[dict[str, Any]]:
    """Each pallet with the sequence numbers of its cartons, which come first in the notice's carton order."""
    rendered = []
    first_carton = 0
    for pallet in pallets:
        numbers = [_carton_sequence_number(first_carton + offset) for offset in range(len(pallet.cartons))]
        first_carton += len(pallet.cartons)
        rendered.append(
            {
                "palletIdentifiers": [_sscc(pallet.sscc)],
                "cartonReferenceDetails": {"cartonCount": len(numbers), "cartonReferenceNumbers": numbers},
            }
        )
    return rendered


def _item_details(line: ShipmentLine) -> dict[str, Any]:
    """The PO always (a notice may ship several), lot and expiry when Sage recorded them (perishables)."""
    details: dict[str, Any] = {"purchaseOrderNumber": line.po_number}
    if line.lot_number:
        details["lotNumber"] = line.lot_number
    if line.expiry_date is not None:
        details["expiry"] = {"expiryDate": _day_utc(line.expiry_date)}
    return details


def quantity_text(line: ShipmentLine, eaches: Decimal, where: str) -> dict[str, Any]:
    """`eaches` in the unit Amazon ordered the line in; unitSize is the case size, 1 for eaches (Amazon's rule)."""
    unit = UNIT_KINDS.get(line.unit_of_measure)
    if unit is None:
        raise ShipmentConfirmationError(
            f"{where}: unit {line.unit_of_measure!r} is not one we can say in the API ({', '.join(sorted(UNIT_KINDS))})"
        )
    if unit == EACHES:
        return {"amount": _whole(eaches, f"{where}: shipped eaches"), "unitOfMeasure": EACHES, "unitSize": 1}
    return {
        "amount": _whole(eaches / line.unit_size, f"{where}: shipped case count"),
        "unitOfMeasure": CASES,
        "unitSize": _whole(line.unit_size, f"{where}: case size"),
    }


def _whole(value: Decimal, what: str) -> int:
    if value != value.to_integral_value():
        raise ShipmentConfirmationError(f"{what} {value} is not whole; Amazon's API takes whole numbers only")
    return int(value)


def _sscc(sscc: str) -> dict[str, str]:
    return {"containerIdentificationType": SSCC, "containerIdentificationNumber": sscc}


def _carton_sequence_number(index: int) -> str:
    """001 for the first carton, as Amazon's model numbers them."""
    return f"{index + 1:03d}"


def _decimal(value: Decimal) -> str:
    """A Decimal string in plain notation at the scale it was given (never an exponent)."""
    return format(value, "f")


def iso_utc(moment: datetime, what: str) -> str:
    if moment.tzinfo is None:
        raise ShipmentConfirmationError(f"{what} must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day_utc(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"
