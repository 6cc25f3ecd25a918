"""Purchase orders from Amazon's Selling Partner API (Vendor Orders v1) → the shared document model.

A poller outside this project calls `getPurchaseOrders` or `getPurchaseOrder` for a vendor code whose
`edi_standard` is `API` and saves each response body, unchanged, as a JSON file in that vendor code's inbox
folder. This module reads such a file: `{"payload": {"pagination": ..., "orders": [Order, ...]}}` or
`{"payload": Order}` (the shapes of `vendorOrders.json`).

Each order is one set. An order that cannot be read is quarantined alone, its position the JSON path of the
value at fault (`payload.orders[3].orderDetails.items[0].orderedQuantity.amount`); a file that is not JSON, or
not one of the two responses, is rejected whole (with the line and column where the JSON breaks).

SP-API files get no 997 or CONTRL: the API reports on what we send through its own transaction status.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pipelines.amazon.documents import (
    FileRejected,
    ParsedFile,
    ProductIdentifier,
    PurchaseOrder,
    PurchaseOrderLine,
    SetResult,
)

log = logging.getLogger(__name__)

# inbound_sets.document_type of an API order: the API model's name for it, as X12 says 850 and EDIFACT ORDERS.
DOCUMENT_TYPE = "Order"
SYNTAX_VERSION = "vendor/orders/v1"
# Our own marker, not an EDI code: the API gives the ship-to as `partyId`, Amazon's fulfilment-centre code
# (e.g. LTN1), and says nothing about what kind of identifier it is, so there is no X12 N103 to copy.
SHIP_TO_QUALIFIER = "API"
# purchaseOrderType → the X12 BEG02 code the rest of the system knows.
PO_TYPE_CODES = {
    "RegularOrder": "NE",
    "NewProductIntroduction": "NP",
    "RushOrder": "RO",
    "ConsignedOrder": "CN",
}
# Every API order is an original (X12 BEG01 "00"). The API has no cancelled state: purchaseOrderState is New,
# Acknowledged or Closed, and Closed means rejected by us, cancelled by Amazon or fully received alike. Amazon
# cancels item by item (the item's quantity becomes 0) and changes a PO in place (purchaseOrderChangedDate):
# both arrive as the same PO with new content, which the source stores as a new version.
PURPOSE_ORIGINAL = "00"
# netCost is per each unless its unitOfMeasure names a weight unit (POUNDS, OUNCES, GRAMS, KILOGRAMS).
PRICE_PER_EACH = "PE"
# The API's Decimal: a string, RFC 7159 number syntax (vendorOrders.json, definitions.Decimal).
_DECIMAL = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?")
# raw_amazon stores quantities as DECIMAL(18,5) and prices as DECIMAL(18,2): a larger value cannot be
# stored, and would fail the whole load rather than this one order.
MAX_QUANTITY = Decimal(10) ** 13
MAX_PRICE = Decimal(10) ** 16
_KINDS = {dict: "an object", list: "an array", str: "a string", int: "an integer", bool: "true or false"}


class OrderError(Exception):
    """An order that cannot become a document: why, and the JSON path of the value at fault."""

    def __init__(self, reason: str, path: str) -> None:
        super().__init__(f"{reason} (at {path})")
        self.reason = reason
        self.path = path


def read_spapi_orders(data: bytes, file_name: str = "", vendor_code: str | None = None) -> ParsedFile:
    """Read a saved `getPurchaseOrders` / `getPurchaseOrder` response: one `SetResult` per order.

    `vendor_code`, the inbox folder the file came from, must be each order's selling party when both are
    known: the orders are stored under the folder's vendor code, so an order of another vendor code is
    quarantined rather than filed under the wrong one. Raises `FileRejected` when the file is not such a response.
    """
    body = _json_body(data)
    sets: list[SetResult] = []
    first_position: dict[str, str] = {}
    for path, order in _orders(body):
        sets.append(_read_order(order, path, vendor_code, first_position))
    orders = [result.document for result in sets if isinstance(result.document, PurchaseOrder)]
    first = orders[0] if orders else None
    parsed = ParsedFile(
        format="SPAPI_JSON",
        # The API has no interchange envelope: the parties are the first order's buying and selling party.
        sender_id=first.buyer_id if first else None,
        receiver_id=first.supplier_id if first else None,
        interchange_control_number=None,
        syntax_version=SYNTAX_VERSION,
        sets=sets,
    )
    log.info(
        "read %s: %d orders (%d quarantined)",
        file_name or "SP-API data",
        len(sets),
        len(sets) - len(orders),
    )
    return parsed


# --- the file -------------------------------------------------------------------------------------------


def _json_body(data: bytes) -> dict[str, Any]:
    """The response body, parsed; numbers with a fraction as Decimal so no amount ever passes through float."""
    raw = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileRejected("not UTF-8, so not an SP-API response", _line_column(raw, error.start)) from None
    try:
        body = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise FileRejected(f"not valid JSON: {error.msg}", f"line {error.lineno}, column {error.colno}") from None
    except ArithmeticError:  # an exponent past what Decimal holds
        raise FileRejected("not valid JSON: a number out of range", "file") from None
    except (ValueError, RecursionError) as error:  # NaN/Infinity, a 5,000-digit integer, nesting past the stack
        raise FileRejected(f"not valid JSON: {error}", "file") from None
    if not isinstance(body, dict):
        raise FileRejected("not an SP-API response: the JSON is not an object", "file")
    return body


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _line_column(data: bytes, offset: int) -> str:
    """Where byte `offset` is, as a text editor counts (column in bytes)."""
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def _orders(body: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(JSON path, order) of every order in a GetPurchaseOrdersResponse or GetPurchaseOrderResponse."""
    payload = body.get("payload")
    if payload is None:
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            raise FileRejected(f"Amazon answered with errors, not orders: {_error_list(errors)}", "errors")
        raise FileRejected("not a getPurchaseOrders or getPurchaseOrder response: it has no payload", "payload")
    if not isinstance(payload, dict):
        raise FileRejected(f"payload is {_kind(payload)}, not an object", "payload")
    if "orders" in payload:
        orders = payload["orders"]
        if not isinstance(orders, list):
            raise FileRejected(f"payload.orders is {_kind(orders)}, not an array", "payload.orders")
        yield from ((f"payload.orders[{index}]", order) for index, order in enumerate(orders))
    elif "purchaseOrderNumber" in payload:
        yield "payload", payload
    else:
        raise FileRejected(
            "payload is neither an order list (getPurchaseOrders) nor an order (getPurchaseOrder)", "payload"
        )


def _error_list(errors: list[Any]) -> str:
    return "; ".join(
        f"{error.get('code')}: {error.get('message')}" if isinstance(error, dict) else str(error) for error in errors
    )


# --- one order ------------------------------------------------------------------------------------------


def _read_order(order: Any, path: str, vendor_code: str | None, first_position: dict[str, str]) -> SetResult:
    """One order as a set; `first_position` (PO number → path) keeps each PO number to one set per file."""
    number = order.get("purchaseOrderNumber") if isinstance(order, dict) else None
    repeated = isinstance(number, str) and number in first_position
    # The set's control number is the PO number; the order's path when it has none, or when the number was
    # already used in this file (a set's key in inbound_sets is file + control number + document type).
    if isinstance(number, str) and number.strip() and not repeated:
        control_number = number
        first_position[number] = path
    else:
        control_number = path
    try:
        if repeated:
            raise OrderError(
                f"purchase order {number} appears twice in this response (first at {first_position[number]})",
                f"{path}.purchaseOrderNumber",
            )
        document = _purchase_order(_object(order, path), path, vendor_code)
    except OrderError as error:
        return SetResult(control_number, DOCUMENT_TYPE, None, error=error.reason, position=error.path)
    return SetResult(control_number, DOCUMENT_TYPE, document)


def _purchase_order(order: dict[str, Any], path: str, vendor_code: str | None) -> PurchaseOrder:
    if "orderDetails" not in order:
        raise OrderError(
            "orderDetails is missing (a list fetched with includeDetails=false holds PO numbers only)",
            f"{path}.orderDetails",
        )
    details = _member_object(order, path, "orderDetails", required=True)
    at = f"{path}.orderDetails"
    supplier_id = _party_id(details, at, "sellingParty")
    if vendor_code is not None and supplier_id is not None and supplier_id != vendor_code:
        raise OrderError(
            f"the order is for vendor code {supplier_id}, but the file is in the folder of {vendor_code}",
            f"{at}.sellingParty.partyId",
        )
    lines, currency, backorder_allowed = _items(details, at)
    ship_to_id = _party_id(details, at, "shipToParty")
    window_start, window_end = _window(details, at)
    return PurchaseOrder(
        po_number=_required_text(order, path, "purchaseOrderNumber"),
        po_type=_po_type(details, at),
        purpose=PURPOSE_ORIGINAL,
        po_date=_utc_date(details, at, "purchaseOrderDate"),
        currency=currency,
        ship_to_qualifier=SHIP_TO_QUALIFIER if ship_to_id else None,
        ship_to_id=ship_to_id,
        buyer_id=_party_id(details, at, "buyingParty"),
        supplier_id=supplier_id,
        window_start=window_start,
        window_end=window_end,
        backorder_allowed=backorder_allowed,
        customer_reference=None,  # the API has no customer reference (X12 REF*CR)
        deal_number=_text(details, at, "dealCode"),
        lines=lines,
    )


def _po_type(details: dict[str, Any], at: str) -> str:
    value = _required_text(details, at, "purchaseOrderType")
    if value not in PO_TYPE_CODES:
        raise OrderError(
            f"purchaseOrderType {value!r} is none of {', '.join(PO_TYPE_CODES)}", f"{at}.purchaseOrderType"
        )
    return PO_TYPE_CODES[value]


def _window(details: dict[str, Any], at: str) -> tuple[date | None, date | None]:
    """The delivery window (prepaid freight) or, failing that, the ship window (collect freight), as UTC dates."""
    key = "deliveryWindow" if _text(details, at, "deliveryWindow") is not None else "shipWindow"
    interval = _text(details, at, key)
    if interval is None:
        return None, None
    here = f"{at}.{key}"
    start, separator, end = interval.partition("--")
    if not separator:
        raise OrderError(f"{key} {interval!r} is not an interval start--end", here)
    window_start, window_end = _parse_utc_date(start, here, key), _parse_utc_date(end, here, key)
    if window_end < window_start:
        raise OrderError(f"{key} {interval!r} ends before it starts", here)
    return window_start, window_end


def _party_id(details: dict[str, Any], at: str, key: str) -> str | None:
    party = _member_object(details, at, key)
    return _required_text(party, f"{at}.{key}", "partyId") if party is not None else None


# --- items ----------------------------------------------------------------------------------------------


def _items(details: dict[str, Any], at: str) -> tuple[tuple[PurchaseOrderLine, ...], str | None, bool]:
    """The lines, the order's currency (every priced item's netCost currency; they must agree) and whether
    backorders are allowed (the API says it per item, the model per order: only if every item allows it)."""
    items = _member_array(details, at, "items")
    if not items:
        raise OrderError("the order has no items", f"{at}.items")
    lines: list[PurchaseOrderLine] = []
    currencies: dict[str, str] = {}  # currency → the first item priced in it
    backorder_allowed = True
    for index, item in enumerate(items):
        here = f"{at}.items[{index}]"
        _object(item, here)
        line, currency = _line(item, here)
        lines.append(line)
        backorder_allowed &= _boolean(item, here, "isBackOrderAllowed")
        if currency is not None:
            currencies.setdefault(currency, here)
            if len(currencies) > 1:
                first_currency, first_item = next(iter(currencies.items()))
                raise OrderError(
                    f"netCost in {currency} while {first_item} is in {first_currency}: one order, one currency",
                    f"{here}.netCost.currencyCode",
                )
    return tuple(lines), next(iter(currencies), None), backorder_allowed


def _line(item: dict[str, Any], here: str) -> tuple[PurchaseOrderLine, str | None]:
    quantity = _member_object(item, here, "orderedQuantity", required=True)
    quantity_at = f"{here}.orderedQuantity"
    amount = _integer(quantity, quantity_at, "amount", required=True, minimum=0)
    unit_size = _integer(quantity, quantity_at, "unitSize", minimum=1)
    unit_price, price_basis, currency = _net_cost(item, here)
    # The ASIN, then the vendor's own identifier: the API's OrderItem has no EAN or UPC field.
    identifiers = [
        ProductIdentifier(qualifier, value)
        for qualifier, key in (("BP", "amazonProductIdentifier"), ("VN", "vendorProductIdentifier"))
        if (value := _text(item, here, key)) is not None
    ]
    line = PurchaseOrderLine(
        line_id=_required_text(item, here, "itemSequenceNumber"),
        quantity=Decimal(amount),
        unit_of_measure=_required_text(quantity, quantity_at, "unitOfMeasure"),  # Cases / Eaches as sent
        unit_size=Decimal(unit_size) if unit_size is not None else None,
        unit_price=unit_price,
        price_basis=price_basis,
        identifiers=tuple(identifiers),
    )
    return line, currency


def _net_cost(item: dict[str, Any], here: str) -> tuple[Decimal | None, str | None, str | None]:
    """(unit price, price basis, currency) of an item's netCost: per each (PE) unless it names a weight unit,
    which is kept as sent (e.g. POUNDS) so a price per pound never passes for a price per each."""
    cost = _member_object(item, here, "netCost")
    if cost is None:
        return None, None, None
    at = f"{here}.netCost"
    return (
        _amount(cost, at, "amount"),
        _text(cost, at, "unitOfMeasure") or PRICE_PER_EACH,
        _text(cost, at, "currencyCode"),
    )


def _amount(parent: dict[str, Any], at: str, key: str) -> Decimal:
    here = f"{at}.{key}"
    value = parent.get(key)
    if value is None:
        raise OrderError(f"{key} is missing", here)
    # The API sends a string; a JSON number is read the same way (parsed as Decimal, never float).
    if not (type(value) in (int, Decimal) or (isinstance(value, str) and _DECIMAL.fullmatch(value))):
        raise OrderError(f"{key} {value!r} is not a decimal number", here)
    try:
        amount = Decimal(value)
    except InvalidOperation:  # an exponent past what Decimal holds
        raise OrderError(f"{key} {value} is out of range", here) from None
    if amount < 0:
        raise OrderError(f"{key} {value} is negative", here)
    if amount >= MAX_PRICE:
        raise OrderError(f"{key} {value} is too large to be a unit price", here)
    return amount


# --- values ---------------------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Decimal):
        return "a number"
    return next((name for kind, name in _KINDS.items() if type(value) is kind), type(value).__name__)


def _object(value: Any, here: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise OrderError(f"expected an object, found {_kind(value)}", here)
    return value


def _member(parent: dict[str, Any], at: str, key: str, kind: type, required: bool) -> Any:
    """parent[key] of the JSON type `kind`; None when absent or null and not required."""
    value = parent.get(key)
    if value is None:
        if required:
            raise OrderError(f"{key} is missing", f"{at}.{key}")
        return None
    if type(value) is not kind:
        raise OrderError(f"{key} is {_kind(value)}, not {_KINDS[kind]}", f"{at}.{key}")
    return value


def _member_object(parent: dict[str, Any], at: str, key: str, required: bool = False) -> Any:
    return _member(parent, at, key, dict, required)


def _member_array(parent: dict[str, Any], at: str, key: str) -> list[Any]:
    return _member(parent, at, key, list, required=True)


def _text(parent: dict[str, Any], at: str, key: str) -> str | None:
    """An optional string member; an empty one counts as absent."""
    value = _member(parent, at, key, str, required=False)
    return value if value is not None and value.strip() else None


def _required_text(parent: dict[str, Any], at: str, key: str) -> str:
    value = _member(parent, at, key, str, required=True)
    if not value.strip():
        raise OrderError(f"{key} is empty", f"{at}.{key}")
    return value


def _boolean(parent: dict[str, Any], at: str, key: str) -> bool:
    return _member(parent, at, key, bool, required=True)


def _integer(parent: dict[str, Any], at: str, key: str, *, minimum: int, required: bool = False) -> int | None:
    value = _member(parent, at, key, int, required)
    if value is None:
        return None
    if value < minimum:
        raise OrderError(f"{key} {value} is less than {minimum}", f"{at}.{key}")
    if value >= MAX_QUANTITY:
        raise OrderError(f"{key} {value} is too large to be a quantity", f"{at}.{key}")
    return value


def _utc_date(parent: dict[str, Any], at: str, key: str) -> date:
    return _parse_utc_date(_required_text(parent, at, key), f"{at}.{key}", key)


def _parse_utc_date(value: str, here: str, what: str) -> date:
    """The UTC date of an ISO-8601 date-time; one without a UTC offset is refused, not guessed."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise OrderError(f"{what} {value!r} is not an ISO-8601 date-time", here) from None
    if moment.tzinfo is None:
        raise OrderError(f"{what} {value!r} has no UTC offset", here)
    try:
        return moment.astimezone(UTC).date()
    except OverflowError:  # year 1 or 9999 pushed past the calendar by its offset
        raise OrderError(f"{what} {value!r} is out of range", here) from None
