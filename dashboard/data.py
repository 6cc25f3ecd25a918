"""Every query the dashboard runs, in one place.

The dashboard reads only the published read snapshot (`pipelines.warehouse.snapshot`), one short read-only
connection per query, closed after it: a connection held open would pin an old snapshot and, held on the
warehouse, block the pipeline. Each query is cached for a few seconds, keyed by the snapshot's path *and* its
modification time, so a newly published snapshot shows at once. Values are bound as ``?`` parameters, never
formatted into the SQL.

The dashboard writes only the action store (`pipelines.warehouse.actions.ActionStore`). Its rows reach the
warehouse's ``audit`` schema at the start of the next run; until the snapshot has a row, the store's copy is
shown as pending.

Money stays ``decimal.Decimal`` (DuckDB's ``decimal(18,2)``); frames are built from ``fetchall`` rows rather
than DuckDB's ``df()``, which would turn decimals into floats.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import streamlit as st

from pipelines.close.pack import MANIFEST, REPORT
from pipelines.settings import Locations
from pipelines.warehouse.actions import ActionStore, ExceptionAction, PaymentApproval, actions_path
from pipelines.warehouse.snapshot import SnapshotMissing, open_snapshot, snapshot_path

#: How long a query's answer is reused. A new snapshot changes the cache key, so this only bounds how stale
#: time-dependent answers (a view judging freshness by the clock) may be.
TTL_SECONDS = 30
#: The most rows a list shows; the page says when there are more.
LIST_LIMIT = 500
#: The most lines of one document (a PO, a payment) shown.
LINES_LIMIT = 2000
#: "Now" may be pinned for demos and replays, as dbt's ``as_of_time`` macro pins it for the models.
NOW_VARIABLE = "AVC2SAGE_NOW"
DEFAULT_TIMEZONE = "Europe/London"
HANDBOOK_DIR = Path(__file__).resolve().parent.parent / "docs" / "handbook" / "exceptions"

EXCEPTION_STATUSES = ("open", "snooze ended", "snoozed", "resolved")
DEFAULT_EXCEPTION_STATUSES = ("open", "snooze ended")
# Age bands of the exceptions filter: label → (at least, under) hours since first detected.
AGE_BANDS: dict[str, tuple[int | None, int | None]] = {
    "any age": (None, None),
    "under 1 day": (None, 24),
    "1 to 3 days": (24, 72),
    "3 to 7 days": (72, 168),
    "over 7 days": (168, None),
}
PENDING = "pending until the next run"
#: The flows in the order documents travel, for the overview's tiles.
FLOW_ORDER = ("po_intake", "sales_orders", "acknowledgements", "asns", "invoices", "remittances", "sage_reads")


@dataclass(frozen=True)
class Snapshot:
    """One published snapshot: its path and modification time are the cache key of every query."""

    path: str
    mtime_ns: int

    @property
    def published_at(self) -> datetime:
        return datetime.fromtimestamp(self.mtime_ns / 1e9, UTC)


# --- where things are -----------------------------------------------------------------------------------


def warehouse_path() -> Path:
    return Locations.resolve().warehouse


def current_snapshot() -> Snapshot:
    """The snapshot published now; raises SnapshotMissing when nothing has been published yet."""
    path = snapshot_path(warehouse_path())
    try:
        mtime_ns = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise SnapshotMissing(f"no snapshot yet at {path}: run `avc2sage run` first") from None
    # The file itself (not a link to it) is the key: two names of one snapshot share their answers.
    return Snapshot(str(path.resolve()), mtime_ns)


def utc_now() -> datetime:
    """Now, or the time pinned in AVC2SAGE_NOW (an ISO timestamp with its offset)."""
    pinned = os.environ.get(NOW_VARIABLE, "").strip()
    if pinned:
        moment = datetime.fromisoformat(pinned)
        if moment.tzinfo is None:
            raise ValueError(f"{NOW_VARIABLE} must carry its UTC offset, e.g. 2026-03-15T09:00:00+00:00")
        return moment.astimezone(UTC)
    return datetime.now(UTC)


def this_minute() -> datetime:
    """Now to the minute: time-dependent queries take it, so their cache holds for the minute."""
    return utc_now().replace(second=0, microsecond=0)


def action_store() -> ActionStore:
    """The dashboard's action store beside the warehouse (created on first use)."""
    return ActionStore(actions_path(warehouse_path()), clock=utc_now)


def _existing_store() -> ActionStore | None:
    """The action store if anyone has acted yet; reading never creates it."""
    path = actions_path(warehouse_path())
    return ActionStore(path, clock=utc_now) if path.exists() else None


# --- running a query ------------------------------------------------------------------------------------


@contextmanager
def _connect(snapshot: Snapshot) -> Iterator[duckdb.DuckDBPyConnection]:
    con = open_snapshot(Path(snapshot.path))
    try:
        yield con
    finally:
        con.close()


def _frame(con: duckdb.DuckDBPyConnection, sql: str, parameters: Sequence[Any] = ()) -> pd.DataFrame:
    cursor = con.execute(sql, list(parameters))
    columns = [column[0] for column in cursor.description]
    # dtype object keeps DuckDB's values as they are: no NaN for a null, no float for an integer column with nulls.
    return pd.DataFrame(cursor.fetchall(), columns=columns, dtype=object)


def _row(con: duckdb.DuckDBPyConnection, sql: str, parameters: Sequence[Any] = ()) -> dict[str, Any] | None:
    cursor = con.execute(sql, list(parameters))
    columns = [column[0] for column in cursor.description]
    row = cursor.fetchone()
    return dict(zip(columns, row, strict=True)) if row is not None else None


def _distinct(snapshot: Snapshot, sql: str) -> list[str]:
    """The values of a one-column `select distinct` (a filter's choices)."""
    with _connect(snapshot) as con:
        return [value for (value,) in con.execute(sql).fetchall()]


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def company_timezone(snapshot: Snapshot) -> str:
    """The company's time zone, as the configuration loaded into raw_app says (times are shown in it)."""
    with _connect(snapshot) as con:
        if not _has_table(con, "raw_app", "business_settings"):
            return DEFAULT_TIMEZONE
        row = con.execute(
            "select value from raw_app.business_settings where setting = 'company.timezone' limit 1"
        ).fetchone()
    return row[0] if row and row[0] else DEFAULT_TIMEZONE


# --- overview -------------------------------------------------------------------------------------------
# Opening a DuckDB file costs tens of milliseconds, more than most of these queries: each page reads what it
# shows through as few functions (connections) as it can.


def _sync_health(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    if not _has_table(con, "marts", "sync_health"):
        return pd.DataFrame()
    return _frame(
        con,
        "select flow, flow_title, owner_role, schedule, last_run_at, last_run_status, last_error,"
        " last_success_at, minutes_since_success, freshness, backlog, backlog_description, success_rate,"
        " success_rate_description, matched_by_value_ratio, clearing_bank_unexplained, open_exceptions,"
        " overdue_exceptions, status, status_reason, as_of from marts.sync_health"
        " order by coalesce(list_position(?, flow), 99), flow",
        [list(FLOW_ORDER)],
    )


def _exceptions_per_day(con: duckdb.DuckDBPyConnection, timezone: str, days: int) -> pd.DataFrame:
    return _frame(
        con,
        """
        with events as (
            select cast(timezone(?, detected_at) as date) as day, 1 as opened, 0 as resolved
            from marts.exceptions
            union all
            select cast(timezone(?, resolved_at) as date), 0, 1
            from marts.exceptions where resolved_at is not null
        ),
        recent as (
            select * from events where day > (select max(day) from events) - cast(? as integer)
        )
        select day, cast(sum(opened) as integer) as opened, cast(sum(resolved) as integer) as resolved
        from recent group by day order by day
        """,
        [timezone, timezone, days],
    )


def _payments_per_week(con: duckdb.DuckDBPyConnection, weeks: int) -> pd.DataFrame:
    return _frame(
        con,
        """
        select cast(date_trunc('week', payment_date) as date) as week,
            cast(count(*) as integer) as payments,
            sum(invoices_gross) as invoices_gross, sum(deductions_total) as deductions_total,
            sum(net_paid) as net_paid
        from marts.remittance_payments
        where payment_date > (select max(payment_date) from marts.remittance_payments) - 7 * cast(? as integer)
        group by all order by week
        """,
        [weeks],
    )


def _loaded_action_ids(con: duckdb.DuckDBPyConnection, exception_ids: Sequence[str]) -> frozenset[str]:
    """The ids of the actions on these exceptions that a run has loaded into audit.exception_actions."""
    if not exception_ids or not _has_table(con, "audit", "exception_actions"):
        return frozenset()
    rows = con.execute(
        "select action_id from audit.exception_actions where list_contains(?, exception_id)", [list(exception_ids)]
    ).fetchall()
    return frozenset(action_id for (action_id,) in rows)


def _judged_approval_ids(con: duckdb.DuckDBPyConnection, payment_numbers: Sequence[str]) -> frozenset[str]:
    """The ids of the dashboard's approvals of these payments that a run has judged (audit.dashboard_approvals)."""
    if not payment_numbers or not _has_table(con, "audit", "dashboard_approvals"):
        return frozenset()
    rows = con.execute(
        "select approval_id from audit.dashboard_approvals where list_contains(?, payment_number)",
        [list(payment_numbers)],
    ).fetchall()
    return frozenset(approval_id for (approval_id,) in rows)


@dataclass(frozen=True)
class Overview:
    """What the overview shows."""

    health: pd.DataFrame  # marts.sync_health, one row per flow; empty when the snapshot predates it
    clearing_bank_unexplained: Decimal | None  # null: the clearing bank was never read back from Sage
    exceptions_per_day: pd.DataFrame  # day, opened, resolved (company time zone)
    payments_per_week: pd.DataFrame  # week, payments, invoices_gross, deductions_total, net_paid
    due: pd.DataFrame  # open exceptions (and snoozes over) due within 24 hours or overdue, soonest first
    due_loaded_action_ids: frozenset[str]
    awaiting_approval: pd.DataFrame  # payments whose posting waits for a person
    judged_approval_ids: frozenset[str]


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def overview(snapshot: Snapshot, timezone: str, now: datetime, days: int = 30, weeks: int = 26) -> Overview:
    """The flows' health, the clearing bank, the trends (over the `days` / `weeks` up to the latest one) and
    what needs a person today."""
    with _connect(snapshot) as con:
        health = _sync_health(con)
        remittances = health[health["flow"] == "remittances"] if not health.empty else health
        due = _frame(
            con,
            "select exception_id, kind, title, severity, owner_role, flow, document_type, document_reference,"
            " due_at, amount, assignee, message, due_at < ? as is_overdue from marts.exceptions"
            " where (status = 'open' or (status = 'snoozed' and snoozed_until <= ?)) and due_at <= ?"
            " order by due_at, exception_id limit ?",
            [now, now, now + timedelta(hours=24), LIST_LIMIT],
        )
        awaiting = _frame(
            con,
            "select payment_number, vendor_code, payment_date, net_paid, posting_value, approval_reasons,"
            " plan_sha256 from marts.remittance_payments where posting_status = 'awaiting_approval'"
            " order by payment_date, payment_number limit ?",
            [LIST_LIMIT],
        )
        return Overview(
            health=health,
            clearing_bank_unexplained=remittances["clearing_bank_unexplained"].iloc[0] if len(remittances) else None,
            exceptions_per_day=_exceptions_per_day(con, timezone, days),
            payments_per_week=_payments_per_week(con, weeks),
            due=due,
            due_loaded_action_ids=_loaded_action_ids(con, list(due["exception_id"]) if len(due) else []),
            awaiting_approval=awaiting,
            judged_approval_ids=_judged_approval_ids(con, list(awaiting["payment_number"]) if len(awaiting) else []),
        )


# --- exceptions -----------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def exception_filter_options(snapshot: Snapshot) -> dict[str, list[str]]:
    """The owner roles, kinds and flows there are, for the filters."""
    with _connect(snapshot) as con:
        options = {
            "owner_role": "select distinct owner_role from seeds.exception_kinds order by 1",
            "kind": "select kind from seeds.exception_kinds order by 1",
            "flow": "select distinct flow from marts.exceptions order by 1",
        }
        return {name: [value for (value,) in con.execute(sql).fetchall()] for name, sql in options.items()}


@dataclass(frozen=True)
class ExceptionFilter:
    """What the exceptions page lists; empty selections mean "all"."""

    owner_roles: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    flows: tuple[str, ...] = ()
    statuses: tuple[str, ...] = DEFAULT_EXCEPTION_STATUSES
    age: str = "any age"


def _exception_where(chosen: ExceptionFilter, now: datetime) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    parameters: list[Any] = []
    for column, values in (("owner_role", chosen.owner_roles), ("kind", chosen.kinds), ("flow", chosen.flows)):
        if values:
            clauses.append(f"list_contains(?, {column})")  # the column name is one of three constants
            parameters.append(list(values))
    status_clauses = {
        "open": ("status = 'open'", []),
        "snooze ended": ("(status = 'snoozed' and snoozed_until <= ?)", [now]),
        "snoozed": ("(status = 'snoozed' and (snoozed_until > ? or snoozed_until is null))", [now]),
        "resolved": ("status = 'resolved'", []),
    }
    statuses = [status_clauses[status] for status in chosen.statuses if status in status_clauses]
    if statuses:
        clauses.append("(" + " or ".join(sql for sql, _ in statuses) + ")")
        parameters += [value for _, values in statuses for value in values]
    at_least, under = AGE_BANDS[chosen.age]
    if at_least is not None:
        clauses.append("detected_at <= ?")
        parameters.append(now - timedelta(hours=at_least))
    if under is not None:
        clauses.append("detected_at > ?")
        parameters.append(now - timedelta(hours=under))
    return (" where " + " and ".join(clauses)) if clauses else "", parameters


@dataclass(frozen=True)
class Queue:
    """The exceptions a filter picks."""

    exceptions: pd.DataFrame  # soonest due first, at most LIST_LIMIT
    total: int  # how many the filter picks in all
    loaded_action_ids: frozenset[str]  # the listed exceptions' actions already in audit.exception_actions


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def exception_queue(snapshot: Snapshot, chosen: ExceptionFilter, now: datetime) -> Queue:
    where, parameters = _exception_where(chosen, now)
    with _connect(snapshot) as con:
        total = con.execute(f"select count(*) from marts.exceptions{where}", parameters).fetchone()[0]
        listed = _frame(
            con,
            "select exception_id, kind, title, severity, owner_role, flow, status, snoozed_until,"
            " document_type, document_reference, detected_at, due_at, amount, assignee,"
            " cast(floor(epoch(cast(? as timestamptz) - detected_at) / 3600) as integer) as age_hours,"
            f" due_at < ? as is_overdue from marts.exceptions{where} order by due_at, exception_id limit ?",
            [now, now, *parameters, LIST_LIMIT],
        )
        loaded = _loaded_action_ids(con, list(listed["exception_id"]) if len(listed) else [])
    return Queue(listed, total, loaded)


@dataclass(frozen=True)
class ExceptionDetail:
    """One exception, the documents behind it and the actions a run has loaded for it."""

    exception: dict[str, Any]
    documents: list[Section]
    actions: pd.DataFrame  # audit.exception_actions of the exception, oldest first


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def exception_detail(snapshot: Snapshot, exception_id: str) -> ExceptionDetail | None:
    with _connect(snapshot) as con:
        row = _row(
            con,
            "select exception_id, kind, title, severity, owner_role, flow, document_type, document_reference,"
            " detected_at, due_at, amount, message, suggested_action, status, assignee, snoozed_until, resolved_at,"
            " resolved_by, resolution_note, last_action_at, last_seen_at from marts.exceptions where exception_id = ?",
            [exception_id],
        )
        if row is None:
            return None
        actions = pd.DataFrame(columns=["action_id", "loaded_at"])
        if _has_table(con, "audit", "exception_actions"):
            actions = _frame(
                con,
                "select action_id, action, assignee, snoozed_until, note, taken_by, identity_source, taken_at,"
                " loaded_at from audit.exception_actions where exception_id = ? order by taken_at, action_id limit ?",
                [exception_id, LINES_LIMIT],
            )
        documents = _sections(con, _document_queries(row["document_type"], row["document_reference"]))
    return ExceptionDetail(row, documents, actions)


def pending_exception_actions(exception_ids: Sequence[str], loaded_action_ids: frozenset[str]) -> list[ExceptionAction]:
    """The store's actions on these exceptions that the snapshot does not have yet, oldest first."""
    store = _existing_store()
    if store is None or not len(exception_ids):
        return []
    return [
        action for action in store.exception_actions(list(exception_ids)) if action.action_id not in loaded_action_ids
    ]


def with_pending(row: dict[str, Any], pending: Sequence[ExceptionAction]) -> dict[str, Any]:
    """An exception as it will be once the pipeline has loaded the pending actions (mirrors marts.exceptions)."""
    row = dict(row)
    for action in pending:
        if action.action == "assign":
            row["assignee"] = action.assignee
        elif action.action == "snooze":
            row["status"], row["snoozed_until"] = "snoozed", action.snoozed_until
        elif action.action == "resolve":
            row["status"], row["resolved_at"] = "resolved", action.taken_at
            row["resolved_by"], row["resolution_note"] = action.taken_by, action.note
        elif action.action == "reopen":
            row["status"], row["snoozed_until"] = "open", None
            row["resolved_at"] = row["resolved_by"] = row["resolution_note"] = None
        row["last_action_at"] = action.taken_at
    return row


def describe_pending(pending: Sequence[ExceptionAction]) -> str:
    """One line for a list: what people did that the snapshot does not show yet."""
    if not pending:
        return ""
    return ", ".join(f"{action.action} by {action.taken_by}" for action in pending) + f" ({PENDING})"


# --- the documents behind an exception ------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A titled table of the documents (or raw data) behind an exception."""

    title: str
    frame: pd.DataFrame
    is_raw: bool = False


def _sections(con: duckdb.DuckDBPyConnection, queries: Sequence[tuple[str, str, list[Any], bool]]) -> list[Section]:
    return [Section(title, _frame(con, sql, parameters), raw) for title, sql, parameters, raw in queries]


_PO = (
    "select purchase_order_number, vendor_code, edi_standard, po_type, po_date, received_at, version_number,"
    " order_status, blocked_reason, sales_order_failure, sage_order_number, acknowledgement_status,"
    " acknowledgement_due_at, acknowledged_at, ship_to_location, window_start_date, window_end_date, line_count,"
    " unresolved_line_count, ordered_value, accepted_value from marts.purchase_orders where purchase_order_number = ?"
)
_PO_LINES = (
    "select line_number, line_id, amazon_product_id, ordered_quantity, ordered_unit, unit_size, unit_cost,"
    " ordered_value, sage_product_code, sage_selling_unit, resolution_status, price_check, price_variance_percent,"
    " acknowledgement_code, accepted_quantity, backordered_quantity, rejected_quantity, rejection_reason"
    " from marts.purchase_order_lines where purchase_order_number = ?"
)
_RAW_PO = (
    "select po_number, content_sha256, po_type, purpose, po_date, currency, ship_to_qualifier, ship_to_id,"
    " window_start, window_end, backorder_allowed, is_test, source_format, source_file, received_at, line_count"
    " from raw_amazon.purchase_orders where po_number = ? order by received_at limit ?"
)
_RAW_PO_LINES = """
    select lines.line_number, lines.line_id, lines.quantity, lines.unit_of_measure, lines.unit_size,
        lines.unit_price, lines.price_basis,
        (select string_agg(ids.qualifier || ' ' || ids.value, ', ' order by ids.position)
         from raw_amazon.purchase_order_line_identifiers as ids
         where ids.po_number = lines.po_number and ids.content_sha256 = lines.content_sha256
             and ids.line_number = lines.line_number) as identifiers
    from raw_amazon.purchase_order_lines as lines
    where lines.po_number = ? and lines.content_sha256 = (
        select arg_max(content_sha256, received_at) from raw_amazon.purchase_orders where po_number = ?)
"""


def _purchase_order_queries(po: str, line_id: str | None = None) -> list[tuple[str, str, list[Any], bool]]:
    line_filter = " and line_id = ?" if line_id is not None else ""
    line_parameters = [line_id] if line_id is not None else []
    raw_line_filter = " and lines.line_id = ?" if line_id is not None else ""
    return [
        (f"Purchase order {po}", _PO, [po], False),
        (
            f"PO {po} line {line_id}" if line_id else f"PO {po} lines",
            _PO_LINES + line_filter + " order by line_number limit ?",
            [po, *line_parameters, LINES_LIMIT],
            False,
        ),
        (f"Amazon's versions of PO {po} (raw_amazon)", _RAW_PO, [po, LINES_LIMIT], True),
        (
            "Amazon's lines as sent, latest version (raw_amazon)",
            _RAW_PO_LINES + raw_line_filter + " order by lines.line_number limit ?",
            [po, po, *line_parameters, LINES_LIMIT],
            True,
        ),
    ]


def _shipment_queries(reference: str) -> list[tuple[str, str, list[Any], bool]]:
    po, _, despatch = reference.rpartition("/")
    return [
        (
            f"Despatch {despatch}",
            "select despatch_id, despatch_number, shipment_id, purchase_order_number, sales_order_number, vendor_code,"
            " despatched_at, asn_due_at, asn_sent_at, validation_status, transmission_status, cartons, pallets,"
            " file_name, label_file, is_late from marts.shipments where purchase_order_number = ?"
            " and despatch_number = ?",
            [po, despatch],
            False,
        ),
        (
            "Why its ship notice was held back",
            "select failures.rule, failures.message, failures.checked_at from marts.asn_validation_failures as failures"
            " join marts.shipments as shipments using (despatch_id)"
            " where shipments.purchase_order_number = ? and shipments.despatch_number = ? order by failures.rule",
            [po, despatch],
            False,
        ),
        *_purchase_order_queries(po)[:1],
        *_purchase_order_queries(po)[2:3],
    ]


def _invoice_queries(reference: str) -> list[tuple[str, str, list[Any], bool]]:
    po, _, invoice = reference.rpartition("/")
    queries: list[tuple[str, str, list[Any], bool]] = [
        (
            f"Sage invoice {invoice}",
            "select sage_invoice_id, invoice_number, purchase_order_number, sales_order_number, vendor_code,"
            " invoice_date, net_amount, tax_amount, gross_amount, validation_status, sent_at, transmission_status,"
            " file_name from marts.invoices where invoice_number = ? and (? = '' or purchase_order_number = ?)",
            [invoice, po, po],
            False,
        ),
        (
            "Why it was held back",
            "select rule, message, checked_at from marts.invoice_validation_failures where invoice_number = ?"
            " order by rule",
            [invoice],
            False,
        ),
        (
            "Amazon's payment lines on it",
            "select payment_number, line_number, payment_date, invoice_number, line_kind, amount, discount_amount,"
            " settlement_amount, match_method, match_status, allocated_amount, on_account_amount, variance_amount"
            " from marts.remittance_lines where matched_invoice_reference = ? or root_invoice_number = ?"
            " order by payment_date, payment_number, line_number limit ?",
            [invoice, invoice, LINES_LIMIT],
            False,
        ),
    ]
    if po:
        queries += [_purchase_order_queries(po)[0], _purchase_order_queries(po)[2]]
    return queries


def _payment_queries(payment: str, line: int | None = None) -> list[tuple[str, str, list[Any], bool]]:
    line_filter = " and line_number = ?" if line is not None else ""
    line_parameters = [line] if line is not None else []
    return [
        (
            f"Payment {payment}",
            "select payment_number, vendor_code, payment_date, currency, invoices_gross, deductions_total, net_paid,"
            " matched_ratio, exceptions_count, approval_reasons, refusal_reason, posting_status"
            " from marts.remittance_payments where payment_number = ?",
            [payment],
            False,
        ),
        (
            f"Payment {payment} line {line}" if line is not None else f"Payment {payment} lines",
            "select line_number, invoice_number, description, po_number, line_kind, amount, discount_amount,"
            " settlement_amount, matched_invoice_reference, match_method, match_reason, match_status,"
            " allocated_amount, on_account_amount, variance_amount, nominal_code, posting_method"
            f" from marts.remittance_lines where payment_number = ?{line_filter} order by line_number limit ?",
            [payment, *line_parameters, LINES_LIMIT],
            False,
        ),
        (
            "Amazon's versions of the payment (raw_amazon)",
            "select payment_number, content_sha256, payment_date, currency, amount, source_format, source_file,"
            " received_at, line_count from raw_amazon.remittance_payments where payment_number = ?"
            " order by received_at limit ?",
            [payment, LINES_LIMIT],
            True,
        ),
        (
            "Amazon's lines as sent, latest version (raw_amazon)",
            "select line_number, invoice_number, invoice_date, description, gross_amount, discount_amount,"
            " paid_amount, remaining_amount, po_number, transaction_type from raw_amazon.remittance_lines"
            " where payment_number = ? and content_sha256 = (select arg_max(content_sha256, received_at)"
            f" from raw_amazon.remittance_payments where payment_number = ?){line_filter}"
            " order by line_number limit ?",
            [payment, payment, *line_parameters, LINES_LIMIT],
            True,
        ),
    ]


def _inbound_queries(reference: str) -> list[tuple[str, str, list[Any], bool]]:
    file_name, _, control_number = reference.partition("#")
    set_filter = " and control_number = ?" if control_number else ""
    return [
        (
            f"Inbound file {file_name} (raw_amazon.inbound_files)",
            "select file_name, vendor_code, format, outcome, error_message, error_position, envelope_errors,"
            " sets_total, sets_quarantined, size_bytes, sha256, received_at, processed_at"
            " from raw_amazon.inbound_files where file_name = ? order by received_at limit ?",
            [file_name, LINES_LIMIT],
            True,
        ),
        (
            "Its documents (raw_amazon.inbound_sets)",
            "select control_number, group_control_number, document_type, outcome, error_message, error_position"
            f" from raw_amazon.inbound_sets where file_name = ?{set_filter} order by control_number limit ?",
            [file_name, *([control_number] if control_number else []), LINES_LIMIT],
            True,
        ),
    ]


def _other_queries(document_type: str, reference: str) -> list[tuple[str, str, list[Any], bool]]:
    if document_type == "configuration":
        return [
            (
                f"Setting {reference} (raw_app)",
                "select setting, value, sage_entity, config_file from raw_app.business_settings where setting = ?",
                [reference],
                True,
            )
        ]
    if document_type == "bank":
        return [
            (
                f"Read-backs of bank {reference} from Sage",
                "select checked_at, sage_balance, expected_balance, difference, payments_checked, detail"
                " from audit.clearing_bank_checks where bank_code = ? order by sequence_number desc limit 20",
                [reference],
                False,
            )
        ]
    if document_type == "sage_load":
        return [
            (
                "The latest Sage 200 loads",
                "select started_at, ended_at, status, error from audit.runs where job = 'sage_load'"
                " order by started_at desc limit 20",
                [],
                False,
            )
        ]
    # Anything else is a document we sent Amazon (855, 856, 810, ORDRSP, DESADV, INVOIC...), by file name.
    return [
        (
            f"Document {reference}",
            "select file_name, document_type, standard, business_reference, written_at, status, answered_at,"
            " answer_kind, answer_errors, response_due_at, is_overdue, interchange_control_number,"
            " group_control_number, message_control_number from marts.outbound_documents where file_name = ?",
            [reference],
            False,
        )
    ]


def _document_queries(document_type: str, reference: str) -> list[tuple[str, str, list[Any], bool]]:
    """The queries of the documents an exception is about, and of the raw data behind them, by document type."""
    if document_type == "purchase_order":
        return _purchase_order_queries(reference)
    if document_type == "purchase_order_line":
        po, _, line_id = reference.rpartition("#")
        return _purchase_order_queries(po, line_id)
    if document_type == "shipment":
        return _shipment_queries(reference)
    if document_type == "invoice":
        return _invoice_queries(reference)
    if document_type == "remittance":
        return _payment_queries(reference)
    if document_type == "remittance_line":
        payment, _, line = reference.rpartition("#")
        return _payment_queries(payment, int(line)) if line.isdigit() else _payment_queries(reference)
    if document_type == "inbound_file" or "#" in reference:
        return _inbound_queries(reference)  # a file, or one set in it ('<file>#<control number>')
    return _other_queries(document_type, reference)


def purchase_order_of(document_type: str, reference: str) -> str | None:
    """The PO an exception's document belongs to, where its reference says (for a link to its lifecycle)."""
    if document_type == "purchase_order":
        return reference
    if document_type == "purchase_order_line":
        return reference.rpartition("#")[0] or None
    if document_type in ("shipment", "invoice") and "/" in reference:
        return reference.rpartition("/")[0]
    return None


# --- handbook -------------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def exception_kinds(snapshot: Snapshot) -> pd.DataFrame:
    """seeds.exception_kinds: each kind's title, severity, owner, suggested action and due hours."""
    with _connect(snapshot) as con:
        return _frame(
            con,
            "select kind, title, severity, owner_role, suggested_action, due_hours from seeds.exception_kinds"
            " order by kind",
        )


_KIND = re.compile(r"[a-z0-9_]+")


def handbook_path(kind: str) -> Path | None:
    """The handbook page of a kind; None for anything that is not a kind's name (no paths from a URL)."""
    return HANDBOOK_DIR / f"{kind}.md" if _KIND.fullmatch(kind) else None


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _read_text(path: str, mtime_ns: int) -> str:
    return Path(path).read_text(encoding="utf-8")


def handbook_page(kind: str) -> str | None:
    """The text of docs/handbook/exceptions/<kind>.md, or None when there is no such page yet."""
    path = handbook_path(kind)
    if path is None or not path.is_file():
        return None
    return _read_text(str(path), path.stat().st_mtime_ns)


# --- order lifecycle ------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def find_purchase_orders(snapshot: Snapshot, search: str, limit: int = 50) -> list[str]:
    """PO numbers containing `search` (any case), newest first."""
    with _connect(snapshot) as con:
        rows = con.execute(
            "select purchase_order_number from marts.purchase_orders"
            " where contains(lower(purchase_order_number), lower(?))"
            " order by received_at desc, purchase_order_number limit ?",
            [search.strip(), limit],
        ).fetchall()
    return [po for (po,) in rows]


@dataclass(frozen=True)
class Lifecycle:
    """Everything about one PO, from its arrival to Amazon's payment."""

    purchase_order: dict[str, Any]
    sales_order_at: datetime | None
    acknowledgement: dict[str, Any] | None
    lines: pd.DataFrame
    shipments: pd.DataFrame
    invoices: pd.DataFrame
    payments: pd.DataFrame


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def order_lifecycle(snapshot: Snapshot, po: str) -> Lifecycle | None:
    with _connect(snapshot) as con:
        header = _row(con, _PO, [po])
        if header is None:
            return None
        posted = con.execute(
            "select min(recorded_at) from audit.sage_postings where posting_key = ?"
            " and status in ('posted', 'found', 'found_existing')",
            [f"sop_order:{header['vendor_code']}:{po}"],
        ).fetchone()[0]
        acknowledgement = _row(
            con,
            "select documents.file_name, documents.document_type, documents.standard, documents.written_at,"
            " documents.status, documents.answered_at, documents.answer_errors from marts.outbound_documents"
            " as documents join marts.purchase_orders as orders"
            " on documents.file_name = orders.acknowledgement_file_name where orders.purchase_order_number = ?",
            [po],
        )
        lines = _frame(con, _PO_LINES + " order by line_number limit ?", [po, LINES_LIMIT])
        shipments = _frame(
            con,
            "select despatch_number, shipment_id, despatched_at, asn_due_at, asn_sent_at, validation_status,"
            " transmission_status, cartons, pallets, is_late from marts.shipments where purchase_order_number = ?"
            " order by despatched_at, despatch_number limit ?",
            [po, LINES_LIMIT],
        )
        invoices = _frame(
            con,
            "select invoice_number, invoice_date, gross_amount, validation_status, sent_at, transmission_status"
            " from marts.invoices where purchase_order_number = ? order by invoice_date, invoice_number limit ?",
            [po, LINES_LIMIT],
        )
        payments = _frame(
            con,
            """
            select lines.payment_number, lines.line_number, lines.payment_date, lines.invoice_number,
                lines.line_kind, lines.amount, lines.settlement_amount, lines.match_status, lines.allocated_amount,
                lines.variance_amount, payments.posting_status
            from marts.remittance_lines as lines
            join marts.remittance_payments as payments using (payment_number)
            where lines.po_number = ?
                or lines.matched_invoice_reference in (
                    select invoice_number from marts.invoices where purchase_order_number = ?)
            order by lines.payment_date, lines.payment_number, lines.line_number limit ?
            """,
            [po, po, LINES_LIMIT],
        )
    return Lifecycle(header, posted, acknowledgement, lines, shipments, invoices, payments)


# --- remittances ----------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def remittance_payments(snapshot: Snapshot, statuses: tuple[str, ...] = ()) -> pd.DataFrame:
    """Payments waiting for a person first, then newest first (at most LIST_LIMIT)."""
    sql = (
        "select payment_number, vendor_code, payment_date, currency, invoices_gross, deductions_total, net_paid,"
        " matched_ratio, posting_status, exceptions_count from marts.remittance_payments"
    )
    parameters: list[Any] = []
    if statuses:
        sql += " where list_contains(?, posting_status)"
        parameters.append(list(statuses))
    sql += " order by posting_status = 'awaiting_approval' desc, payment_date desc, payment_number limit ?"
    with _connect(snapshot) as con:
        return _frame(con, sql, [*parameters, LIST_LIMIT])


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def posting_statuses(snapshot: Snapshot) -> list[str]:
    return _distinct(snapshot, "select distinct posting_status from marts.remittance_payments order by 1")


@dataclass(frozen=True)
class PaymentDetail:
    """One payment: its figures, lines, posting plan, approvals and Sage documents."""

    payment: dict[str, Any]
    lines: pd.DataFrame
    postings: pd.DataFrame  # the posting plan (the journal), in the order it posts
    approvals: pd.DataFrame  # audit.remittance_approvals of its plans (cli, dashboard, auto), oldest first
    outcomes: pd.DataFrame  # audit.dashboard_approvals: what the runs made of the dashboard's approvals
    sage_documents: pd.DataFrame  # the latest audit.sage_postings row of each of its Sage documents


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def payment_detail(snapshot: Snapshot, payment_number: str) -> PaymentDetail | None:
    with _connect(snapshot) as con:
        payment = _row(
            con,
            "select payment_number, vendor_code, sage_customer_account, payment_date, currency, invoices_gross,"
            " deductions_total, net_paid, matched_ratio, receipt_value, transfer_value, posting_value,"
            " exceptions_count, needs_approval, approval_reasons, plan_sha256, approved_by, approved_at,"
            " refusal_reason, posting_status from marts.remittance_payments where payment_number = ?",
            [payment_number],
        )
        if payment is None:
            return None
        lines = _frame(
            con,
            "select line_number, invoice_number, description, po_number, line_kind, deduction_type, amount,"
            " discount_amount, settlement_amount, matched_invoice_reference, match_method, match_status,"
            " allocated_amount, on_account_amount, variance_amount, nominal_code, posting_method, document_code"
            " from marts.remittance_lines where payment_number = ? order by line_number limit ?",
            [payment_number, LINES_LIMIT],
        )
        postings = _frame(
            con,
            "select step_sequence, step, document_code, line_number, account_type, account_code, cost_centre,"
            " department, tax_code, sage_transaction_id, applied_document_code, debit, credit, narrative"
            " from marts.remittance_postings where payment_number = ?"
            " order by step_sequence, document_code, account_type, account_code, line_number limit ?",
            [payment_number, LINES_LIMIT],
        )
        approvals = _frame(
            con,
            "select approval_id, plan_sha256, approved_by, approved_at, channel, note"
            " from audit.remittance_approvals where payment_number = ? order by sequence_number limit ?",
            [payment_number, LINES_LIMIT],
        )
        outcomes = pd.DataFrame(columns=["approval_id", "outcome", "message", "loaded_at"])
        if _has_table(con, "audit", "dashboard_approvals"):
            outcomes = _frame(
                con,
                "select approval_id, plan_sha256, approved_by, identity_source, note, taken_at, loaded_at, outcome,"
                " message from audit.dashboard_approvals where payment_number = ? order by taken_at limit ?",
                [payment_number, LINES_LIMIT],
            )
        sage_documents = _frame(
            con,
            "select posting_key, resource, status, sage_id, sage_reference, message, recorded_at"
            " from audit.sage_postings where starts_with(posting_key, ?)"
            " qualify row_number() over (partition by posting_key order by sequence_number desc) = 1"
            " order by posting_key limit ?",
            [f"remittance:{payment['vendor_code']}:{payment_number}:", LINES_LIMIT],
        )
    return PaymentDetail(payment, lines, postings, approvals, outcomes, sage_documents)


def pending_payment_approvals(
    judged_approval_ids: frozenset[str], payment_numbers: Sequence[str]
) -> list[PaymentApproval]:
    """The store's approvals of these payments that no run has judged yet, oldest first."""
    store = _existing_store()
    if store is None:
        return []
    wanted = set(payment_numbers)
    return [
        approval
        for approval in store.payment_approvals()
        if approval.payment_number in wanted and approval.approval_id not in judged_approval_ids
    ]


# --- deductions -----------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def deduction_types(snapshot: Snapshot) -> list[str]:
    return _distinct(snapshot, "select distinct deduction_type from marts.deductions order by 1")


@dataclass(frozen=True)
class Deductions:
    by_month: pd.DataFrame  # month, deduction_type, deductions, goods_amount, tax_amount, amount
    open_disputes: pd.DataFrame  # still open to dispute, nearest deadline first (at most LIST_LIMIT)
    open_dispute_count: int


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def deductions(snapshot: Snapshot, today: date, types: tuple[str, ...] = (), months: int = 12) -> Deductions:
    """Deductions per calendar month and type with their VAT, over the `months` up to the latest payment, and
    those whose dispute deadline is `today` or later; of the given types (all when none)."""
    type_filter = " and list_contains(?, deduction_type)" if types else ""  # a constant fragment
    type_parameters = [list(types)] if types else []
    with _connect(snapshot) as con:
        by_month = _frame(
            con,
            "select cast(date_trunc('month', payment_date) as date) as month, deduction_type,"
            " cast(count(*) as integer) as deductions, sum(goods_amount) as goods_amount,"
            " sum(tax_amount) as tax_amount, sum(amount) as amount from marts.deductions"
            " where payment_date >= date_trunc('month', (select max(payment_date) from marts.deductions))"
            f" - to_months(cast(? as integer) - 1){type_filter} group by all order by month, deduction_type",
            [months, *type_parameters],
        )
        where = f" where dispute_deadline >= ?{type_filter}"
        count = con.execute("select count(*) from marts.deductions" + where, [today, *type_parameters]).fetchone()
        disputes = _frame(
            con,
            "select deduction_id, payment_number, payment_date, deduction_type, reference, description,"
            " goods_amount, tax_amount, amount, root_invoice_number, purchase_order_number, age_days,"
            f" dispute_deadline from marts.deductions{where} order by dispute_deadline, deduction_id limit ?",
            [today, *type_parameters, LIST_LIMIT],
        )
    return Deductions(by_month, disputes, count[0])


def today_in(timezone: str) -> date:
    """Today's date in the company's time zone (dispute deadlines are dates there)."""
    return utc_now().astimezone(ZoneInfo(timezone)).date()


# --- month-end ------------------------------------------------------------------------------------------

# A roll-forward's lines: (label, column of marts.month_end_periods, sign), the closing line last.
_CLEARING_LINES = (
    ("Opening balance", "clearing_opening", 1),
    ("Amazon receipts", "clearing_amazon_receipts", 1),
    ("Deductions paid", "clearing_deductions_paid", 1),
    ("Recoveries received", "clearing_recoveries_received", 1),
    ("Transfers", "clearing_transfers", 1),
    ("Other", "clearing_other", 1),
    ("Closing balance", "clearing_closing", 1),
)
_OPEN_DEDUCTION_LINES = (
    ("Open at the start", "open_deductions_opening", 1),
    ("New deductions", "open_deductions_new", 1),
    ("Recovered (−)", "open_deductions_recovered", -1),
    ("Written off (−)", "open_deductions_written_off", -1),
    ("Open at the end", "open_deductions_closing", 1),
)
# What the status table shows of each period; the roll-forwards' columns are read with them.
PERIOD_STATUS_COLUMNS = (
    "period",
    "period_ended",
    "close_status",
    "latest_close_version",
    "latest_closed_by",
    "latest_closed_at",
    "invoiced_gross",
    "net_received",
    "deducted_gross",
    "unapplied_cash",
    "clearing_closing",
    "open_deductions_closing",
)
_PERIOD_COLUMNS = tuple(
    dict.fromkeys(
        [
            *PERIOD_STATUS_COLUMNS,
            "deductions_count",
            "deducted_tax",
            *(column for _, column, _ in _CLEARING_LINES + _OPEN_DEDUCTION_LINES),
        ]
    )
)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def month_end_periods(snapshot: Snapshot) -> pd.DataFrame | None:
    """marts.month_end_periods, newest period first; None when the snapshot predates the month-end marts."""
    with _connect(snapshot) as con:
        if not _has_table(con, "marts", "month_end_periods"):
            return None
        # The column names are this module's constants, never input.
        return _frame(
            con,
            f"select {', '.join(_PERIOD_COLUMNS)} from marts.month_end_periods order by period desc limit ?",
            [LIST_LIMIT],
        )


def default_close_period(periods: pd.DataFrame) -> str:
    """The period the page opens on: the newest one closed, else the newest."""
    closed = periods[periods["close_status"] == "closed"]
    return str((closed if len(closed) else periods)["period"].iloc[0])


def _roll_forward(period: Mapping[str, Any], lines: tuple[tuple[str, str, int], ...]) -> pd.DataFrame:
    """A roll-forward as (line, amount) rows, subtractions negated: every line above the last adds up to it."""
    return pd.DataFrame(
        [(label, sign * Decimal(period[column])) for label, column, sign in lines],
        columns=["line", "amount"],
        dtype=object,
    )


def clearing_roll_forward(period: Mapping[str, Any]) -> pd.DataFrame:
    """The Amazon clearing bank over a month (a row of `month_end_periods`): opening, movements, closing."""
    return _roll_forward(period, _CLEARING_LINES)


def open_deductions_roll_forward(period: Mapping[str, Any]) -> pd.DataFrame:
    """The recoverable deductions still open over a month: opening, new, recovered (−), written off (−), closing."""
    return _roll_forward(period, _OPEN_DEDUCTION_LINES)


def roll_forward_difference(frame: pd.DataFrame) -> Decimal:
    """The movements' sum less the closing line: 0.00 when the roll-forward adds up."""
    amounts = list(frame["amount"])
    return sum(amounts[:-1], start=Decimal(0)) - amounts[-1]


@dataclass(frozen=True)
class PeriodClose:
    """One period's deductions by type, its close runs and their checks."""

    deductions_by_type: pd.DataFrame
    runs: pd.DataFrame  # audit.month_end_runs of the period, newest first (close_id, then what the page shows)
    checks: pd.DataFrame  # audit.month_end_checks of those runs, failed first


_RUN_COLUMNS = (
    "close_id",
    "version",
    "status",
    "closed_by",
    "closed_at",
    "code_version",
    "manifest_sha256",
    "open_exceptions",
    "note",
    "pack_path",
)
_CHECK_COLUMNS = ("close_id", "check_name", "passed", "measured", "expected", "detail")


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def period_close(snapshot: Snapshot, period: str) -> PeriodClose:
    with _connect(snapshot) as con:
        deductions_by_type = pd.DataFrame(columns=["deduction_type"])
        if _has_table(con, "marts", "month_end_deductions_by_type"):
            deductions_by_type = _frame(
                con,
                "select period, deduction_type, deductions_count, deducted_goods, deducted_tax, deducted_gross"
                " from marts.month_end_deductions_by_type where period = ? order by deduction_type limit ?",
                [period, LIST_LIMIT],
            )
        runs = pd.DataFrame(columns=list(_RUN_COLUMNS))
        checks = pd.DataFrame(columns=list(_CHECK_COLUMNS))
        if _has_table(con, "audit", "month_end_runs"):
            runs = _frame(
                con,
                f"select {', '.join(_RUN_COLUMNS)} from audit.month_end_runs where period = ?"
                " order by sequence_number desc limit ?",
                [period, LIST_LIMIT],
            )
        if len(runs) and _has_table(con, "audit", "month_end_checks"):
            checks = _frame(
                con,
                f"select {', '.join(_CHECK_COLUMNS)} from audit.month_end_checks where list_contains(?, close_id)"
                " order by passed, check_name",
                [list(runs["close_id"])],
            )
    return PeriodClose(deductions_by_type, runs, checks)


@dataclass(frozen=True)
class ClosePack:
    """A close pack as it is on disk now: the files its manifest lists and its report."""

    folder: Path
    files: pd.DataFrame  # path, sha256, size_bytes, as manifest.json lists them
    report: bytes | None  # report.html; None when it is not there
    problem: str | None  # why the pack cannot be shown (its folder gone, its manifest unreadable)


def close_pack(pack_path: str) -> ClosePack:
    """The pack a close recorded at `pack_path` (read from disk, not the snapshot: packs live beside it)."""
    folder = Path(pack_path)
    files = pd.DataFrame(columns=["path", "sha256", "size_bytes"])
    if not folder.is_dir():
        return ClosePack(folder, files, None, f"The pack is no longer at {folder}.")
    try:
        listed = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
        files = pd.DataFrame(
            [(entry["path"], entry["sha256"], entry["size_bytes"]) for entry in listed],
            columns=["path", "sha256", "size_bytes"],
            dtype=object,
        )
        report = (folder / REPORT).read_bytes() if (folder / REPORT).is_file() else None
    except (OSError, ValueError, KeyError, TypeError) as unreadable:
        return ClosePack(folder, files, None, f"The pack at {folder} cannot be read ({unreadable}).")
    return ClosePack(folder, files, report, None)
