"""The sandbox's database: every Sage entity as a JSON document in one SQLite file.

Entities are stored exactly as the API returns them, so a list request is a filtered, ordered read of
stored documents. Ledger effects (balances, outstanding values) are written into the documents when a
posting happens, as Sage's own tables are. One lock serialises every request: Sage itself serialises
postings per company, and it keeps concurrent requests from corrupting the ledger.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipelines.sage200.client import dumps
from pipelines.sage200.sandbox.odata import ODataQuery

SCHEMA = """
create table if not exists records (
    resource text not null,
    id integer not null,
    body text not null,
    primary key (resource, id)
);
create table if not exists sequences (name text primary key, last_value integer not null);
create table if not exists settings (key text primary key, value text not null);
create table if not exists nominal_entries (
    id integer primary key,
    urn integer not null,
    nominal_code_id integer not null,
    transaction_date text not null,
    value text not null,
    source text not null,
    transaction_type text not null,
    reference text not null,
    narrative text not null
);
create index if not exists nominal_entries_by_code on nominal_entries (nominal_code_id);
"""

# Fields entities are looked up by, per resource. Each is a partial expression index (WHERE resource =
# '<name>'), so writing a large document (an order with its lines) only updates its own resource's few
# indexes; the queries name the resource as a literal so SQLite can use them.
INDEXES = {
    "customers": ("reference",),
    "banks": ("code",),
    "nominal_codes": ("reference",),
    "control_nominal_codes": ("control_nominal_code_type",),
    "products": ("code",),
    "warehouse_holdings": ("product_id",),
    "sop_orders": ("document_no", "customer_id"),
    "sales_posted_transactions": ("customer_id", "reference"),
    "bank_posted_transactions": ("bank_id",),
    "sop_order_despatch_line_views": ("sop_order_id", "sop_despatch_line_id"),
    # Views have no id: clients page them by their own key.
    "sop_order_despatch_views": ("sop_despatch_id",),
    "sop_order_return_invoice_credit_views": ("sop_order_return_id",),
    "sop_order_return_line_invoice_credit_views": ("sop_invoice_credit_id",),
    "financial_year_period_views": ("accounting_period_id",),
    "product_price_views": ("product_price_id", "product_id"),
}
RESOURCE_NAME = re.compile(r"[a-z_]+")


SQLITE_MIN_INTEGER, SQLITE_MAX_INTEGER = -(2**63), 2**63 - 1


def resource_is(resource: str) -> str:
    """The SQL condition selecting one resource, as a literal (partial indexes need one); names are ours."""
    if not RESOURCE_NAME.fullmatch(resource):
        raise ValueError(f"not a resource name: {resource!r}")
    return f"resource = '{resource}'"


ORDERED_BY_FIELD = re.compile(r"json_extract\(body, '\$\.(\w+)'\) ASC")


def index_hint(resource: str, order_sql: str) -> str:
    """Page in the order of an indexed field by that field's index. Without statistics SQLite prefers the
    primary key and sorts every row of the resource for every page, which keyset paging a year of view rows
    (no id, ordered by their own key) cannot afford."""
    ordered = ORDERED_BY_FIELD.match(order_sql)
    if ordered and ordered.group(1) in INDEXES.get(resource, ()):
        return f"indexed by {resource}_by_{ordered.group(1)} "
    return ""


def utc_timestamp(moment: datetime | None = None) -> str:
    """Sage date-times as the sandbox stores them: fixed-width UTC, so text order is time order."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


class Store:
    """SQLite-backed entity store; use `with store.transaction():` around every request."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("pragma journal_mode=wal")
        self._db.execute("pragma synchronous=normal")
        self._db.executescript(SCHEMA)
        for resource, fields in INDEXES.items():
            for field in fields:
                self._db.execute(
                    f"create index if not exists {resource}_by_{field} on records "
                    f"(json_extract(body, '$.{field}')) where resource = '{resource}'"
                )
        self._lock = threading.RLock()
        self._depth = 0

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """All-or-nothing: a request that fails half way leaves no trace."""
        with self._lock:
            outermost = self._depth == 0
            if outermost:
                self._db.execute("begin immediate")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outermost:
                    self._db.execute("rollback")
                raise
            self._depth -= 1
            if outermost:
                self._db.execute("commit")

    def close(self) -> None:
        self._db.close()

    # sequences and settings -------------------------------------------------------------------------
    def next_value(self, name: str) -> int:
        row = self._db.execute(
            "insert into sequences values (?, 1) on conflict(name) do update set last_value = last_value + 1 "
            "returning last_value",
            (name,),
        ).fetchone()
        return row[0]

    def setting(self, key: str, default: Any = None) -> Any:
        row = self._db.execute("select value from settings where key = ?", (key,)).fetchone()
        return loads(row[0]) if row else default

    def set_setting(self, key: str, value: Any) -> None:
        self._db.execute(
            "insert into settings values (?, ?) on conflict(key) do update set value = excluded.value",
            (key, dumps(value)),
        )

    # entities ---------------------------------------------------------------------------------------
    def insert(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        """Store a new entity with a fresh id and Sage's created/updated stamps."""
        # Ids are Sage's to give: an id in the body is ignored, as Sage ignores read-only fields.
        entity_id = self.next_value(f"id:{resource}")
        now = utc_timestamp()
        entity = {"id": entity_id, **body, "date_time_created": now, "date_time_updated": now}
        self._db.execute("insert into records values (?, ?, ?)", (resource, entity_id, dumps(entity)))
        return entity

    def save(self, resource: str, entity: dict[str, Any], *, touch: bool = True) -> dict[str, Any]:
        """Write back a changed entity; every change moves date_time_updated (incremental reads use it).

        `touch=False` keeps the stamp: for a view row whose answer changes because a row it joins changed,
        as a price linked to the standard band does when the standard price moves.
        """
        if touch:
            entity["date_time_updated"] = utc_timestamp()
        self._db.execute(
            "update records set body = ? where resource = ? and id = ?",
            (dumps(entity), resource, entity["id"]),
        )
        return entity

    def get(self, resource: str, entity_id: int) -> dict[str, Any] | None:
        if not SQLITE_MIN_INTEGER <= entity_id <= SQLITE_MAX_INTEGER:
            return None  # no such entity; SQLite could not even bind the number
        row = self._db.execute(
            "select body from records where resource = ? and id = ?", (resource, entity_id)
        ).fetchone()
        return loads(row[0]) if row else None

    def find(self, resource: str, **equals: Any) -> list[dict[str, Any]]:
        """Entities whose top-level fields equal the given values (small lookups inside postings)."""
        # Same expressions as the INDEXES, with the resource as a literal, so SQLite can use them.
        clauses = " and ".join(f"json_extract(body, '$.{field}') = ?" for field in equals)
        sql = f"select body from records where {resource_is(resource)}" + (f" and {clauses}" if clauses else "")
        # "+id": ordering by the bare primary key would make SQLite walk the whole resource in id order
        # instead of using the field's index; the few matches are sorted afterwards.
        rows = self._db.execute(sql + " order by +id", tuple(equals.values()))
        return [loads(body) for (body,) in rows]

    def query(self, resource: str, query: ODataQuery, scope: dict[str, Any] | None = None) -> list[str]:
        """Stored JSON texts matching an OData query, in order; `scope` narrows to a parent's children."""
        where = [f"({query.where_sql})"]
        params: list[Any] = list(query.params)
        for field, value in (scope or {}).items():
            where.append(f"json_extract(body, '$.{field}') = ?")
            params.append(value)
        sql = (
            f"select body from records {index_hint(resource, query.order_sql)}"
            f"where {resource_is(resource)} and {' and '.join(where)} "
            f"order by {query.order_sql} limit ? offset ?"
        )
        rows = self._db.execute(sql, (*params, query.top, query.skip))
        return [body for (body,) in rows]

    @staticmethod
    def query_documents(documents: list[dict[str, Any]], query: ODataQuery) -> tuple[int, list[str]]:
        """Apply an OData query to documents held in memory (nested collections such as order lines),
        with the same SQL as stored entities; returns the match count and the page."""
        scratch = sqlite3.connect(":memory:")
        try:
            scratch.execute("create table records (resource text, id integer, body text)")
            scratch.executemany(
                "insert into records values ('', ?, ?)", [(doc.get("id"), dumps(doc)) for doc in documents]
            )
            where = f"resource = '' and ({query.where_sql})"
            count = scratch.execute(f"select count(*) from records where {where}", query.params).fetchone()[0]
            rows = scratch.execute(
                f"select body from records where {where} order by {query.order_sql} limit ? offset ?",
                (*query.params, query.top, query.skip),
            )
            return count, [body for (body,) in rows]
        finally:
            scratch.close()

    def count(self, resource: str, query: ODataQuery, scope: dict[str, Any] | None = None) -> int:
        where = [f"({query.where_sql})"]
        params: list[Any] = list(query.params)
        for field, value in (scope or {}).items():
            where.append(f"json_extract(body, '$.{field}') = ?")
            params.append(value)
        sql = f"select count(*) from records where {resource_is(resource)} and {' and '.join(where)}"
        return self._db.execute(sql, tuple(params)).fetchone()[0]

    # nominal ledger ---------------------------------------------------------------------------------
    def add_nominal_entry(self, **entry: Any) -> None:
        self._db.execute(
            "insert into nominal_entries (urn, nominal_code_id, transaction_date, value, source, "
            "transaction_type, reference, narrative) values (:urn, :nominal_code_id, :transaction_date, "
            ":value, :source, :transaction_type, :reference, :narrative)",
            {**entry, "value": str(entry["value"])},
        )
