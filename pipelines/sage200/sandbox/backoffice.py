"""The sandbox's back office: what Sage 200's users do in the desktop client and the API cannot.

Tax codes, units, product groups, financial years and period closes, control accounts, stock
adjustments, the price book (price bands, product prices, a customer's band), what the warehouse and the
order desk do to a sales order (amend a line, despatch, invoice), the sandbox clock and fault switches. It lives
under `/backoffice/`, outside the API path, and does not exist on a real Sage 200: only the sample loader
and tests use it, never the integration itself.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
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


# Sage keeps order quantities to 5 decimal places (sop_order_line.line_quantity is `decimal 5dp`).
QUANTITY_PLACES = 5
# Despatch note and invoice numbers are at most 20 characters (sop_despatch_receipt.despatch_no,
# sop_invoice_credit_document_no).
DOCUMENT_NUMBER_LENGTH = 20


def parse_quantity(value: Any, name: str) -> Decimal:
    """A quantity in an order line's selling unit: a JSON number or a decimal string, at most 5 places. It may
    be fractional (half a case); whether it fits the line is the caller's check."""
    not_a_number = f"The field '{name}' must be a number or a decimal string such as \"1.5\"."
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise BadRequest(not_a_number)
    try:
        quantity = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise BadRequest(not_a_number) from None
    if not quantity.is_finite():
        raise BadRequest(not_a_number)
    if -int(quantity.normalize().as_tuple().exponent) > QUANTITY_PLACES:
        raise BadRequest(f"The field '{name}' must have at most {QUANTITY_PLACES} decimal places.")
    return quantity


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

    def document_number(self, body: dict[str, Any], name: str, series: str) -> str:
        """The number a person typed in the field `name`, else the next of Sage's `series`. A typed number may
        repeat one used before: Sage's number series can be reset, so Sage does not refuse it."""
        if body.get(name) is None:
            return f"{self.store.next_value(series):010d}"
        number = text(body, name, DOCUMENT_NUMBER_LENGTH)
        if not number.strip():
            raise BadRequest(f"The field '{name}' must not be blank.")
        return number

    def amend_line(self, order_id: int, line_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Amend an order line as a person does in Sage: its quantity (never below what is despatched or
        invoiced) and its price (only while none of it is invoiced). Every figure derived from them, on the
        line, the order, the customer and the stock, is worked out again as the order's entry works it out."""
        order = self.order(order_id)
        line = next((line for line in order["lines"] if line["id"] == line_id), None)
        if line is None:
            raise NotFound(f"Sales order line {line_id} does not exist on order {order_id}.")
        if body.get("line_quantity") is None and body.get("selling_unit_price") is None:
            raise BadRequest("The field 'line_quantity' or 'selling_unit_price' is required to amend a line.")
        gross_before = money(order["total_gross_value"])
        if body.get("selling_unit_price") is not None:
            price = parse_price(body, "selling_unit_price")
            if money(line["invoice_credit_quantity"]):
                raise BadRequest(
                    f"The field 'selling_unit_price' cannot change: {line['invoice_credit_quantity']} of "
                    f"line {line['line_number']} is invoiced."
                )
            line["selling_unit_price"] = price
            line["discounted_unit_price"] = price - money(line["unit_discount_value"])
        if body.get("line_quantity") is not None:
            self._requantify(line, parse_quantity(body["line_quantity"], "line_quantity"))
        rate = money(self.store.get("tax_codes", line["tax_code_id"])["tax_rate"])
        line["line_total_value"] = round_money(money(line["line_quantity"]) * money(line["discounted_unit_price"]))
        line["line_tax_value"] = round_money(line["line_total_value"] * rate / 100)
        net = sum((money(each["line_total_value"]) for each in order["lines"]), ZERO)
        tax = sum((money(each["line_tax_value"]) for each in order["lines"]), ZERO)
        order.update(subtotal_goods_value=net, total_net_value=net, total_tax_value=tax, total_gross_value=net + tax)
        refresh_progress(order)
        self.store.save("sop_orders", order)
        # The customer's "current orders" figure follows the order's new value, as it took the old one on entry.
        customer = self.store.get("customers", order["customer_id"])
        customer["value_of_current_orders_in_sop"] = max(
            ZERO, money(customer["value_of_current_orders_in_sop"]) + net + tax - gross_before
        )
        self.store.save("customers", customer)
        return line

    def _requantify(self, line: dict[str, Any], quantity: Decimal) -> None:
        """A new line quantity, in the line's selling unit, and the allocation that follows it."""
        despatched, invoiced = money(line["despatch_receipt_quantity"]), money(line["invoice_credit_quantity"])
        if quantity <= 0:
            raise BadRequest("The field 'line_quantity' must be greater than zero.")
        if quantity < max(despatched, invoiced):
            raise BadRequest(
                f"The field 'line_quantity' ({quantity}) must be at least {max(despatched, invoiced)}: line "
                f"{line['line_number']} has {despatched} despatched and {invoiced} invoiced."
            )
        ratio = money(line["selling_unit_multiple"]) / money(line["stock_unit_multiple"])
        line["line_quantity"] = quantity
        line["stock_unit_line_quantity"] = quantity * ratio
        # Sage's "allocate on order entry" again: what the line no longer needs goes back to free stock, and
        # what it needs more is allocated from free stock in whole selling units.
        holding = self.store.get("warehouse_holdings", line["warehouse_holding_id"])
        outstanding = quantity - despatched
        allocated = money(line["allocated_quantity"])
        if allocated > outstanding:
            change = outstanding - allocated
        else:
            free = (money(holding["free_stock_available"]) / ratio).to_integral_value(rounding=ROUND_FLOOR)
            change = max(ZERO, min(outstanding - allocated, free))
        if change:
            move_stock(self.store, holding, allocated=change * ratio)
        allocated += change
        line["allocated_quantity"] = allocated
        line["to_allocate_quantity"] = outstanding - allocated
        line["available_for_despatch"] = allocated
        line["stock_unit_allocated_quantity"] = allocated * ratio
        line["allocation_status"] = "Full" if allocated == outstanding else ("Part" if allocated else "None")

    def despatch(self, order_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Confirm a despatch: stock leaves the warehouse, the despatch note and its views appear. The
        warehouse may give the note its own number (`despatch_no`), else Sage numbers it."""
        order = self.order(order_id)
        day = parse_day(body, "date")
        courier_name = text(body, "courier_name", 60, default="")
        consignment_no = text(body, "consignment_no", 60, default="")
        notes = text(body, "notes", 256, default="")
        requested = requested_lines(order, body) or [
            (n, line, money(line["line_quantity"]) - money(line["despatch_receipt_quantity"]))
            for n, line in enumerate(order["lines"])
            if money(line["line_quantity"]) > money(line["despatch_receipt_quantity"])
        ]
        if not requested:
            raise BadRequest(f"Sales order {order['document_no']} has nothing left to despatch.")
        customer = self.store.get("customers", order["customer_id"])
        despatch = self.store.insert(
            "sop_despatch_receipts",
            {
                "despatch_no": self.document_number(body, "despatch_no", "despatch_number"),
                "despatched_by": "BackOffice",
                "despatch_date": sage_datetime(day),
                "courier_name": courier_name,
                "consignment_no": consignment_no,
                "pieces": int(body.get("pieces", 0)),
                "weight": money(body.get("weight", 0)),
                "notes": notes,
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
        for n, line, quantity in requested:
            self._despatch_line(order, line, quantity, n, despatch, view)
        refresh_progress(order)
        self.store.save("sop_orders", order)
        self._mark_invoiced_despatch_lines(order)
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
        line["stock_unit_allocated_quantity"] = line["allocated_quantity"] * ratio
        line["despatch_receipt_quantity"] += quantity
        line["stock_unit_despatch_receipt_quantity"] = line["despatch_receipt_quantity"] * ratio
        line["available_for_despatch"] = line["allocated_quantity"]
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
        """Invoice an order and post the sales invoice to the ledger: the quantities `lines` names, up to what
        is ordered and not invoiced (Sage can invoice before despatch), else what is despatched and not yet
        invoiced. The invoice may carry a number of the desk's own (`invoice_no`), else Sage numbers it."""
        order = self.order(order_id)
        day = parse_day(body, "date")
        to_invoice = self._quantities_to_invoice(order, body)
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
        invoice_no = self.document_number(body, "invoice_no", "sop_invoice_number")
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
        refresh_progress(order)
        self.store.save("sop_orders", order)
        self._mark_invoiced_despatch_lines(order)
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

    def _quantities_to_invoice(self, order: dict[str, Any], body: dict[str, Any]) -> list[tuple[dict, Decimal]]:
        """(line, quantity) pairs to invoice, one per line: those `lines` names, else what is despatched and
        not invoiced."""
        requested = requested_lines(order, body)
        if not requested:
            return [
                (line, money(line["despatch_receipt_quantity"]) - money(line["invoice_credit_quantity"]))
                for line in order["lines"]
                if money(line["despatch_receipt_quantity"]) > money(line["invoice_credit_quantity"])
            ]
        chosen: dict[int, tuple[dict[str, Any], Decimal]] = {}
        for n, line, quantity in requested:
            _, earlier = chosen.get(line["id"], (line, ZERO))
            open_quantity = money(line["line_quantity"]) - money(line["invoice_credit_quantity"]) - earlier
            if quantity <= 0 or quantity > open_quantity:
                raise BadRequest(
                    f"The field 'lines[{n}].quantity' ({quantity}) must be between 0 and {open_quantity} (ordered "
                    "and not invoiced)."
                )
            chosen[line["id"]] = (line, earlier + quantity)
        return list(chosen.values())

    def _mark_invoiced_despatch_lines(self, order: dict[str, Any]) -> None:
        """A despatch line is invoiced once its order line's invoiced quantity covers it, the line's earliest
        despatches first (an invoice before despatch covers despatches still to come)."""
        uncovered = {line["id"]: money(line["invoice_credit_quantity"]) for line in order["lines"]}
        views = self.store.find("sop_order_despatch_line_views", sop_order_id=order["id"])
        for view in sorted(views, key=lambda view: view["sop_despatch_line_id"]):
            uncovered[view["sop_order_line_id"]] -= money(view["sop_despatch_line_quantity"])
            is_invoiced = uncovered[view["sop_order_line_id"]] >= 0
            if view["sop_despatch_line_is_invoiced"] != is_invoiced:
                view["sop_despatch_line_is_invoiced"] = is_invoiced
                self.store.save("sop_order_despatch_line_views", view)

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


def line_progress(done: Any, line_quantity: Any) -> str:
    return "None" if money(done) == 0 else ("Complete" if money(done) == money(line_quantity) else "Partial")


def refresh_progress(order: dict[str, Any]) -> None:
    """Despatch and invoice statuses of the lines and the order. A line is complete once it is despatched and
    invoiced in full (invoicing before despatch leaves it open), the order once every line is."""
    for line in order["lines"]:
        line["despatch_receipt_status"] = line_progress(line["despatch_receipt_quantity"], line["line_quantity"])
        line["invoice_credit_status"] = line_progress(line["invoice_credit_quantity"], line["line_quantity"])
        line["is_complete"] = line["despatch_receipt_status"] == line["invoice_credit_status"] == "Complete"
    order["despatch_receipt_status"] = progress(order["lines"], "despatch_receipt_quantity")
    order["invoice_credit_status"] = progress(order["lines"], "invoice_credit_quantity")
    order["document_status"] = "Complete" if all(line["is_complete"] for line in order["lines"]) else "Live"


def requested_lines(order: dict[str, Any], body: dict[str, Any]) -> list[tuple[int, dict[str, Any], Decimal]]:
    """The body's `lines` [{sop_order_line_id, quantity}] as (position, order line, quantity); none when absent."""
    items = body.get("lines") or []
    if not isinstance(items, list):
        raise BadRequest("The field 'lines' must be an array.")
    by_id = {line["id"]: line for line in order["lines"]}
    requested = []
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadRequest(f"The field 'lines[{n}]' must be an object.")
        line = by_id.get(item.get("sop_order_line_id"))
        if line is None:
            raise BadRequest(f"The field 'lines[{n}].sop_order_line_id' is not a line of this order.")
        requested.append((n, line, parse_quantity(item.get("quantity"), f"lines[{n}].quantity")))
    return requested


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def strip_internal(entity: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entity.items() if key not in {"id", "date_time_created", "date_time_updated"}}


# (method, path pattern) → operation; `{id}` is a sales order id, or a customer id under customers/;
# `{line_id}` a sales order line id.
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
    ("post", "sop_orders/{id}/lines/{line_id}"): lambda ops, body, params: ops.amend_line(
        int(params["id"]), int(params["line_id"]), body
    ),
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
