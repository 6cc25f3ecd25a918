"""The sandbox's back office: what Sage 200's users do in the desktop client and the API cannot.

Tax codes, units, product groups, financial years and period closes, control accounts, stock
adjustments, the price book (price bands, product prices, a customer's band), despatching and invoicing
sales orders, the sandbox clock and fault switches. It lives
under `/backoffice/`, outside the API path, and does not exist on a real Sage 200: only the sample loader
and tests use it, never the integration itself.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from pipelines.sage200.client import dumps, error_message, loads
from pipelines.sage200.sandbox import conventions as c
from pipelines.sage200.sandbox.errors import BadRequest, NotFound
from pipelines.sage200.sandbox.ledger import ZERO, Ledger, money, sage_datetime
from pipelines.sage200.sandbox.resources import (
    BASE_CURRENCY,
    PRICE_PLACES,
    UNIVERSAL_BAND_TYPE,
    UNIVERSAL_BAND_TYPE_ID,
    assign_price_band,
    existing,
    move_stock,
    price_every_product,
    product_price_view,
    round_money,
    set_band_price,
    standard_price_band,
)
from pipelines.sage200.sandbox.store import Store, utc_timestamp


def required(body: dict[str, Any], name: str) -> Any:
    if name not in body or body[name] is None:
        raise BadRequest(f"The field '{name}' is required.")
    return body[name]


def text(body: dict[str, Any], name: str, max_length: int, *, default: str | None = None) -> str:
    """A string field of at most `max_length` characters; required unless it has a default."""
    value = required(body, name) if default is None else body.get(name, default)
    if not isinstance(value, str):
        raise BadRequest(f"The field '{name}' must be a string.")
    if len(value) > max_length:
        raise BadRequest(f"The field '{name}' must be a string with a maximum length of {max_length}.")
    return value


def flag(body: dict[str, Any], name: str, *, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise BadRequest(f"The field '{name}' must be true or false.")
    return value


# A price must fit Sage's decimal(18,5) price columns.
PRICE_LIMIT = Decimal(10) ** (18 - PRICE_PLACES)


def parse_price(body: dict[str, Any], name: str) -> Decimal:
    """A price given as a JSON number or a decimal string, at most 5 places; shown with at least 2."""
    value = required(body, name)
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise BadRequest(f"The field '{name}' must be a number or a decimal string such as \"12.50\".")
    try:
        price = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise BadRequest(f"The field '{name}' must be a number or a decimal string such as \"12.50\".") from None
    if not price.is_finite() or not 0 <= price < PRICE_LIMIT:
        raise BadRequest(f"The field '{name}' must be at least 0 and less than {PRICE_LIMIT}.")
    places = max(2, -int(price.normalize().as_tuple().exponent))
    if places > PRICE_PLACES:
        raise BadRequest(f"The field '{name}' must have at most {PRICE_PLACES} decimal places.")
    return price.quantize(Decimal(1).scaleb(-places))


def parse_day(body: dict[str, Any], name: str) -> date:
    try:
        return date.fromisoformat(str(required(body, name))[:10])
    except ValueError as exc:
        raise BadRequest(f"The field '{name}' must be a date such as 2026-01-31.") from exc


class BackOfficeOperations:
    """Back-office actions against one sandbox store; each runs inside the caller's transaction."""

    def __init__(self, store: Store, today: date) -> None:
        self.store = store
        self.today = today
        self.ledger = Ledger(store, today)

    # reference data ---------------------------------------------------------------------------------
    def create_tax_code(self, body: dict[str, Any]) -> dict[str, Any]:
        code = int(required(body, "code"))
        if self.store.find("tax_codes", code=code):
            raise BadRequest(f"Tax code {code} already exists.")
        return self.store.insert(
            "tax_codes",
            {
                "code": code,
                "name": str(required(body, "name")),
                "tax_rate": money(required(body, "tax_rate")),
                "terms": body.get("terms", ""),
                "terms_description": body.get("terms_description", ""),
                "is_notional_acquisition_tax": False,
            },
        )

    def create_unit(self, body: dict[str, Any]) -> dict[str, Any]:
        name = str(required(body, "name"))
        if self.store.find("units", name=name):
            raise BadRequest(f"Unit '{name}' already exists.")
        multiple = money(body.get("multiple_of_base_unit", 1))
        return self.store.insert(
            "units", {"name": name, "multiple_of_base_unit": multiple, "each_value": multiple == 1}
        )

    def create_product_group(self, body: dict[str, Any]) -> dict[str, Any]:
        code = str(required(body, "code"))
        if self.store.find("product_groups", code=code):
            raise BadRequest(f"Product group '{code}' already exists.")
        return self.store.insert(
            "product_groups",
            {
                "code": code,
                "description": body.get("description", ""),
                "product_type": "EnumStockItemTypeStock",
                "costing_method": "EnumCostingMethodAverage",
                "can_levels_go_negative": False,
                "do_items_use_units": True,
                "this_is_the_sop_product_group": False,
            },
        )

    def create_report_category(self, body: dict[str, Any]) -> dict[str, Any]:
        code = str(required(body, "code"))
        category_type = str(required(body, "category_type"))
        if category_type not in REPORT_CATEGORY_TYPES:
            raise BadRequest(f"The field 'category_type' must be one of {', '.join(REPORT_CATEGORY_TYPES)}.")
        if self.store.find("nominal_report_categories", code=code):
            raise BadRequest(f"Report category '{code}' already exists.")
        return self.store.insert(
            "nominal_report_categories",
            {
                "code": code,
                "description": body.get("description", ""),
                "account_report_type": REPORT_CATEGORY_TYPES[category_type],
                "account_report_category_type": category_type,
            },
        )

    def create_financial_year(self, body: dict[str, Any]) -> dict[str, Any]:
        start = parse_day(body, "start_date")
        count = int(body.get("number_of_periods", 12))
        if start.day != 1 or not 1 <= count <= 20:
            raise BadRequest("A financial year starts on the 1st of a month and has 1 to 20 monthly periods.")
        year_id = self.store.next_value("financial_year")
        end = add_months(start, count) - timedelta(days=1)
        if any(self.ledger.period_of(day) for day in (start, end)):
            raise BadRequest("The new financial year overlaps one that is already set up.")
        periods = []
        for number in range(1, count + 1):
            period_start = add_months(start, number - 1)
            period_end = add_months(start, number) - timedelta(days=1)
            period = {
                "financial_year_id": year_id,
                "financial_year_start_date": sage_datetime(start),
                "financial_year_end_date": sage_datetime(end),
                "year_relative_to_current_year": 0,
                "number_of_periods_in_year": count,
                "accounting_period_id": self.store.next_value("accounting_period"),
                "period_number": number,
                "period_start_date": sage_datetime(period_start),
                "period_end_date": sage_datetime(period_end),
            }
            periods.append(self.store.insert("financial_year_period_views", period))
        self.refresh_relative_years()
        return {"financial_year_id": year_id, "periods": [strip_internal(p) for p in periods]}

    def refresh_relative_years(self) -> None:
        """year_relative_to_current_year follows the clock: 0 this year, −1 last year, 1 next."""
        current = self.ledger.period_of(self.today)
        years = sorted({p["financial_year_start_date"] for p in self.store.find("financial_year_period_views")})
        anchor = years.index(current["financial_year_start_date"]) if current else len(years)
        for period in self.store.find("financial_year_period_views"):
            relative = years.index(period["financial_year_start_date"]) - anchor
            if period["year_relative_to_current_year"] != relative:
                period["year_relative_to_current_year"] = relative
                self.store.save("financial_year_period_views", period)

    def close_periods(self, body: dict[str, Any]) -> dict[str, Any]:
        up_to = sage_datetime(parse_day(body, "up_to"))
        closed = set(self.store.setting("closed_periods", []))
        for period in self.store.find("financial_year_period_views"):
            if period["period_end_date"] <= up_to:
                closed.add(period["accounting_period_id"])
        self.store.set_setting("closed_periods", sorted(closed))
        return {"closed_accounting_period_ids": sorted(closed)}

    def set_control_accounts(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        for kind, reference in body.items():
            if kind not in c.CONTROL_ACCOUNT_TYPES:
                raise BadRequest(f"Unknown control account '{kind}'; known: {', '.join(c.CONTROL_ACCOUNT_TYPES)}.")
            code = self.ledger.nominal_account({"code": reference}, kind)
            control_type = c.CONTROL_ACCOUNT_TYPES[kind]
            entity = {
                "name": self.store.get("nominal_codes", code)["name"][:50],
                "account_number": reference,
                "nominal_reporting_type": "Balance Sheet",
                "control_nominal_code_type": control_type,
            }
            current = self.store.find("control_nominal_codes", control_nominal_code_type=control_type)
            if current:
                self.store.save("control_nominal_codes", current[0] | entity)
            else:
                self.store.insert("control_nominal_codes", entity)
        return self.store.find("control_nominal_codes")

    def adjust_stock(self, body: dict[str, Any]) -> dict[str, Any]:
        product = existing(self.store, "products", required(body, "product_id"), "product_id")
        warehouse = existing(self.store, "warehouses", required(body, "warehouse_id"), "warehouse_id")
        holdings = self.store.find("warehouse_holdings", product_id=product["id"], warehouse_id=warehouse["id"])
        if not holdings:
            raise BadRequest(f"Product {product['code']} is not held in warehouse {warehouse['name']}.")
        quantity = money(required(body, "quantity"))
        if money(holdings[0]["confirmed_qty_in_stock"]) + quantity < 0:
            raise BadRequest(f"Stock of {product['code']} in {warehouse['name']} cannot go negative.")
        move_stock(self.store, holdings[0], in_stock=quantity)
        return self.store.get("warehouse_holdings", holdings[0]["id"])

    # price book -------------------------------------------------------------------------------------
    def create_price_band(self, body: dict[str, Any]) -> dict[str, Any]:
        """A universal band in the base currency; every product gets a price in it (see price_every_product).
        The first standard band becomes the band of every customer that has none, as Sage's default."""
        name = text(body, "name", 20)
        if not name.strip():
            raise BadRequest("The field 'name' must not be blank.")
        description = text(body, "description", 50, default="")
        is_standard = flag(body, "is_standard_band", default=False)
        if self.store.find("price_bands", name=name):
            raise BadRequest(f"Price band '{name}' already exists.")
        standard = standard_price_band(self.store)
        if is_standard and standard is not None:
            raise BadRequest(f"Price band '{standard['name']}' is already the standard band: a company has one.")
        band = self.store.insert(
            "price_bands",
            {
                "name": name,
                "description": description,
                "is_standard_band": is_standard,
                "currency_id": BASE_CURRENCY["id"],
                "price_band_type_id": UNIVERSAL_BAND_TYPE_ID,
                "price_band_type": UNIVERSAL_BAND_TYPE,
                "is_active": True,
                "is_time_based": False,
            },
        )
        price_every_product(self.store, band)
        if is_standard:
            for customer in self.store.find("customers"):
                if customer.get("price_band_id") is None:
                    assign_price_band(customer, band)
                    self.store.save("customers", customer)
        return band

    def set_product_price(self, body: dict[str, Any]) -> dict[str, Any]:
        """A product's price per its stock unit in one band; setting it again replaces it."""
        product = existing(self.store, "products", required(body, "product_id"), "product_id")
        band = existing(self.store, "price_bands", required(body, "price_band_id"), "price_band_id")
        return product_price_view(set_band_price(self.store, product, band, parse_price(body, "price")))

    def set_customer_price_band(self, customer_id: int, body: dict[str, Any]) -> dict[str, Any]:
        customer = self.store.get("customers", customer_id)
        if customer is None:
            raise NotFound(f"Customer {customer_id} does not exist.")
        band = existing(self.store, "price_bands", required(body, "price_band_id"), "price_band_id")
        assign_price_band(customer, band)
        return self.store.save("customers", customer)

    # sales order processing -------------------------------------------------------------------------
    def order(self, order_id: int) -> dict[str, Any]:
        order = self.store.get("sop_orders", order_id)
        if order is None:
            raise NotFound(f"Sales order {order_id} does not exist.")
        return order

    def despatch(self, order_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Confirm a despatch: stock leaves the warehouse, the despatch note and its views appear."""
        order = self.order(order_id)
        day = parse_day(body, "date")
        by_id = {line["id"]: line for line in order["lines"]}
        requested = body.get("lines") or [
            {
                "sop_order_line_id": line["id"],
                "quantity": line["line_quantity"] - line["despatch_receipt_quantity"],
            }
            for line in order["lines"]
            if line["line_quantity"] > line["despatch_receipt_quantity"]
        ]
        if not requested:
            raise BadRequest(f"Sales order {order['document_no']} has nothing left to despatch.")
        customer = self.store.get("customers", order["customer_id"])
        despatch = self.store.insert(
            "sop_despatch_receipts",
            {
                "despatch_no": f"{self.store.next_value('despatch_number'):010d}",
                "despatched_by": "BackOffice",
                "despatch_date": sage_datetime(day),
                "courier_name": body.get("courier_name", ""),
                "consignment_no": body.get("consignment_no", ""),
                "pieces": int(body.get("pieces", 0)),
                "weight": money(body.get("weight", 0)),
                "notes": body.get("notes", ""),
                "sop_incoterm_name": "",
                "sop_export_reason_name": "",
            },
        )
        view = {
            "sop_despatch_id": despatch["id"],
            "sop_despatch_document_no": despatch["despatch_no"],
            "sop_despatch_date": despatch["despatch_date"],
            "sop_despatch_courier_name": despatch["courier_name"],
            "sop_despatch_consignment_no": despatch["consignment_no"],
            "sop_despatch_incoterm": "",
            "sop_despatch_export_reason": "",
            "sop_despatch_pieces": despatch["pieces"],
            "sop_despatch_weight": despatch["weight"],
            "sop_despatch_notes": despatch["notes"],
            "sop_despatch_user_name": "BackOffice",
            "sop_order_id": order["id"],
            "sop_order_document_no": order["document_no"],
            "sop_order_document_date": order["document_date"],
            "sop_order_document_status_id": 1,
            "sop_order_customer_document_no": order["customer_document_no"],
            "customer_id": customer["id"],
            "customer_reference": customer["reference"],
            "customer_name": customer["name"],
        }
        self.store.insert("sop_order_despatch_views", view)
        for n, item in enumerate(requested):
            line = by_id.get(item.get("sop_order_line_id"))
            if line is None:
                raise BadRequest(f"The field 'lines[{n}].sop_order_line_id' is not a line of this order.")
            self._despatch_line(order, line, money(item.get("quantity")), n, despatch, view)
        order["despatch_receipt_status"] = progress(order["lines"], "despatch_receipt_quantity")
        self.store.save("sop_orders", order)
        return despatch

    def _despatch_line(
        self,
        order: dict[str, Any],
        line: dict[str, Any],
        quantity: Decimal,
        n: int,
        despatch: dict[str, Any],
        view: dict[str, Any],
    ) -> None:
        outstanding = money(line["line_quantity"]) - money(line["despatch_receipt_quantity"])
        if quantity <= 0 or quantity > outstanding:
            raise BadRequest(f"The field 'lines[{n}].quantity' ({quantity}) must be between 0 and {outstanding}.")
        ratio = money(line["selling_unit_multiple"]) / money(line["stock_unit_multiple"])
        holding = self.store.get("warehouse_holdings", line["warehouse_holding_id"])
        if money(holding["confirmed_qty_in_stock"]) < quantity * ratio:
            raise BadRequest(f"Not enough stock of {line['code']} to despatch {quantity}.")
        released = min(quantity, money(line["allocated_quantity"]))
        move_stock(self.store, holding, in_stock=-quantity * ratio, allocated=-released * ratio)
        line["allocated_quantity"] -= released
        line["despatch_receipt_quantity"] += quantity
        line["stock_unit_despatch_receipt_quantity"] = line["despatch_receipt_quantity"] * ratio
        line["available_for_despatch"] = line["allocated_quantity"]
        line["despatch_receipt_status"] = (
            "Complete" if line["despatch_receipt_quantity"] == line["line_quantity"] else "Partial"
        )
        product = self.store.get("products", line["product_id"])
        self.store.insert(
            "sop_order_despatch_line_views",
            {
                "sop_despatch_line_id": self.store.next_value("id:sop_despatch_lines"),
                "sop_despatch_line_quantity": quantity,
                "sop_despatch_line_is_invoiced": False,
                "sop_order_line_id": line["id"],
                "sop_order_line_type_id": 0,
                "sop_order_line_item_code": line["code"],
                "sop_order_line_item_description": line["description"][:60],
                "sop_order_line_print_sequence_number": line["line_number"],
                "sop_order_line_quantity": line["line_quantity"],
                "sop_order_line_despatch_quantity": line["despatch_receipt_quantity"],
                "sop_order_document_status_type": order["document_status"],
                "product_id": product["id"],
                "product_code": product["code"],
                "product_name": product["name"],
                "warehouse_holding_id": holding["id"],
                "warehouse_id": holding["warehouse_id"],
                "warehouse_name": holding["warehouse_name"],
                "sys_courier_tracking_url": "",
            }
            | {
                key: value
                for key, value in view.items()
                if key.startswith(("sop_despatch_", "sop_order_", "customer_"))
            },
        )

    def invoice(self, order_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Invoice what is despatched and not yet invoiced, posting the sales invoice to the ledger."""
        order = self.order(order_id)
        day = parse_day(body, "date")
        to_invoice = [
            (line, money(line["despatch_receipt_quantity"]) - money(line["invoice_credit_quantity"]))
            for line in order["lines"]
            if money(line["despatch_receipt_quantity"]) > money(line["invoice_credit_quantity"])
        ]
        if not to_invoice:
            raise BadRequest(f"Sales order {order['document_no']} has nothing despatched and not invoiced.")
        customer = self.store.get("customers", order["customer_id"])
        nominal_items: list[dict[str, Any]] = []
        tax_by_code: dict[int, dict[str, Decimal]] = {}
        for line, quantity in to_invoice:
            goods = round_money(quantity * money(line["discounted_unit_price"]))
            rate = money(self.store.get("tax_codes", line["tax_code_id"])["tax_rate"])
            totals = tax_by_code.setdefault(line["tax_code_id"], {"goods_amount": ZERO, "tax_amount": ZERO})
            totals["goods_amount"] += goods
            totals["tax_amount"] += round_money(goods * rate / 100)
            nominal_items.append({**self.sales_account(line, customer), "value": goods, "narrative": line["code"]})
        invoice_no = f"{self.store.next_value('sop_invoice_number'):010d}"
        posted = self.ledger.post_sales_document(
            {
                "customer_id": customer["id"],
                "transaction_date": sage_datetime(day),
                "reference": invoice_no,
                "second_reference": order["customer_document_no"][:20],
                "nominal_analysis_items": nominal_items,
                "tax_analysis_items": [{"id": tax_id, **totals} for tax_id, totals in sorted(tax_by_code.items())],
            },
            c.INVOICE,
        )
        for line, quantity in to_invoice:
            line["invoice_credit_quantity"] += quantity
            line["posted_invoice_credit_quantity"] += quantity
            line["stock_unit_invoice_credit_quantity"] = line["invoice_credit_quantity"] * (
                money(line["selling_unit_multiple"]) / money(line["stock_unit_multiple"])
            )
            line["invoice_credit_status"] = (
                "Complete" if line["invoice_credit_quantity"] == line["line_quantity"] else "Partial"
            )
            line["is_complete"] = line["invoice_credit_quantity"] == line["line_quantity"]
            self.store.insert(
                "sop_order_return_line_invoice_credit_views",
                {
                    "sop_invoice_credit_id": posted["id"],
                    "sop_order_return_line_id": line["id"],
                    "sop_invoice_credit_document_no": invoice_no,
                    "sop_invoice_credit_type_id": 0,
                    "sop_invoice_credit_document_date": sage_datetime(day),
                    "sop_invoice_credit_document_status_id": 1,
                    "sop_invoice_credit_line_invoice_credit_quantity": quantity,
                },
            )
        for view in self.store.find("sop_order_despatch_line_views", sop_order_id=order["id"]):
            if not view["sop_despatch_line_is_invoiced"]:
                view["sop_despatch_line_is_invoiced"] = True
                self.store.save("sop_order_despatch_line_views", view)
        order["invoice_credit_status"] = progress(order["lines"], "invoice_credit_quantity")
        if all(line["is_complete"] for line in order["lines"]):
            order["document_status"] = "Complete"
        self.store.save("sop_orders", order)
        # The invoiced value leaves the customer's "current orders" figure (it is on the ledger now).
        customer = self.store.get("customers", customer["id"])
        invoiced = money(posted["document_gross_value"])
        customer["value_of_current_orders_in_sop"] = max(
            ZERO, money(customer["value_of_current_orders_in_sop"]) - invoiced
        )
        self.store.save("customers", customer)
        self.store.insert(
            "sop_order_return_invoice_credit_views",
            {
                "sop_order_return_id": order["id"],
                "sop_order_return_document_type_id": 0,
                "sop_order_return_document_no": order["document_no"],
                "sop_order_return_document_date": order["document_date"],
                "sop_order_return_document_status_id": 1,
                "sop_order_return_customer_document_no": order["customer_document_no"],
                "sop_order_return_total_net_value": order["total_net_value"],
                "sop_order_return_total_tax_value": order["total_tax_value"],
                "sop_order_return_total_gross_value": order["total_gross_value"],
                "customer_id": customer["id"],
                "customer_reference": customer["reference"],
                "customer_name": customer["name"],
                "customer_short_name": customer.get("short_name", "")[:8],
                "sop_invoice_credit_id": posted["id"],
                "sop_invoice_credit_document_no": invoice_no,
                "sop_invoice_credit_type_id": "Invoice",
                "sop_invoice_credit_document_date": sage_datetime(day),
                "sop_invoice_credit_document_status_id": "Posted",
                "sop_invoice_credit_total_net_value": posted["document_goods_value"],
                "sop_invoice_credit_total_tax_value": posted["document_tax_value"],
                "sop_invoice_credit_total_gross_value": posted["document_gross_value"],
            },
        )
        return {
            "invoice_document_no": invoice_no,
            "urn": str(posted["urn"]),
            "posted_transaction_id": posted["id"],
        }

    def sales_account(self, line: dict[str, Any], customer: dict[str, Any]) -> dict[str, str]:
        """The sales nominal for an order line: the line's own, else the product's revenue code, else the
        customer's default, as Sage resolves it."""
        if line.get("nominal_reference"):
            return {
                "code": line["nominal_reference"],
                "cost_centre": line.get("nominal_cost_centre", ""),
                "department": line.get("nominal_department", ""),
            }
        product = self.store.get("products", line["product_id"])
        if product.get("revenue_nominal_code_id"):
            code = self.store.get("nominal_codes", product["revenue_nominal_code_id"])
            return {
                "code": code["reference"],
                "cost_centre": code["cost_centre_code"],
                "department": code["department_code"],
            }
        if customer.get("default_nominal_code_reference"):
            return {
                "code": customer["default_nominal_code_reference"],
                "cost_centre": customer.get("default_nominal_code_cost_centre", ""),
                "department": customer.get("default_nominal_code_department", ""),
            }
        raise BadRequest(f"No sales nominal for line {line['code']}: set one on the line, product or customer.")

    # sandbox controls -------------------------------------------------------------------------------
    def set_clock(self, body: dict[str, Any]) -> dict[str, Any]:
        day = parse_day(body, "today")
        self.store.set_setting("today", day.isoformat())
        self.today = day
        self.ledger = Ledger(self.store, day)
        self.refresh_relative_years()
        return {"today": day.isoformat()}

    def set_token_lifetime(self, body: dict[str, Any]) -> dict[str, Any]:
        seconds = int(required(body, "seconds"))
        self.store.set_setting("token_lifetime_seconds", seconds)
        return {"token_lifetime_seconds": seconds}

    def trial_balance(self) -> dict[str, Any]:
        """Every nominal account's debits and credits; the totals agree when the ledger is sound."""
        rows = []
        for code in self.store.find("nominal_codes"):
            debit = money(code["debit_balance_year_to_date"])
            credit = money(code["credit_balance_year_to_date"])
            if debit or credit:
                rows.append(
                    {
                        "code": code["reference"],
                        "cost_centre": code["cost_centre_code"],
                        "department": code["department_code"],
                        "name": code["name"],
                        "debit": debit,
                        "credit": credit,
                        "balance": debit - credit,
                    }
                )
        return {
            "accounts": rows,
            "total_debit": sum((r["debit"] for r in rows), ZERO),
            "total_credit": sum((r["credit"] for r in rows), ZERO),
            "as_at": utc_timestamp(),
        }


# Report category type → the report it appears on.
REPORT_CATEGORY_TYPES = {
    "Asset": "BalanceSheet",
    "Liability": "BalanceSheet",
    "Income": "ProfitAndLoss",
    "Expense": "ProfitAndLoss",
}


def progress(lines: list[dict[str, Any]], done_field: str) -> str:
    done = sum((line[done_field] for line in lines), ZERO)
    total = sum((line["line_quantity"] for line in lines), ZERO)
    return "None" if done == 0 else ("Complete" if done == total else "Partial")


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def strip_internal(entity: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entity.items() if key not in {"id", "date_time_created", "date_time_updated"}}


# (method, path pattern) → operation; `{id}` is a sales order id, or a customer id under customers/.
ROUTES: dict[tuple[str, str], Callable[[BackOfficeOperations, dict[str, Any], dict[str, str]], Any]] = {
    ("post", "tax_codes"): lambda ops, body, _: ops.create_tax_code(body),
    ("post", "units"): lambda ops, body, _: ops.create_unit(body),
    ("post", "nominal_report_categories"): lambda ops, body, _: ops.create_report_category(body),
    ("post", "product_groups"): lambda ops, body, _: ops.create_product_group(body),
    ("post", "financial_years"): lambda ops, body, _: ops.create_financial_year(body),
    ("post", "periods/close"): lambda ops, body, _: ops.close_periods(body),
    ("post", "control_accounts"): lambda ops, body, _: ops.set_control_accounts(body),
    ("post", "stock_adjustments"): lambda ops, body, _: ops.adjust_stock(body),
    ("post", "price_bands"): lambda ops, body, _: ops.create_price_band(body),
    ("post", "product_prices"): lambda ops, body, _: ops.set_product_price(body),
    ("post", "customers/{id}/price_band"): lambda ops, body, params: ops.set_customer_price_band(
        int(params["id"]), body
    ),
    ("post", "sop_orders/{id}/despatch"): lambda ops, body, params: ops.despatch(int(params["id"]), body),
    ("post", "sop_orders/{id}/invoice"): lambda ops, body, params: ops.invoice(int(params["id"]), body),
    ("post", "clock"): lambda ops, body, _: ops.set_clock(body),
    ("post", "sageid/token_lifetime"): lambda ops, body, _: ops.set_token_lifetime(body),
    ("get", "trial_balance"): lambda ops, _body, _params: ops.trial_balance(),
}


class BackOffice:
    """Client for the sandbox's back office (tests and the sample loader only)."""

    def __init__(self, root_url: str, *, timeout: float = 30.0) -> None:
        root = root_url if root_url.endswith("/") else root_url + "/"
        self._http = httpx.Client(base_url=root + "backoffice/", timeout=httpx.Timeout(timeout))

    def _answer(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise BadRequest(f"back office {response.request.url.path}: {error_message(response)}")
        return loads(response.content) if response.content else None

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._answer(self._http.post(path, content=dumps(body), headers={"Content-Type": "application/json"}))

    def get(self, path: str) -> Any:
        return self._answer(self._http.get(path))

    def delete(self, path: str) -> Any:
        return self._answer(self._http.delete(path))

    # price book -------------------------------------------------------------------------------------
    def create_price_band(self, name: str, description: str = "", *, is_standard_band: bool = False) -> Any:
        """A price band as GET /price_bands answers it."""
        return self.post(
            "price_bands", {"name": name, "description": description, "is_standard_band": is_standard_band}
        )

    def set_product_price(self, product_id: int, price_band_id: int, price: Decimal) -> Any:
        """Set a product's price per its stock unit in a band; the product_price_view row."""
        return self.post("product_prices", {"product_id": product_id, "price_band_id": price_band_id, "price": price})

    def set_customer_price_band(self, customer_id: int, price_band_id: int) -> Any:
        """Link a customer to a band; the customer."""
        return self.post(f"customers/{customer_id}/price_band", {"price_band_id": price_band_id})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BackOffice:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
