"""Amazon's SP-API vendor models as the check every JSON request passes before it leaves us.

The models (Vendor Orders, Vendor Shipments, Vendor Invoices) are vendored unchanged in ``pipelines/amazon/spapi``.
`request_validator` turns one request definition of a model into a JSON Schema draft 4 validator (Swagger 2.0
schemas are a subset of draft 4), its ``#/definitions/...`` refs resolved within that model, date-time formats
checked, and the Decimal pattern Amazon states only in prose made a rule. `schema_problems` lists what a payload
breaks, in document order, each with the JSON path of the value at fault.

The models also share how an item is named: the ASIN and the vendor's own identifier, which
`api_product_identifiers` picks from the identifiers Amazon sent on the order.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError

from pipelines.amazon.documents import ProductIdentifier

SPAPI_MODELS = files("pipelines.amazon") / "spapi"
ASIN_FIELD = "amazonProductIdentifier"
VENDOR_FIELD = "vendorProductIdentifier"
# What an order calls the ASIN: BP buyer's part number in EDI (the domain notes: unconfirmed) and in orders read
# from the API (`pipelines.amazon.spapi_orders`), or the API's own field name.
ASIN_QUALIFIERS = frozenset({"BP", ASIN_FIELD})


@dataclass(frozen=True)
class SchemaProblem:
    """One place a payload breaks the schema: ``$.invoices[0].items[1].netCost.amount`` and what is wrong there."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@functools.cache
def request_validator(model_file: str, definition: str) -> Draft4Validator:
    """A validator for `definition` (e.g. ``SubmitInvoicesRequest``) of the vendored model `model_file`."""
    model = json.loads((SPAPI_MODELS / model_file).read_text(encoding="utf-8"))
    if definition not in model["definitions"]:
        raise ValueError(f"{model_file} has no definition {definition!r}")
    schema = {
        "$ref": f"#/definitions/{definition}",
        "definitions": _with_decimal_pattern(model["definitions"], model_file),
    }
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def schema_problems(validator: Draft4Validator, payload: Any) -> list[SchemaProblem]:
    """Every way `payload` breaks the validator's schema, in document order; empty when it is valid.

    For a missing property the path ends in that property (``$.invoices[0].id``), so it names what to add.
    """
    # A path's parts compare element by element, so items[10] comes after items[2].
    errors = sorted(validator.iter_errors(payload), key=lambda error: tuple(error.absolute_path))
    return [SchemaProblem(_error_path(error), error.message) for error in errors]


def api_product_identifiers(identifiers: Iterable[ProductIdentifier]) -> dict[str, str]:
    """The ASIN and the vendor's identifier under the API's field names, each the first the order sent of its kind.

    Amazon asks for the identifiers exactly as its order sent them, so every document about the order (the
    acknowledgement, the shipment confirmation, the invoice) names the item the same way.
    """
    found: dict[str, str] = {}
    for identifier in identifiers:
        field = ASIN_FIELD if identifier.qualifier in ASIN_QUALIFIERS else VENDOR_FIELD
        found.setdefault(field, identifier.value)
    return {field: found[field] for field in (ASIN_FIELD, VENDOR_FIELD) if field in found}


def _with_decimal_pattern(definitions: dict[str, Any], model_file: str) -> dict[str, Any]:
    """The definitions with Decimal's pattern made a rule: Amazon states it only in the description, and an
    amount that breaks it ("12,50", "1.") is refused by Amazon all the same."""
    decimal = dict(definitions["Decimal"])
    stated = re.search(r"`(\^[^`]+\$)`", decimal.get("description", ""))
    if stated is None:
        raise ValueError(f"{model_file}: Decimal no longer states its pattern; check the vendored model")
    decimal["pattern"] = stated.group(1)
    return {**definitions, "Decimal": decimal}


def _error_path(error: ValidationError) -> str:
    path = error.json_path
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = next(name for name in error.validator_value if name not in error.instance)
        path = f"{path}.{missing}"
    return path
