"""Sage 200 (UK) OpenAPI spec: operations, resolved schemas and Sage-style request validation.

Sage publishes one OpenAPI 3.0.1 file per module (sales, sop, stock, ...), vendored under `openapi/`. Every
`$ref` points into the same file's `components/schemas`, so each module is resolved on its own and the
results are merged. The sandbox uses `match` and `validate_request` to answer like Sage (a 400 naming the
first bad field); tests use `response_validator` to hold every body to Sage's schemas.

Resolved schemas share sub-dicts between operations: treat them as read-only.
"""

import functools
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from importlib.resources import files
from typing import Any

SCHEMA_NAME_KEY = "x-schema-name"
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})

_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?", re.ASCII)
_DECIMAL_FORMAT = re.compile(r"decimal (\d+)dp")
_DATE_TIME_EXAMPLE = "2026-01-31T00:00:00Z"


class RequestInvalid(ValueError):
    """A body Sage would refuse with a 400.

    str(err) is the 400 message; .field is the dotted path of the offending field, e.g.
    'lines[2].product_id' ('' for the body itself).
    """

    field: str

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Operation:
    """One method on one path template, with its JSON bodies' schemas resolved."""

    method: str
    path: str
    module: str
    request_schema: dict | None
    response_schema: dict | None
    entity_name: str | None


class SageSpec:
    """All modules' operations and component schemas, with `$ref`s inlined."""

    def __init__(self, documents: Mapping[str, Mapping[str, Any]]) -> None:
        """`documents` maps module name to parsed OpenAPI document, earlier modules taking precedence.

        Name collisions: a component schema name or a path defined by several modules (e.g. `urn` in
        cash-book, purchases and sales; `/customer_price_bands` in price-book and sales) resolves to the
        first module's definition. In the vendored files the duplicates are identical, so which wins only
        matters for `Operation.module`.
        """
        self._schemas: dict[str, dict] = {}
        self._operations: dict[tuple[str, str], Operation] = {}
        for module, document in documents.items():
            resolver = _Resolver(document.get("components", {}).get("schemas", {}))
            for name in resolver.names:
                self._schemas.setdefault(name, resolver.component(name))
            for operation in _module_operations(module, document, resolver):
                self._operations.setdefault((operation.method, operation.path), operation)
        self._routes = _route_table(self._operations.values())

    @classmethod
    def load(cls) -> "SageSpec":
        """The vendored Sage files, parsed once per process."""
        return _load_vendored()

    def operation(self, method: str, path_template: str) -> Operation:
        return self._operations[(method.lower(), path_template)]

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        """The operation serving a concrete path, and its path parameters; KeyError if none does."""
        segments = _segments(path)
        for template, operation in self._routes.get((method.lower(), len(segments)), ()):
            params = _match_segments(template, segments)
            if params is not None:
                return operation, params
        raise KeyError(f"{method.upper()} {path}")

    def schema(self, name: str) -> dict:
        """A resolved component schema; on a name defined by several modules the first module's wins."""
        return self._schemas[name]

    def entity_properties(self, name: str) -> dict:
        return self.schema(name).get("properties", {})


@functools.cache
def _load_vendored() -> SageSpec:
    folder = files("pipelines.sage200") / "openapi"
    # Sorted so that the precedence between modules (see SageSpec.__init__) does not depend on the filesystem.
    paths = sorted((p for p in folder.iterdir() if p.name.endswith(".json")), key=lambda p: p.name)
    return SageSpec({p.name.removesuffix(".json"): json.loads(p.read_text(encoding="utf-8")) for p in paths})


class _Resolver:
    """Inlines the `$ref`s of one module, whose refs all point at its own `components/schemas`."""

    def __init__(self, schemas: Mapping[str, Any]) -> None:
        self._schemas = schemas
        self._top_level: dict[str, dict] = {}

    @property
    def names(self) -> list[str]:
        return list(self._schemas)

    def component(self, name: str, seen: tuple[str, ...] = ()) -> dict:
        """The named schema fully resolved; resolved once when referenced from outside any component."""
        if name in seen:
            # Sage's files have no reference cycles today; should one appear, cut it with an empty schema
            # (which accepts anything) rather than recursing forever.
            return {}
        if not seen and name in self._top_level:
            return self._top_level[name]
        resolved = self.node(self._schemas[name], (*seen, name))
        resolved[SCHEMA_NAME_KEY] = name
        if not seen:
            self._top_level[name] = resolved
        return resolved

    def node(self, node: Any, seen: tuple[str, ...] = ()) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                # OpenAPI 3.0 ignores a $ref's sibling keys, so only the target counts.
                return self.component(_ref_name(node["$ref"]), seen)
            return {key: self.node(value, seen) for key, value in node.items()}
        if isinstance(node, list):
            return [self.node(value, seen) for value in node]
        return node


def _ref_name(ref: str) -> str:
    prefix = "#/components/schemas/"
    if not ref.startswith(prefix):
        raise ValueError(f"unsupported $ref {ref!r}: Sage's refs are local component schemas")
    return ref.removeprefix(prefix)


def _module_operations(module: str, document: Mapping[str, Any], resolver: _Resolver) -> Iterator[Operation]:
    for path, item in document.get("paths", {}).items():
        for method, spec in item.items():
            if method not in HTTP_METHODS:
                continue  # x-sage-pathtitle, x-sage-changelog, ...
            request = resolver.node(_body_schema(spec.get("requestBody", {})))
            response = resolver.node(_body_schema(spec.get("responses", {}).get("200", {})))
            yield Operation(
                method=method,
                path=path,
                module=module,
                request_schema=request,
                response_schema=response,
                entity_name=_entity_name(response) if response is not None else None,
            )


def _body_schema(body: Mapping[str, Any]) -> dict | None:
    # Nearly all bodies are application/json; a few of Sage's are declared as */* with the same schema.
    content = body.get("content", {})
    media = content.get("application/json") or next(iter(content.values()), None)
    return media.get("schema") if media else None


def _entity_name(schema: dict) -> str | None:
    if schema.get("type") == "array":
        return schema.get("items", {}).get(SCHEMA_NAME_KEY)
    return schema.get(SCHEMA_NAME_KEY)


# --- path matching ---------------------------------------------------------------------------------------


def _segments(path: str) -> tuple[str, ...]:
    return tuple(path.strip("/").split("/"))


def _is_template(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def _route_table(operations: Iterable[Operation]) -> dict[tuple[str, int], list[tuple[tuple, Operation]]]:
    """Operations grouped by method and segment count, most literal first, so the first match wins."""
    table: dict[tuple[str, int], list[tuple[tuple, Operation]]] = {}
    for operation in operations:
        template = _segments(operation.path)
        table.setdefault((operation.method, len(template)), []).append((template, operation))
    for routes in table.values():
        # False sorts before True: at the first segment where two templates differ, the literal wins.
        routes.sort(key=lambda route: tuple(_is_template(segment) for segment in route[0]))
    return table


def _match_segments(template: tuple[str, ...], segments: tuple[str, ...]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for expected, actual in zip(template, segments, strict=True):
        if _is_template(expected) and actual:
            params[expected[1:-1]] = actual
        elif expected != actual:
            return None
    return params


# --- request validation (Sage's 400 behaviour) -----------------------------------------------------------


def validate_request(schema: dict, body: object) -> None:
    """Raise RequestInvalid for the first problem Sage would report in `body`.

    Properties are checked in schema order: at each level every missing required property first, then each
    present property depth-first. readOnly and unknown properties are ignored, as Sage's JSON binder does.
    """
    if schema.get("type") == "array":
        # A few bulk PUTs (e.g. /cost_centres, /couriers) take an array of entities.
        if not isinstance(body, list):
            raise RequestInvalid("The request body must be a JSON array.", "")
        _check_items(schema.get("items", {}), body, "")
        return
    if not isinstance(body, dict):
        raise RequestInvalid("The request body must be a JSON object.", "")
    _check_object(schema, body, "")


def _check_object(schema: Mapping[str, Any], body: Mapping[str, Any], path: str) -> None:
    writable = {name: prop for name, prop in schema.get("properties", {}).items() if not prop.get("readOnly")}
    required = set(schema.get("required", ()))
    for name in writable:
        if name in required and name not in body:
            field = _join(path, name)
            raise RequestInvalid(f"The field '{field}' is required.", field)
    for name, prop in writable.items():
        if name in body:
            _check_value(prop, body[name], _join(path, name))


def _check_items(schema: Mapping[str, Any], items: list, path: str) -> None:
    for index, item in enumerate(items):
        _check_value(schema, item, f"{path}[{index}]")


def _check_value(schema: Mapping[str, Any], value: object, field: str) -> None:
    if value is None:
        # Sage's binder rejects null even on optional fields: omit a field rather than null it.
        raise RequestInvalid(f"The field '{field}' cannot be null.", field)
    kind = _declared_type(schema)
    if kind is not None and not _TYPE_CHECKS[kind](value):
        raise RequestInvalid(f"The field '{field}' must be {_TYPE_NAMES[kind]}.", field)
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(repr(option) for option in schema["enum"])
        raise RequestInvalid(f"The field '{field}' must be one of {allowed}.", field)
    if kind == "string":
        _check_string(schema, value, field)
    elif kind == "number":
        _check_decimal_places(schema, value, field)
    elif kind == "array":
        _check_items(schema.get("items", {}), value, field)
    elif kind == "object":
        _check_object(schema, value, field)


def _declared_type(schema: Mapping[str, Any]) -> str | None:
    # pop_order_line.cancel_requisition_lines is declared {"type": "object", "format": "boolean"}: the
    # property is a boolean in Sage's model, so the format is the truthful half of that declaration.
    if schema.get("format") == "boolean":
        return "boolean"
    return schema.get("type")


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, Decimal):
        return value.is_finite()
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


_TYPE_CHECKS: dict[str, Callable[[object], bool]] = {
    "string": lambda value: isinstance(value, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda value: isinstance(value, bool),
    "array": lambda value: isinstance(value, list),
    "object": lambda value: isinstance(value, dict),
}
_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "an array",
    "object": "an object",
}


def _check_string(schema: Mapping[str, Any], value: str, field: str) -> None:
    limit = schema.get("maxLength")
    if limit is not None and _utf16_length(value) > limit:
        raise RequestInvalid(f"The field '{field}' must be a string with a maximum length of {limit}.", field)
    if schema.get("format") == "date-time" and not _is_date_time(value):
        raise RequestInvalid(f"The field '{field}' must be a date-time such as {_DATE_TIME_EXAMPLE}.", field)


def _utf16_length(value: str) -> int:
    # Sage's limits are SQL Server nvarchar lengths, counted in UTF-16 code units: an emoji counts as two.
    return len(value.encode("utf-16-le")) // 2


def _is_date_time(value: str) -> bool:
    if not _DATE_TIME.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value)  # the pattern admits impossible dates such as 2026-02-30
    except ValueError:
        return False
    return True


def _check_decimal_places(schema: Mapping[str, Any], value: int | float | Decimal, field: str) -> None:
    declared = _DECIMAL_FORMAT.fullmatch(schema.get("format", ""))
    if declared is None:
        return
    places = int(declared.group(1))
    if _decimal_places(value) > places:
        raise RequestInvalid(f"The field '{field}' must have at most {places} decimal places.", field)


def _decimal_places(value: int | float | Decimal) -> int:
    """Significant decimal places: 1.50 has one, and a float counts the digits of its shortest repr."""
    exact = value if isinstance(value, Decimal) else Decimal(repr(value))
    _, digits, exponent = exact.as_tuple()
    if not any(digits):
        return 0
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(int(exponent) + trailing_zeros))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# --- response validation (tests) -------------------------------------------------------------------------


def response_validator(schema: dict) -> Callable[[object], list[str]]:
    """A checker returning one '<json path>: <message>' string per schema violation, [] when valid."""
    # A test-time tool: the validator is a development dependency, imported only here.
    from openapi_schema_validator import OAS30Validator

    # Sage's formats are mostly its own ("decimal 2dp", "int16", even "20"), so no format is enforced;
    # passing no format checker also keeps the validator from tripping over the unknown names.
    validator = OAS30Validator(schema, format_checker=None)

    def errors(document: object) -> list[str]:
        found = sorted(validator.iter_errors(document), key=lambda error: error.json_path)
        return [f"{error.json_path}: {error.message}" for error in found]

    return errors
