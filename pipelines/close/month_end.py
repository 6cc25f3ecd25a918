"""Month-end close: run the flow, prove the ledger entries, write the close pack, record it for good.

`close_period` runs the whole flow once (the pass `avc2sage run` makes), reads Sage again so the warehouse
holds what that pass posted, rebuilds the models, and requires the integrity checks green: every posted
payment balanced, the clearing bank explained, nothing in flight, and Sage and the warehouse agreeing on the
Amazon customer balance (asked of Sage live, at close time). Open exceptions never block a close: the report
lists them with their owners.

A close that passes writes a pack (pipelines/close/pack.py) and appends a row to `audit.month_end_runs` with
the next version for the period and the pack manifest's SHA-256; one that fails a check appends a `blocked`
row and writes no pack. Rows are only ever inserted, and a pack folder is never written twice.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from pipelines.close.pack import REPORT, export_marts, verify_pack, write_manifest
from pipelines.close.report import ReportContext, render_report
from pipelines.passes import DATA_TESTS, PassSummary, StageFailed, full_pass, load_sage, publish
from pipelines.sage200.auth import TokenProvider
from pipelines.sage200.client import SageApiError, SageClient
from pipelines.settings import BusinessConfig, Locations
from pipelines.transform import run_dbt
from pipelines.warehouse.audit import code_version, record_run

log = logging.getLogger(__name__)

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
CLOSE_FOLDER = "close"
# After the fresh Sage read: everything Sage's data or the audit trail feeds, models only (the pass that just
# ran tested the same logic; the integrity checks below are what the close requires).
AFTER_SAGE_READ = "source:raw_sage200+ source:audit+"
AFTER_CLOSE_RECORDED = "stg_app__month_end_runs+"


class CloseBlocked(RuntimeError):
    """An integrity check failed: the attempt is recorded as blocked and no pack was written."""

    def __init__(self, outcome: CloseOutcome) -> None:
        failed = ", ".join(f"{c.name} ({c.detail})" for c in outcome.checks if not c.passed)
        super().__init__(f"the close of {outcome.period} is blocked: {failed}")
        self.outcome = outcome


class PackMismatch(RuntimeError):
    """A close pack no longer matches its manifest or the manifest's recorded hash."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    measured: Decimal | None
    expected: Decimal | None
    detail: str


@dataclass
class CloseOutcome:
    close_id: str
    period: str
    status: str  # closed | blocked
    closed_by: str
    closed_at: datetime
    checks: list[CheckResult]
    open_exceptions: int
    version: int | None = None
    pack: Path | None = None
    manifest_sha256: str | None = None
    files: dict[str, int] = field(default_factory=dict)  # rows per mart in the pack

    def lines(self) -> list[str]:
        lines = [f"{c.name}: {'passed' if c.passed else 'FAILED'} — {c.detail}" for c in self.checks]
        if self.status == "closed":
            lines.append(f"{self.period} closed as version {self.version} by {self.closed_by}")
            lines.append(f"pack: {self.pack} (manifest SHA-256 {self.manifest_sha256})")
        else:
            lines.append(f"{self.period} NOT closed: a check failed (recorded as blocked)")
        lines.append(f"open exceptions listed in the close: {self.open_exceptions}")
        return lines


def check_period(period: str) -> str:
    if not PERIOD.match(period):
        raise ValueError(f"a period is YYYY-MM (e.g. 2026-03), not {period!r}")
    return period


def pack_root(warehouse: Path) -> Path:
    """Where every close pack of `warehouse` lives: `close/<period>/v<version>/` beside it."""
    return warehouse.parent / CLOSE_FOLDER


def close_period(
    locations: Locations,
    config: BusinessConfig,
    tokens: str | TokenProvider,
    period: str,
    closed_by: str,
    *,
    note: str | None = None,
    trigger: str = "cli",
    run_flow: bool = True,
    progress: Callable[[str], None] = log.info,
    clock: Callable[[], datetime] | None = None,
) -> CloseOutcome:
    """Close `period` (YYYY-MM) as `closed_by`. Raises CloseBlocked, after recording the attempt, when a check
    fails. `run_flow=False` skips the pass: Dagster's close job has just materialised the flow's assets."""
    check_period(period)
    if not closed_by.strip():
        raise ValueError("a close needs the name of the person closing")
    now = clock or (lambda: datetime.now(UTC))
    warehouse = locations.warehouse
    flow_check = CheckResult("flow_succeeded", True, None, None, "the flow ran just before, as a job of its own")
    flow_run_id = None
    if run_flow:
        try:
            summary = full_pass(locations, config, tokens, trigger=trigger, progress=progress, clock=clock)
            flow_run_id = summary.run_id
            flow_check = CheckResult("flow_succeeded", True, None, None, "the full pass succeeded")
        except StageFailed as failure:
            flow_check = CheckResult("flow_succeeded", False, None, None, f"the full pass failed: {failure}")
    with record_run(warehouse, "month_end_close", trigger) as run:
        known_period(warehouse, period)
        checks = [
            flow_check,
            read_sage_again(locations, tokens, trigger, progress, clock),
            *warehouse_checks(warehouse),
            live_customer_balance(locations, config, tokens),
        ]
        outcome = CloseOutcome(
            close_id=str(uuid.uuid4()),
            period=period,
            status="closed" if all(c.passed for c in checks) else "blocked",
            closed_by=closed_by.strip(),
            closed_at=now(),
            checks=checks,
            open_exceptions=count_open_exceptions(warehouse),
        )
        if outcome.status == "closed":
            write_pack_and_record(locations, config, outcome, note, flow_run_id, run.run_id)
        else:
            record_close(warehouse, outcome, note, flow_run_id, run.run_id)
        run.rows_per_table = {"version": outcome.version or 0, "checks_failed": sum(not c.passed for c in checks)}
        run_dbt("build", warehouse, select=AFTER_CLOSE_RECORDED, exclude=DATA_TESTS, now=clock() if clock else None)
    publish(locations, PassSummary(run_id=run.run_id, snapshot=warehouse), progress)
    for line in outcome.lines():
        progress(f"close: {line}")
    if outcome.status == "blocked":
        raise CloseBlocked(outcome)
    return outcome


def read_sage_again(
    locations: Locations,
    tokens: str | TokenProvider,
    trigger: str,
    progress: Callable[[str], None],
    clock: Callable[[], datetime] | None,
) -> CheckResult:
    """Sage into raw once more and the models it feeds rebuilt: the pass posted after its own Sage read. A Sage
    that does not answer blocks the close (the checks then judge what the warehouse last held)."""
    try:
        with record_run(locations.warehouse, "sage_load", trigger):
            load_sage(locations, tokens)
    except Exception as failure:  # recorded in audit.runs by record_run
        return CheckResult("sage_read_after_flow", False, None, None, f"Sage could not be read again: {failure}")
    with record_run(locations.warehouse, "dbt_build_close", trigger) as dbt_run:
        result = run_dbt(
            "build", locations.warehouse, select=AFTER_SAGE_READ, exclude=DATA_TESTS, now=clock() if clock else None
        )
        dbt_run.rows_per_table = {"nodes": result.nodes}
    progress(f"Sage read again and the models it feeds rebuilt ({result.nodes} nodes)")
    return CheckResult("sage_read_after_flow", True, None, None, "Sage read again after the flow's postings")


def known_period(warehouse: Path, period: str) -> None:
    """A close is of a month the warehouse reports on: from the first with Amazon activity to the current one."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select period from marts.month_end_periods order by period").fetchall()
    periods = [row[0] for row in rows]
    if period not in periods:
        span = f"{periods[0]} to {periods[-1]}" if periods else "none yet"
        raise ValueError(f"{period} is not a month the warehouse reports on (months with Amazon activity: {span})")


def warehouse_checks(warehouse: Path) -> list[CheckResult]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select check_name, passed, measured, expected, detail from marts.month_end_integrity_checks"
            " order by check_name"
        ).fetchall()
    return [CheckResult(*row) for row in rows]


def amazon_accounts(config: BusinessConfig) -> list[str]:
    return sorted({vendor.sage_customer_account for vendor in config.vendor_codes})


def live_customer_balance(locations: Locations, config: BusinessConfig, tokens: str | TokenProvider) -> CheckResult:
    """Sage's balance on the Amazon customer accounts, asked now, against the warehouse's (as last read)."""
    accounts = amazon_accounts(config)
    try:
        with SageClient(locations.sage_url, tokens).connect() as client:
            live = {
                customer["reference"]: Decimal(str(customer["balance"]))
                for account in accounts
                for customer in client.get("customers", {"$filter": f"reference eq '{account}'"})
            }
    except (SageApiError, OSError) as failure:
        return CheckResult("customer_balance_agrees", False, None, None, f"Sage did not answer: {failure}")
    with duckdb.connect(str(locations.warehouse), read_only=True) as con:
        held = dict(
            con.execute(
                "select customer_reference, balance from staging.stg_sage200__customers"
                " where list_contains(?, customer_reference)",
                [accounts],
            ).fetchall()
        )
    differences = {
        account: (live.get(account), held.get(account))
        for account in accounts
        if live.get(account) is None or live.get(account) != held.get(account)
    }
    total_live = sum(live.values(), Decimal(0))
    total_held = sum((value for value in held.values() if value is not None), Decimal(0))
    if differences:
        detail = "; ".join(f"{a}: Sage {s}, warehouse {w}" for a, (s, w) in sorted(differences.items()))
    else:
        detail = f"Sage and the warehouse both hold {total_live} on {', '.join(accounts)}"
    return CheckResult("customer_balance_agrees", not differences, total_live, total_held, detail)


def count_open_exceptions(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        [(count,)] = con.execute("select count(*) from marts.exceptions where status = 'open'").fetchall()
    return count


def write_pack_and_record(
    locations: Locations,
    config: BusinessConfig,
    outcome: CloseOutcome,
    note: str | None,
    flow_run_id: str | None,
    run_id: str,
) -> None:
    """Write the pack in a folder of its own, record the close with the next version, then move the pack into
    place. The version is taken and recorded on one connection, so two closes never share one."""
    warehouse = locations.warehouse
    root = pack_root(warehouse) / outcome.period
    root.mkdir(parents=True, exist_ok=True)
    building = root / f".building-{outcome.close_id}"
    with duckdb.connect(str(warehouse)) as con:
        [(latest,)] = con.execute(
            "select coalesce(max(version), 0) from audit.month_end_runs where period = ?", [outcome.period]
        ).fetchall()
        outcome.version = latest + 1
        outcome.pack = root / f"v{outcome.version}"
        if outcome.pack.exists():
            raise FileExistsError(f"{outcome.pack} exists without an audit row: move it aside, then close again")
        try:
            outcome.files = export_marts(con, outcome.period, building)
            (building / REPORT).write_text(render_report(report_context(con, config, outcome, note)), encoding="utf-8")
            outcome.manifest_sha256 = write_manifest(building, manifest_header(outcome, note))
            con.execute("begin transaction")
            insert_close(con, outcome, note, flow_run_id, run_id)
            building.rename(outcome.pack)
            con.execute("commit")
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise


def manifest_header(outcome: CloseOutcome, note: str | None) -> dict[str, object]:
    return {
        "period": outcome.period,
        "version": outcome.version,
        "closed_by": outcome.closed_by,
        "closed_at": outcome.closed_at.isoformat(),
        "code_version": code_version(),
        "note": note,
        "rows": outcome.files,
        "checks": [asdict(check) for check in outcome.checks],
    }


def report_context(
    con: duckdb.DuckDBPyConnection, config: BusinessConfig, outcome: CloseOutcome, note: str | None
) -> ReportContext:
    def rows(query: str, parameters: list[object]) -> list[dict[str, object]]:
        cursor = con.execute(query, parameters)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    [period_row] = rows("select * from marts.month_end_periods where period = ?", [outcome.period])
    return ReportContext(
        company=config.company.name,
        period=outcome.period,
        version=outcome.version,
        closed_by=outcome.closed_by,
        closed_at=outcome.closed_at.isoformat(timespec="seconds"),
        code_version=code_version(),
        note=note,
        period_row=period_row,
        deductions_by_type=rows(
            "select * from marts.month_end_deductions_by_type where period = ? order by deduction_type",
            [outcome.period],
        ),
        checks=outcome.checks,
        open_exceptions=rows(
            "select * from marts.exceptions where status = 'open' order by due_at, kind, document_reference", []
        ),
    )


def insert_close(
    con: duckdb.DuckDBPyConnection, outcome: CloseOutcome, note: str | None, flow_run_id: str | None, run_id: str
) -> None:
    con.execute(
        "insert into audit.month_end_runs (close_id, period, version, status, closed_by, closed_at, code_version,"
        " manifest_sha256, pack_path, checks, open_exceptions, note, flow_run_id, run_id)"
        " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            outcome.close_id,
            outcome.period,
            outcome.version,
            outcome.status,
            outcome.closed_by,
            outcome.closed_at,
            code_version(),
            outcome.manifest_sha256,
            str(outcome.pack) if outcome.pack else None,
            json.dumps([asdict(check) for check in outcome.checks], default=str),
            outcome.open_exceptions,
            note,
            flow_run_id,
            run_id,
        ],
    )
    con.executemany(
        "insert into audit.month_end_checks (close_id, check_name, passed, measured, expected, detail)"
        " values (?, ?, ?, ?, ?, ?)",
        [[outcome.close_id, c.name, c.passed, c.measured, c.expected, c.detail] for c in outcome.checks],
    )


def record_close(
    warehouse: Path, outcome: CloseOutcome, note: str | None, flow_run_id: str | None, run_id: str
) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("begin transaction")
        insert_close(con, outcome, note, flow_run_id, run_id)
        con.execute("commit")


@dataclass(frozen=True)
class VerifiedPack:
    period: str
    version: int
    pack: Path
    manifest_sha256: str
    problems: list[str]


def verify_close(warehouse: Path, period: str, version: int | None = None) -> list[VerifiedPack]:
    """Every closed version of `period` (or just `version`) checked against its manifest and the manifest's
    recorded SHA-256. Reads the audit rows from the warehouse read-only."""
    check_period(period)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select version, pack_path, manifest_sha256 from audit.month_end_runs"
            " where period = ? and status = 'closed' and (? is null or version = ?) order by version",
            [period, version, version],
        ).fetchall()
    if not rows:
        raise LookupError(f"no closed version {version or ''} of {period} in audit.month_end_runs".replace("  ", " "))
    return [VerifiedPack(period, v, Path(path), sha, verify_pack(Path(path), sha)) for v, path, sha in rows]
