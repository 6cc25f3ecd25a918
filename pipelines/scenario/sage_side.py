"""The Sage 200 side of the scenario: the company's master data and its order-to-invoice history.

Masters are what a Sage 200 company holds before trading (VAT codes, units, periods, nominal accounts,
banks, customers, products, warehouses, opening stock and bank balances). The history replays the days
before the as-of date: sales orders (Amazon POs and a few trade orders), despatches a few days later
(partial when stock runs short or a line is short-shipped), invoices after each despatch, goods received
to replenish stock, and each month's period close once its history is posted.

The history is produced one day at a time with a small queue of future work (despatches, invoices,
deliveries), so a year of a large vendor streams out without being held in memory.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pipelines.scenario.catalogue import CASES, MAIN, OVERFLOW, STANDARD_VAT, ZERO_VAT, Product, all_groups
from pipelines.scenario.formats import iso, money, month_end, next_weekday
from pipelines.scenario.identifiers import UniqueDraws, random_amazon_po_number
from pipelines.scenario.profile import VendorProfile
from pipelines.scenario.scales import Scale

EACH = "Each"
AMAZON_CHANNEL = "AMZ"
TRADE_CHANNEL = "TRD"
SALES_DEPARTMENT = "SAL"

# UK VAT codes as Sage 200 numbers them (0 exempt, 1 standard, 2 zero-rated, 9 outside the scope).
TAX_CODES = (
    (0, "Exempt", "0.00"),
    (1, "Standard rate", "20.00"),
    (2, "Zero rated", "0.00"),
    (9, "Outside the scope of VAT", "0.00"),
)
TAX_CODE_BY_VAT = {STANDARD_VAT: 1, ZERO_VAT: 2}
OUTSIDE_SCOPE_TAX_CODE = 9
REVENUE_NOMINAL_BY_VAT = {STANDARD_VAT: "4000", ZERO_VAT: "4010"}
STOCK_NOMINAL = "1001"
CAPITAL_NOMINAL = "3000"

COST_CENTRES = (("AMZ", "Amazon Vendor Central"), ("TRD", "Trade customers"))
DEPARTMENTS = (("SAL", "Sales"), ("OPS", "Operations"), ("FIN", "Finance"))

# Financial report categories (the balance sheet / P&L heading each nominal account reports under).
REPORT_CATEGORIES = (
    ("SALE", "Sales", "Income"),
    ("COS", "Cost of sales", "Expense"),
    ("OVHD", "Overheads", "Expense"),
    ("CA", "Current assets", "Asset"),
    ("BANK", "Bank and cash", "Asset"),
    ("CL", "Current liabilities", "Liability"),
    ("CAP", "Capital and reserves", "Liability"),
)

_AMZ_SALES = (("AMZ", "SAL"),)
_BOTH_SALES = (("AMZ", "SAL"), ("TRD", "SAL"))
# reference, name, report category, (cost centre, department) accounts besides the plain one.
NOMINAL_ACCOUNTS = (
    ("1001", "Stock", "CA", ()),
    ("1100", "Debtors control account", "CA", ()),
    ("1150", "Amazon deductions under dispute", "CA", ()),
    ("1200", "Barclays current account", "BANK", ()),
    ("1210", "Amazon clearing account", "BANK", ()),
    ("1230", "Cash in transit", "BANK", ()),
    ("2100", "Creditors control account", "CL", ()),
    ("2150", "Provisions for Amazon deductions", "CL", ()),
    ("2200", "VAT output", "CL", ()),
    ("2201", "VAT input", "CL", ()),
    ("3000", "Share capital", "CAP", ()),
    ("4000", "Sales - standard rated", "SALE", _BOTH_SALES),
    ("4010", "Sales - zero rated", "SALE", _BOTH_SALES),
    ("4050", "Amazon shortage claims", "SALE", _AMZ_SALES),
    ("4060", "Amazon price variance", "SALE", _AMZ_SALES),
    ("4070", "Amazon prompt payment discount", "SALE", _AMZ_SALES),
    ("4900", "Exchange differences", "OVHD", ()),
    ("5000", "Cost of sales", "COS", _BOTH_SALES),
    ("6100", "Amazon co-op and marketing", "OVHD", _AMZ_SALES),
    ("6200", "Carriage and freight", "OVHD", (("AMZ", "OPS"), ("TRD", "OPS"))),
    ("6300", "Amazon compliance chargebacks", "OVHD", (("AMZ", "OPS"),)),
    ("9998", "Mispostings", "CL", ()),
    ("9999", "Suspense", "CL", ()),
)

CONTROL_ACCOUNTS = {
    "debtors": "1100",
    "vat_output": "2200",
    "vat_input": "2201",
    "suspense": "9999",
    "creditors": "2100",
    "mispostings": "9998",
    "exchange_difference": "4900",
}

WAREHOUSES = (
    {
        "name": MAIN,
        "description": "Main warehouse, Alfreton",
        "address_1": "Unit 4 Meadow Lane Industrial Estate",
        "city": "Alfreton",
        "county": "Derbyshire",
        "postcode": "DE55 7RG",
    },
    {
        "name": OVERFLOW,
        "description": "Overflow store for bulky lines, Alfreton",
        "address_1": "Unit 11 Meadow Lane Industrial Estate",
        "city": "Alfreton",
        "county": "Derbyshire",
        "postcode": "DE55 7RG",
    },
)

# Where Amazon asks for delivery (sample addresses of UK fulfilment centres).
FULFILMENT_CENTRES = (
    {"code": "LTN1", "address_1": "Marston Gate, Ridgmont", "city": "Bedford", "postcode": "MK43 0ZA"},
    {"code": "EUK5", "address_1": "Kingston Park, Flaxley Road", "city": "Peterborough", "postcode": "PE2 9EN"},
    {"code": "BHX4", "address_1": "Lyons Park, Sayer Drive", "city": "Coventry", "postcode": "CV5 9PF"},
    {"code": "MAN1", "address_1": "Airport City, Manchester Airport", "city": "Manchester", "postcode": "M90 5AA"},
)

# Trade customers: independent shops buying in eaches on 30 days, each with its own PO numbering.
TRADE_CUSTOMERS = (
    {
        "reference": "LARDER01",
        "name": "Larder & Loaf Ltd",
        "short_name": "LARDER",
        "address_1": "14 Gillygate",
        "city": "York",
        "postcode": "YO31 7EQ",
        "po_prefix": "LL-",
    },
    {
        "reference": "HARROG01",
        "name": "The Harrogate Kitchen Company Ltd",
        "short_name": "HARROG",
        "address_1": "3 Montpellier Parade",
        "city": "Harrogate",
        "postcode": "HG1 2TJ",
        "po_prefix": "HKC",
    },
    {
        "reference": "PENNYW01",
        "name": "Pennywell Hardware Ltd",
        "short_name": "PENNYW",
        "address_1": "41 North Street",
        "city": "Bristol",
        "postcode": "BS3 1EN",
        "po_prefix": "PW/",
    },
)

# Price bands: Sage's standard band holds the trade price list; Amazon buys at its negotiated cost prices.
STANDARD_BAND = "Standard"
AMAZON_BAND = "Amazon"
PRICE_BANDS = (
    {"name": STANDARD_BAND, "description": "Trade price list", "is_standard_band": True},
    {"name": AMAZON_BAND, "description": "Amazon Vendor Central cost prices", "is_standard_band": False},
)

AMAZON_COURIERS = ("DHL Parcel UK", "Palletways", "Amazon Freight")
TRADE_COURIERS = ("DPD", "Royal Mail Tracked")

# Order volume by month (Q4 peak) and weekday (Amazon raises fewer POs at weekends).
SEASONALITY = (0.85, 0.85, 0.9, 0.95, 0.95, 0.95, 1.0, 1.0, 1.05, 1.15, 1.45, 1.3)  # January to December
WEEKDAY_WEIGHT = (1.0, 1.0, 1.0, 1.0, 1.0, 0.35, 0.25)

SHORT_SHIP_RATE = 0.08  # orders whose first despatch ships only part of a line (picking shortfall, damage)
STOCK_COVER_DAYS = 45  # opening stock
REORDER_POINT_DAYS = 21
REORDER_COVER_DAYS = 35
CLOSE_WORKING_DAY = 4  # month-end close happens on the fourth working day of the next month

# Priorities of same-day work: goods in before despatch, despatch before its invoice.
_STOCK, _DESPATCH, _INVOICE = 0, 1, 2


# --- periods -----------------------------------------------------------------------------------------


def financial_year_start(day: date) -> date:
    """UK companies commonly run April to March; this one does."""
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def financial_year_starts(first: date, last: date) -> list[date]:
    starts = []
    start = financial_year_start(first)
    while start <= last:
        starts.append(start)
        start = date(start.year + 1, 4, 1)
    return starts


def working_day(month_start: date, n: int) -> date:
    day = next_weekday(month_start)
    for _ in range(n - 1):
        day = next_weekday(day + timedelta(days=1))
    return day


def period_closes(start: date, as_of: date) -> list[tuple[date, date]]:
    """(close date, period end) for each month ending inside the history, the last being the month before
    as_of. A month closes on its CLOSE_WORKING_DAY of the next month, or on the last day of the history."""
    closes = []
    end = month_end(start)
    while end < as_of:
        close_on = min(working_day(end + timedelta(days=1), CLOSE_WORKING_DAY), as_of - timedelta(days=1))
        closes.append((close_on, end))
        end = month_end(end + timedelta(days=1))
    return closes


def last_closed_period_end(start: date, as_of: date) -> date | None:
    """The end of the last period closed by as_of (every close falls before it); None when none is."""
    return max((end for _, end in period_closes(start, as_of)), default=None)


# --- demand ------------------------------------------------------------------------------------------


def _mean_of_draw(mean: float) -> float:
    """Expected value of `1 + floor(Exp(mean))`, the quantity draw below."""
    return 1.0 + 1.0 / math.expm1(1.0 / mean)


@dataclass(frozen=True)
class StockPolicy:
    """Per product, in stock units (eaches): opening stock and the replenishment rule that covers demand."""

    opening: int
    reorder_point: int
    reorder_quantity: int


class DemandModel:
    """How much of each product the customers order, and the stock policy that follows from it."""

    def __init__(self, scale: Scale, catalogue: list[Product]) -> None:
        self.scale = scale
        self.active = [p for p in catalogue if p.active]
        self.total_weight = sum(p.demand_weight for p in self.active)
        self.top_weight = max(p.demand_weight for p in self.active)

    def amazon_mean_quantity(self, product: Product) -> float:
        """Mean of the Amazon quantity draw, in selling units (cases or eaches)."""
        share = product.demand_weight / self.top_weight
        return 0.5 + 4.0 * share if product.amazon_unit == CASES else 3.0 + 20.0 * share

    @staticmethod
    def trade_mean_quantity() -> float:
        return 3.0

    def policy(self, product: Product) -> StockPolicy:
        scale = self.scale
        share = product.demand_weight / self.total_weight
        amazon_lines = scale.amazon_orders / scale.history_days * min(1.0, scale.amazon_lines_per_order * share)
        trade_lines = scale.trade_orders / scale.history_days * min(1.0, scale.trade_lines_per_order * share)
        per_unit = product.case_pack if product.amazon_unit == CASES else 1
        amazon_eaches = amazon_lines * _mean_of_draw(self.amazon_mean_quantity(product)) * per_unit
        daily = amazon_eaches + trade_lines * _mean_of_draw(self.trade_mean_quantity())
        return StockPolicy(
            opening=self._whole_cases(product, daily * STOCK_COVER_DAYS, minimum_cases=2),
            reorder_point=math.ceil(daily * REORDER_POINT_DAYS),
            reorder_quantity=self._whole_cases(product, daily * REORDER_COVER_DAYS, minimum_cases=1),
        )

    @staticmethod
    def _whole_cases(product: Product, eaches: float, *, minimum_cases: int) -> int:
        return max(minimum_cases, math.ceil(eaches / product.case_pack)) * product.case_pack


# --- masters -----------------------------------------------------------------------------------------


def build_masters(
    rng: random.Random,
    profile: VendorProfile,
    catalogue: list[Product],
    policies: dict[str, StockPolicy],
    start: date,
    as_of: date,
) -> dict[str, Any]:
    """Everything the company holds before the first day of the history, keyed by master kind."""
    return {
        "company": {
            "name": profile.company_name,
            "vendor_code": profile.vendor_code,
            "marketplace": profile.marketplace,
            "gs1_company_prefix": profile.gs1_company_prefix,
            "amazon_customer": profile.amazon_customer_reference,
            "base_currency": "GBP",
        },
        "tax_codes": [{"code": code, "name": name, "tax_rate": rate} for code, name, rate in TAX_CODES],
        "units": _units(catalogue),
        # Periods cover the history and a quarter beyond as_of, for what later flows post after it.
        "financial_years": [
            {"start_date": iso(s), "number_of_periods": 12}
            for s in financial_year_starts(start, as_of + timedelta(days=90))
        ],
        "cost_centres": [{"code": code, "name": name} for code, name in COST_CENTRES],
        "departments": [{"code": code, "name": name} for code, name in DEPARTMENTS],
        "report_categories": [
            {"code": code, "description": description, "category_type": kind}
            for code, description, kind in REPORT_CATEGORIES
        ],
        "nominal_codes": _nominal_codes(),
        "control_accounts": dict(CONTROL_ACCOUNTS),
        "banks": _banks(rng, profile),
        "opening_bank_balances": [
            {
                "bank": profile.real_bank,
                "date": iso(start),
                "amount": money(Decimal(rng.randint(6_000_000, 12_000_000)) / 100),
                "nominal": CAPITAL_NOMINAL,
                "tax_code": OUTSIDE_SCOPE_TAX_CODE,
                "reference": "OPENING",
                "narrative": "Opening balance brought forward",
            }
        ],
        "customers": _customers(rng, profile),
        "fulfilment_centres": [dict(fc) for fc in FULFILMENT_CENTRES],
        "product_groups": [{"code": g.code, "description": g.description} for g in all_groups()],
        "warehouses": [dict(w) for w in WAREHOUSES],
        "products": [_product_master(rng, p, start) for p in catalogue],
        "price_bands": [dict(band) for band in PRICE_BANDS],
        "product_prices": _product_prices(catalogue),
        "holdings": _holdings(catalogue, policies),
        # A product awaiting its first delivery has no opening stock.
        "opening_stock": [
            {"sku": p.sku, "warehouse": p.warehouse, "quantity": str(policies[p.sku].opening), "date": iso(start)}
            for p in catalogue
            if p.active and policies[p.sku].opening > 0
        ],
    }


def _units(catalogue: list[Product]) -> list[dict[str, str]]:
    packs = sorted({p.case_pack for p in catalogue})
    return [{"name": EACH, "multiple_of_base_unit": "1"}] + [
        {"name": f"Case of {pack}", "multiple_of_base_unit": str(pack)} for pack in packs
    ]


def _nominal_codes() -> list[dict[str, str]]:
    codes = []
    for reference, name, category, splits in NOMINAL_ACCOUNTS:
        for cost_centre, department in (("", ""), *splits):
            codes.append(
                {
                    "reference": reference,
                    "name": name,
                    "cost_centre": cost_centre,
                    "department": department,
                    "report_category": category,
                }
            )
    return codes


def _banks(rng: random.Random, profile: VendorProfile) -> list[dict[str, str]]:
    def account_no() -> str:
        return f"{rng.randint(10_000_000, 99_999_999)}"

    owner = profile.company_name
    return [
        {
            "code": profile.clearing_bank,
            "description": "Amazon clearing",
            "bank_name": "Amazon remittances (clearing)",
            "sort_code": "00-00-00",
            "account_no": "00000001",
            "account_name": owner,
            "nominal": "1210",
        },
        {
            "code": profile.real_bank,
            "description": "Barclays current account",
            "bank_name": "Barclays Bank UK PLC",
            "sort_code": "20-45-77",
            "account_no": account_no(),
            "account_name": owner,
            "nominal": "1200",
        },
        {
            "code": profile.cash_in_transit_bank,
            "description": "Cash in transit",
            "bank_name": "Cash in transit (Amazon payments not yet banked)",
            "sort_code": "00-00-00",
            "account_no": "00000002",
            "account_name": owner,
            "nominal": "1230",
        },
    ]


def _vat_number(rng: random.Random) -> str:
    return f"GB{rng.randint(100_000_000, 999_999_999)}"


def _customers(rng: random.Random, profile: VendorProfile) -> list[dict[str, Any]]:
    amazon = {
        "reference": profile.amazon_customer_reference,
        "name": profile.amazon_customer_name,
        "short_name": "AMAZON",
        "address_1": "1 Principal Place, Worship Street",
        "city": "London",
        "postcode": "EC2A 2FA",
        "vat_number": "GB727255821",
        "payment_terms_days": 60,
        "tax_code": TAX_CODE_BY_VAT[STANDARD_VAT],
        "channel": AMAZON_CHANNEL,
        "price_band": AMAZON_BAND,  # trade customers stay on the standard band, as every new Sage customer is
    }
    trade = [
        {
            **{key: value for key, value in customer.items() if key != "po_prefix"},
            "vat_number": _vat_number(rng),
            "payment_terms_days": 30,
            "tax_code": TAX_CODE_BY_VAT[STANDARD_VAT],
            "channel": TRADE_CHANNEL,
        }
        for customer in TRADE_CUSTOMERS
    ]
    return [amazon, *trade]


def _product_master(rng: random.Random, product: Product, start: date) -> dict[str, Any]:
    master = {
        **product.to_json(),
        "tax_code": TAX_CODE_BY_VAT[product.vat],
        "revenue_nominal": REVENUE_NOMINAL_BY_VAT[product.vat],
        "stock_nominal": STOCK_NOMINAL,
        "base_unit": EACH,
        "units": [
            {"name": EACH, "multiple_of_base_unit": "1"},
            {"name": product.case_unit, "multiple_of_base_unit": str(product.case_pack)},
        ],
    }
    if not product.active:
        master["inactivation_date"] = iso(start - timedelta(days=rng.randint(10, 200)))
    return master


def _product_prices(catalogue: list[Product]) -> list[dict[str, str]]:
    """Each product's price in each band, per its stock unit (an each: the catalogue's prices are per each)."""
    return [
        {"sku": p.sku, "price_band": band, "price": money(price)}
        for p in catalogue
        for band, price in ((STANDARD_BAND, p.trade_price), (AMAZON_BAND, p.amazon_cost))
    ]


def _holdings(catalogue: list[Product], policies: dict[str, StockPolicy]) -> list[dict[str, str]]:
    """Every product is held in both warehouses; it is replenished in the one it is picked from."""
    return [
        {
            "sku": p.sku,
            "warehouse": warehouse["name"],
            "reorder_level": str(policies[p.sku].reorder_point if p.active and warehouse["name"] == p.warehouse else 0),
        }
        for p in catalogue
        for warehouse in WAREHOUSES
    ]


# --- history -----------------------------------------------------------------------------------------


@dataclass
class _OpenLine:
    line_no: int
    product: Product
    per_unit: int  # stock units per selling unit
    outstanding: int  # selling units not yet despatched


@dataclass
class _OpenOrder:
    document_no: str
    channel: str
    lines: list[_OpenLine]
    despatches: int = 0
    invoice_due: date | None = None


@dataclass(order=True)
class _Work:
    day: date
    priority: int
    sequence: int
    kind: str = field(compare=False)
    key: str = field(compare=False)
    number: int = field(compare=False, default=0)


class SageHistory:
    """Generates the history day by day; iterate `events()` once."""

    def __init__(
        self,
        rng: random.Random,
        profile: VendorProfile,
        scale: Scale,
        catalogue: list[Product],
        policies: dict[str, StockPolicy],
        demand: DemandModel,
        start: date,
        as_of: date,
    ) -> None:
        self.rng = rng
        self.profile = profile
        self.scale = scale
        self.demand = demand
        self.policies = policies
        self.start = start
        self.as_of = as_of
        self.active = demand.active
        self.by_sku = {p.sku: p for p in self.active}
        self.stock = {p.sku: policies[p.sku].opening for p in self.active}
        self.committed = dict.fromkeys(self.stock, 0)
        self.on_order: set[str] = set()
        self.orders: dict[str, _OpenOrder] = {}
        self.queue: list[_Work] = []
        self.sequence = 0
        self.po_numbers = UniqueDraws(rng)
        self.trade_counters = {c["reference"]: rng.randint(1000, 8000) for c in TRADE_CUSTOMERS}

    # driving ---------------------------------------------------------------------------------------
    def events(self) -> Iterator[dict[str, Any]]:
        days = [self.start + timedelta(days=n) for n in range((self.as_of - self.start).days)]
        amazon_counts = self._daily_counts(days, self.scale.amazon_orders)
        trade_counts = self._daily_counts(days, self.scale.trade_orders)
        closes = dict(period_closes(self.start, self.as_of))
        for day, amazon, trade in zip(days, amazon_counts, trade_counts, strict=True):
            while self.queue and self.queue[0].day == day:
                event = self._do(heapq.heappop(self.queue))
                if event is not None:
                    yield event
            for _ in range(amazon):
                yield self._amazon_order(day)
            for _ in range(trade):
                yield self._trade_order(day)
            if day in closes:
                yield {"event": "period_close", "date": iso(day), "up_to": iso(closes[day])}

    def _daily_counts(self, days: list[date], total: int) -> list[int]:
        """Spread `total` orders over the days by season and weekday, exactly, with day-to-day noise."""
        weights = [SEASONALITY[d.month - 1] * WEEKDAY_WEIGHT[d.weekday()] for d in days]
        grand = sum(weights)
        counts, issued, running = [], 0, 0.0
        for n, weight in enumerate(weights):
            running += weight
            target = total if n == len(weights) - 1 else round(total * running / grand + self.rng.uniform(-0.5, 0.5))
            count = max(0, min(total, target) - issued)
            counts.append(count)
            issued += count
        return counts

    def _schedule(self, day: date, priority: int, kind: str, key: str, number: int = 0) -> None:
        self.sequence += 1
        heapq.heappush(self.queue, _Work(day, priority, self.sequence, kind, key, number))

    def _do(self, work: _Work) -> dict[str, Any] | None:
        if work.kind == "despatch":
            return self._despatch(work.day, self.orders[work.key])
        if work.kind == "invoice":
            return self._invoice(work.day, self.orders[work.key], work.number)
        return self._goods_in(work.day, work.key, work.number)

    # orders ----------------------------------------------------------------------------------------
    def _pick_products(self, count: int) -> list[Product]:
        """`count` distinct products, popular ones more likely (weighted sampling without replacement)."""
        keyed = [(math.log(1.0 - self.rng.random()) / p.demand_weight, p.sku, p) for p in self.active]
        return [p for _, _, p in sorted(heapq.nlargest(count, keyed), key=lambda k: k[1])]

    def _line_count(self, mean: int) -> int:
        return max(1, min(len(self.active), round(self.rng.gauss(mean, mean / 3))))

    def _quantity(self, mean: float) -> int:
        return 1 + int(self.rng.expovariate(1.0 / mean))

    def _amazon_order(self, day: date) -> dict[str, Any]:
        po = self.po_numbers.draw(random_amazon_po_number)
        lines, open_lines = [], []
        for n, product in enumerate(self._pick_products(self._line_count(self.scale.amazon_lines_per_order)), 1):
            quantity = self._quantity(self.demand.amazon_mean_quantity(product))
            in_cases = product.amazon_unit == CASES
            per_unit = product.case_pack if in_cases else 1
            lines.append(
                {
                    "line_no": n,
                    "sku": product.sku,
                    "quantity": str(quantity),
                    "unit": product.case_unit if in_cases else EACH,
                    # Amazon's cost is per each; a case line is priced per case.
                    "unit_price": money(product.amazon_cost * per_unit),
                    "warehouse": product.warehouse,
                }
            )
            open_lines.append(_OpenLine(n, product, per_unit, quantity))
        self._open(po, AMAZON_CHANNEL, open_lines, day, despatch_after=(2, 5))
        return {
            "event": "sales_order",
            "date": iso(day),
            "customer": self.profile.amazon_customer_reference,
            "customer_document_no": po,
            "cost_centre": AMAZON_CHANNEL,
            "department": SALES_DEPARTMENT,
            "ship_to": self.rng.choice(FULFILMENT_CENTRES)["code"],
            "requested_delivery_date": iso(day + timedelta(days=self.rng.randint(7, 14))),
            "lines": lines,
        }

    def _trade_order(self, day: date) -> dict[str, Any]:
        customer = self.rng.choice(TRADE_CUSTOMERS)
        self.trade_counters[customer["reference"]] += self.rng.randint(1, 4)
        document_no = f"{customer['po_prefix']}{self.trade_counters[customer['reference']]:04d}"
        lines, open_lines = [], []
        for n, product in enumerate(self._pick_products(self._line_count(self.scale.trade_lines_per_order)), 1):
            quantity = self._quantity(self.demand.trade_mean_quantity())
            lines.append(
                {
                    "line_no": n,
                    "sku": product.sku,
                    "quantity": str(quantity),
                    "unit": EACH,
                    "unit_price": money(product.trade_price),
                    "warehouse": product.warehouse,
                }
            )
            open_lines.append(_OpenLine(n, product, 1, quantity))
        self._open(document_no, TRADE_CHANNEL, open_lines, day, despatch_after=(1, 3))
        return {
            "event": "sales_order",
            "date": iso(day),
            "customer": customer["reference"],
            "customer_document_no": document_no,
            "cost_centre": TRADE_CHANNEL,
            "department": SALES_DEPARTMENT,
            "requested_delivery_date": iso(day + timedelta(days=self.rng.randint(3, 7))),
            "lines": lines,
        }

    def _open(
        self, document_no: str, channel: str, lines: list[_OpenLine], day: date, despatch_after: tuple[int, int]
    ) -> None:
        self.orders[document_no] = _OpenOrder(document_no, channel, lines)
        for line in lines:
            self.committed[line.product.sku] += line.outstanding * line.per_unit
            self._replenish_if_low(day, line.product)
        self._schedule(
            next_weekday(day + timedelta(days=self.rng.randint(*despatch_after))), _DESPATCH, "despatch", document_no
        )

    # despatch and invoice ---------------------------------------------------------------------------
    def _despatch(self, day: date, order: _OpenOrder) -> dict[str, Any] | None:
        short_line = self._short_shipped_line(order)
        shipped = []
        for line in order.lines:
            sku = line.product.sku
            quantity = min(line.outstanding, self.stock[sku] // line.per_unit)
            if line is short_line:
                quantity = min(quantity, line.outstanding // 2)
            if quantity <= 0:
                continue
            line.outstanding -= quantity
            self.stock[sku] -= quantity * line.per_unit
            self.committed[sku] -= quantity * line.per_unit
            shipped.append({"line_no": line.line_no, "quantity": str(quantity)})
            self._replenish_if_low(day, line.product)
        if not shipped:
            self._schedule_retry(day, order)
            return None
        order.despatches += 1
        invoice_on = day if self.rng.random() < 0.75 else next_weekday(day + timedelta(days=1))
        order.invoice_due = invoice_on
        self._schedule(invoice_on, _INVOICE, "invoice", order.document_no, order.despatches)
        complete = not any(line.outstanding for line in order.lines)
        if not complete:
            self._schedule_retry(day, order)
        couriers = AMAZON_COURIERS if order.channel == AMAZON_CHANNEL else TRADE_COURIERS
        return {
            "event": "despatch",
            "date": iso(day),
            "customer_document_no": order.document_no,
            "despatch_no": order.despatches,
            "courier_name": self.rng.choice(couriers),
            "consignment_no": str(self.rng.randint(10**9, 10**10 - 1)),
            "order_complete": complete,
            "lines": shipped,
        }

    def _short_shipped_line(self, order: _OpenOrder) -> _OpenLine | None:
        """On a first despatch, now and then one line goes out short and the balance follows."""
        if order.despatches or self.rng.random() >= SHORT_SHIP_RATE:
            return None
        splittable = [line for line in order.lines if line.outstanding >= 2]
        return self.rng.choice(splittable) if splittable else None

    def _schedule_retry(self, day: date, order: _OpenOrder) -> None:
        retry = day + timedelta(days=self.rng.randint(2, 5))
        if order.invoice_due is not None and retry <= order.invoice_due:
            # The next despatch must come after the previous one is invoiced: one invoice per despatch.
            retry = order.invoice_due + timedelta(days=1)
        self._schedule(next_weekday(retry), _DESPATCH, "despatch", order.document_no)

    def _invoice(self, day: date, order: _OpenOrder, despatch_no: int) -> dict[str, Any]:
        if not any(line.outstanding for line in order.lines) and despatch_no == order.despatches:
            del self.orders[order.document_no]  # fully despatched and now fully invoiced
        return {
            "event": "invoice",
            "date": iso(day),
            "customer_document_no": order.document_no,
            "despatch_no": despatch_no,
        }

    # stock -----------------------------------------------------------------------------------------
    def _replenish_if_low(self, day: date, product: Product) -> None:
        sku = product.sku
        policy = self.policies[sku]
        if sku in self.on_order or self.stock[sku] - self.committed[sku] >= policy.reorder_point:
            return
        shortfall = self.committed[sku] + policy.reorder_point - self.stock[sku]
        quantity = max(policy.reorder_quantity, math.ceil(shortfall / product.case_pack) * product.case_pack)
        self.on_order.add(sku)
        arrival = next_weekday(day + timedelta(days=self.rng.randint(5, 12)))
        self._schedule(arrival, _STOCK, "stock", sku, quantity)

    def receipts_for(self, needed: dict[str, int], day: date) -> list[dict[str, Any]]:
        """Goods received on `day`, in whole cases, wherever stock free of the open orders (after the whole
        history) falls short of `needed` eaches. Sage allocates an open order no more than it still needs, so
        its free stock is at least this, wherever in the history the receipt lands."""
        receipts = []
        for sku, eaches in sorted(needed.items()):
            shortfall = eaches - (self.stock[sku] - self.committed[sku])
            if shortfall > 0:
                case_pack = self.by_sku[sku].case_pack
                receipts.append(self._goods_in(day, sku, math.ceil(shortfall / case_pack) * case_pack))
        return receipts

    def _goods_in(self, day: date, sku: str, quantity: int) -> dict[str, Any]:
        self.stock[sku] += quantity
        self.on_order.discard(sku)
        return {
            "event": "stock_adjustment",
            "date": iso(day),
            "sku": sku,
            "warehouse": self.by_sku[sku].warehouse,
            "quantity": str(quantity),
            "reason": "Goods received from supplier",
        }
