"""Replay a generated scenario into a Sage 200 sandbox.

Everything the Sage 200 API can do goes through the API, with the same request bodies a real client sends
(customers, nominal codes, cost centres, departments, banks, warehouses, products and their holdings,
sales orders, the opening bank receipt). Only what the API cannot do goes through the sandbox's back
office: VAT codes, units, product groups, report categories, financial years and period closes, control
accounts, the price book (price bands, product prices, a customer's band), stock adjustments, and despatching
and invoicing sales orders. Every id is read from Sage's answers, never assumed.

Loading is not resumable: it refuses to start when the Amazon customer account already exists.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.sage200.client import SageClient
from pipelines.scenario.formats import read_event_stream, sage_datetime
from pipelines.scenario.generate import HISTORY_FILE, MANIFEST_FILE, MASTERS_FILE
from pipelines.scenario.manifest import Manifest

if TYPE_CHECKING:
    from pipelines.sage200.sandbox.backoffice import BackOffice

log = logging.getLogger(__name__)

STANDARD_LINE = "EnumLineTypeStandard"
# Sage documents a product's status as 'Active' or 'Inactive' (20 characters at most). New products are
# active by default, so only a discontinued product states its status.
INACTIVE_PRODUCT = "Inactive"


class AlreadyLoaded(Exception):
    """The target company already holds the scenario (or another one with the same Amazon account)."""


@dataclass
class LoadSummary:
    """How many of each thing the load created in Sage, keyed like the manifest's counts."""

    created: Counter[str] = field(default_factory=Counter)


@dataclass
class _ProductIds:
    id: int
    name: str
    tax_code_id: int
    revenue_nominal: str
    units: dict[str, int]  # unit name → unit id


@dataclass
class _OrderIds:
    id: int
    lines: dict[int, int]  # our line number → Sage's sop_order_line id


def load(directory: Path, client: SageClient, backoffice: BackOffice) -> LoadSummary:
    """Load `directory` (as written by `generate`) into the company `client` is connected to."""
    masters = json.loads((directory / MASTERS_FILE).read_text(encoding="utf-8"))
    refuse_if_loaded(client, masters["company"]["amazon_customer"])
    # The sandbox's business day is the sample's as-of date, so periods and classifications read as they
    # would on that day in a real Sage.
    backoffice.post("clock", {"today": Manifest.read(directory / MANIFEST_FILE).as_of.isoformat()})
    loader = _Loader(client, backoffice)
    loader.load_masters(masters)
    loader.replay(read_event_stream(directory / HISTORY_FILE))
    log.info("scenario loaded from %s: %s", directory, dict(loader.summary.created))
    return loader.summary


def refuse_if_loaded(client: SageClient, amazon_customer: str) -> None:
    """Loading is not idempotent (orders and postings would double), so a second load must not start."""
    if client.get("customers", {"$filter": f"reference eq '{amazon_customer}'"}):
        raise AlreadyLoaded(f"customer {amazon_customer} already exists: the scenario is loaded already")


class _Loader:
    def __init__(self, client: SageClient, backoffice: BackOffice) -> None:
        self.client = client
        self.backoffice = backoffice
        self.summary = LoadSummary()
        self.tax_codes: dict[int, int] = {}
        self.units: dict[str, int] = {}
        self.report_categories: dict[str, int] = {}
        self.cost_centres: dict[str, int] = {}
        self.departments: dict[str, int] = {}
        self.banks: dict[str, int] = {}
        self.customers: dict[str, int] = {}
        self.product_groups: dict[str, int] = {}
        self.warehouses: dict[str, int] = {}
        self.products: dict[str, _ProductIds] = {}
        self.price_bands: dict[str, int] = {}
        self.fulfilment_centres: dict[str, dict[str, str]] = {}
        self.orders: dict[str, _OrderIds] = {}

    def _count(self, kind: str, n: int = 1) -> None:
        self.summary.created[kind] += n

    # masters ---------------------------------------------------------------------------------------
    def load_masters(self, masters: dict[str, Any]) -> None:
        """In dependency order: each step only refers to what an earlier one created."""
        self._tax_codes(masters["tax_codes"])
        self._units(masters["units"])
        self._financial_years(masters["financial_years"])
        self.cost_centres = self._coded("cost_centres", masters["cost_centres"])
        self.departments = self._coded("departments", masters["departments"])
        self._report_categories(masters["report_categories"])
        self._nominal_codes(masters["nominal_codes"])
        self.backoffice.post("control_accounts", masters["control_accounts"])
        self._banks(masters["banks"])
        self._customers(masters["customers"])
        self._product_groups(masters["product_groups"])
        self._warehouses(masters["warehouses"])
        self._products(masters["products"])
        self._price_book(masters["price_bands"], masters["product_prices"], masters["customers"])
        self._holdings(masters["holdings"])
        for stock in masters["opening_stock"]:
            self._adjust_stock(stock)
        for balance in masters["opening_bank_balances"]:
            self._opening_bank_balance(balance)
        self.fulfilment_centres = {fc["code"]: fc for fc in masters["fulfilment_centres"]}

    def _existing(self, resource: str, key: str) -> dict[Any, int]:
        """What the company already has (a new Sage company ships some reference data), by natural key."""
        return {entity[key]: entity["id"] for entity in self.client.get_all(resource)}

    def _tax_codes(self, tax_codes: list[dict[str, Any]]) -> None:
        self.tax_codes = self._existing("tax_codes", "code")
        for tax_code in tax_codes:
            if tax_code["code"] not in self.tax_codes:
                body = {**tax_code, "tax_rate": Decimal(tax_code["tax_rate"])}
                self.tax_codes[tax_code["code"]] = self.backoffice.post("tax_codes", body)["id"]

    def _units(self, units: list[dict[str, str]]) -> None:
        self.units = self._existing("units", "name")
        for unit in units:
            if unit["name"] not in self.units:
                body = {"name": unit["name"], "multiple_of_base_unit": Decimal(unit["multiple_of_base_unit"])}
                self.units[unit["name"]] = self.backoffice.post("units", body)["id"]

    def _financial_years(self, years: list[dict[str, Any]]) -> None:
        existing = {p["financial_year_start_date"][:10] for p in self.client.get_all("financial_year_period_views")}
        for year in years:
            if year["start_date"] not in existing:
                self.backoffice.post("financial_years", year)

    def _coded(self, resource: str, entries: list[dict[str, str]]) -> dict[str, int]:
        """Cost centres and departments: created through the API unless the company has them already."""
        ids = self._existing(resource, "code")
        for entry in entries:
            if entry["code"] not in ids:
                ids[entry["code"]] = self.client.post(resource, {"code": entry["code"], "name": entry["name"]})["id"]
        return ids

    def _report_categories(self, categories: list[dict[str, str]]) -> None:
        # A Sage company ships its report categories and the API can only read them: the back office
        # stands in for setting up the ones our chart of accounts reports under.
        self.report_categories = self._existing("nominal_report_categories", "code")
        for category in categories:
            if category["code"] not in self.report_categories:
                created = self.backoffice.post("nominal_report_categories", category)
                self.report_categories[category["code"]] = created["id"]

    def _nominal_codes(self, codes: list[dict[str, str]]) -> None:
        for code in codes:
            body: dict[str, Any] = {
                "reference": code["reference"],
                "name": code["name"],
                "report_category_id": self.report_categories[code["report_category"]],
            }
            # A nominal account without a cost centre or department leaves the field out (no nulls).
            if code["cost_centre"]:
                body["cost_centre_id"] = self.cost_centres[code["cost_centre"]]
            if code["department"]:
                body["department_id"] = self.departments[code["department"]]
            self.client.post("nominal_codes", body)
        self._count("nominal_codes", len(codes))

    def _banks(self, banks: list[dict[str, str]]) -> None:
        for bank in banks:
            body = {key: bank[key] for key in ("code", "description", "sort_code", "account_no", "bank_name")}
            body["account_name"] = bank["account_name"]
            body["bank_account_nominal_reference"] = bank["nominal"]
            self.banks[bank["code"]] = self.client.post("banks", body)["id"]
        self._count("banks", len(banks))

    def _customers(self, customers: list[dict[str, Any]]) -> None:
        for customer in customers:
            body = {
                "reference": customer["reference"],
                "name": customer["name"],
                "short_name": customer["short_name"],
                "default_tax_code_id": self.tax_codes[customer["tax_code"]],
                "vat_number": customer["vat_number"],
                "payment_terms_days": customer["payment_terms_days"],
                "main_address": {
                    "address_1": customer["address_1"],
                    "city": customer["city"],
                    "postcode": customer["postcode"],
                },
            }
            self.customers[customer["reference"]] = self.client.post("customers", body)["id"]
        self._count("customers", len(customers))

    def _product_groups(self, groups: list[dict[str, str]]) -> None:
        self.product_groups = self._existing("product_groups", "code")
        for group in groups:
            if group["code"] not in self.product_groups:
                self.product_groups[group["code"]] = self.backoffice.post("product_groups", group)["id"]

    def _warehouses(self, warehouses: list[dict[str, str]]) -> None:
        for warehouse in warehouses:
            self.warehouses[warehouse["name"]] = self.client.post("warehouses", dict(warehouse))["id"]
        self._count("warehouses", len(warehouses))

    def _products(self, products: list[dict[str, Any]]) -> None:
        nominal_ids = {
            (code["reference"], code["cost_centre_code"], code["department_code"]): code["id"]
            for code in self.client.get_all("nominal_codes")
        }
        for product in products:
            units = {unit["name"]: self.units[unit["name"]] for unit in product["units"]}
            body: dict[str, Any] = {
                "code": product["sku"],
                "name": product["name"],
                "description": product["description"],
                "barcode": product["ean"],
                "product_group_id": self.product_groups[product["group"]],
                "tax_code_id": self.tax_codes[product["tax_code"]],
                "base_unit_id": units[product["base_unit"]],
                "stock_unit_id": units[product["base_unit"]],
                "units": [
                    {"unit_id": units[unit["name"]], "multiple_of_base_unit": Decimal(unit["multiple_of_base_unit"])}
                    for unit in product["units"]
                ],
                "weight": Decimal(product["weight_kg"]),
                "revenue_nominal_code_id": nominal_ids[(product["revenue_nominal"], "", "")],
                "stock_nominal_code_id": nominal_ids[(product["stock_nominal"], "", "")],
            }
            if not product["active"]:
                body["product_status_type"] = INACTIVE_PRODUCT
                body["inactivation_date"] = sage_datetime(product["inactivation_date"])
            created = self.client.post("products", body)
            self.products[product["sku"]] = _ProductIds(
                id=created["id"],
                name=product["name"],
                tax_code_id=body["tax_code_id"],
                revenue_nominal=product["revenue_nominal"],
                units=units,
            )
        self._count("products", len(products))

    def _price_book(
        self, bands: list[dict[str, Any]], prices: list[dict[str, str]], customers: list[dict[str, Any]]
    ) -> None:
        """Price bands (the standard one first: a new band's prices start linked to it), each product's price
        per its stock unit in each band, and the band of each customer not on the standard one."""
        self.price_bands = self._existing("price_bands", "name")
        for band in sorted(bands, key=lambda b: not b["is_standard_band"]):
            if band["name"] not in self.price_bands:
                self.price_bands[band["name"]] = self.backoffice.post("price_bands", band)["id"]
                self._count("price_bands")
        for price in prices:
            body = {
                "product_id": self.products[price["sku"]].id,
                "price_band_id": self.price_bands[price["price_band"]],
                "price": Decimal(price["price"]),
            }
            self.backoffice.post("product_prices", body)
        self._count("product_prices", len(prices))
        for customer in customers:
            if "price_band" in customer:
                band_id = self.price_bands[customer["price_band"]]
                self.backoffice.post(
                    f"customers/{self.customers[customer['reference']]}/price_band", {"price_band_id": band_id}
                )

    def _holdings(self, holdings: list[dict[str, str]]) -> None:
        # A Sage company using a single location links new products to its home warehouse by itself:
        # only the holdings it does not have yet are created.
        held = {(h["product_id"], h["warehouse_id"]) for h in self.client.get_all("warehouse_holdings")}
        for holding in holdings:
            product_id = self.products[holding["sku"]].id
            warehouse_id = self.warehouses[holding["warehouse"]]
            if (product_id, warehouse_id) not in held:
                body = {
                    "product_id": product_id,
                    "warehouse_id": warehouse_id,
                    "reorder_level": Decimal(holding["reorder_level"]),
                }
                self.client.post("warehouse_holdings", body)
        self._count("warehouse_holdings", len(holdings))

    def _adjust_stock(self, adjustment: dict[str, str]) -> None:
        self.backoffice.post(
            "stock_adjustments",
            {
                "product_id": self.products[adjustment["sku"]].id,
                "warehouse_id": self.warehouses[adjustment["warehouse"]],
                "quantity": Decimal(adjustment["quantity"]),
                "date": adjustment["date"],
            },
        )

    def _opening_bank_balance(self, balance: dict[str, Any]) -> None:
        amount = Decimal(balance["amount"])
        self.client.post(
            "bank_receipt",
            {
                "bank_id": self.banks[balance["bank"]],
                "transaction_date": sage_datetime(balance["date"]),
                "reference": balance["reference"],
                "narrative": balance["narrative"],
                "nominal_analysis_items": [
                    {
                        "code": balance["nominal"],
                        "goods_value": amount,
                        "tax_value": Decimal(0),
                        "gross_value": amount,
                        "tax_code_id": self.tax_codes[balance["tax_code"]],
                        "narrative": balance["narrative"],
                    }
                ],
            },
        )

    # history ---------------------------------------------------------------------------------------
    def replay(self, events: Iterable[dict[str, Any]]) -> None:
        handlers = {
            "sales_order": self._sales_order,
            "despatch": self._despatch,
            "invoice": self._invoice,
            "stock_adjustment": self._stock_receipt,
            "period_close": self._period_close,
        }
        for event in events:
            handlers[event["event"]](event)

    def _sales_order(self, event: dict[str, Any]) -> None:
        body: dict[str, Any] = {
            "customer_id": self.customers[event["customer"]],
            "document_no": "",  # Sage numbers the order; the customer's PO number is our key
            "document_date": sage_datetime(event["date"]),
            "customer_document_no": event["customer_document_no"],
            "requested_delivery_date": sage_datetime(event["requested_delivery_date"]),
            "lines": [self._order_line(event, line) for line in event["lines"]],
        }
        if "ship_to" in event:
            body["delivery_address"] = self._delivery_address(event["ship_to"])
        order = self.client.post("sop_orders", body)
        self.orders[event["customer_document_no"]] = _OrderIds(order["id"], self._line_ids(event, order))
        self._count("sales_orders")
        self._count("sales_order_lines", len(event["lines"]))

    def _order_line(self, order: dict[str, Any], line: dict[str, str]) -> dict[str, Any]:
        product = self.products[line["sku"]]
        return {
            "line_type": STANDARD_LINE,
            "product_id": product.id,
            "warehouse_id": self.warehouses[line["warehouse"]],
            "code": line["sku"],
            "description": product.name,
            "line_quantity": Decimal(line["quantity"]),
            "selling_unit_id": product.units[line["unit"]],
            "selling_unit_price": Decimal(line["unit_price"]),
            "tax_code_id": product.tax_code_id,
            "nominal_reference": product.revenue_nominal,
            "nominal_cost_centre": order["cost_centre"],
            "nominal_department": order["department"],
        }

    def _delivery_address(self, fulfilment_centre: str) -> dict[str, str]:
        fc = self.fulfilment_centres[fulfilment_centre]
        return {
            "postal_name": f"Amazon {fc['code']}",
            "address_1": fc["address_1"],
            "city": fc["city"],
            "postcode": fc["postcode"],
            "country": "United Kingdom",
        }

    @staticmethod
    def _line_ids(event: dict[str, Any], order: dict[str, Any]) -> dict[int, int]:
        """Sage answers with the lines in the order they were sent; check that before relying on it."""
        sent = [line["sku"] for line in event["lines"]]
        answered = [line["code"] for line in order["lines"]]
        if sent != answered:
            raise RuntimeError(f"order {event['customer_document_no']}: Sage answered lines {answered}, sent {sent}")
        return {line["line_no"]: sage["id"] for line, sage in zip(event["lines"], order["lines"], strict=True)}

    def _despatch(self, event: dict[str, Any]) -> None:
        order = self.orders[event["customer_document_no"]]
        self.backoffice.post(
            f"sop_orders/{order.id}/despatch",
            {
                "date": event["date"],
                "lines": [
                    {"sop_order_line_id": order.lines[line["line_no"]], "quantity": Decimal(line["quantity"])}
                    for line in event["lines"]
                ],
                "courier_name": event["courier_name"],
                "consignment_no": event["consignment_no"],
            },
        )
        self._count("despatches")

    def _invoice(self, event: dict[str, Any]) -> None:
        order = self.orders[event["customer_document_no"]]
        self.backoffice.post(f"sop_orders/{order.id}/invoice", {"date": event["date"]})
        self._count("invoices")

    def _stock_receipt(self, event: dict[str, str]) -> None:
        self._adjust_stock(event)
        self._count("stock_receipts")

    def _period_close(self, event: dict[str, str]) -> None:
        self.backoffice.post("periods/close", {"up_to": event["up_to"]})
        self._count("period_closes")
