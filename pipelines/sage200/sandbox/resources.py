"""The Sage 200 API resources the sandbox implements: reads, master-data creation, sales orders, postings.

Each handler takes the request context and returns the JSON-able answer. Reads are generic (a stored
document per entity, filtered by OData); writes check what Sage checks (foreign keys, uniqueness, the
rules behind each posting) before storing anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pipelines.sage200.sandbox import conventions as c
from pipelines.sage200.sandbox.errors import BadRequest, NotFound
from pipelines.sage200.sandbox.ledger import ZERO, Ledger, business_date, money, sage_datetime
from pipelines.sage200.sandbox.store import SQLITE_MAX_INTEGER, Store

# Sage's product statuses as its schema describes them ('Active' / 'Inactive'; at most 20 characters).
ACTIVE_PRODUCT = "Active"

# Nested collections Sage returns only when asked for with $expand.
EXPANDABLE = {"sop_orders": {"lines"}, "products": {"units", "warehouse_holdings"}}


@dataclass
class Request:
    """One API call after routing: path parameters, query options and the parsed JSON body."""

    store: Store
    today: date
    params: dict[str, str]
    options: dict[str, str]
    body: Any = None
    expand: set[str] = field(default_factory=set)

    @property
    def ledger(self) -> Ledger:
        return Ledger(self.store, self.today)


def round_money(value: Any) -> Decimal:
    return money(value).quantize(c.PENNY, rounding=ROUND_HALF_UP)


def path_id(request: Request, name: str = "Id") -> int:
    value = request.params[name]
    if not value.isdigit() or int(value) > SQLITE_MAX_INTEGER:
        raise NotFound(f"'{value}' is not a valid id.")
    return int(value)


def existing(store: Store, resource: str, entity_id: Any, field_name: str) -> dict[str, Any]:
    entity = store.get(resource, entity_id) if isinstance(entity_id, int) else None
    if entity is None:
        raise BadRequest(f"The field '{field_name}' refers to {resource} id {entity_id}, which does not exist.")
    return entity


def require_unique(store: Store, resource: str, field_name: str, **equals: Any) -> None:
    if store.find(resource, **equals):
        values = ", ".join(f"{value!r}" for value in equals.values())
        raise BadRequest(f"The field '{field_name}' must be unique: {values} is already used.")


# master data --------------------------------------------------------------------------------------
def create_customer(request: Request) -> dict[str, Any]:
    body = request.body
    require_unique(request.store, "customers", "reference", reference=body["reference"])
    if "default_tax_code_id" in body:
        existing(request.store, "tax_codes", body["default_tax_code_id"], "default_tax_code_id")
    if "price_band_id" in body:
        band = existing(request.store, "price_bands", body["price_band_id"], "price_band_id")
    else:
        band = standard_price_band(request.store)  # Sage's default for a new account
    defaults = {
        "short_name": body["reference"],
        "balance": ZERO,
        "on_hold": False,
        "account_status_type": "AccountStatusActive",
        "credit_limit": ZERO,
        "payment_terms_days": 30,
        "payment_terms_basis": "DaysAfterInvoiceDate",
        "currency_id": 1,
        "average_time_to_pay": 0,
        "value_of_current_orders_in_sop": ZERO,
    }
    customer = defaults | body
    if band is not None:
        assign_price_band(customer, band)
    return request.store.insert("customers", customer)


def create_nominal_code(request: Request) -> dict[str, Any]:
    body = dict(request.body)
    existing(request.store, "nominal_report_categories", body["report_category_id"], "report_category_id")
    cost_centre = department = ""
    if "cost_centre_id" in body:
        cost_centre = existing(request.store, "cost_centres", body["cost_centre_id"], "cost_centre_id")["code"]
    if "department_id" in body:
        department = existing(request.store, "departments", body["department_id"], "department_id")["code"]
    require_unique(
        request.store,
        "nominal_codes",
        "reference",
        reference=body["reference"],
        cost_centre_code=cost_centre,
        department_code=department,
    )
    totals = {
        "balance_year_to_date": ZERO,
        "debit_balance_year_to_date": ZERO,
        "credit_balance_year_to_date": ZERO,
    }
    return request.store.insert(
        "nominal_codes",
        {"name": "", "account_status_type": "AccountStatusActive", "brought_forward_balance": ZERO}
        | body
        | {"cost_centre_code": cost_centre, "department_code": department}
        | totals,
    )


def create_coded(resource: str) -> Callable[[Request], dict[str, Any]]:
    """Cost centres and departments: a unique code and a name."""

    def create(request: Request) -> dict[str, Any]:
        require_unique(request.store, resource, "code", code=request.body.get("code", ""))
        return request.store.insert(resource, {"code": "", "name": ""} | request.body)

    return create


def create_bank(request: Request) -> dict[str, Any]:
    body = request.body
    require_unique(request.store, "banks", "code", code=body["code"])
    bank = {
        "description": "",
        "account_type": "Current",
        "account_status_type": "AccountStatusActive",
        "balance": ZERO,
        "balance_in_base": ZERO,
        "statement_balance": ZERO,
        "account_currency_id": 1,
        "bank_account_nominal_reference": "",
        "bank_account_nominal_cost_centre": "",
        "bank_account_nominal_department": "",
    } | body
    request.ledger.bank_nominal(bank | {"code": body["code"]})  # Sage refuses a bank without a real nominal
    return request.store.insert("banks", bank)


def create_warehouse(request: Request) -> dict[str, Any]:
    require_unique(request.store, "warehouses", "name", name=request.body["name"])
    return request.store.insert("warehouses", {"description": ""} | request.body)


def create_product(request: Request) -> dict[str, Any]:
    store = request.store
    body = dict(request.body)
    require_unique(store, "products", "code", code=body["code"])
    existing(store, "product_groups", body["product_group_id"], "product_group_id")
    if "tax_code_id" in body:
        existing(store, "tax_codes", body["tax_code_id"], "tax_code_id")
    base_unit_id = body.get("base_unit_id")
    if base_unit_id is None:
        raise BadRequest("The field 'base_unit_id' is required: the sandbox has no default unit.")
    base_unit = existing(store, "units", base_unit_id, "base_unit_id")
    units = [{"unit_id": base_unit_id, "multiple_of_base_unit": Decimal(1)}]
    units += [unit for unit in body.get("units", []) if unit.get("unit_id") != base_unit_id]
    product_units = []
    for n, unit in enumerate(units):
        unit_entity = existing(store, "units", unit.get("unit_id"), f"units[{n}].unit_id")
        multiple = money(unit.get("multiple_of_base_unit", unit_entity.get("multiple_of_base_unit", 1)))
        if multiple <= 0:
            raise BadRequest(f"The field 'units[{n}].multiple_of_base_unit' must be greater than zero.")
        product_units.append(
            {
                "id": store.next_value("id:product_units"),
                "unit_id": unit_entity["id"],
                "unit_type": "Base" if unit_entity["id"] == base_unit_id else "Additional",
                "multiple_of_base_unit": multiple,
                "unit_precision": Decimal(0),
                "use_own_price": False,
                "has_sop_or_pop_documents": False,
                "unit": {"id": unit_entity["id"], "name": unit_entity["name"]},
            }
        )
    stock_unit_id = body.get("stock_unit_id", base_unit_id)
    if stock_unit_id not in {unit["unit_id"] for unit in product_units}:
        raise BadRequest("The field 'stock_unit_id' must be one of the product's units.")
    for unit in product_units:
        if unit["unit_id"] == stock_unit_id and unit["unit_type"] != "Base":
            unit["unit_type"] = "Stock"
    product = {
        "description": "",
        "barcode": "",
        "allow_sales_order": True,
        "product_status_type": ACTIVE_PRODUCT,
        "free_stock_quantity": Decimal(0),
        "stock_unit_id": stock_unit_id,
        "base_unit": {"id": base_unit["id"], "name": base_unit["name"]},
    } | body
    product["units"] = product_units
    product["warehouse_holdings"] = []
    created = store.insert("products", product)
    for unit in product_units:
        unit["product_id"] = created["id"]
    price_in_every_band(store, created)
    return store.save("products", created)


def create_warehouse_holding(request: Request) -> dict[str, Any]:
    store = request.store
    body = request.body
    product = existing(store, "products", body["product_id"], "product_id")
    warehouse = existing(store, "warehouses", body["warehouse_id"], "warehouse_id")
    if store.find("warehouse_holdings", product_id=product["id"], warehouse_id=warehouse["id"]):
        raise BadRequest(f"Product {product['code']} already has a holding in warehouse {warehouse['name']}.")
    quantities = dict.fromkeys(
        (
            "quantity_reserved",
            "confirmed_qty_in_stock",
            "unconfirmed_qty_in_stock",
            "quantity_in_stock",
            "quantity_in_stock_less_reserved",
            "quantity_on_order",
            "quantity_allocated_stock",
            "quantity_allocated_sop",
            "quantity_allocated_bom",
            "quantity_allocated",
            "free_stock_available",
            "free_stock_available_less_reserved",
        ),
        Decimal(0),
    )
    holding = store.insert(
        "warehouse_holdings",
        {"reorder_level": Decimal(0), "minimum_level": Decimal(0), "maximum_level": Decimal(0)}
        | body
        | quantities
        | {"warehouse_name": warehouse["name"]},
    )
    product["warehouse_holdings"].append(
        {"id": holding["id"], "product_id": product["id"], "warehouse_id": warehouse["id"]}
    )
    store.save("products", product)
    return holding


def move_stock(store: Store, holding: dict[str, Any], *, in_stock: Decimal = ZERO, allocated: Decimal = ZERO) -> None:
    """Change stock and SOP allocation on a holding, keeping Sage's derived quantities consistent."""
    holding["confirmed_qty_in_stock"] = money(holding["confirmed_qty_in_stock"]) + in_stock
    holding["quantity_allocated_sop"] = money(holding["quantity_allocated_sop"]) + allocated
    holding["quantity_in_stock"] = holding["confirmed_qty_in_stock"] + money(holding["unconfirmed_qty_in_stock"])
    holding["quantity_allocated"] = (
        holding["quantity_allocated_sop"]
        + money(holding["quantity_allocated_stock"])
        + money(holding["quantity_allocated_bom"])
    )
    holding["quantity_in_stock_less_reserved"] = holding["quantity_in_stock"] - money(holding["quantity_reserved"])
    holding["free_stock_available"] = holding["quantity_in_stock"] - holding["quantity_allocated"]
    holding["free_stock_available_less_reserved"] = holding["free_stock_available"] - money(
        holding["quantity_reserved"]
    )
    store.save("warehouse_holdings", holding)
    product = store.get("products", holding["product_id"])
    product["free_stock_quantity"] = sum(
        (money(h["free_stock_available"]) for h in store.find("warehouse_holdings", product_id=product["id"])),
        ZERO,
    )
    store.save("products", product)


# price book ---------------------------------------------------------------------------------------
# Sage's API only reads the price book; the back office creates bands and sets prices. The sandbox's
# reading of what Sage does is in docs/sage200-sandbox.md ("Price book").

# The company's base currency: the sandbox has no other, so every price band is priced in it.
BASE_CURRENCY = {"id": 1, "name": "Pound Sterling", "symbol": "£"}
# price_band_type_id 0 is a Universal band (any customer may be linked to it), 1 a Limited one.
UNIVERSAL_BAND_TYPE_ID, UNIVERSAL_BAND_TYPE = 0, "Universal"
# Sage keeps selling prices to up to 5 decimal places (sop_order_line.selling_unit_price is `decimal 5dp`),
# although product_price_view declares its price `decimal 2dp`: the sandbox keeps what was set.
PRICE_PLACES = 5


def standard_price_band(store: Store) -> dict[str, Any] | None:
    """The company's standard band: Sage always has one, the sandbox once the back office has created it."""
    bands = store.find("price_bands", is_standard_band=True)
    return bands[0] if bands else None


def assign_price_band(customer: dict[str, Any], band: dict[str, Any]) -> None:
    """Link a customer to a band: `price_band_id`, and the nested `price_band` Sage answers beside it."""
    customer["price_band_id"] = band["id"]
    customer["price_band"] = {key: band[key] for key in ("id", "name", "description", "is_standard_band")}


def standard_price(store: Store, product_id: int, standard_band: dict[str, Any] | None) -> Decimal:
    """The product's price in the standard band; 0 (Sage's default selling price) while it has none."""
    if standard_band is None:
        return ZERO
    rows = store.find("product_price_views", product_id=product_id, price_band_id=standard_band["id"])
    return money(rows[0]["product_price_price"]) if rows else ZERO


def insert_product_price(
    store: Store, product: dict[str, Any], band: dict[str, Any], standard_band: dict[str, Any] | None
) -> dict[str, Any]:
    """A product's price in a band, as Sage adds one: 0 in the standard band, linked to the standard price
    (`product_price_use_standard`) in any other."""
    linked = not band["is_standard_band"]
    stock_unit = next(u["unit"]["name"] for u in product["units"] if u["unit_id"] == product["stock_unit_id"])
    return store.insert(
        "product_price_views",
        {
            "product_price_id": store.next_value("id:product_prices"),
            "product_id": product["id"],
            "product_code": product["code"],
            "product_name": product["name"],
            "product_stock_unit_name": stock_unit[:20],
            "price_band_id": band["id"],
            "price_band_name": band["name"],
            "product_price_use_standard": linked,
            "product_price_price": standard_price(store, product["id"], standard_band) if linked else ZERO,
            "currency_id": BASE_CURRENCY["id"],
            "currency_name": BASE_CURRENCY["name"],
            "currency_symbol": BASE_CURRENCY["symbol"],
        },
    )


def price_in_every_band(store: Store, product: dict[str, Any]) -> None:
    """A new product is priced in every band there is."""
    standard_band = standard_price_band(store)
    for band in store.find("price_bands"):
        insert_product_price(store, product, band, standard_band)


def price_every_product(store: Store, band: dict[str, Any]) -> None:
    """A new band prices every product there is (linked to the standard price unless it is the standard)."""
    standard_band = standard_price_band(store)
    for product in store.find("products"):
        insert_product_price(store, product, band, standard_band)


def set_band_price(store: Store, product: dict[str, Any], band: dict[str, Any], price: Decimal) -> dict[str, Any]:
    """Set a product's own price (per its stock unit) in a band, replacing the one there.

    A new standard price reaches every band whose price is linked to it. Those rows keep their
    date_time_updated: their own record did not change, only the standard price they show.
    """
    rows = store.find("product_price_views", product_id=product["id"], price_band_id=band["id"])
    row = rows[0] if rows else insert_product_price(store, product, band, standard_price_band(store))
    row["product_price_price"] = price
    row["product_price_use_standard"] = False
    row = store.save("product_price_views", row)
    if band["is_standard_band"]:
        for linked in store.find("product_price_views", product_id=product["id"]):
            if linked["product_price_use_standard"] and money(linked["product_price_price"]) != price:
                linked["product_price_price"] = price
                store.save("product_price_views", linked, touch=False)
    return row


def product_price_view(row: dict[str, Any]) -> dict[str, Any]:
    """A stored price as GET /product_price_views answers it (the view has no id or creation stamp)."""
    return {key: value for key, value in row.items() if key not in {"id", "date_time_created"}}


# sales orders -------------------------------------------------------------------------------------
def unit_multiple(product: dict[str, Any], unit_id: int, field_name: str) -> Decimal:
    for unit in product["units"]:
        if unit["unit_id"] == unit_id:
            return money(unit["multiple_of_base_unit"])
    raise BadRequest(f"The field '{field_name}' must be one of product {product['code']}'s units.")


def order_line(request: Request, customer: dict[str, Any], line: dict[str, Any], n: int) -> dict[str, Any]:
    """One standard order line: units, price, VAT and stock allocation the way Sage works them out."""
    store = request.store
    field_name = f"lines[{n}]"
    if line["line_type"] != "EnumLineTypeStandard":
        raise BadRequest(f"The field '{field_name}.line_type' must be EnumLineTypeStandard in the sandbox.")
    product = existing(store, "products", line["product_id"], f"{field_name}.product_id")
    warehouse = existing(store, "warehouses", line["warehouse_id"], f"{field_name}.warehouse_id")
    if not product.get("allow_sales_order", True) or product.get("product_status_type") != ACTIVE_PRODUCT:
        raise BadRequest(f"Product {product['code']} cannot be sold: it is not active for sales orders.")
    holdings = store.find("warehouse_holdings", product_id=product["id"], warehouse_id=warehouse["id"])
    if not holdings:
        raise BadRequest(f"Product {product['code']} is not held in warehouse {warehouse['name']}.")
    quantity = money(line["line_quantity"])
    if quantity <= 0:
        raise BadRequest(f"The field '{field_name}.line_quantity' must be greater than zero.")
    selling_unit_id = line.get("selling_unit_id", product["base_unit"]["id"])
    selling_multiple = unit_multiple(product, selling_unit_id, f"{field_name}.selling_unit_id")
    stock_multiple = unit_multiple(product, product["stock_unit_id"], "stock_unit_id")
    if "selling_unit_price" not in line:
        raise BadRequest(
            f"The sandbox does not price order lines from the price book: "
            f"the field '{field_name}.selling_unit_price' is required."
        )
    price = money(line["selling_unit_price"])
    tax_code_id = line.get("tax_code_id", product.get("tax_code_id", customer.get("default_tax_code_id")))
    tax_code = existing(store, "tax_codes", tax_code_id, f"{field_name}.tax_code_id")
    discount = money(line.get("unit_discount_value"))
    net = round_money(quantity * (price - discount))
    tax = round_money(net * money(tax_code["tax_rate"]) / 100)
    stock_quantity = quantity * selling_multiple / stock_multiple
    holding = holdings[0]
    # Sage's default "allocate on order entry": allocate what free stock covers, in whole selling units.
    free_in_selling_units = (
        money(holding["free_stock_available"]) * stock_multiple / selling_multiple
    ).to_integral_value(rounding="ROUND_FLOOR")
    allocated = max(ZERO, min(quantity, free_in_selling_units))
    move_stock(store, holding, allocated=allocated * selling_multiple / stock_multiple)
    selling_unit_name = next(u["unit"]["name"] for u in product["units"] if u["unit_id"] == selling_unit_id)
    return {
        "id": store.next_value("id:sop_order_lines"),
        "line_type": "EnumLineTypeStandard",
        "product_id": product["id"],
        "warehouse_id": warehouse["id"],
        "code": line["code"],
        "description": line["description"],
        "line_quantity": quantity,
        "line_number": n + 1,
        "tax_code_id": tax_code["id"],
        "nominal_reference": line.get("nominal_reference", ""),
        "nominal_cost_centre": line.get("nominal_cost_centre", ""),
        "nominal_department": line.get("nominal_department", ""),
        "allocated_quantity": allocated,
        "to_allocate_quantity": quantity - allocated,
        "despatch_receipt_quantity": ZERO,
        "invoice_credit_quantity": ZERO,
        "posted_invoice_credit_quantity": ZERO,
        "available_for_despatch": allocated,
        "stock_unit_line_quantity": stock_quantity,
        "stock_unit_allocated_quantity": allocated * selling_multiple / stock_multiple,
        "stock_unit_despatch_receipt_quantity": ZERO,
        "stock_unit_invoice_credit_quantity": ZERO,
        "allocation_status": "Full" if allocated == quantity else ("Part" if allocated else "None"),
        "despatch_receipt_status": "None",
        "invoice_credit_status": "None",
        "selling_unit_id": selling_unit_id,
        "selling_unit_description": selling_unit_name[:20],
        "selling_unit_price": price,
        "pricing_unit_id": selling_unit_id,
        "unit_discount_value": discount,
        "discounted_unit_price": price - discount,
        "selling_unit_multiple": selling_multiple,
        "stock_unit_multiple": stock_multiple,
        "line_total_value": net,
        "line_tax_value": tax,
        "requested_delivery_date": line.get("requested_delivery_date", ""),
        "promised_delivery_date": line.get("promised_delivery_date", ""),
        "is_complete": False,
        "warehouse_holding_id": holding["id"],
        # Sage keeps whatever a client puts in its spare fields; avc2sage keeps Amazon's PO line id here.
        "spare_text_1": line.get("spare_text_1", ""),
    }


def create_sop_order(request: Request) -> dict[str, Any]:
    store = request.store
    body = request.body
    customer = request.ledger.customer(body["customer_id"])
    if not body.get("lines"):
        raise BadRequest("The field 'lines' must have at least one line.")
    document_no = body["document_no"] or f"{store.next_value('sop_order_number'):010d}"
    require_unique(store, "sop_orders", "document_no", document_no=document_no)
    lines = [order_line(request, customer, line, n) for n, line in enumerate(body["lines"])]
    for line in lines:
        line["requested_delivery_date"] = line["requested_delivery_date"] or body.get("requested_delivery_date", "")
    net = sum((line["line_total_value"] for line in lines), ZERO)
    tax = sum((line["line_tax_value"] for line in lines), ZERO)
    order = store.insert(
        "sop_orders",
        {
            "customer_document_no": "",
            "document_date": sage_datetime(request.today),
            "requested_delivery_date": "",
            "promised_delivery_date": "",
        }
        | {key: value for key, value in body.items() if key != "lines"}
        | {
            "document_no": document_no,
            "is_draft": False,
            "document_status": "Live",
            "despatch_receipt_status": "None",
            "invoice_credit_status": "None",
            "cancelled_status": "None",
            "currency_id": customer.get("currency_id", 1),
            "subtotal_goods_value": net,
            "subtotal_charge_net_value": ZERO,
            "subtotal_charge_tax_value": ZERO,
            "subtotal_discount_value": ZERO,
            "total_net_value": net,
            "total_tax_value": tax,
            "total_gross_value": net + tax,
            "customer": {"id": customer["id"], "reference": customer["reference"], "name": customer["name"]},
            "lines": lines,
        },
    )
    for line in order["lines"]:
        line["sop_order_id"] = order["id"]
    customer["value_of_current_orders_in_sop"] = money(customer.get("value_of_current_orders_in_sop")) + net + tax
    store.save("customers", customer)
    return store.save("sop_orders", order)


def sop_order_lines(request: Request) -> list[dict[str, Any]]:
    order = request.store.get("sop_orders", path_id(request, "sopOrderId"))
    if order is None:
        raise NotFound(f"Sales order {request.params['sopOrderId']} does not exist.")
    return order["lines"]


def sop_order_line(request: Request) -> dict[str, Any]:
    line_id = path_id(request)
    for line in sop_order_lines(request):
        if line["id"] == line_id:
            return line
    raise NotFound(f"Sales order line {line_id} does not exist on order {request.params['sopOrderId']}.")


# postings -----------------------------------------------------------------------------------------
def post_sales_invoice(request: Request) -> dict[str, Any]:
    return {"urn": str(request.ledger.post_sales_document(request.body, c.INVOICE)["urn"])}


def post_sales_credit_note(request: Request) -> dict[str, Any]:
    return {"urn": str(request.ledger.post_sales_document(request.body, c.CREDIT_NOTE)["urn"])}


def post_sales_receipt(request: Request) -> dict[str, Any]:
    return {"urn": str(request.ledger.post_sales_receipt(request.body)["urn"])}


def post_sales_allocation(request: Request) -> dict[str, Any]:
    return request.ledger.allocate(request.body)


def post_bank_payment(request: Request) -> dict[str, Any]:
    return request.ledger.post_bank_entry(request.body, payment=True)


def post_bank_receipt(request: Request) -> dict[str, Any]:
    return request.ledger.post_bank_entry(request.body, payment=False)


def post_bank_transfer(request: Request) -> dict[str, Any]:
    return request.ledger.post_bank_transfer(request.body)


def validate_transaction_date(request: Request) -> dict[str, Any]:
    day = business_date(request.body.get("date"), request.today)
    classification, message = request.ledger.classify_date(day)
    return {"classification": classification, "message": message}


# routing tables -----------------------------------------------------------------------------------
# (spec path template) → (stored resource, {path parameter: field it scopes by}) for every list read.
LISTS: dict[str, tuple[str, dict[str, str]]] = {
    "/customers": ("customers", {}),
    "/products": ("products", {}),
    "/product_groups": ("product_groups", {}),
    "/units": ("units", {}),
    "/warehouses": ("warehouses", {}),
    "/warehouse_holdings": ("warehouse_holdings", {}),
    "/products/{productId}/warehouse_holdings": ("warehouse_holdings", {"productId": "product_id"}),
    "/warehouses/{warehouseId}/warehouse_holdings": ("warehouse_holdings", {"warehouseId": "warehouse_id"}),
    "/sop_orders": ("sop_orders", {}),
    "/customers/{customerId}/sop_orders": ("sop_orders", {"customerId": "customer_id"}),
    "/sop_despatch_receipts": ("sop_despatch_receipts", {}),
    "/sop_order_despatch_views": ("sop_order_despatch_views", {}),
    "/sop_order_despatch_line_views": ("sop_order_despatch_line_views", {}),
    "/sop_order_return_invoice_credit_views": ("sop_order_return_invoice_credit_views", {}),
    "/sop_order_return_line_invoice_credit_views": ("sop_order_return_line_invoice_credit_views", {}),
    "/sales_posted_transactions": ("sales_posted_transactions", {}),
    "/customers/{customerId}/sales_posted_transactions": (
        "sales_posted_transactions",
        {"customerId": "customer_id"},
    ),
    "/banks": ("banks", {}),
    "/bank_posted_transactions": ("bank_posted_transactions", {}),
    "/banks/{bankId}/bank_posted_transactions": ("bank_posted_transactions", {"bankId": "bank_id"}),
    "/nominal_codes": ("nominal_codes", {}),
    "/nominal_report_categories": ("nominal_report_categories", {}),
    "/control_nominal_codes": ("control_nominal_codes", {}),
    "/cost_centres": ("cost_centres", {}),
    "/departments": ("departments", {}),
    "/tax_codes": ("tax_codes", {}),
    "/financial_year_period_views": ("financial_year_period_views", {}),
    "/price_bands": ("price_bands", {}),
    "/product_price_views": ("product_price_views", {}),
}

# (spec path template) → stored resource, for reads of one entity by id.
ITEMS: dict[str, str] = {
    f"/{resource}/{{Id}}": resource
    for resource in (
        "customers",
        "products",
        "product_groups",
        "units",
        "warehouses",
        "warehouse_holdings",
        "sop_orders",
        "sop_despatch_receipts",
        "sales_posted_transactions",
        "banks",
        "bank_posted_transactions",
        "nominal_codes",
        "nominal_report_categories",
        "control_nominal_codes",
        "cost_centres",
        "departments",
        "tax_codes",
        "price_bands",
    )
}

# (method, spec path template) → handler for everything that is not a plain stored read.
HANDLERS: dict[tuple[str, str], Callable[[Request], Any]] = {
    ("post", "/customers"): create_customer,
    ("post", "/nominal_codes"): create_nominal_code,
    ("post", "/cost_centres"): create_coded("cost_centres"),
    ("post", "/departments"): create_coded("departments"),
    ("post", "/banks"): create_bank,
    ("post", "/warehouses"): create_warehouse,
    ("post", "/products"): create_product,
    ("post", "/warehouse_holdings"): create_warehouse_holding,
    ("post", "/sop_orders"): create_sop_order,
    ("get", "/sop_orders/{sopOrderId}/sop_order_lines"): sop_order_lines,
    ("get", "/sop_orders/{sopOrderId}/sop_order_lines/{Id}"): sop_order_line,
    ("post", "/sales_invoices"): post_sales_invoice,
    ("post", "/sales_credit_notes"): post_sales_credit_note,
    ("post", "/sales_receipts"): post_sales_receipt,
    ("post", "/sales_allocations"): post_sales_allocation,
    ("post", "/bank_payment"): post_bank_payment,
    ("post", "/bank_receipt"): post_bank_receipt,
    ("post", "/bank_transfer"): post_bank_transfer,
    ("post", "/transaction_date_validation"): validate_transaction_date,
}
