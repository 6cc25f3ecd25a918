"""Column types from Sage's published schema, and reading one Sage list resource page by page."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import dlt
from dlt.common.schema.typing import TColumnSchema, TDataType
from dlt.extract.hints import TResourceNestedHints

from pipelines.sage200.client import SageClient
from pipelines.sage200.source.settings import PAGE_SIZE, SageTable
from pipelines.sage200.spec import SageSpec

_DECIMAL_FORMAT = re.compile(r"decimal (\d+)dp")
# Wide enough for any Sage amount (they are under 10^13); the scale is Sage's own, so nothing is rounded.
DECIMAL_PRECISION = 18
_SCHEMA_TYPES: Mapping[str, TDataType] = {"integer": "bigint", "string": "text", "boolean": "bool"}


@dataclass(frozen=True)
class EntityShape:
    """What Sage's schema says about one entity's columns: exact decimals, date-times, nested collections."""

    columns: dict[str, TColumnSchema]
    date_times: frozenset[str]
    nested: dict[str, EntityShape]

    @classmethod
    def of(
        cls,
        properties: Mapping[str, Any],
        nested: tuple[str, ...] = (),
        keys: tuple[str, ...] = (),
        declared: tuple[str, ...] = (),
        decimal_scales: Mapping[str, int] | None = None,
    ) -> EntityShape:
        """The shape of an entity from its OpenAPI `properties`: `nested` collections become child tables,
        and the `keys` and `declared` columns are typed even when a load brings no rows (an empty table
        still needs them). `decimal_scales` widens decimals whose scale Sage's schema understates."""
        scales = decimal_scales or {}
        unknown = (set(declared) | set(scales)) - set(properties)
        if unknown:
            raise ValueError(f"not in Sage's schema: {sorted(unknown)}")
        columns: dict[str, TColumnSchema] = {}
        for name, prop in properties.items():
            column = _typed_column(name, prop, key=name in keys, declared=name in declared)
            if name in scales:
                if column is None or column.get("data_type") != "decimal" or scales[name] < column.get("scale", 0):
                    raise ValueError(f"{name}: only a decimal of Sage's schema can change scale, and only wider")
                column["scale"] = scales[name]
            if column is not None:
                columns[name] = column
        date_times = frozenset(name for name, prop in properties.items() if prop.get("format") == "date-time")
        children = {name: cls.of(properties[name].get("items", {}).get("properties", {})) for name in nested}
        return cls(columns, date_times, children)

    @classmethod
    def of_table(cls, spec: SageSpec, table: SageTable) -> EntityShape:
        entity = spec.operation("get", f"/{table.path}").entity_name
        if entity is None:
            raise ValueError(f"Sage's spec declares no entity for GET /{table.path}")
        properties = spec.entity_properties(entity)
        return cls.of(properties, table.nested, table.primary_key, table.declared, dict(table.decimal_scales))

    def nested_hints(self) -> dict[str, TResourceNestedHints]:
        return {name: {"columns": child.columns} for name, child in self.nested.items()}

    def clean(self, row: dict[str, Any]) -> dict[str, Any]:
        """Sage's blank date-time ("") as null: a blank would otherwise give a timestamp column a text variant."""
        for name in self.date_times:
            if row.get(name) == "":
                row[name] = None
        for name, child in self.nested.items():
            for item in row.get(name) or ():
                child.clean(item)
        return row


def _typed_column(name: str, prop: Mapping[str, Any], *, key: bool, declared: bool) -> TColumnSchema | None:
    """Sage's exact decimals and date-times always; any other type only for a key or declared column."""
    fmt = prop.get("format", "")
    if decimal := _DECIMAL_FORMAT.fullmatch(fmt):
        return {"name": name, "data_type": "decimal", "precision": DECIMAL_PRECISION, "scale": int(decimal.group(1))}
    if fmt == "date-time":
        return {"name": name, "data_type": "timestamp"}
    if key:
        return {"name": name, "data_type": _SCHEMA_TYPES[prop["type"]], "nullable": False}
    if declared:
        return {"name": name, "data_type": _SCHEMA_TYPES[prop["type"]]}
    return None


def list_params(table: SageTable) -> dict[str, str]:
    """OData options for one read of `table`: its order and its nested collections."""
    params = {"$orderby": table.order_by}
    if table.expand:
        params["$expand"] = ",".join(table.expand)
    return params


def read_pages(
    client: SageClient, table: SageTable, shape: EntityShape, since: str | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Every row of `table` (changed after `since`, when given), a page at a time; Sage errors propagate."""
    # Create the table with Sage's typed columns even when Sage has no rows yet: staging always finds it.
    yield dlt.mark.materialize_table_schema()
    for page in client.changed_since(table.path, since, list_params(table), PAGE_SIZE):
        yield [shape.clean(row) for row in page]
