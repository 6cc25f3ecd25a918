"""`avc2sage bench`, the dashboard part: what each page costs on a year of a large vendor, beside a floor.

Issue 8 asks that pages answer in under a second on the large scenario. One warehouse holds both the orders
bench's year of POs and the remittance bench's year of payments, synthesised by their own statements
(`pipelines.bench_orders`, `pipelines.bench_remittances`) into the same raw tables; they share Amazon's
account (AMA001, id 1) and the 200 trade customers, which the orders bench's statement writes (with each
customer's price band) and the remittance bench's would write again, so that one statement of it is left out.
Then dbt, the audit history a year of running leaves, and the published snapshot:

- Sage: 2,000 products, their units, four price bands and prices, two warehouses holding every product, the
  year's sales orders (one per PO older than a month, 600 trade orders); 80,000 posted Amazon invoices with
  their VAT analysis and their PO, 8,000 for the trade customers; tax codes and monthly periods for 2025 and
  2026. Every other Sage table the models read is created with Sage's columns and left empty (despatches,
  invoice lines, banks, nominal codes ...): `marts.shipments`, `marts.invoices` and `marts.outbound_documents`
  are built, and empty.
- Amazon: 6,600 POs (6,800 versions, ~257,000 lines of the latest versions) and 104 weekly payments (156
  versions, ~103,000 lines of the latest versions: invoice payments, shortage and price claims, chargebacks,
  co-op, provisions), as the two benches describe them.
- `audit.runs`: a year of the pipeline running every 15 minutes up to the bench's clock, each pass's ten jobs
  (`run`, `dashboard_actions`, `configuration_load`, `amazon_ingest`, `sage_load`, `dbt_build`,
  `order_batch`, `shipment_batch`, `invoice_batch`, `dbt_build_orders`), 1 in 400 failed, and a daily
  `remittance_posting`: ~350,000 rows.
- `dbt build` of every model the dashboard reads and their upstream (`DASHBOARD_SELECTION`), data tests left
  out, dbt's clock pinned to the evening of the year's last day (as the two benches pin it).
- `marts.exceptions` as a year of runs leaves it (~2,000 detected now, ~24,000 in all): those detected now
  were first detected over the last 30 days; the 11 months before each held as many, detected then and
  resolved 1 to 96 hours later (the incremental model keeps them as history: a resolved exception is never
  deleted).
- The dashboard's action store (`<warehouse stem>.actions.sqlite3`) and `audit.exception_actions` as a year of
  people acting leaves them, each action loaded by the next pass (its `dashboard_actions` run's time and id):
  1 in 10 of the history's exceptions assigned, then resolved by a person; of those open, 1 in 4 assigned,
  1 in 10 snoozed (half for a day, half past the dashboard's clock), 1 in 20 commented: ~5,300 rows, written
  in bulk in the columns the store and the pipeline's `load_actions` write (one commit or insert each, as
  they write a run's handful, the year would take minutes). Then 12 assignments through the store's API
  that no run has loaded yet, shown as pending. The exceptions are built again over the actions
  (`stg_app__exception_actions+`), as each run builds them, and the snapshot is published.

The dashboard's clock is pinned three hours after dbt's (`DASHBOARD_NOW`, as the dashboard tests look three
hours after their pass). `marts.sync_health` is a view judged by the wall clock when it is read, so its
freshness here is "stalled"; it does the same work whatever it says.

Each stage runs in a fresh process, in this order; only the page's own work is timed (imports of Streamlit,
pandas and the dashboard happen first, untimed, as on a running server):

(a) floor: open the snapshot read-only, `select count(*)` of the largest mart (`purchase_order_lines`), close
    it: what any page pays at least. Rows: the table's rows (what it scanned);
(b) each page's data as the page asks for it, cold: every `dashboard.data` function the page calls
    (`PAGE_DATA`), in the page's order, with the page's defaults and the first row where the page opens the
    first (the first exception of the default queue), called past Streamlit's cache (`__wrapped__`); each
    function opens the snapshot once, as `dashboard.data` does; the action store's pending actions are read as
    the page reads them. The lifecycle page is asked for the PO with the most lines of those Amazon paid, by
    its number; the remittances page for the payment with the most lines. Rows: the rows the snapshot's
    queries returned (a frame's rows, one for a single row or value);
(c) each page rendered by Streamlit (`AppTest`, as the dashboard's tests run it): the app run once on its
    default page, the page's links set (`?po=`, `?payment=` as above), Streamlit's cache cleared, then the
    page rendered (timed): what a person waits for when opening the page. Rows: the rows of the tables the
    page shows (none on the handbook, which is text).

Peak memory is each stage's process's, imports included; a process starts with its parent's peak (Linux
keeps it across exec), so the build runs in a process of its own and `avc2sage bench`'s imports (~130 MiB)
are the least any stage shows. The figures print to the millisecond, each beside the floor
(`format_dashboard_results`), then with every other part's in `format_results`.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import sqlite3
import uuid
from collections import defaultdict
from collections.abc import Callable
from contextlib import closing
from dataclasses import astuple, dataclass, fields, is_dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from pipelines import app
from pipelines import bench_orders as orders
from pipelines import bench_remittances as remittances
from pipelines.amazon import source as amazon
from pipelines.bench import Measurement, measured
from pipelines.bench_orders import measured_after_setup
from pipelines.passes import DATA_TESTS
from pipelines.sage200.source.settings import TABLES as SAGE_TABLES
from pipelines.sage200.spec import SageSpec
from pipelines.settings import EXAMPLE_CONFIG, load_business_config
from pipelines.transform import DBT_PROJECT_DIR, run_dbt
from pipelines.warehouse.actions import ActionStore, ExceptionAction, actions_path
from pipelines.warehouse.audit import ensure_audit_schema
from pipelines.warehouse.snapshot import open_snapshot, publish_snapshot

WAREHOUSE_FILE = "dashboard.duckdb"
DASHBOARD_DIR = Path(__file__).resolve().parent.parent / "dashboard"
APP = DASHBOARD_DIR / "streamlit_app.py"
# Every mart a page reads, with its upstream; the orders and remittance benches pin dbt's clock the same way.
DASHBOARD_SELECTION = (
    "+exceptions +sync_health +purchase_orders +purchase_order_lines +remittance_payments +remittance_lines"
    " +remittance_postings +deductions +shipments +asn_validation_failures +invoices +invoice_validation_failures"
    " +outbound_documents"
)
# The models over the people's actions (the exceptions and what reads them), built again once they are loaded.
ACTIONS_SELECTION = "stg_app__exception_actions+"
DBT_NOW = remittances.DBT_NOW
DASHBOARD_NOW = DBT_NOW + timedelta(hours=3)
RUN_DAYS = 365
RUN_EVERY_MINUTES = 15
# A pass's jobs (`pipelines.passes`): seconds after the pass starts, and how long each takes.
PASS_JOBS = (
    ("run", 0, 420),
    ("dashboard_actions", 1, 1),
    ("configuration_load", 3, 2),
    ("amazon_ingest", 6, 20),
    ("sage_load", 27, 90),
    ("dbt_build", 120, 150),
    ("order_batch", 272, 40),
    ("shipment_batch", 314, 30),
    ("invoice_batch", 346, 20),
    ("dbt_build_orders", 368, 45),
)
FAILED_RUNS_ONE_IN = 400
HISTORY_MONTHS = 11
PEOPLE = ("Priya Shah", "Tom Okafor", "Ana Lima", "Sam Reid")
PENDING_ACTIONS = 12
# Both benches write the same customers; the orders bench's statement is the one kept (see the docstring).
CUSTOMERS_INSERT = "insert into raw_sage200.customers by name"


# --- the warehouse -----------------------------------------------------------------------------------------


def remittance_sage_side() -> tuple[str, ...]:
    """The remittance bench's Sage statements but its customers, which the orders bench writes."""
    kept = tuple(statement for statement in remittances.SAGE_SIDE if CUSTOMERS_INSERT not in statement)
    if len(kept) != len(remittances.SAGE_SIDE) - 1:
        raise RuntimeError("the remittance bench no longer writes its customers in exactly one statement")
    return kept


def synthesise_raw(
    warehouse: Path,
    purchase_orders: int = orders.ORDERS,
    lines_per_order: int = orders.LINES_PER_ORDER,
    products: int = orders.PRODUCTS,
    invoices: int = remittances.INVOICES,
) -> None:
    """The configuration, both benches' raw tables in one file, every other Sage table empty, the audit schema."""
    config = load_business_config(EXAMPLE_CONFIG)
    app.run(config, EXAMPLE_CONFIG, warehouse, warehouse.parent / "app-dlt")
    vendor_codes = {vendor.edi_standard: vendor.code for vendor in config.vendor_codes}
    spec = SageSpec.load()
    created = datetime.combine(remittances.FIRST_DAY - timedelta(days=400), datetime.min.time(), tzinfo=UTC)
    with duckdb.connect(str(warehouse)) as con:
        # Sage's dates are midnight UTC, whatever this machine's zone (as the remittance bench sets it); a long
        # statement would draw DuckDB's progress bar on the bench's output.
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        ensure_audit_schema(con)
        con.execute("create schema if not exists raw_sage200")
        con.execute("create schema if not exists raw_amazon")
        for table in SAGE_TABLES:
            orders.create_sage_tables(con, spec, table)
        for name, columns in amazon.TABLES.items():
            types = {column: orders.AMAZON_TYPES[kind] for column, kind in columns.items()}
            orders.create_table(con, f"raw_amazon.{name}", types)
        orders.run_statements(con, orders.MACROS)
        orders.run_statements(
            con,
            orders.SAGE_MASTERS,
            created=created,
            load_id=orders.LOAD_ID,
            case_packs=list(orders.CASE_PACKS),
            products=products,
            trade_customers=orders.TRADE_CUSTOMERS,
        )
        orders.run_statements(
            con,
            remittance_sage_side(),
            created=created,
            load_id=orders.LOAD_ID,
            amazon_customer=remittances.AMAZON_CUSTOMER,
            trade_customers=remittances.TRADE_CUSTOMERS,
            invoices=invoices,
            weeks=remittances.WEEKS,
            first_day=remittances.FIRST_DAY,
        )
        orders.run_statements(
            con,
            orders.AMAZON_POS,
            locations=str(DBT_PROJECT_DIR / "seeds" / "amazon_locations.csv"),
            lines_per_order=lines_per_order,
            orders=purchase_orders,
            first_day=remittances.FIRST_DAY,
            products=products,
            trade_customers=orders.TRADE_CUSTOMERS,
            trade_orders=orders.TRADE_ORDERS,
            load_id=orders.LOAD_ID,
        )
        orders.run_statements(
            con,
            remittances.AMAZON_SIDE,
            weeks=remittances.WEEKS,
            first_day=remittances.FIRST_DAY,
            edifact_vendor_code=vendor_codes["EDIFACT"],
            x12_vendor_code=vendor_codes["X12"],
        )


RUN_HISTORY = """
insert into audit.runs by name
with passes as (
    select
        tick,
        cast($last_pass as timestamptz) - to_minutes(cast(($ticks - 1 - tick) * $every as integer)) as pass_at
    from range($ticks) as ticks(tick)
),
jobs as (
    select * from (values {jobs}) as jobs(job, offset_seconds, duration_seconds)
),
runs as (
    select
        job, tick,
        pass_at + to_seconds(offset_seconds) as started_at,
        pass_at + to_seconds(offset_seconds + duration_seconds + tick % 7) as ended_at,
        hash(job || tick) % $failed_one_in = 0 as failed
    from passes, jobs
    union all
    select
        'remittance_posting', day, started_at, started_at + to_seconds(180 + day % 60), hash(day) % 200 = 0
    from range($days) as days(day),
        lateral (select cast(cast($last_pass as date) - cast($days - 1 - day as integer) as timestamptz)
            + interval 6 hour as started_at)
    where started_at <= cast($last_pass as timestamptz)
)
select
    md5('run|' || job || '|' || tick) as run_id,
    job,
    'schedule' as trigger,
    'bench' as code_version,
    started_at,
    ended_at,
    case when failed then 'failed' else 'succeeded' end as status,
    case when failed then 'Sage 200 answered 503 Service Unavailable (3 retries)' end as error
from runs
"""


def add_run_history(con: duckdb.DuckDBPyConnection, last_pass: datetime = DBT_NOW, days: int = RUN_DAYS) -> int:
    """A year (`days`) of the pipeline's runs into audit.runs, the last pass at `last_pass`; the rows added."""
    jobs = ", ".join(f"('{job}', {offset}, {duration})" for job, offset, duration in PASS_JOBS)
    ticks = days * 24 * 60 // RUN_EVERY_MINUTES
    before = con.execute("select count(*) from audit.runs").fetchone()[0]
    orders.run_statements(
        con,
        (RUN_HISTORY.replace("{jobs}", jobs),),
        last_pass=last_pass,
        ticks=ticks,
        every=RUN_EVERY_MINUTES,
        days=days,
        failed_one_in=FAILED_RUNS_ONE_IN,
    )
    return con.execute("select count(*) from audit.runs").fetchone()[0] - before


EXCEPTION_HISTORY = (
    # Detected now, first detected some time in the last 30 days (each exception its own, by its id).
    """
    create or replace temp table bench_first_detected as
    select
        exceptions.exception_id,
        first_detected.detected_at,
        first_detected.detected_at + to_hours(kinds.due_hours) as due_at
    from marts.exceptions
    inner join seeds.exception_kinds as kinds on exceptions.kind = kinds.kind,
        lateral (select cast($now as timestamptz)
            - to_minutes(cast(hash(exceptions.exception_id) % (30 * 24 * 60) as integer)) as detected_at)
        as first_detected
    """,
    """
    update marts.exceptions
    set detected_at = bench_first_detected.detected_at, due_at = bench_first_detected.due_at
    from bench_first_detected
    where exceptions.exception_id = bench_first_detected.exception_id
    """,
    # Each month before held as many, on the same kinds of documents, resolved within four days.
    """
    insert into marts.exceptions by name
    select
        md5(exception_id || '|' || months_back) as exception_id,
        kind, severity, owner_role, flow, title, document_type, document_reference,
        detected_at - to_days(cast(30 * months_back as integer)) as detected_at,
        due_at - to_days(cast(30 * months_back as integer)) as due_at,
        amount, message, suggested_action,
        'resolved' as status,
        detected_at - to_days(cast(30 * months_back as integer))
            + to_hours(cast(1 + hash(exception_id || months_back) % 96 as integer)) as resolved_at,
        detected_at - to_days(cast(30 * months_back as integer))
            + to_hours(cast(1 + hash(exception_id || months_back) % 96 as integer)) as last_seen_at
    from marts.exceptions, range(1, $months + 1) as history(months_back)
    """,
)


def add_exception_history(con: duckdb.DuckDBPyConnection, months: int = HISTORY_MONTHS) -> int:
    """Spread the exceptions detected now over the last 30 days and add `months` of resolved history before
    them (see the module docstring); the rows marts.exceptions then holds."""
    orders.run_statements(con, EXCEPTION_HISTORY, now=DBT_NOW, months=months)
    return con.execute("select count(*) from marts.exceptions").fetchone()[0]


ACTED_ON = """
select exception_id, status, detected_at, resolved_at, hash(exception_id || 'acted') % 20 as draw
from marts.exceptions
order by detected_at, exception_id
"""


def action(
    exception_id: str,
    kind: str,
    by: str,
    at: datetime,
    note: str | None = None,
    assignee: str | None = None,
    until: datetime | None = None,
) -> ExceptionAction:
    source = "login" if by == PEOPLE[0] else "name"
    return ExceptionAction(str(uuid.uuid4()), exception_id, kind, assignee, until, note, by, source, at)


def year_of_actions(exceptions: list[tuple]) -> list[ExceptionAction]:
    """What people did over the year to the exceptions (`ACTED_ON`'s rows), oldest first."""
    actions = []
    for number, (exception_id, status, detected_at, resolved_at, draw) in enumerate(exceptions):
        person, other = PEOPLE[number % len(PEOPLE)], PEOPLE[(number + 1) % len(PEOPLE)]
        if status == "resolved" and draw < 2:
            actions.append(action(exception_id, "assign", person, detected_at + timedelta(minutes=50), assignee=other))
            resolved = max(resolved_at, detected_at + timedelta(hours=1))
            actions.append(action(exception_id, "resolve", other, resolved, note="Fixed in Sage and re-sent."))
        elif status == "open" and draw < 5:
            actions.append(action(exception_id, "assign", PEOPLE[0], detected_at + timedelta(hours=2), assignee=person))
        elif status == "open" and draw < 7:
            at = detected_at + timedelta(hours=3)
            until = at + timedelta(days=1) if draw == 5 else DASHBOARD_NOW + timedelta(days=2)
            actions.append(action(exception_id, "snooze", person, at, note="Waiting for the buyer.", until=until))
        elif status == "open" and draw == 7:
            actions.append(action(exception_id, "comment", person, detected_at + timedelta(hours=4), note="Asked."))
    return sorted(actions, key=lambda taken: taken.taken_at)


def loading_run(taken_at: datetime, days: int = RUN_DAYS) -> tuple[datetime, str] | None:
    """When the pipeline loaded an action taken at `taken_at` into audit, and that run's id in the runs history
    of `days` (its `dashboard_actions` job, a second into the next pass); None when no pass came after it."""
    passes_before_last = (DBT_NOW - taken_at) // timedelta(minutes=RUN_EVERY_MINUTES)
    if passes_before_last < 0:
        return None
    tick = days * 24 * 60 // RUN_EVERY_MINUTES - 1 - passes_before_last
    loaded_at = DBT_NOW - passes_before_last * timedelta(minutes=RUN_EVERY_MINUTES) + timedelta(seconds=1)
    return loaded_at, hashlib.md5(f"run|dashboard_actions|{tick}".encode()).hexdigest()


def take_actions(warehouse: Path) -> int:
    """The year's actions in the dashboard's action store and, each loaded by the next pass, in
    audit.exception_actions; then a few through the store's API that no run has loaded yet. The rows of
    audit.exception_actions.

    The year's rows are written in bulk, as the store and the pipeline's loader write them (the same columns;
    the store's times as ISO text): through the store's API, one commit each, and `load_actions`, one insert
    each, the ~5,000 would take over two minutes, where a run loads a handful.
    """
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set enable_progress_bar = false")
        exceptions = con.execute(ACTED_ON).fetchall()
    store = ActionStore(actions_path(warehouse), clock=lambda: DASHBOARD_NOW)
    year = year_of_actions(exceptions)
    with closing(sqlite3.connect(store.path)) as con, con:
        con.executemany(
            f"insert into exception_actions values ({', '.join('?' * len(fields(ExceptionAction)))})",
            [
                [value.isoformat() if isinstance(value, datetime) else value for value in astuple(taken)]
                for taken in year
            ],
        )
    loaded = [(*astuple(taken), *run) for taken in year if (run := loading_run(taken.taken_at)) is not None]
    with duckdb.connect(str(warehouse)) as con:
        if loaded:
            con.execute(
                "insert into audit.exception_actions select " + ", ".join(["unnest(?)"] * len(loaded[0])),
                [list(column) for column in zip(*loaded, strict=True)],
            )
    open_ids = [exception_id for exception_id, status, *_ in exceptions if status == "open"]
    for exception_id in open_ids[:PENDING_ACTIONS]:
        store.assign(exception_id, PEOPLE[1], by=PEOPLE[0], identity_source="login")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select count(*) from audit.exception_actions").fetchone()[0]


@dataclass(frozen=True)
class Warehouse:
    """The published bench warehouse and what the pages are asked for on it."""

    warehouse: str
    snapshot: str
    largest_mart: str
    purchase_order: str
    payment_number: str


TARGETS = {
    "largest_mart": (
        "select table_name from duckdb_tables() where schema_name = 'marts'"
        " order by estimated_size desc, table_name limit 1"
    ),
    # The PO with the most lines of those Amazon paid (its lifecycle has every section it can have here).
    "purchase_order": (
        "select lines.purchase_order_number from marts.purchase_order_lines as lines"
        " where exists (select 1 from marts.remittance_lines as paid"
        " where paid.po_number = lines.purchase_order_number)"
        " group by all order by count(*) desc, lines.purchase_order_number limit 1"
    ),
    "payment_number": (
        "select payment_number from marts.remittance_lines group by all order by count(*) desc, payment_number limit 1"
    ),
}


def build_warehouse(work: Path) -> Warehouse:
    """The bench's warehouse in `work` (an empty scratch folder), built, published, and what the pages ask for."""
    warehouse = work / WAREHOUSE_FILE
    synthesise_raw(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("set enable_progress_bar = false")
        add_run_history(con)
    run_dbt("build", warehouse, select=DASHBOARD_SELECTION, exclude=DATA_TESTS, now=DBT_NOW)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("set enable_progress_bar = false")
        add_exception_history(con)
    take_actions(warehouse)
    run_dbt("build", warehouse, select=ACTIONS_SELECTION, exclude=DATA_TESTS, now=DBT_NOW)
    snapshot = publish_snapshot(warehouse)
    with open_snapshot(snapshot) as con:
        targets = {name: con.execute(sql).fetchone()[0] for name, sql in TARGETS.items()}
    return Warehouse(str(warehouse), str(snapshot), **targets)


# --- the floor ---------------------------------------------------------------------------------------------


def floor_stage(snapshot: str, table: str) -> int:
    """Open the snapshot read-only, count the table's rows, close it: the rows counted."""
    con = open_snapshot(Path(snapshot))
    try:
        (rows,) = con.execute(f"select count(*) from marts.{table}").fetchone()
    finally:
        con.close()
    return rows


# --- each page's data ----------------------------------------------------------------------------------------

#: The `dashboard.data` functions each page calls as it renders, besides those every page calls through
#: `ui.snapshot_or_stop` (`EVERY_PAGE`). tests/dashboard/test_bench_dashboard.py holds this to the pages.
EVERY_PAGE = ("current_snapshot", "company_timezone")
PAGE_DATA: dict[str, tuple[str, ...]] = {
    "overview": (
        "this_minute",
        "overview",
        "pending_exception_actions",
        "describe_pending",
        "pending_payment_approvals",
    ),
    "exceptions": (
        "this_minute",
        "exception_filter_options",
        "ExceptionFilter",
        "exception_queue",
        "pending_exception_actions",
        "with_pending",
        "describe_pending",
        "exception_detail",
        "purchase_order_of",
    ),
    "lifecycle": ("find_purchase_orders", "order_lifecycle"),
    "remittances": ("posting_statuses", "remittance_payments", "payment_detail", "pending_payment_approvals"),
    "deductions": ("deduction_types", "today_in", "deductions"),
    "month_end": (
        "month_end_periods",
        "default_close_period",
        "clearing_roll_forward",
        "open_deductions_roll_forward",
        "roll_forward_difference",
        "period_close",
        "close_pack",
    ),
    "handbook": ("exception_kinds", "handbook_page"),
}
#: Called only when a person acts (a button), never to render a page.
ACTION_ONLY = ("action_store",)
PAGE_TITLES = {
    "overview": "Overview",
    "exceptions": "Exceptions",
    "lifecycle": "Order lifecycle",
    "remittances": "Remittances",
    "deductions": "Deductions",
    "month_end": "Month-end",
    "handbook": "Handbook",
}


def uncached(function: Callable[..., Any]) -> Callable[..., Any]:
    """The function under Streamlit's cache (`st.cache_data` keeps it as `__wrapped__`)."""
    return getattr(function, "__wrapped__", function)


def returned_rows(value: Any) -> int:
    """The rows the snapshot's queries returned in `value`: a frame's or a set of ids' rows, one for a row or a
    value, the sum over a list or a data function's result (a page's figures, a lifecycle, linked documents)."""
    if value is None or isinstance(value, bool):
        return 0
    if hasattr(value, "frame") and hasattr(value, "title"):  # one section of an exception's linked documents
        return len(value.frame)
    if is_dataclass(value):
        return sum(returned_rows(getattr(value, field.name)) for field in fields(value))
    if isinstance(value, dict | str | Decimal | int | date):
        return 1
    if isinstance(value, list | tuple):
        return sum(returned_rows(part) for part in value)
    return len(value)  # a frame, a set of ids


def page_setup(warehouse: str) -> Any:
    """In the stage's own process, before the timer: the dashboard's settings and modules, as on a server."""
    os.environ["AVC2SAGE_WAREHOUSE"] = warehouse
    os.environ["AVC2SAGE_NOW"] = DASHBOARD_NOW.isoformat()
    # Outside a Streamlit server every cached call warns that there is no runtime: errors only.
    from streamlit import logger

    logger.set_log_level("error")
    from dashboard import data

    return data


@dataclass(frozen=True)
class PageTargets:
    """What a person opens: the PO searched for on the lifecycle page, the payment on the remittances page."""

    purchase_order: str
    payment_number: str


# Each page's data as the page asks for it (its default filters, the first row where it opens the first),
# past Streamlit's cache; the store's pending actions are read as the page reads them. Each returns the rows.


def overview_data(data: Any, targets: PageTargets) -> int:
    snapshot = data.current_snapshot()
    timezone = uncached(data.company_timezone)(snapshot)
    shown = uncached(data.overview)(snapshot, timezone, data.this_minute())
    pending: dict[str, list[Any]] = defaultdict(list)
    for action in data.pending_exception_actions(list(shown.due["exception_id"]), shown.due_loaded_action_ids):
        pending[action.exception_id].append(action)
    if not shown.due.empty:  # the table's column of what people did since the snapshot
        shown.due.assign(pending=[data.describe_pending(pending[number]) for number in shown.due["exception_id"]])
    data.pending_payment_approvals(shown.judged_approval_ids, list(shown.awaiting_approval["payment_number"]))
    return returned_rows(shown)


def exceptions_data(data: Any, targets: PageTargets) -> int:
    snapshot = data.current_snapshot()
    uncached(data.company_timezone)(snapshot)
    now = data.this_minute()
    options = uncached(data.exception_filter_options)(snapshot)
    queue = uncached(data.exception_queue)(snapshot, data.ExceptionFilter(), now)
    pending: dict[str, list[Any]] = defaultdict(list)
    for action in data.pending_exception_actions(list(queue.exceptions["exception_id"]), queue.loaded_action_ids):
        pending[action.exception_id].append(action)
    listed = [
        {
            **data.with_pending(row, pending[row["exception_id"]]),
            "pending": data.describe_pending(pending[row["exception_id"]]),
        }
        for row in queue.exceptions.to_dict("records")
    ]
    rows = returned_rows(list(options.values())) + returned_rows(queue)
    if not listed:
        return rows
    picked = listed[0]["exception_id"]
    detail = uncached(data.exception_detail)(snapshot, picked)
    own_pending = data.pending_exception_actions([picked], frozenset(detail.actions["action_id"]))
    current = data.with_pending(detail.exception, own_pending)
    data.purchase_order_of(current["document_type"], current["document_reference"])
    return rows + returned_rows(detail)


def lifecycle_data(data: Any, targets: PageTargets) -> int:
    snapshot = data.current_snapshot()
    uncached(data.company_timezone)(snapshot)
    matches = uncached(data.find_purchase_orders)(snapshot, targets.purchase_order)
    lifecycle = uncached(data.order_lifecycle)(snapshot, matches[0])
    return returned_rows(matches) + returned_rows(lifecycle)


def remittances_data(data: Any, targets: PageTargets) -> int:
    snapshot = data.current_snapshot()
    uncached(data.company_timezone)(snapshot)
    statuses = uncached(data.posting_statuses)(snapshot)
    payments = uncached(data.remittance_payments)(snapshot, ())
    numbers = list(payments["payment_number"])
    number = targets.payment_number if targets.payment_number in numbers else numbers[0]
    detail = uncached(data.payment_detail)(snapshot, number)
    data.pending_payment_approvals(frozenset(detail.outcomes["approval_id"]), [number])
    return returned_rows([statuses, payments, detail])


def deductions_data(data: Any, targets: PageTargets) -> int:
    snapshot = data.current_snapshot()
    timezone = uncached(data.company_timezone)(snapshot)
    types = uncached(data.deduction_types)(snapshot)
    shown = uncached(data.deductions)(snapshot, data.today_in(timezone), (), 12)
    return returned_rows(types) + returned_rows(shown)


def month_end_data(data: Any, targets: PageTargets) -> int:
    snapshot = data.current_snapshot()
    uncached(data.company_timezone)(snapshot)
    periods = uncached(data.month_end_periods)(snapshot)
    if periods is None or periods.empty:
        return 0
    period = data.default_close_period(periods)
    row = periods[periods["period"] == period].iloc[0].to_dict()
    roll_forwards = [data.clearing_roll_forward(row), data.open_deductions_roll_forward(row)]
    for frame in roll_forwards:
        data.roll_forward_difference(frame)
    detail = uncached(data.period_close)(snapshot, period)
    packs = [data.close_pack(path) for path in detail.runs.loc[detail.runs["status"] == "closed", "pack_path"]]
    shown = returned_rows(periods) + returned_rows(roll_forwards) + returned_rows(detail)
    return shown + sum(len(pack.files) for pack in packs)


def handbook_data(data: Any, targets: PageTargets) -> int:
    snapshot = data.current_snapshot()
    uncached(data.company_timezone)(snapshot)
    kinds = uncached(data.exception_kinds)(snapshot)
    page = data.handbook_page(kinds["kind"].iloc[0]) if not kinds.empty else None
    return len(kinds) + (page is not None)


PAGE_STAGES: dict[str, Callable[[Any, PageTargets], int]] = {
    "overview": overview_data,
    "exceptions": exceptions_data,
    "lifecycle": lifecycle_data,
    "remittances": remittances_data,
    "deductions": deductions_data,
    "month_end": month_end_data,
    "handbook": handbook_data,
}


def page_data_setup(warehouse: str, page: str, purchase_order: str, payment_number: str) -> tuple:
    return PAGE_STAGES[page], page_setup(warehouse), PageTargets(purchase_order, payment_number)


def page_data_stage(inputs: tuple) -> int:
    stage, data, targets = inputs
    return stage(data, targets)


# --- each page rendered ------------------------------------------------------------------------------------


def page_render_setup(warehouse: str, page: str, purchase_order: str, payment_number: str) -> tuple:
    """The app run once on its default page (Streamlit and the pages imported, as on a running server), the
    page's links set, Streamlit's cache cleared: the page's own render is what is timed."""
    page_setup(warehouse)
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=600)
    at.run()
    if at.exception:
        raise RuntimeError(f"the dashboard failed on its default page: {at.exception}")
    at.query_params.update({"po": purchase_order, "payment": payment_number})
    # Outside the app's run there is no runtime to clear through, and Streamlit says so: errors only.
    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)
    st.cache_data.clear()
    return at, page


def page_render_stage(inputs: tuple) -> int:
    """The page rendered; the rows of the tables it shows."""
    at, page = inputs
    if page == "overview":
        at.run()
    else:
        at.switch_page(f"app_pages/{page}.py").run()
    if at.exception:
        raise RuntimeError(f"the {page} page failed: {at.exception}")
    return sum(len(frame.value) for frame in at.dataframe)


# --- the bench -----------------------------------------------------------------------------------------------


def run_dashboard_bench(work: Path) -> list[Measurement]:
    """Build and publish the bench warehouse in `work` (an empty scratch folder), then measure the floor, each
    page's data and each page's render on it."""
    # The build runs in its own process too: a process starts with its parent's peak memory (Linux keeps the
    # peak across exec), so a build in this one would be every stage's peak.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        built = pool.apply(build_warehouse, (work,))
    arguments = (built.warehouse, built.purchase_order, built.payment_number)
    results = [
        measured(f"dashboard floor: count(*) {built.largest_mart}", floor_stage, built.snapshot, built.largest_mart)
    ]
    for page, title in PAGE_TITLES.items():
        results.append(
            measured_after_setup(
                f"dashboard data: {title}", page_data_setup, page_data_stage, arguments[0], page, *arguments[1:]
            )
        )
    for page, title in PAGE_TITLES.items():
        results.append(
            measured_after_setup(
                f"dashboard page: {title} (AppTest)",
                page_render_setup,
                page_render_stage,
                arguments[0],
                page,
                *arguments[1:],
            )
        )
    return results


def format_dashboard_results(results: list[Measurement]) -> str:
    """The dashboard stages to the millisecond, each beside the floor (the first)."""
    floor = results[0].seconds
    lines = [f"{'stage':<52}{'seconds':>10}{'× floor':>10}{'rows':>10}{'peak MiB':>10}"]
    lines += [
        f"{r.stage:<52}{r.seconds:>10.3f}{r.seconds / floor if floor else 0:>10.1f}{r.rows:>10,}{r.peak_rss_mib:>10.0f}"
        for r in results
    ]
    return "\n".join(lines)
