"""The audit trail of pipeline runs in the warehouse: what ran, on which code, when, and how it ended.

``audit.runs`` gets one row per run and keeps every row: a run is inserted as ``running`` when it starts
and given its outcome when it ends, and nothing ever deletes or reuses a row. Auditors read it (through
the snapshot) next to ``audit.sage_postings`` to see which run posted what.

The warehouse has one writer at a time and dlt and dbt are that writer during a run, so
:func:`record_run` opens a short connection at the start and another at the end, and none in between.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import subprocess
import traceback
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

TRIGGERS = ("cli", "schedule", "sensor", "manual", "test")
STATUSES = ("running", "succeeded", "failed")
COUNTED_SCHEMAS = ("raw_sage200", "staging", "marts")

DISTRIBUTION = "avc2sage"
REPO_ROOT = Path(__file__).resolve().parents[2]
GIT_TIMEOUT_SECONDS = 10


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


RUNS_DDL = f"""
create schema if not exists audit;
create table if not exists audit.runs (
    run_id varchar primary key,
    job varchar not null,
    trigger varchar not null check (trigger in ({_sql_list(TRIGGERS)})),
    code_version varchar not null,
    started_at timestamptz not null,
    ended_at timestamptz,
    status varchar not null check (status in ({_sql_list(STATUSES)})),
    error varchar,
    rows_per_table json
);
"""


@dataclass
class RunRecord:
    """One run as :func:`record_run` hands it to the caller, who fills `rows_per_table`.

    `status`, `ended_at` and `error` are set when the run ends, so the caller can report them.
    """

    run_id: str
    job: str
    trigger: str
    code_version: str
    started_at: datetime
    rows_per_table: dict[str, int] = field(default_factory=dict)
    status: str = "running"
    ended_at: datetime | None = None
    error: str | None = None


# found: in Sage after our own unanswered POST; found_existing: in Sage before we ever posted (someone keyed it).
POSTING_STATUSES = ("attempting", "posted", "found", "found_existing", "failed", "unknown")

# One counter orders the rows below: clocks can be pinned or equal, and "latest" must never be a coin toss.
RECORD_SEQUENCE_DDL = """
create sequence if not exists audit.record_sequence;
"""
SEQUENCE_COLUMN = "sequence_number bigint not null default nextval('audit.record_sequence')"

# Every call that writes to Sage, and what became of it: one row per step, never updated. A key's latest row
# is its state; `attempting` without a later row is a call whose answer was lost (crash or timeout).
SAGE_POSTINGS_DDL = f"""
create table if not exists audit.sage_postings (
    posting_id varchar primary key,
    {SEQUENCE_COLUMN},
    posting_key varchar not null,
    resource varchar not null,
    source_version varchar,
    request_sha256 varchar not null,
    status varchar not null check (status in ({_sql_list(POSTING_STATUSES)})),
    sage_id bigint,
    sage_reference varchar,
    message varchar,
    run_id varchar,
    recorded_at timestamptz not null
);
"""

# What was decided for each line of a PO version (before its Sage order), and each acknowledgement sent from
# such a decision. The order and the acknowledgement are built from the same recorded decision, so a retry
# after a failure says exactly what the order says, whatever the stock has done since.
PURCHASE_ORDER_DDL = f"""
create table if not exists audit.purchase_order_decisions (
    decision_id varchar primary key,
    {SEQUENCE_COLUMN},
    po_number varchar not null,
    content_sha256 varchar not null,
    vendor_code varchar not null,
    decided_at timestamptz not null,
    run_id varchar
);
create table if not exists audit.purchase_order_decision_lines (
    decision_id varchar not null,
    line_number bigint not null,
    line_id varchar not null,
    status varchar not null check (status in ('Accepted', 'Backordered', 'Rejected')),
    quantity decimal(18, 5) not null,
    rejection_reason varchar,
    ship_date date,
    unit_cost decimal(18, 2) not null,
    warehouse_id bigint,
    primary key (decision_id, line_number, status)
);
create table if not exists audit.purchase_order_acknowledgements (
    acknowledgement_id varchar primary key,
    {SEQUENCE_COLUMN},
    decision_id varchar not null,
    po_number varchar not null,
    content_sha256 varchar not null,
    vendor_code varchar not null,
    standard varchar not null,
    sales_order_number varchar,
    document_id varchar not null,
    file_name varchar not null,
    acknowledged_at timestamptz not null,
    run_id varchar
);
create table if not exists audit.purchase_order_failures (
    failure_id varchar primary key,
    {SEQUENCE_COLUMN},
    po_number varchar not null,
    content_sha256 varchar not null,
    step varchar not null check (step in ('sales_order', 'acknowledgement')),
    message varchar not null,
    failed_at timestamptz not null,
    run_id varchar
);
"""


# Every check of a despatch's ship notice (ASN) against Amazon's rules, with the rules it broke, and the notice
# sent when it passed. A despatch is checked again each run until its notice goes (the fix is usually made in
# Sage or on the despatch note), and a row is added only when the outcome changes.
SHIPMENT_NOTICE_DDL = f"""
create table if not exists audit.shipment_notices (
    notice_id varchar primary key,
    {SEQUENCE_COLUMN},
    despatch_id bigint not null,
    despatch_number varchar not null,
    shipment_id varchar not null,
    po_number varchar not null,
    sales_order_number varchar not null,
    vendor_code varchar not null,
    standard varchar not null,
    status varchar not null check (status in ('sent', 'failed_validation')),
    cartons integer not null,
    pallets integer not null,
    bill_of_lading varchar,
    shipped_at timestamptz not null,
    asn_due_at timestamptz not null,
    document_id varchar,
    file_name varchar,
    label_file varchar,
    checked_at timestamptz not null,
    run_id varchar
);
create table if not exists audit.shipment_notice_failures (
    notice_id varchar not null,
    rule varchar not null,
    message varchar not null,
    primary key (notice_id, rule, message)
);
-- SSCCs avc2sage assigned to a despatch, in the order the packing asked for them: a despatch checked again
-- gets the same labels, and the unique SSCC means no serial ever serves two despatches.
create table if not exists audit.shipment_containers (
    despatch_id bigint not null,
    assignment_number integer not null,
    sscc varchar not null unique,
    assigned_at timestamptz not null,
    primary key (despatch_id, assignment_number)
);
-- Every container of every notice sent (assigned or scanned from the despatch note): no SSCC is sent twice.
create table if not exists audit.shipment_notice_containers (
    notice_id varchar not null,
    level varchar not null check (level in ('carton', 'pallet')),
    position integer not null,
    sscc varchar not null,
    primary key (notice_id, level, position)
);
"""

# Every check of a Sage invoice before it goes to Amazon, with the rules it broke, and the invoice sent.
INVOICE_SUBMISSION_DDL = f"""
create table if not exists audit.invoice_submissions (
    submission_id varchar primary key,
    {SEQUENCE_COLUMN},
    sage_invoice_id bigint not null,
    invoice_number varchar not null,
    po_number varchar not null,
    sales_order_number varchar not null,
    vendor_code varchar not null,
    standard varchar not null,
    status varchar not null check (status in ('sent', 'failed_validation')),
    invoice_date date not null,
    gross_amount decimal(18, 2) not null,
    document_id varchar,
    file_name varchar,
    checked_at timestamptz not null,
    run_id varchar
);
create table if not exists audit.invoice_submission_failures (
    submission_id varchar not null,
    rule varchar not null,
    message varchar not null,
    primary key (submission_id, rule, message)
);
"""

APPROVAL_CHANNELS = ("cli", "dashboard", "auto")
REFUSAL_REASONS = ("closed_period", "figures_do_not_add_up")

# A remittance's posting plan is approved as a whole (by its SHA-256), fixed when its posting starts (every
# step and every re-run posts from that copy, whatever the marts say since), or refused with the reason.
# The clearing bank is read back from Sage after posting: each check and what it found per payment.
REMITTANCE_DDL = f"""
create table if not exists audit.remittance_approvals (
    approval_id varchar primary key,
    {SEQUENCE_COLUMN},
    payment_number varchar not null,
    plan_sha256 varchar not null,
    approved_by varchar not null,
    approved_at timestamptz not null,
    channel varchar not null check (channel in ({_sql_list(APPROVAL_CHANNELS)})),
    note varchar,
    run_id varchar
);
create table if not exists audit.remittance_plans (
    payment_number varchar primary key,
    plan_sha256 varchar not null,
    frozen_at timestamptz not null,
    run_id varchar
);
create table if not exists audit.remittance_plan_lines (
    payment_number varchar not null,
    plan_sha256 varchar not null,
    step_sequence integer not null,
    step varchar not null,
    document_code varchar not null,
    line_number integer,
    account_type varchar not null,
    account_code varchar not null,
    cost_centre varchar,
    department varchar,
    tax_code integer,
    sage_transaction_id bigint,
    applied_document_code varchar,
    debit decimal(18, 2) not null,
    credit decimal(18, 2) not null,
    narrative varchar
);
create table if not exists audit.remittance_refusals (
    refusal_id varchar primary key,
    {SEQUENCE_COLUMN},
    payment_number varchar not null,
    plan_sha256 varchar,
    reason varchar not null check (reason in ({_sql_list(REFUSAL_REASONS)})),
    message varchar not null,
    refused_at timestamptz not null,
    run_id varchar
);
create table if not exists audit.clearing_bank_checks (
    check_id varchar primary key,
    {SEQUENCE_COLUMN},
    bank_code varchar not null,
    sage_balance decimal(18, 2) not null,
    expected_balance decimal(18, 2) not null,
    difference decimal(18, 2) not null,
    payments_checked integer not null,
    detail varchar,
    checked_at timestamptz not null,
    run_id varchar
);
create table if not exists audit.clearing_bank_check_payments (
    check_id varchar not null,
    payment_number varchar not null,
    sage_net decimal(18, 2) not null,
    expected_net decimal(18, 2) not null,
    primary key (check_id, payment_number)
);
"""


# What people did in the dashboard, as loaded from its action store (pipelines/warehouse/actions.py) at the
# start of a run: every exception action, and every payment approval with what the run made of it.
DASHBOARD_ACTION_DDL = """
create table if not exists audit.exception_actions (
    action_id varchar primary key,
    exception_id varchar not null,
    action varchar not null,
    assignee varchar,
    snoozed_until timestamptz,
    note varchar,
    taken_by varchar not null,
    identity_source varchar not null,
    taken_at timestamptz not null,
    loaded_at timestamptz not null,
    run_id varchar
);
create table if not exists audit.dashboard_approvals (
    approval_id varchar primary key,
    payment_number varchar not null,
    plan_sha256 varchar not null,
    approved_by varchar not null,
    identity_source varchar not null,
    note varchar,
    taken_at timestamptz not null,
    loaded_at timestamptz not null,
    run_id varchar,
    outcome varchar not null,
    message varchar
);
"""


CLOSE_STATUSES = ("closed", "blocked")

# Every month-end close attempt, never updated: a close that passed its checks has a version (1, 2, … per
# period; re-closing adds a version) and the SHA-256 of its pack's manifest; one a check blocked has neither.
MONTH_END_DDL = f"""
create table if not exists audit.month_end_runs (
    close_id varchar primary key,
    {SEQUENCE_COLUMN},
    period varchar not null,
    version integer,
    status varchar not null check (status in ({_sql_list(CLOSE_STATUSES)})),
    closed_by varchar not null,
    closed_at timestamptz not null,
    code_version varchar not null,
    manifest_sha256 varchar,
    pack_path varchar,
    checks json not null,
    open_exceptions integer not null,
    note varchar,
    flow_run_id varchar,
    run_id varchar,
    unique (period, version),
    check ((status = 'closed') = (version is not null and manifest_sha256 is not null))
);
create table if not exists audit.month_end_checks (
    close_id varchar not null,
    check_name varchar not null,
    passed boolean not null,
    measured decimal(18, 2),
    expected decimal(18, 2),
    detail varchar not null,
    primary key (close_id, check_name)
);
"""


def ensure_audit_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ``audit`` schema and its tables if they do not exist yet, so every reader finds them."""
    con.execute(RUNS_DDL)
    con.execute(RECORD_SEQUENCE_DDL)
    con.execute(SAGE_POSTINGS_DDL)
    con.execute(PURCHASE_ORDER_DDL)
    con.execute(SHIPMENT_NOTICE_DDL)
    con.execute(INVOICE_SUBMISSION_DDL)
    con.execute(REMITTANCE_DDL)
    con.execute(DASHBOARD_ACTION_DDL)
    con.execute(MONTH_END_DDL)


def code_version(repo: Path = REPO_ROOT) -> str:
    """The code a run ran: the short git commit of `repo` (``-dirty`` with uncommitted changes), or, outside
    a git checkout (an installed package), the package version."""
    commit = _git_commit(repo)
    if commit:
        return commit
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        log.warning("no git checkout at %s and %s is not installed: code version unknown", repo, DISTRIBUTION)
        return "unknown"


@contextmanager
def record_run(warehouse: Path, job: str, trigger: str) -> Iterator[RunRecord]:
    """Record a run of `job` in ``audit.runs`` around the ``with`` block.

    Inserts a ``running`` row, yields the :class:`RunRecord`, then marks the row ``succeeded``, or
    ``failed`` with the error text when an exception escapes the block (the exception still propagates).
    """
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}: expected one of {', '.join(TRIGGERS)}")
    warehouse = Path(warehouse)
    record = RunRecord(
        run_id=str(uuid.uuid4()),
        job=job,
        trigger=trigger,
        code_version=code_version(),
        started_at=_utc_now(),
    )
    # On a fresh machine the run's audit row is the first thing written, before dlt creates the file.
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse)) as con:
        ensure_audit_schema(con)
        con.execute(
            "insert into audit.runs (run_id, job, trigger, code_version, started_at, status)"
            " values (?, ?, ?, ?, ?, 'running')",
            [record.run_id, job, trigger, record.code_version, record.started_at],
        )
    log.info("run %s of %s started (trigger %s, code %s)", record.run_id, job, trigger, record.code_version)
    try:
        yield record
    except BaseException as exc:
        try:
            _finish(warehouse, record, "failed", "".join(traceback.format_exception_only(exc)).strip())
        except Exception:
            # The run's own error is what the caller must see; a lost audit update is logged instead.
            log.exception("could not record the failure of run %s in %s", record.run_id, warehouse)
        raise
    _finish(warehouse, record, "succeeded")


def table_row_counts(con: duckdb.DuckDBPyConnection, schemas: Iterable[str] = COUNTED_SCHEMAS) -> dict[str, int]:
    """Rows in every table and view of `schemas`, as ``{"schema.table": count}`` (for the run summary)."""
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables"
        " where table_catalog = current_database() and list_contains(?, table_schema)"
        " order by table_schema, table_name",
        [list(schemas)],
    ).fetchall()
    counts: dict[str, int] = {}
    for schema, table in tables:
        (count,) = con.execute(f"select count(*) from {_quote(schema)}.{_quote(table)}").fetchone()
        counts[f"{schema}.{table}"] = count
    return counts


def _finish(warehouse: Path, record: RunRecord, status: str, error: str | None = None) -> None:
    record.status, record.ended_at, record.error = status, _utc_now(), error
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update audit.runs set status = ?, ended_at = ?, error = ?, rows_per_table = ? where run_id = ?",
            [status, record.ended_at, error, json.dumps(record.rows_per_table, sort_keys=True), record.run_id],
        )
    log.info("run %s of %s %s", record.run_id, record.job, status)


def _git_commit(repo: Path) -> str | None:
    """``<short hash>`` or ``<short hash>-dirty`` for the checkout at `repo`, or None if there is none."""
    # Only the project's own checkout counts: an installed copy may sit inside some unrelated repository.
    if not (repo / ".git").exists():
        return None
    try:
        head = _git(repo, "rev-parse", "--short", "HEAD")
        changes = _git(repo, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("could not read the git commit of %s: %s", repo, exc)
        return None
    return f"{head}-dirty" if changes else head


def _git(repo: Path, *args: str) -> str:
    # --no-optional-locks: a status refresh must never take the index lock from someone working in the tree.
    command = ["git", "--no-optional-locks", "-C", str(repo), *args]
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=GIT_TIMEOUT_SECONDS)
    return result.stdout.strip()


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _utc_now() -> datetime:
    return datetime.now(UTC)
