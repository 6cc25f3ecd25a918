"""The vendor's product range: kitchen and homeware lines, each with its barcode, ASIN, case pack and prices.

The catalogue knows nothing of Sage or Amazon documents; both sides of the scenario build on it. Books
(the brand's cookbooks) are zero-rated for UK VAT; everything else is standard-rated.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from pipelines.scenario.formats import money, to_money
from pipelines.scenario.identifiers import UniqueDraws, ean13, random_asin
from pipelines.scenario.profile import VendorProfile

STANDARD_VAT = "standard"
ZERO_VAT = "zero"
CASES = "Cases"  # Amazon's unitOfMeasure names for how a product is ordered
EACHES = "Eaches"
MAIN = "Main"
OVERFLOW = "Overflow"
VAT_DIVISOR = Decimal("1.2")
TRADE_SHARE_OF_RRP = Decimal("0.65")
# What Amazon pays as a share of the ex-VAT RRP: a vendor's usual range of negotiated margins.
AMAZON_SHARES_OF_RRP = (Decimal("0.55"), Decimal("0.57"), Decimal("0.60"), Decimal("0.62"))


@dataclass(frozen=True)
class ItemType:
    name: str
    rrp_range: tuple[int, int]  # whole pounds; the RRP ends in .49 or .99 inside the range
    case_packs: tuple[int, ...]
    weight_kg: str
    bulky: bool = False


@dataclass(frozen=True)
class Group:
    code: str
    description: str
    items: tuple[ItemType, ...]
    variants: tuple[str, ...]


COLOURS = ("Sage Green", "Charcoal", "Cream", "Duck Egg Blue", "Terracotta", "Mustard", "Slate Grey", "Navy")

GROUPS: tuple[Group, ...] = (
    Group(
        "KT",
        "Kitchen Tools & Utensils",
        (
            ItemType("Beech Wood Spoon Set of 3", (8, 12), (12, 24), "0.240"),
            ItemType("Silicone Spatula", (5, 7), (12, 24), "0.090"),
            ItemType("Balloon Whisk 25cm", (6, 9), (12, 24), "0.120"),
            ItemType("Garlic Press", (9, 14), (12,), "0.210"),
            ItemType("Swivel Peeler", (4, 6), (12, 24), "0.050"),
            ItemType("Box Grater", (12, 16), (6, 12), "0.380"),
            ItemType("Measuring Spoons Set of 5", (5, 8), (12, 24), "0.110"),
            ItemType("Kitchen Scissors", (9, 13), (12,), "0.160"),
            ItemType("Pizza Cutter Wheel", (7, 10), (12, 24), "0.130"),
            ItemType("Slotted Turner", (6, 9), (12, 24), "0.100"),
            ItemType("Serving Tongs 30cm", (7, 10), (12, 24), "0.150"),
            ItemType("Potato Masher", (7, 10), (12,), "0.200"),
            ItemType("Pastry Brush", (4, 6), (12, 24), "0.040"),
            ItemType("Beech Rolling Pin", (9, 13), (12,), "0.450"),
            ItemType("Stainless Steel Ladle", (7, 10), (12,), "0.180"),
            ItemType("Enamel Colander 24cm", (16, 22), (6,), "0.700", bulky=True),
        ),
        COLOURS,
    ),
    Group(
        "CW",
        "Cookware",
        (
            ItemType("Non-Stick Frying Pan 24cm", (24, 34), (6,), "0.950", bulky=True),
            ItemType("Non-Stick Frying Pan 28cm", (29, 39), (6,), "1.200", bulky=True),
            ItemType("Saucepan with Lid 16cm", (24, 32), (6,), "0.900", bulky=True),
            ItemType("Saucepan with Lid 20cm", (29, 39), (6,), "1.300", bulky=True),
            ItemType("Cast Iron Casserole 24cm", (69, 89), (6,), "4.600", bulky=True),
            ItemType("Griddle Pan 26cm", (34, 44), (6,), "2.100", bulky=True),
            ItemType("Milk Pan 14cm", (17, 22), (6, 12), "0.600"),
            ItemType("Carbon Steel Wok 30cm", (29, 36), (6,), "1.500", bulky=True),
            ItemType("Stockpot 24cm", (39, 49), (6,), "2.300", bulky=True),
            ItemType("Saute Pan with Lid 28cm", (39, 49), (6,), "1.900", bulky=True),
            ItemType("Omelette Pan 20cm", (19, 25), (6, 12), "0.700"),
        ),
        ("Graphite", "Copper", "Stainless Steel", "Sage Green", "Cream", "Charcoal"),
    ),
    Group(
        "BW",
        "Bakeware",
        (
            ItemType("Loaf Tin 2lb", (8, 11), (12, 24), "0.350"),
            ItemType("Round Cake Tin 20cm", (9, 12), (12,), "0.400"),
            ItemType("Muffin Tray 12 Cup", (12, 15), (6, 12), "0.600"),
            ItemType("Baking Tray 38cm", (11, 14), (6, 12), "0.700"),
            ItemType("Wire Cooling Rack", (9, 12), (12,), "0.450"),
            ItemType("Springform Tin 23cm", (14, 18), (6, 12), "0.650"),
            ItemType("Roasting Tin Large", (18, 24), (6,), "1.100", bulky=True),
            ItemType("Silicone Baking Mat", (8, 11), (12, 24), "0.150"),
            ItemType("Mixing Bowl 4L", (16, 22), (6,), "1.300", bulky=True),
            ItemType("Enamel Pie Dish 24cm", (9, 12), (12,), "0.400"),
            ItemType("Square Brownie Tin 20cm", (9, 12), (12,), "0.450"),
        ),
        ("Sage Green", "Charcoal", "Cream", "Duck Egg Blue", "Terracotta", "Slate Grey"),
    ),
    Group(
        "TW",
        "Tableware & Serveware",
        (
            ItemType("Stoneware Mugs 350ml Set of 4", (22, 28), (6,), "1.800", bulky=True),
            ItemType("Dinner Plates Set of 4", (29, 36), (6,), "3.200", bulky=True),
            ItemType("Pasta Bowls Set of 4", (26, 32), (6,), "2.600", bulky=True),
            ItemType("Serving Platter 35cm", (19, 24), (6,), "1.400"),
            ItemType("Salad Bowl 25cm", (17, 22), (6,), "1.100"),
            ItemType("Butter Dish", (11, 14), (12,), "0.500"),
            ItemType("Stoneware Teapot 1L", (24, 29), (6,), "1.200"),
            ItemType("Milk Jug 300ml", (9, 12), (12,), "0.400"),
            ItemType("Cake Stand", (24, 32), (6,), "1.600", bulky=True),
        ),
        COLOURS,
    ),
    Group(
        "ST",
        "Storage & Organisation",
        (
            ItemType("Glass Storage Jar 1L", (8, 11), (6, 12), "0.700"),
            ItemType("Bread Bin", (29, 39), (6,), "2.400", bulky=True),
            ItemType("Utensil Holder", (12, 16), (6, 12), "0.800"),
            ItemType("Tea Coffee Sugar Canisters", (24, 30), (6,), "1.500", bulky=True),
            ItemType("Biscuit Barrel", (14, 18), (6,), "0.900"),
            ItemType("Airtight Containers Set of 3", (16, 21), (6,), "0.900"),
            ItemType("Pasta Storage Jar 1.5L", (12, 15), (6, 12), "0.950"),
            ItemType("Wall Spice Rack 12 Jar", (22, 29), (6,), "1.700", bulky=True),
            ItemType("Fridge Organiser Bin", (9, 12), (12,), "0.400"),
            ItemType("Herb Keeper", (14, 18), (6, 12), "0.500"),
        ),
        ("Sage Green", "Charcoal", "Cream", "Duck Egg Blue", "Slate Grey", "Navy"),
    ),
    Group(
        "TL",
        "Kitchen Textiles",
        (
            ItemType("Cotton Tea Towels Set of 3", (9, 13), (12, 24), "0.250"),
            ItemType("Cotton Apron", (14, 19), (12,), "0.250"),
            ItemType("Double Oven Glove", (12, 16), (12, 24), "0.300"),
            ItemType("Oven Gauntlet", (8, 11), (12, 24), "0.150"),
            ItemType("Linen Napkins Set of 4", (16, 22), (12,), "0.300"),
            ItemType("Table Runner 180cm", (16, 22), (12,), "0.350"),
            ItemType("Placemats Set of 4", (16, 22), (12,), "0.500"),
            ItemType("Pot Holders Pair", (8, 11), (12, 24), "0.150"),
            ItemType("Cork Coasters Set of 4", (8, 11), (12, 24), "0.120"),
        ),
        ("Sage Green Stripe", "Charcoal Check", "Cream Gingham", "Duck Egg Blue", "Terracotta", "Mustard"),
    ),
)

BOOKS_GROUP = Group("BK", "Books", (), ())
# New launches and one-off lines set up by hand (the scenario's planted products live here: see `planted`).
LAUNCHES_GROUP = Group("PL", "Promotions & launches", (), ())
BOOK_TITLES = (
    "The Hartley & Finch Family Kitchen",
    "Baking Through the Seasons",
    "Weeknight Suppers in Thirty Minutes",
    "Sunday Roasts & Puddings",
    "The Storecupboard Cook",
    "Bread, Butter & Jam",
    "One Pan Wonders",
    "Picnics & Garden Feasts",
)
BOOK_FORMATS = (("Hardback", (20, 26), "0.900"), ("Paperback", (12, 16), "0.500"))


@dataclass(frozen=True)
class Product:
    """One sellable line. Prices are per each, in GBP; `amazon_cost` and `trade_price` exclude VAT."""

    sku: str
    name: str
    description: str
    group: str
    ean: str
    asin: str
    case_pack: int
    amazon_unit: str
    rrp: Decimal
    amazon_cost: Decimal
    trade_price: Decimal
    vat: str
    active: bool
    warehouse: str
    weight_kg: str
    demand_weight: float  # relative popularity; internal to the generator, never written out

    @property
    def case_unit(self) -> str:
        return f"Case of {self.case_pack}"

    def to_json(self) -> dict[str, object]:
        return {
            "sku": self.sku,
            "name": self.name,
            "description": self.description,
            "group": self.group,
            "ean": self.ean,
            "asin": self.asin,
            "case_pack": self.case_pack,
            "case_unit": self.case_unit,
            "amazon_unit": self.amazon_unit,
            "rrp": money(self.rrp),
            "amazon_cost": money(self.amazon_cost),
            "trade_price": money(self.trade_price),
            "vat": self.vat,
            "active": self.active,
            "warehouse": self.warehouse,
            "weight_kg": self.weight_kg,
        }


@dataclass(frozen=True)
class _Draft:
    group: Group
    item_index: int
    variant_index: int
    name: str
    rrp_range: tuple[int, int]
    case_packs: tuple[int, ...]
    weight_kg: str
    bulky: bool
    vat: str = STANDARD_VAT


def all_groups() -> tuple[Group, ...]:
    return (*GROUPS, BOOKS_GROUP, LAUNCHES_GROUP)


def build_catalogue(rng: random.Random, profile: VendorProfile, count: int) -> list[Product]:
    """`count` products spread evenly over the groups, a few cookbooks and a few discontinued lines."""
    book_count = min(len(BOOK_TITLES) * len(BOOK_FORMATS), max(2, count // 60))
    drafts = _pick_homeware(rng, count - book_count) + _pick_books(rng, book_count)
    drafts.sort(key=lambda d: (d.group.code, d.item_index, d.variant_index))
    discontinued = _pick_discontinued(rng, drafts)
    skus = _assign_skus(rng, profile, drafts)
    weights = _demand_weights(rng, len(drafts))
    asins = UniqueDraws(rng)
    products = []
    for index, draft in enumerate(drafts):
        products.append(
            _product(
                rng,
                profile,
                draft,
                sku=skus[index],
                ean=ean13(profile.gs1_company_prefix, 101 + index),
                asin=asins.draw(random_asin),
                active=index not in discontinued,
                demand_weight=0.0 if index in discontinued else weights[index],
            )
        )
    return products


def _pick_homeware(rng: random.Random, count: int) -> list[_Draft]:
    """Round-robin over the groups so every group is present even in a small range."""
    per_group = []
    for group in GROUPS:
        combos = [
            _Draft(group, i, v, f"{item.name}, {variant}", item.rrp_range, item.case_packs, item.weight_kg, item.bulky)
            for i, item in enumerate(group.items)
            for v, variant in enumerate(group.variants)
        ]
        rng.shuffle(combos)
        per_group.append(combos)
    available = sum(len(combos) for combos in per_group)
    if count > available:
        raise ValueError(f"the catalogue vocabulary has {available} homeware products; {count} were asked for")
    picked: list[_Draft] = []
    while len(picked) < count:
        for combos in per_group:
            if combos and len(picked) < count:
                picked.append(combos.pop())
    return picked


def _pick_books(rng: random.Random, count: int) -> list[_Draft]:
    editions = [
        _Draft(BOOKS_GROUP, t, f, f"{title} ({fmt})", rrp_range, (12,), weight, bulky=False, vat=ZERO_VAT)
        for t, title in enumerate(BOOK_TITLES)
        for f, (fmt, rrp_range, weight) in enumerate(BOOK_FORMATS)
    ]
    return rng.sample(editions, count)


def _pick_discontinued(rng: random.Random, drafts: list[_Draft]) -> set[int]:
    """About one line in sixteen is discontinued; books stay in print."""
    candidates = [i for i, d in enumerate(drafts) if d.vat == STANDARD_VAT]
    return set(rng.sample(candidates, max(1, len(drafts) // 16)))


def _assign_skus(rng: random.Random, profile: VendorProfile, drafts: list[_Draft]) -> list[str]:
    """Vendor SKUs like HF-KT-0012: numbered per group with the gaps a real range accumulates."""
    skus = []
    counters: dict[str, int] = {}
    for draft in drafts:
        code = draft.group.code
        counters[code] = counters.get(code, 0) + rng.randint(1, 3)
        skus.append(f"{profile.sku_prefix}-{code}-{counters[code]:04d}")
    return skus


def _demand_weights(rng: random.Random, count: int) -> list[float]:
    """A long tail: a product's popularity falls with a randomly drawn rank (Zipf-like)."""
    ranks = list(range(count))
    rng.shuffle(ranks)
    return [1.0 / (rank + 1) ** 0.8 for rank in ranks]


def _product(
    rng: random.Random,
    profile: VendorProfile,
    draft: _Draft,
    *,
    sku: str,
    ean: str,
    asin: str,
    active: bool,
    demand_weight: float,
) -> Product:
    low, high = draft.rrp_range
    rrp = Decimal(rng.randint(low, high)) + rng.choice((Decimal("0.49"), Decimal("0.99")))
    ex_vat = rrp / VAT_DIVISOR if draft.vat == STANDARD_VAT else rrp
    # Dear or bulky lines Amazon buys in eaches; the rest in whole cases.
    amazon_unit = EACHES if rrp >= 40 or rng.random() < 0.15 else CASES
    return Product(
        sku=sku,
        name=draft.name,
        description=f"{profile.brand} {draft.name}",
        group=draft.group.code,
        ean=ean,
        asin=asin,
        case_pack=rng.choice(draft.case_packs),
        amazon_unit=amazon_unit,
        rrp=rrp,
        amazon_cost=to_money(ex_vat * rng.choice(AMAZON_SHARES_OF_RRP)),
        trade_price=to_money(ex_vat * TRADE_SHARE_OF_RRP),
        vat=draft.vat,
        active=active,
        warehouse=OVERFLOW if rng.random() < (0.6 if draft.bulky else 0.1) else MAIN,
        weight_kg=draft.weight_kg,
        demand_weight=demand_weight,
    )
