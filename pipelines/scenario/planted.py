"""Planted purchase-order situations: one of each thing order-to-cash must handle on a PO line, and the outcome
it must reach, so a test can hold the flow to them.

Sage gets five products of the "Promotions & launches" group that the normal run of trade never orders (no
demand, so neither the history nor the random new POs touch their stock):

    PL-0001, PL-0002  one product set up twice under one barcode (the old code was never retired), both stocked
    PL-0003           a new launch: held in the warehouse, awaiting its first delivery (no stock)
    PL-0004           a line Amazon knows by its ASIN only; the seed `sku_cross_reference.csv` maps the ASIN
    PL-0005           a line with exactly five cases in stock

On the last day before as_of, after the day's other POs, Amazon sends four POs that use them and a few
catalogue products (every line's expected outcome is in the manifest's `expected_po_lines`, every planted PO's
label and number in its `planted_pos`):

    A (EDIFACT)  unknown EAN · ambiguous EAN · 2.5 cases · 10% under our price · discontinued product ·
                 ASIN only · an ordinary line
    B (X12, no backorders)   the no-stock launch (rejected, temporarily unavailable) · an ordinary line
    C (X12, backorders)      PO4 case size Sage has no unit for · an ordinary line with a correct PO4 ·
                             the no-stock launch (backordered) · eight cases of the five-case line (five
                             accepted, three backordered)
    D (EDIFACT)  unknown EAN · discontinued product: every line rejected, so no Sage order

Then eight "despatch POs", E to L, each of two ordinary lines of stocked catalogue products Amazon orders in
cases (2 to 4 cases a line), accepted in full: E, H and K EDIFACT, F, G, I, J and L X12. Order-to-cash takes
them like any PO; what makes them planted is what the warehouse does with them afterwards
(`pipelines.scenario.warehouse`): each despatch and invoice of G to L breaks one of Amazon's ship notice or
invoice rules. J's first line is amended up a case before it ships, so a spare case of it is stocked.

Every line whose outcome depends on the PO's backorder flag is on an X12 PO: only X12 carries the flag (CSH);
EDIFACT ORDERS has no place for it, so an EDIFACT PO's outcome must not depend on how a missing flag is read.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass, replace
from decimal import Decimal

from pipelines.orders.acknowledgement import INVALID_PRODUCT_IDENTIFIER, OBSOLETE_PRODUCT, TEMPORARILY_UNAVAILABLE
from pipelines.scenario.amazon_documents import PoLine
from pipelines.scenario.catalogue import (
    AMAZON_SHARES_OF_RRP,
    CASES,
    LAUNCHES_GROUP,
    MAIN,
    STANDARD_VAT,
    TRADE_SHARE_OF_RRP,
    VAT_DIVISOR,
    Product,
)
from pipelines.scenario.formats import money, to_money
from pipelines.scenario.identifiers import ean13
from pipelines.scenario.manifest import Anomaly
from pipelines.scenario.profile import VendorProfile
from pipelines.scenario.sage_side import EACH, StockPolicy

# The ASIN Amazon orders PL-0004 by. Sage has no ASIN field: dbt_project/seeds/sku_cross_reference.csv maps it.
CROSS_REFERENCED_ASIN = "B0HF000004"
# Item references of our GS1 prefix that the planted products use, far above the catalogue's (101 onwards).
SHARED_EAN_REFERENCE = 90001
UNKNOWN_EAN_REFERENCES = (90009, 90008)  # valid EANs under our prefix that no Sage product carries
PRICE_UNDER_SHARE = Decimal("0.90")  # the PO's price on the price line: 10% under the Amazon price band
# Planted POs are prepared one a minute from 23:43, after every other PO of their day: the twelve land (five
# minutes after preparation) by 23:59, still on their day.
PLANTED_TIME_MINUTES = 23 * 60 + 43
DESPATCH_LABELS = "EFGHIJKL"
EDIFACT_DESPATCH_POS = "EHK"  # the others are X12
AMENDED_UP_PO = "J"  # its first line is amended up one case before despatch: one spare case is stocked

PO_LINE_UNKNOWN_PRODUCT = "po_line_unknown_product"
PO_LINE_AMBIGUOUS_PRODUCT = "po_line_ambiguous_product"
PO_LINE_UNIT_MISMATCH = "po_line_unit_mismatch"
PO_LINE_FRACTIONAL_QUANTITY = "po_line_fractional_quantity"
PO_LINE_DISCONTINUED_PRODUCT = "po_line_discontinued_product"
PO_LINE_PRICE_OUTSIDE_TOLERANCE = "po_line_price_outside_tolerance"
PO_LINE_BACKORDERED = "po_line_backordered"
PO_LINE_OUT_OF_STOCK = "po_line_out_of_stock"
PO_CHANGED_AFTER_ORDER = "po_changed_after_order"


@dataclass(frozen=True)
class _Item:
    number: int
    name: str
    ean_reference: int
    asin: str
    case_pack: int
    rrp: str
    weight_kg: str
    stock_cases: int


_ITEMS = (
    _Item(1, "Enamel Utensil Pot, Sage Green", SHARED_EAN_REFERENCE, "B0HF000001", 6, "14.99", "0.600", 10),
    _Item(2, "Enamel Utensil Pot, Sage Green (old code)", SHARED_EAN_REFERENCE, "B0HF000002", 6, "14.99", "0.600", 4),
    _Item(3, "Stoneware Pie Dish 26cm, Cream", 90003, "B0HF000003", 6, "18.99", "1.100", 0),
    _Item(4, "Linen Bread Bag, Natural", 90004, CROSS_REFERENCED_ASIN, 12, "9.99", "0.150", 12),
    _Item(5, "Copper Measuring Cups Set of 4", 90005, "B0HF000005", 6, "16.49", "0.300", 5),
)
DUPLICATE, OLD_CODE, NO_STOCK, ASIN_ONLY, SMALL_STOCK = (item.number for item in _ITEMS)


def planted_sku(profile: VendorProfile, number: int) -> str:
    return f"{profile.sku_prefix}-{LAUNCHES_GROUP.code}-{number:04d}"


def is_planted(product: Product) -> bool:
    return product.group == LAUNCHES_GROUP.code


def planted_products(profile: VendorProfile, catalogue: list[Product]) -> list[Product]:
    """The planted products, fixed whatever the seed; refuses a catalogue that drew one of their identifiers."""
    products = [_product(profile, item) for item in _ITEMS]
    ours = {p.ean for p in products} | {p.asin for p in products} | set(unknown_eans(profile))
    clashes = sorted(ours & ({p.ean for p in catalogue} | {p.asin for p in catalogue}))
    if clashes:
        raise ValueError(f"the catalogue drew identifiers the planted products use: {', '.join(clashes)}")
    return products


def unknown_eans(profile: VendorProfile) -> list[str]:
    return [ean13(profile.gs1_company_prefix, reference) for reference in UNKNOWN_EAN_REFERENCES]


def _product(profile: VendorProfile, item: _Item) -> Product:
    rrp = Decimal(item.rrp)
    ex_vat = rrp / VAT_DIVISOR
    return Product(
        sku=planted_sku(profile, item.number),
        name=item.name,
        description=f"{profile.brand} {item.name}",
        group=LAUNCHES_GROUP.code,
        ean=ean13(profile.gs1_company_prefix, item.ean_reference),
        asin=item.asin,
        case_pack=item.case_pack,
        amazon_unit=CASES,
        rrp=rrp,
        amazon_cost=to_money(ex_vat * AMAZON_SHARES_OF_RRP[1]),
        trade_price=to_money(ex_vat * TRADE_SHARE_OF_RRP),
        vat=STANDARD_VAT,
        active=True,
        warehouse=MAIN,
        weight_kg=item.weight_kg,
        demand_weight=0.0,
    )


def planted_policies(profile: VendorProfile) -> dict[str, StockPolicy]:
    """Opening stock in whole cases and no reordering: nothing but the planted POs ever asks for them."""
    return {
        planted_sku(profile, item.number): StockPolicy(item.stock_cases * item.case_pack, 0, item.case_pack)
        for item in _ITEMS
    }


# --- the planted POs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    """What order-to-cash must make of one PO line; quantities are in the PO's unit (cases or eaches)."""

    sage_product_code: str | None  # None when the identifiers resolve to no product, or to several
    selling_unit: str | None  # the Sage unit the order line sells in; None when there is none to convert to
    accepted: Decimal = Decimal(0)
    backordered: Decimal = Decimal(0)
    rejected: Decimal = Decimal(0)
    rejection_reason: str | None = None  # Amazon's reason, when some is rejected
    exception: str | None = None  # the exception kind the line raises
    detail: str = ""
    eaches_taken: int = 0  # stock the line needs, in eaches: the accepted quantity and any spare case


@dataclass(frozen=True)
class PlantedLine:
    line: PoLine
    expected: Expectation


@dataclass(frozen=True)
class PlantedPo:
    label: str  # A to L: how the module docstring, the anomaly details and the warehouse name it
    vendor_code: str
    backorder_allowed: bool  # what X12 CSH says; an EDIFACT PO carries no flag, and nothing here depends on it
    lines: tuple[PlantedLine, ...]

    @property
    def gets_sage_order(self) -> bool:
        return any(line.expected.accepted or line.expected.backordered for line in self.lines)


def plant_purchase_orders(
    rng: random.Random, profile: VendorProfile, catalogue: list[Product], planted: list[Product]
) -> tuple[PlantedPo, ...]:
    """The twelve planted POs. Catalogue products are drawn from `rng`, each used once (but by the despatch POs of
    a catalogue too small for them all), the planted ones by role."""
    lines = _LineMaker(rng, catalogue, dict(zip((item.number for item in _ITEMS), planted, strict=True)))
    edifact, x12 = profile.vendor_code, profile.x12_vendor_code
    unknown_a, unknown_d = unknown_eans(profile)
    discontinued = lines.discontinued()
    return (
        PlantedPo(
            "A",
            edifact,
            False,
            (
                lines.unknown(1, unknown_a),
                lines.ambiguous(2),
                lines.fractional(3),
                lines.under_price(4),
                lines.obsolete(5, discontinued),
                lines.asin_only(6),
                lines.ordinary(7),
            ),
        ),
        PlantedPo("B", x12, False, (lines.no_stock(1, Decimal(2), backorder_allowed=False), lines.ordinary(2))),
        PlantedPo(
            "C",
            x12,
            True,
            (
                lines.wrong_case_size(1),
                lines.ordinary(2, state_case_size=True),
                lines.no_stock(3, Decimal(4), backorder_allowed=True),
                lines.short(4),
            ),
        ),
        PlantedPo("D", edifact, False, (lines.unknown(1, unknown_d), lines.obsolete(2, discontinued))),
        *(_despatch_po(lines, label, edifact if label in EDIFACT_DESPATCH_POS else x12) for label in DESPATCH_LABELS),
    )


def _despatch_po(lines: _LineMaker, label: str, vendor_code: str) -> PlantedPo:
    """Two ordinary lines in cases, 2 to 4 cases each (so a warehouse can ship all but a case, or one and a half
    cases), of two products. A small catalogue may run out of products no planted line uses: they are shared."""
    first = lines.ordinary(1, cases_at_least=2, spare_cases=int(label == AMENDED_UP_PO), share_unless=())
    second = lines.ordinary(2, cases_at_least=2, share_unless=(first.expected.sage_product_code,))
    return PlantedPo(label, vendor_code, False, (first, second))


class _LineMaker:
    """Makes the planted lines, each with its expected outcome."""

    def __init__(self, rng: random.Random, catalogue: list[Product], planted: dict[int, Product]) -> None:
        self.rng = rng
        self.planted = planted
        self.active = sorted((p for p in catalogue if p.active and not is_planted(p)), key=lambda p: p.sku)
        self.inactive = sorted((p for p in catalogue if not p.active), key=lambda p: p.sku)
        self.used: set[str] = set()

    # choosing products ----------------------------------------------------------------------------------
    def _pick(self, cased: bool = False, *, share_unless: Collection[str] | None = None) -> Product:
        """A catalogue product no planted line uses yet; in cases when asked. With `share_unless`, when none is
        left, one a planted line uses already, other than those named."""
        fits = [p for p in self.active if p.amazon_unit == CASES or not cased]
        pool = [p for p in fits if p.sku not in self.used]
        if not pool and share_unless is not None:
            pool = [p for p in fits if p.sku not in share_unless]
        if not pool:
            raise ValueError("the catalogue has too few active products (in cases) for the planted POs")
        product = self.rng.choice(pool)
        self.used.add(product.sku)
        return product

    def discontinued(self) -> Product:
        return self.rng.choice(self.inactive)

    def _quantity(self, product: Product, cases_at_least: int = 1) -> Decimal:
        return Decimal(self.rng.randint(cases_at_least, 4) if product.amazon_unit == CASES else self.rng.randint(3, 12))

    # lines ------------------------------------------------------------------------------------------------
    def unknown(self, line_no: int, ean: str) -> PlantedLine:
        line = PoLine(line_no, ean, None, None, Decimal(2), True, Decimal("8.75"))
        return PlantedLine(
            line,
            Expectation(
                None,
                None,
                rejected=line.quantity,
                rejection_reason=INVALID_PRODUCT_IDENTIFIER,
                exception=PO_LINE_UNKNOWN_PRODUCT,
                detail=f"EAN {ean} is no Sage product's barcode",
            ),
        )

    def ambiguous(self, line_no: int) -> PlantedLine:
        product, old_code = self.planted[DUPLICATE], self.planted[OLD_CODE]
        line = PoLine(line_no, product.ean, None, None, Decimal(3), True, product.amazon_cost)
        return PlantedLine(
            line,
            Expectation(
                None,
                None,
                rejected=line.quantity,
                rejection_reason=INVALID_PRODUCT_IDENTIFIER,
                exception=PO_LINE_AMBIGUOUS_PRODUCT,
                detail=f"EAN {product.ean} is the barcode of both {product.sku} and {old_code.sku} (an old code "
                "never retired)",
            ),
        )

    def fractional(self, line_no: int) -> PlantedLine:
        product = self._pick(cased=True)
        line = PoLine(line_no, product.ean, product.sku, None, Decimal("2.5"), True, product.amazon_cost)
        return PlantedLine(
            line,
            Expectation(
                product.sku,
                product.case_unit,
                rejected=line.quantity,
                rejection_reason=INVALID_PRODUCT_IDENTIFIER,
                exception=PO_LINE_FRACTIONAL_QUANTITY,
                detail=f"2.5 cases of {product.sku}: not a whole number of its {product.case_unit}",
            ),
        )

    def under_price(self, line_no: int) -> PlantedLine:
        product = self._pick()
        price = to_money(product.amazon_cost * PRICE_UNDER_SHARE)
        line = PoLine(line_no, product.ean, None, None, self._quantity(product), _in_cases(product), price)
        return PlantedLine(
            line,
            self._accepted(
                product,
                line,
                exception=PO_LINE_PRICE_OUTSIDE_TOLERANCE,
                detail=f"{product.sku} at {money(price)} an each, 10% under the Amazon price band's "
                f"{money(product.amazon_cost)}: accepted at the PO's price",
            ),
        )

    def obsolete(self, line_no: int, product: Product) -> PlantedLine:
        line = PoLine(
            line_no, product.ean, None, None, self._quantity(product), _in_cases(product), product.amazon_cost
        )
        return PlantedLine(
            line,
            Expectation(
                product.sku,
                _selling_unit(product),
                rejected=line.quantity,
                rejection_reason=OBSOLETE_PRODUCT,
                exception=PO_LINE_DISCONTINUED_PRODUCT,
                detail=f"{product.sku} is discontinued: inactive in Sage",
            ),
        )

    def asin_only(self, line_no: int) -> PlantedLine:
        product = self.planted[ASIN_ONLY]
        line = PoLine(line_no, None, None, product.asin, Decimal(3), True, product.amazon_cost)
        return PlantedLine(line, self._accepted(product, line))

    def ordinary(
        self,
        line_no: int,
        *,
        state_case_size: bool = False,
        cases_at_least: int | None = None,
        spare_cases: int = 0,
        share_unless: Collection[str] | None = None,
    ) -> PlantedLine:
        """A catalogue product accepted in full. With `cases_at_least`, one Amazon orders in cases, that many or
        more; `spare_cases` more of them are stocked for a warehouse that amends the line up later. For
        `share_unless` see `_pick`."""
        product = self._pick(cased=state_case_size or cases_at_least is not None, share_unless=share_unless)
        case_size = product.case_pack if state_case_size else None
        line = PoLine(
            line_no,
            product.ean,
            product.sku,
            None,
            self._quantity(product, cases_at_least or 1),
            _in_cases(product),
            product.amazon_cost,
            case_size,
        )
        expected = self._accepted(product, line)
        stocked = expected.eaches_taken + spare_cases * product.case_pack
        return PlantedLine(line, replace(expected, eaches_taken=stocked))

    def no_stock(self, line_no: int, quantity: Decimal, *, backorder_allowed: bool) -> PlantedLine:
        product = self.planted[NO_STOCK]
        line = PoLine(line_no, product.ean, product.sku, None, quantity, True, product.amazon_cost)
        if backorder_allowed:
            expected = Expectation(
                product.sku,
                product.case_unit,
                backordered=line.quantity,
                exception=PO_LINE_BACKORDERED,
                detail=f"{product.sku} has no stock (a launch awaiting its first delivery): backordered in full",
            )
        else:
            expected = Expectation(
                product.sku,
                product.case_unit,
                rejected=line.quantity,
                rejection_reason=TEMPORARILY_UNAVAILABLE,
                exception=PO_LINE_OUT_OF_STOCK,
                detail=f"{product.sku} has no stock and the PO allows no backorders",
            )
        return PlantedLine(line, expected)

    def wrong_case_size(self, line_no: int) -> PlantedLine:
        product = self._pick(cased=True)
        stated = next(size for size in (24, 12, 6) if size != product.case_pack)
        line = PoLine(line_no, product.ean, None, None, Decimal(2), True, product.amazon_cost, stated)
        return PlantedLine(
            line,
            Expectation(
                product.sku,
                None,
                rejected=line.quantity,
                rejection_reason=INVALID_PRODUCT_IDENTIFIER,
                exception=PO_LINE_UNIT_MISMATCH,
                detail=f"PO4 says cases of {stated}; {product.sku} has no Sage unit of {stated} (its case is "
                f"{product.case_unit})",
            ),
        )

    def short(self, line_no: int) -> PlantedLine:
        product = self.planted[SMALL_STOCK]
        in_stock = _ITEMS[SMALL_STOCK - 1].stock_cases
        ordered = in_stock + 3
        line = PoLine(line_no, product.ean, product.sku, None, Decimal(ordered), True, product.amazon_cost)
        return PlantedLine(
            line,
            Expectation(
                product.sku,
                product.case_unit,
                accepted=Decimal(in_stock),
                backordered=Decimal(ordered - in_stock),
                exception=PO_LINE_BACKORDERED,
                detail=f"{ordered} cases of {product.sku} against {in_stock} in stock: {in_stock} accepted, "
                f"{ordered - in_stock} backordered",
                eaches_taken=in_stock * product.case_pack,
            ),
        )

    @staticmethod
    def _accepted(product: Product, line: PoLine, *, exception: str | None = None, detail: str = "") -> Expectation:
        per_unit = product.case_pack if line.in_cases else 1
        return Expectation(
            product.sku,
            _selling_unit(product),
            accepted=line.quantity,
            exception=exception,
            detail=detail,
            eaches_taken=int(line.quantity) * per_unit,
        )


def _in_cases(product: Product) -> bool:
    return product.amazon_unit == CASES


def _selling_unit(product: Product) -> str:
    return product.case_unit if _in_cases(product) else EACH


def _decimal_text(value: Decimal) -> str:
    return f"{value.normalize():f}"


def expected_lines(po_number: str, planted: PlantedPo) -> list[dict[str, str | None]]:
    """The manifest's `expected_po_lines` entries of one planted PO."""
    return [
        {
            "po_number": po_number,
            "line_id": str(line.line.line_no),
            "sage_product_code": line.expected.sage_product_code,
            "selling_unit": line.expected.selling_unit,
            "accepted_quantity": _decimal_text(line.expected.accepted),
            "backordered_quantity": _decimal_text(line.expected.backordered),
            "rejected_quantity": _decimal_text(line.expected.rejected),
            "rejection_reason": line.expected.rejection_reason,
            "unit_cost": money(line.line.price_per_each),
        }
        for line in planted.lines
    ]


def line_anomalies(po_number: str, planted: PlantedPo) -> list[Anomaly]:
    """The exceptions the planted PO's lines raise, referenced "<po_number>#<line_id>"."""
    return [
        Anomaly(
            line.expected.exception, f"{po_number}#{line.line.line_no}", f"PO {planted.label}: {line.expected.detail}"
        )
        for line in planted.lines
        if line.expected.exception is not None
    ]
