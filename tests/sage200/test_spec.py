"""Tests for pipelines.sage200.spec, run against Sage's own vendored OpenAPI files."""

import json
from collections.abc import Iterator
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

import pytest

from pipelines.sage200.spec import (
    HTTP_METHODS,
    SCHEMA_NAME_KEY,
    RequestInvalid,
    SageSpec,
    response_validator,
    validate_request,
)

VENDORED = files("pipelines.sage200") / "openapi"
SHARED_COPY = Path(__file__).resolve().parents[2].parent / "shared" / "specs" / "sage200-openapi"

RECEIPT = {"customer_id": 17, "bank_id": 3, "cheque_value": Decimal("120.50")}
ORDER_LINE = {
    "line_type": "EnumLineTypeStandard",
    "product_id": 42,
    "warehouse_id": 1,
    "code": "B0ASIN0001",
    "description": "Widget",
    "line_quantity": Decimal("12"),
}


@pytest.fixture(scope="module")
def spec() -> SageSpec:
    return SageSpec.load()


def vendored_documents() -> Iterator[tuple[str, dict]]:
    for entry in sorted(VENDORED.iterdir(), key=lambda entry: entry.name):
        if entry.name.endswith(".json"):
            yield entry.name.removesuffix(".json"), json.loads(entry.read_text(encoding="utf-8"))


def rejection(schema: dict, body: object) -> tuple[str, str]:
    with pytest.raises(RequestInvalid) as caught:
        validate_request(schema, body)
    return str(caught.value), caught.value.field


def contains_ref(node: object) -> bool:
    if isinstance(node, dict):
        return "$ref" in node or any(contains_ref(value) for value in node.values())
    if isinstance(node, list):
        return any(contains_ref(value) for value in node)
    return False


# --- loading ---------------------------------------------------------------------------------------------


def test_every_vendored_file_loads_with_all_operations_and_schemas(spec: SageSpec) -> None:
    first_definer: dict[tuple[str, str], str] = {}
    documents = list(vendored_documents())
    assert {module for module, _ in documents} >= {"sales", "sop", "stock", "nominal", "cash-book", "general"}
    for module, document in documents:
        assert document["openapi"] == "3.0.1"
        for path, item in document["paths"].items():
            for method in HTTP_METHODS & item.keys():
                first_definer.setdefault((method, path), module)
        for name in document["components"]["schemas"]:
            resolved = spec.schema(name)
            assert resolved[SCHEMA_NAME_KEY] == name
            assert not contains_ref(resolved)
    for (method, path), module in first_definer.items():
        operation = spec.operation(method, path)
        assert operation.module == module
        assert not contains_ref(operation.request_schema)
        assert not contains_ref(operation.response_schema)


def test_load_is_cached() -> None:
    assert SageSpec.load() is SageSpec.load()


def test_duplicate_definitions_go_to_the_first_module(spec: SageSpec) -> None:
    # /customer_price_bands is in both price-book.json and sales.json.
    assert spec.operation("get", "/customer_price_bands").module == "price-book"


def test_unknown_operation_raises_key_error(spec: SageSpec) -> None:
    with pytest.raises(KeyError):
        spec.operation("patch", "/customers")
    with pytest.raises(KeyError):
        spec.match("get", "/no_such_resource/1")
    with pytest.raises(KeyError):
        spec.match("get", "/sop_orders/17/sop_order_lines/3/extra")


def test_entity_properties_are_resolved(spec: SageSpec) -> None:
    properties = spec.entity_properties("customer")
    assert properties["reference"]["maxLength"] == 8
    assert properties["contacts"]["items"][SCHEMA_NAME_KEY] == "customer_contact"


def test_reference_cycles_become_empty_placeholders() -> None:
    cyclic = SageSpec(
        {
            "demo": {
                "paths": {},
                "components": {
                    "schemas": {
                        "a": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/b"}}},
                        "b": {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/a"}}},
                    }
                },
            }
        }
    )
    a = cyclic.schema("a")
    assert a["properties"]["b"][SCHEMA_NAME_KEY] == "b"
    assert a["properties"]["b"]["properties"]["a"] == {}


# --- matching --------------------------------------------------------------------------------------------


def test_match_fills_path_parameters(spec: SageSpec) -> None:
    operation, params = spec.match("get", "/sop_orders/17/sop_order_lines")
    assert operation.path == "/sop_orders/{sopOrderId}/sop_order_lines"
    assert operation.module == "sop"
    assert params == {"sopOrderId": "17"}
    assert operation.response_schema is not None
    assert operation.response_schema["type"] == "array"
    assert operation.entity_name == "sop_order_line"


def test_match_is_case_insensitive_on_method(spec: SageSpec) -> None:
    operation, params = spec.match("GET", "/customers/5")
    assert (operation.path, params, operation.entity_name) == ("/customers/{Id}", {"Id": "5"}, "customer")


def test_match_post_sales_invoices_has_request_schema(spec: SageSpec) -> None:
    operation, params = spec.match("post", "/sales_invoices")
    assert params == {}
    assert operation.request_schema is not None
    assert "customer_id" in operation.request_schema["required"]
    assert operation.request_schema[SCHEMA_NAME_KEY] == "sales_invoice"


def test_delete_has_no_response_schema(spec: SageSpec) -> None:
    operation, _ = spec.match("delete", "/sop_orders/17")
    assert (operation.request_schema, operation.response_schema, operation.entity_name) == (None, None, None)


def test_literal_segments_win_over_template_segments() -> None:
    def get(name: str) -> dict:
        schema = {"$ref": f"#/components/schemas/{name}"}
        return {"get": {"responses": {"200": {"content": {"application/json": {"schema": schema}}}}}}

    demo = SageSpec(
        {
            "demo": {
                # Templates listed first, so winning must not depend on declaration order.
                "paths": {
                    "/orders/{Id}": get("order"),
                    "/orders/{Id}/lines": get("line"),
                    "/orders/latest": get("latest"),
                    "/orders/latest/{lineId}": get("latest_line"),
                },
                "components": {
                    "schemas": {name: {"type": "object"} for name in ("order", "line", "latest", "latest_line")}
                },
            }
        }
    )
    assert demo.match("get", "/orders/latest")[0].path == "/orders/latest"
    assert demo.match("get", "/orders/7")[0].path == "/orders/{Id}"
    assert demo.match("get", "/orders/latest/lines") == (
        demo.operation("get", "/orders/latest/{lineId}"),
        {"lineId": "lines"},
    )
    assert demo.match("get", "/orders/7/lines") == (demo.operation("get", "/orders/{Id}/lines"), {"Id": "7"})


# --- validate_request ------------------------------------------------------------------------------------


def test_valid_receipt_passes(spec: SageSpec) -> None:
    validate_request(
        spec.schema("sales_receipt"),
        RECEIPT
        | {
            "transaction_date": "2026-01-31T00:00:00Z",
            "reference": "X" * 20,
            "exchange_rate": Decimal("1.123456"),
            "settlement_discount_value": 0.1,
            "nominal_analysis_items": [{"code": "40010", "value": 2}],
        },
    )


@pytest.mark.parametrize("body", [[], "receipt", None, 17])
def test_body_must_be_an_object(spec: SageSpec, body: object) -> None:
    assert rejection(spec.schema("sales_receipt"), body) == ("The request body must be a JSON object.", "")


def test_array_bodies_are_validated_item_by_item(spec: SageSpec) -> None:
    schema = spec.operation("put", "/couriers").request_schema
    assert schema is not None
    validate_request(schema, [{"name": "DPD"}])
    assert rejection(schema, {"name": "DPD"}) == ("The request body must be a JSON array.", "")
    assert rejection(schema, [{"name": "DPD"}, {"website": "x"}]) == (
        "The field '[1].name' is required.",
        "[1].name",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # Missing fields are reported in schema order (customer_id first), not the `required` list's
        # alphabetical order (bank_id first).
        ({}, "customer_id"),
        ({"customer_id": 17}, "bank_id"),
        ({"customer_id": 17, "bank_id": 3}, "cheque_value"),
        # Missing required beats a bad value at the same level.
        ({"customer_id": "seventeen", "cheque_value": 1}, "bank_id"),
    ],
)
def test_missing_required_field(spec: SageSpec, body: dict, field: str) -> None:
    assert rejection(spec.schema("sales_receipt"), body) == (f"The field '{field}' is required.", field)


def test_missing_nested_required_field(spec: SageSpec) -> None:
    body = RECEIPT | {"nominal_analysis_items": [{"code": "40010"}, {"value": 2}]}
    assert rejection(spec.schema("sales_receipt"), body) == (
        "The field 'nominal_analysis_items[1].code' is required.",
        "nominal_analysis_items[1].code",
    )


def test_null_is_rejected_even_on_optional_fields(spec: SageSpec) -> None:
    assert rejection(spec.schema("sales_receipt"), RECEIPT | {"reference": None}) == (
        "The field 'reference' cannot be null.",
        "reference",
    )
    assert rejection(spec.schema("sales_receipt"), RECEIPT | {"nominal_analysis_items": [None]}) == (
        "The field 'nominal_analysis_items[0]' cannot be null.",
        "nominal_analysis_items[0]",
    )


@pytest.mark.parametrize(
    ("extra", "field", "limit"),
    [
        ({"reference": "X" * 21}, "reference", 20),
        # Sage counts UTF-16 code units: the emoji takes two.
        ({"reference": "X" * 19 + "\N{GRINNING FACE}"}, "reference", 20),
        ({"nominal_analysis_items": [{"code": "123456789"}]}, "nominal_analysis_items[0].code", 8),
    ],
)
def test_strings_over_max_length(spec: SageSpec, extra: dict, field: str, limit: int) -> None:
    assert rejection(spec.schema("sales_receipt"), RECEIPT | extra) == (
        f"The field '{field}' must be a string with a maximum length of {limit}.",
        field,
    )


@pytest.mark.parametrize(
    ("schema_name", "body", "field", "expected"),
    [
        ("sales_receipt", RECEIPT | {"customer_id": "17"}, "customer_id", "an integer"),
        ("sales_receipt", RECEIPT | {"customer_id": True}, "customer_id", "an integer"),
        ("sales_receipt", RECEIPT | {"customer_id": 17.0}, "customer_id", "an integer"),
        ("sales_receipt", RECEIPT | {"cheque_value": "120.50"}, "cheque_value", "a number"),
        ("sales_receipt", RECEIPT | {"cheque_value": False}, "cheque_value", "a number"),
        ("sales_receipt", RECEIPT | {"cheque_value": float("nan")}, "cheque_value", "a number"),
        ("sales_receipt", RECEIPT | {"cheque_value": Decimal("Infinity")}, "cheque_value", "a number"),
        ("sales_receipt", RECEIPT | {"reference": 12345}, "reference", "a string"),
        (
            "sales_receipt",
            RECEIPT | {"nominal_analysis_items": {"code": "1"}},
            "nominal_analysis_items",
            "an array",
        ),
        ("customer", {"reference": "AMZ", "name": "Amazon", "on_hold": "no"}, "on_hold", "a boolean"),
        (
            "customer",
            {"reference": "AMZ", "name": "Amazon", "main_address": "1 Main St"},
            "main_address",
            "an object",
        ),
    ],
)
def test_wrong_json_type(spec: SageSpec, schema_name: str, body: dict, field: str, expected: str) -> None:
    assert rejection(spec.schema(schema_name), body) == (f"The field '{field}' must be {expected}.", field)


@pytest.mark.parametrize(
    "value", [120, 120.5, Decimal("120.50"), Decimal("120.500"), Decimal("1E+3"), Decimal("0.000")]
)
def test_numbers_within_declared_decimal_places(spec: SageSpec, value: object) -> None:
    validate_request(spec.schema("sales_receipt"), RECEIPT | {"cheque_value": value})


@pytest.mark.parametrize(
    ("field", "value", "places"),
    [
        ("cheque_value", Decimal("120.505"), 2),
        ("cheque_value", 0.1 + 0.2, 2),
        ("exchange_rate", Decimal("1.1234567"), 6),
    ],
)
def test_too_many_decimal_places(spec: SageSpec, field: str, value: object, places: int) -> None:
    assert rejection(spec.schema("sales_receipt"), RECEIPT | {field: value}) == (
        f"The field '{field}' must have at most {places} decimal places.",
        field,
    )


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-31T00:00:00",
        "2026-01-31T00:00:00Z",
        "2026-01-31T09:30:00.1234567Z",
        "2026-01-31T09:30:00+01:00",
    ],
)
def test_date_times_accepted(spec: SageSpec, value: str) -> None:
    validate_request(spec.schema("sales_receipt"), RECEIPT | {"transaction_date": value})


@pytest.mark.parametrize("value", ["2026-01-31", "2026-02-30T00:00:00", "31/01/2026 00:00", "2026-01-31 00:00:00"])
def test_date_times_rejected(spec: SageSpec, value: str) -> None:
    assert rejection(spec.schema("sales_receipt"), RECEIPT | {"transaction_date": value}) == (
        "The field 'transaction_date' must be a date-time such as 2026-01-31T00:00:00Z.",
        "transaction_date",
    )


def test_enum_violation_lists_allowed_values() -> None:
    # Sage's files declare no enums today; the rule is exercised on a schema of the same shape.
    schema = {"type": "object", "properties": {"status": {"type": "string", "enum": ["Active", "Hidden"]}}}
    validate_request(schema, {"status": "Hidden"})
    assert rejection(schema, {"status": "Closed"}) == (
        "The field 'status' must be one of 'Active', 'Hidden'.",
        "status",
    )


def test_read_only_and_unknown_properties_are_ignored(spec: SageSpec) -> None:
    validate_request(
        spec.schema("customer"),
        {
            "reference": "AMZ",
            "name": "Amazon",
            "id": "not-an-id",
            "balance": None,
            "amazon_vendor_code": None,
        },
    )
    # cost_centre.code is both required and readOnly: a request cannot be required to send what Sage ignores.
    validate_request(spec.schema("cost_centre"), {"name": "Marketplaces"})


def test_sop_order_lines_are_checked(spec: SageSpec) -> None:
    schema = spec.schema("sop_order")
    order = {"customer_id": 17, "document_no": "PO-1"}
    validate_request(schema, order | {"lines": [ORDER_LINE, ORDER_LINE]})
    missing = {key: value for key, value in ORDER_LINE.items() if key != "product_id"}
    assert rejection(schema, order | {"lines": [ORDER_LINE, missing]}) == (
        "The field 'lines[1].product_id' is required.",
        "lines[1].product_id",
    )
    wrong = ORDER_LINE | {"product_id": "42"}
    assert rejection(schema, order | {"lines": [ORDER_LINE, ORDER_LINE, wrong]}) == (
        "The field 'lines[2].product_id' must be an integer.",
        "lines[2].product_id",
    )


def test_first_problem_wins_in_schema_order_depth_first(spec: SageSpec) -> None:
    schema = spec.schema("sop_order")
    bad_line = ORDER_LINE | {"line_quantity": "12"}
    # `lines` precedes `memos`, so the nested problem is found first ...
    assert rejection(schema, {"customer_id": 17, "document_no": "PO-1", "lines": [bad_line], "memos": "x"})[1] == (
        "lines[0].line_quantity"
    )
    # ... but a missing required field at the top level is reported before any nested problem.
    assert rejection(schema, {"customer_id": 17, "lines": [bad_line]})[1] == "document_no"
    # Earlier properties come first regardless of the body's key order.
    assert rejection(spec.schema("sales_receipt"), RECEIPT | {"reference": "X" * 21, "cheque_value": "1"})[1] == (
        "cheque_value"
    )


def test_boolean_format_on_an_object_property_means_boolean(spec: SageSpec) -> None:
    # Sage's file declares pop_order_line.cancel_requisition_lines as {"type": "object", "format": "boolean"}.
    schema = spec.schema("pop_order_line")
    validate_request(schema, ORDER_LINE | {"cancel_requisition_lines": True})
    assert rejection(schema, ORDER_LINE | {"cancel_requisition_lines": {}})[1] == "cancel_requisition_lines"


# --- response_validator ----------------------------------------------------------------------------------


CUSTOMER = {
    "id": 1001,
    "reference": "AMAZON",
    "name": "Amazon EU SARL",
    "balance": Decimal("1234.56"),
    "credit_limit": 50000.0,
    "on_hold": False,
    "account_status_type": "AccountStatusActive",
    "currency_id": 1,
    "main_address": {
        "id": 5,
        "address_1": "38 avenue John F. Kennedy",
        "city": "Luxembourg",
        "postcode": "L-1855",
    },
    "contacts": [{"id": 7, "first_name": "Vendor", "last_name": "Central", "emails": [{"id": 9, "email": "v@x.com"}]}],
    "spare_number_1": 1.23456,
    "date_time_created": "2026-01-31T10:00:00.1234567Z",
}


def test_response_validator_accepts_a_valid_customer(spec: SageSpec) -> None:
    operation, _ = spec.match("get", "/customers/1001")
    assert operation.response_schema is not None
    assert response_validator(operation.response_schema)(CUSTOMER) == []


def test_response_validator_reports_wrong_types_with_their_path(spec: SageSpec) -> None:
    errors = response_validator(spec.schema("customer"))
    found = errors(CUSTOMER | {"contacts": [{"id": "seven"}], "on_hold": "no"})
    assert len(found) == 2
    assert found[0].startswith("$.contacts[0].id: ")
    assert found[1].startswith("$.on_hold: ")


def test_response_validator_reports_missing_required(spec: SageSpec) -> None:
    assert response_validator(spec.schema("customer"))({"reference": "AMAZON"}) == ["$: 'name' is a required property"]


def test_response_validator_handles_every_response_schema(spec: SageSpec) -> None:
    # Sage's non-standard formats ("decimal 2dp", "int16", "20") must not break the validator.
    for module, document in vendored_documents():
        for path, item in document["paths"].items():
            for method in HTTP_METHODS & item.keys():
                schema = spec.operation(method, path).response_schema
                if schema is not None:
                    sample: object = [] if schema.get("type") == "array" else {}
                    assert isinstance(response_validator(schema)(sample), list), (module, method, path)


# --- vendored files --------------------------------------------------------------------------------------


@pytest.mark.skipif(not SHARED_COPY.is_dir(), reason="no shared copy of Sage's OpenAPI files on this machine")
def test_vendored_files_match_the_shared_copy() -> None:
    vendored = {entry.name: entry.read_bytes() for entry in VENDORED.iterdir() if entry.is_file()}
    shared = {path.name: path.read_bytes() for path in SHARED_COPY.iterdir() if path.is_file()}
    assert vendored.keys() == shared.keys()
    for name, content in shared.items():
        assert vendored[name] == content, name
