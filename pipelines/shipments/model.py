"""What we tell Amazon about one despatch (the ASN), independent of the syntax it travels in.

The X12 856, the EDIFACT DESADV and the SP-API shipment confirmation are three renderings of this one model,
and Amazon's pre-transmission rules (`pipelines.shipments.rules`) are checked on it, once, whatever the vendor
code's channel. One Sage despatch is one ship notice: one truck, one fulfilment centre, one vendor code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from pipelines.amazon.documents import ProductIdentifier

PREPAID = "prepaid"  # we book and pay the carrier (API: deliveryWindow POs)
COLLECT = "collect"  # Amazon books the carrier and gives an Amazon Reference Number (API: shipWindow POs)
FREIGHT_TERMS = (PREPAID, COLLECT)

# Amazon's shipment structures (API `shipmentStructure`), S shipment, O order, T tare (pallet), P pack (carton),
# I item. Cartons of one item are "standard cases"; cartons mixing items are "assortment cases".
LOOSE_STANDARD_CASE = "LooseStandardCase"  # S-O-I-P
PALLETIZED_STANDARD_CASE = "PalletizedStandardCase"  # S-O-T-I-P
LOOSE_ASSORTMENT_CASE = "LooseAssortmentCase"  # S-O-P-I
PALLETIZED_ASSORTMENT_CASE = "PalletizedAssortmentCase"  # S-O-T-P-I
PALLET_OF_ITEMS = "PalletOfItems"  # S-O-T-I
MASTER_PALLET = "MasterPallet"  # S-T-O-I
MASTER_CASE = "MasterCase"  # S-P-O-I
HIERARCHIES = {
    LOOSE_STANDARD_CASE: "S-O-I-P",
    PALLETIZED_STANDARD_CASE: "S-O-T-I-P",
    LOOSE_ASSORTMENT_CASE: "S-O-P-I",
    PALLETIZED_ASSORTMENT_CASE: "S-O-T-P-I",
    PALLET_OF_ITEMS: "S-O-T-I",
    MASTER_PALLET: "S-T-O-I",
    MASTER_CASE: "S-P-O-I",
}


@dataclass(frozen=True)
class ShipmentLine:
    """One PO line as shipped on this despatch (all its cartons together)."""

    po_number: str
    line_id: str  # the PO's own line id (PO101 / LIN 1082 / itemSequenceNumber), echoed back
    identifiers: tuple[ProductIdentifier, ...]  # exactly as Amazon sent them, in the same order
    vendor_product_code: str  # our SKU: the Sage product code
    unit_of_measure: str  # as Amazon ordered: EA / CA (X12), PCE / CS (EDIFACT), Eaches / Cases (API)
    unit_size: Decimal  # eaches per case; 1 when ordered in eaches
    shipped_eaches: Decimal  # base units that left the warehouse (Sage's despatch, converted)
    acknowledged_eaches: Decimal  # what we acknowledged (accepted + backordered), in eaches
    unit_cost: Decimal  # the acknowledged cost per each
    lot_number: str | None = None
    expiry_date: date | None = None
    announced_before_eaches: Decimal = Decimal(0)  # shipped on earlier despatches whose notices went

    @property
    def shipped_quantity(self) -> Decimal:
        """In the unit Amazon ordered in: cases for a case-ordered line (may be fractional: a rule stops that)."""
        return self.shipped_eaches / self.unit_size


@dataclass(frozen=True)
class PackedItem:
    """Part of a line inside one carton."""

    line_id: str  # ShipmentLine.line_id (with po_number, unique within the notice)
    po_number: str
    eaches: Decimal


@dataclass(frozen=True)
class Carton:
    sscc: str  # 18 digits, GS1 mod-10 check digit; printed on the carton's GS1-128 label with AI (00)
    items: tuple[PackedItem, ...]

    @property
    def is_standard_case(self) -> bool:
        return len({(item.po_number, item.line_id) for item in self.items}) == 1


@dataclass(frozen=True)
class Pallet:
    sscc: str
    cartons: tuple[Carton, ...]


@dataclass(frozen=True)
class ShipmentNotice:
    shipment_id: str  # BSN02 / BGM 1004 / shipmentIdentifier: unique for 365 days (the Sage despatch number)
    vendor_code: str
    marketplace: str  # UK, DE, US ...: decides the carrier rules
    standard: str  # X12, EDIFACT or API
    despatch_number: str  # Sage's despatch note, for people
    sales_order_number: str  # Sage's order
    ship_from_id: str  # our party id as Amazon knows it (the id its POs are addressed to; the vendor code on API)
    ship_from_name: str
    ship_to_qualifier: str | None  # the FC as the PO named it (X12 N103 / EDIFACT 3055 / API)
    ship_to_id: str | None
    shipped_at: datetime  # timezone-aware: when the goods left (Sage's despatch date)
    estimated_delivery_at: datetime | None  # the appointment or expected arrival, when known
    freight_terms: str  # PREPAID or COLLECT
    carrier_name: str | None  # Sage's courier name
    carrier_scac: str | None  # Standard Carrier Alpha Code (North America), from the despatch note
    tracking_number: str | None  # PRO / consignment number: Sage's consignment number
    bill_of_lading: str | None  # from the despatch note
    amazon_reference_number: str | None  # ARN, for collect freight: from the despatch note
    lines: tuple[ShipmentLine, ...]
    pallets: tuple[Pallet, ...]  # each with its cartons
    loose_cartons: tuple[Carton, ...]  # cartons not on a pallet
    gross_weight_kg: Decimal | None = None
    prepared_at: datetime | None = None  # when the notice was built (timezone-aware)

    def __post_init__(self) -> None:
        if self.shipped_at.tzinfo is None:
            raise ValueError("shipped_at must be timezone-aware")
        if self.freight_terms not in FREIGHT_TERMS:
            raise ValueError(f"unknown freight terms {self.freight_terms!r}")

    @property
    def cartons(self) -> tuple[Carton, ...]:
        """Every carton, palletised first, in label order."""
        return tuple(carton for pallet in self.pallets for carton in pallet.cartons) + self.loose_cartons

    @property
    def po_numbers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(line.po_number for line in self.lines))

    @property
    def structure(self) -> str:
        """Amazon's shipmentStructure for how the cartons are packed (see HIERARCHIES)."""
        standard = all(carton.is_standard_case for carton in self.cartons)
        if self.pallets:
            return PALLETIZED_STANDARD_CASE if standard else PALLETIZED_ASSORTMENT_CASE
        return LOOSE_STANDARD_CASE if standard else LOOSE_ASSORTMENT_CASE

    def line(self, po_number: str, line_id: str) -> ShipmentLine:
        return next(line for line in self.lines if (line.po_number, line.line_id) == (po_number, line_id))
