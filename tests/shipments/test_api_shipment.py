"""A ship notice as the SP-API `submitShipmentConfirmations` JSON: byte-exact against golden files, valid against
Amazon's schema, refused with the JSON path when it is not, and never a rounded quantity.

After a deliberate change to the rendering, regenerate the golden files with
``AVC2SAGE_UPDATE_GOLDEN=1 pytest tests/shipments/test_api_shipment.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.amazon.documents import ProductIdentifier
from pipelines.scenario.identifiers import gs1_check_digit
from pipelines.shipments.api import (
    ShipmentConfirmationError,
    ShipmentConfirmationSchemaError,
    render_api_shipment_confirmation,
    validate_api_shipment_confirmation,
)
from pipelines.shipments.model import (
    COLLECT,
    PREPAID,
    Carton,
    PackedItem,
    Pallet,
    ShipmentLine,
    ShipmentNotice,
)

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("AVC2SAGE_UPDATE_GOLDEN") == "1"
D = Decimal
PO = "4KT9ZQ2M"
SECOND_PO = "7QW3XR8N"


def sscc(serial: int) -> str:
    body = f"0506012345{serial:07d}"
    return f"{body}{gs1_check_digit(body)}"


def line(
    line_id: str,
    unit: str,
    unit_size: int,
    eaches: int | str,
    *identifiers: tuple[str, str],
    po_number: str = PO,
    lot_number: str | None = None,
    expiry_date: date | None = None,
) -> ShipmentLine:
    return ShipmentLine(
        po_number=po_number,
        line_id=line_id,
        identifiers=tuple(ProductIdentifier(qualifier, value) for qualifier, value in identifiers),
        vendor_product_code=f"SKU-{line_id}",
        unit_of_measure=unit,
        unit_size=D(unit_size),
        shipped_eaches=D(eaches),
        acknowledged_eaches=D(eaches),
        unit_cost=D("4.25"),
        lot_number=lot_number,
        expiry_date=expiry_date,
    )


def carton(serial: int, *contents: tuple[str, int], po_number: str = PO) -> Carton:
    return Carton(sscc(serial), tuple(PackedItem(line_id, po_number, D(eaches)) for line_id, eaches in contents))


def mixed_carton(serial: int) -> Carton:
    """Half of line 2 of the first PO and half of line 3 of the second in one carton (an assortment case)."""
    return Carton(sscc(serial), (PackedItem("2", PO, D(5)), PackedItem("3", SECOND_PO, D(3))))


def notice(**changes: object) -> ShipmentNotice:
    """A parcel despatch from the UK: twelve eaches of one item, three cases of six of another, loose."""
    base = ShipmentNotice(
        shipment_id="DN-004512",
        vendor_code="HAFIN",
        marketplace="UK",
        standard="API",
        despatch_number="DN-004512",
        sales_order_number="SO-0009876",
        ship_from_id="HAFIN",
        ship_from_name="Hafin Ltd",
        ship_to_qualifier=None,
        ship_to_id="LTN1",
        shipped_at=datetime(2026, 3, 16, 14, 5, tzinfo=UTC),
        estimated_delivery_at=datetime(2026, 3, 18, 9, 0, tzinfo=UTC),
        freight_terms=PREPAID,
        carrier_name="DHL Parcel UK",
        carrier_scac=None,
        tracking_number="JD014600006281234567",
        bill_of_lading="DN-004512",
        amazon_reference_number=None,
        lines=(
            line("1", "Eaches", 1, 12, ("BP", "B00HAF0001"), ("VN", "HAF-001")),
            line("2", "Cases", 6, 18, ("VN", "HAF-002")),
        ),
        pallets=(),
        loose_cartons=(carton(1, ("1", 12)), carton(2, ("2", 6)), carton(3, ("2", 6)), carton(4, ("2", 6))),
        gross_weight_kg=D("23.40"),
        prepared_at=datetime(2026, 3, 16, 14, 20, tzinfo=UTC),
    )
    return replace(base, **changes)


LOOSE = notice()
# Collect freight on two pallets for two POs: a perishable line with lot and expiry, in cases of twelve on its own
# pallet, and a second pallet of cartons each mixing a line of either PO.
PERISHABLE = line(
    "1", "Cases", 12, 48, ("BP", "B00HAF0101"), ("VN", "HAF-101"), lot_number="L2603A", expiry_date=date(2026, 9, 30)
)
PALLETISED = notice(
    shipment_id="DN-004513",
    despatch_number="DN-004513",
    freight_terms=COLLECT,
    carrier_name="Palletways",
    carrier_scac="PLWY",
    tracking_number="PW77120045",
    bill_of_lading="BOL-004513",
    amazon_reference_number="ARN8123456789",
    estimated_delivery_at=None,
    lines=(
        PERISHABLE,
        line("2", "Eaches", 1, 10, ("VN", "HAF-102")),
        line("3", "Eaches", 1, 6, ("BP", "B00HAF0103"), po_number=SECOND_PO),
    ),
    pallets=(
        Pallet(sscc(101), (carton(11, ("1", 24)), carton(12, ("1", 24)))),
        Pallet(sscc(102), (mixed_carton(13), mixed_carton(14))),
    ),
    loose_cartons=(),
    gross_weight_kg=None,
)


def matches_golden(content: str, name: str) -> bool:
    golden = GOLDEN / name
    if UPDATE_GOLDEN:
        golden.write_text(content, encoding="utf-8")
    return content.encode("utf-8") == golden.read_bytes()


@pytest.mark.parametrize(
    ("shipment", "golden"),
    [
        pytest.param(LOOSE, "api_shipment_loose_cartons.json", id="loose-cartons"),
        pytest.param(PALLETISED, "api_shipment_palletised_lot_expiry.json", id="palletised"),
    ],
)
def test_rendering_matches_its_golden_file(shipment: ShipmentNotice, golden: str) -> None:
    assert matches_golden(render_api_shipment_confirmation(shipment), golden)


def golden_confirmation(name: str) -> dict:
    payload = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
    validate_api_shipment_confirmation(payload)
    (confirmation,) = payload["shipmentConfirmations"]
    return confirmation


def test_loose_cartons_go_as_small_parcel_counting_cartons() -> None:
    confirmation = golden_confirmation("api_shipment_loose_cartons.json")
    assert confirmation["shipmentType"] == "SmallParcel"
    assert confirmation["shipmentStructure"] == "LooseStandardCase"
    assert confirmation["transportationDetails"] == {
        "carrierShipmentReferenceNumber": "JD014600006281234567",
        "transportationMode": "Road",
        "billOfLadingNumber": "DN-004512",
    }
    assert "amazonReferenceNumber" not in confirmation
    assert confirmation["shipmentConfirmationDate"] == "2026-03-16T14:20:00Z"
    assert confirmation["shippedDate"] == "2026-03-16T14:05:00Z"
    assert confirmation["estimatedDeliveryDate"] == "2026-03-18T09:00:00Z"
    assert (confirmation["sellingParty"], confirmation["shipToParty"]) == ({"partyId": "HAFIN"}, {"partyId": "LTN1"})
    assert confirmation["shipmentMeasurements"] == {
        "grossShipmentWeight": {"unitOfMeasure": "Kg", "value": "23.40"},
        "cartonCount": 4,
    }
    assert confirmation["shippedItems"] == [
        {
            "itemSequenceNumber": "1",
            "amazonProductIdentifier": "B00HAF0001",
            "vendorProductIdentifier": "HAF-001",
            "shippedQuantity": {"amount": 12, "unitOfMeasure": "Eaches", "unitSize": 1},
            "itemDetails": {"purchaseOrderNumber": PO},
        },
        {
            "itemSequenceNumber": "2",
            "vendorProductIdentifier": "HAF-002",
            "shippedQuantity": {"amount": 3, "unitOfMeasure": "Cases", "unitSize": 6},
            "itemDetails": {"purchaseOrderNumber": PO},
        },
    ]
    assert [carton["cartonSequenceNumber"] for carton in confirmation["cartons"]] == ["001", "002", "003", "004"]
    assert confirmation["cartons"][1] == {
        "cartonIdentifiers": [{"containerIdentificationType": "SSCC", "containerIdentificationNumber": sscc(2)}],
        "cartonSequenceNumber": "002",
        "items": [
            {
                "itemReference": "2",
                "shippedQuantity": {"amount": 1, "unitOfMeasure": "Cases", "unitSize": 6},
                "itemDetails": {"purchaseOrderNumber": PO},
            }
        ],
    }
    assert "pallets" not in confirmation


def test_pallets_go_as_less_than_truckload_and_point_to_their_cartons() -> None:
    confirmation = golden_confirmation("api_shipment_palletised_lot_expiry.json")
    assert confirmation["shipmentType"] == "LessThanTruckLoad"
    assert confirmation["shipmentStructure"] == "PalletizedAssortmentCase"
    assert confirmation["transportationDetails"]["carrierScac"] == "PLWY"
    assert confirmation["amazonReferenceNumber"] == "ARN8123456789"
    assert "estimatedDeliveryDate" not in confirmation
    assert confirmation["shipmentMeasurements"] == {"palletCount": 2}
    assert confirmation["shippedItems"][0]["shippedQuantity"] == {"amount": 4, "unitOfMeasure": "Cases", "unitSize": 12}
    lot_and_expiry = {
        "purchaseOrderNumber": PO,
        "lotNumber": "L2603A",
        "expiry": {"expiryDate": "2026-09-30T00:00:00Z"},
    }
    assert confirmation["shippedItems"][0]["itemDetails"] == lot_and_expiry
    assert confirmation["cartons"][0]["items"][0]["itemDetails"] == lot_and_expiry
    # Our SKU stands in when the order sent no vendor identifier.
    assert confirmation["shippedItems"][2]["vendorProductIdentifier"] == "SKU-3"
    assert confirmation["shippedItems"][2]["itemDetails"] == {"purchaseOrderNumber": SECOND_PO}
    assert confirmation["pallets"] == [
        {
            "palletIdentifiers": [{"containerIdentificationType": "SSCC", "containerIdentificationNumber": sscc(101)}],
            "cartonReferenceDetails": {"cartonCount": 2, "cartonReferenceNumbers": ["001", "002"]},
        },
        {
            "palletIdentifiers": [{"containerIdentificationType": "SSCC", "containerIdentificationNumber": sscc(102)}],
            "cartonReferenceDetails": {"cartonCount": 2, "cartonReferenceNumbers": ["003", "004"]},
        },
    ]


def test_a_fractional_shipped_case_count_is_refused_not_rounded() -> None:
    short = line("2", "Cases", 6, 15, ("VN", "HAF-002"))
    with pytest.raises(ShipmentConfirmationError) as raised:
        render_api_shipment_confirmation(replace(LOOSE, lines=(LOOSE.lines[0], short)))
    assert (
        str(raised.value) == f"line {PO}/2: shipped case count 2.5 is not whole; Amazon's API takes whole numbers only"
    )


def test_a_carton_holding_a_fractional_case_is_refused() -> None:
    cartons = (carton(1, ("1", 12)), carton(2, ("2", 9)), carton(3, ("2", 9)))
    with pytest.raises(ShipmentConfirmationError) as raised:
        render_api_shipment_confirmation(replace(LOOSE, loose_cartons=cartons))
    assert str(raised.value) == (
        f"carton {sscc(2)}, line {PO}/2: shipped case count 1.5 is not whole; Amazon's API takes whole numbers only"
    )


def test_two_pos_with_one_line_id_are_refused() -> None:
    clash = line("1", "Eaches", 1, 6, ("VN", "HAF-103"), po_number=SECOND_PO)
    with pytest.raises(ShipmentConfirmationError) as raised:
        render_api_shipment_confirmation(replace(PALLETISED, lines=(*PALLETISED.lines[:2], clash)))
    assert str(raised.value) == (
        f"shipment DN-004513: POs {PO} and {SECOND_PO} both have a line 1;"
        " the API's itemReference could not tell their cartons apart"
    )


def test_a_notice_without_a_preparation_time_is_refused() -> None:
    with pytest.raises(ShipmentConfirmationError) as raised:
        render_api_shipment_confirmation(replace(LOOSE, prepared_at=None))
    assert str(raised.value) == "shipment DN-004512 has no prepared_at: the API requires a shipmentConfirmationDate"


def test_a_notice_without_a_ship_to_is_refused_by_the_schema() -> None:
    with pytest.raises(ShipmentConfirmationSchemaError) as raised:
        render_api_shipment_confirmation(replace(LOOSE, ship_to_id=None))
    assert raised.value.path == "$.shipmentConfirmations[0].shipToParty"
    assert raised.value.problems == ("$.shipmentConfirmations[0].shipToParty: 'shipToParty' is a required property",)


@pytest.mark.parametrize(
    ("break_it", "path", "message"),
    [
        pytest.param(
            lambda confirmation: confirmation["cartons"][2]["items"][0].pop("shippedQuantity"),
            "$.shipmentConfirmations[0].cartons[2].items[0].shippedQuantity",
            "'shippedQuantity' is a required property",
            id="missing-quantity",
        ),
        pytest.param(
            lambda confirmation: confirmation["shippedItems"][1]["shippedQuantity"].update(amount=2.5),
            "$.shipmentConfirmations[0].shippedItems[1].shippedQuantity.amount",
            "2.5 is not of type 'integer'",
            id="fractional-amount",
        ),
        pytest.param(
            lambda confirmation: confirmation["shipmentMeasurements"]["grossShipmentWeight"].update(value="23,40"),
            "$.shipmentConfirmations[0].shipmentMeasurements.grossShipmentWeight.value",
            "'23,40' does not match",
            id="weight-not-a-decimal",
        ),
        pytest.param(
            lambda confirmation: confirmation.update(shippedDate="2026-03-16"),
            "$.shipmentConfirmations[0].shippedDate",
            "'2026-03-16' is not a 'date-time'",
            id="date-without-time",
        ),
        pytest.param(
            lambda confirmation: confirmation.update(shipmentType="Parcel"),
            "$.shipmentConfirmations[0].shipmentType",
            "'Parcel' is not one of ['TruckLoad', 'LessThanTruckLoad', 'SmallParcel']",
            id="unknown-shipment-type",
        ),
    ],
)
def test_a_broken_payload_is_refused_naming_its_path(break_it, path: str, message: str) -> None:
    payload = json.loads((GOLDEN / "api_shipment_loose_cartons.json").read_text(encoding="utf-8"))
    break_it(payload["shipmentConfirmations"][0])
    with pytest.raises(ShipmentConfirmationSchemaError) as raised:
        validate_api_shipment_confirmation(payload)
    assert raised.value.path == path
    assert str(raised.value).startswith(
        f"the shipment confirmation breaks Amazon's SubmitShipmentConfirmationsRequest schema at {path}: {message}"
    )
    assert isinstance(raised.value, ValueError)
