"""One full pass of the integration: load → transform → publish, every stage in the audit trail.

`avc2sage run` calls `full_pass`; Dagster's assets call the same stage functions. Each stage opens the
warehouse, writes, and closes it before the next starts: DuckDB has one writer at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines import app
from pipelines.amazon.ingest import IngestSummary, ingest
from pipelines.edi.work import BatchSummary
from pipelines.invoices.batch import run_invoice_batch
from pipelines.orders.batch import OrderBatchSummary, run_order_batch
from pipelines.remittances.batch import RemittanceSummary, run_remittance_batch
from pipelines.sage200 import source as sage200
from pipelines.sage200.auth import TokenProvider
from pipelines.sage200.client import SageClient
from pipelines.settings import BusinessConfig, Locations
from pipelines.shipments.batch import run_shipment_batch
from pipelines.transform import DbtResult, run_dbt
from pipelines.warehouse.actions import ActionsLoaded, load_actions
from pipelines.warehouse.audit import record_run, table_row_counts
from pipelines.warehouse.snapshot import publish_snapshot

log = logging.getLogger(__name__)


@dataclass
class PassSummary:
    run_id: str
    snapshot: Path
    rows_per_table: dict[str, int] = field(default_factory=dict)
    inbound: IngestSummary | None = None
    orders: OrderBatchSummary | None = None
    shipments: BatchSummary | None = None
    invoices: BatchSummary | None = None
    remittances: RemittanceSummary | None = None
    dashboard_actions: ActionsLoaded | None = None


WAREHOUSE_SCHEMAS = ("raw_app", "raw_amazon", "raw_sage200", "staging", "intermediate", "marts")


def dlt_pipelines_dir(warehouse: Path) -> Path:
    """dlt's state (incremental cursors, pending packages) lives beside the warehouse it loads."""
    return warehouse.parent / f"{warehouse.stem}.dlt"


def load_dashboard_actions(
    locations: Locations, trigger: str, summary: PassSummary, progress: Callable[[str], None]
) -> None:
    """What people did in the dashboard since the last run, into audit (approvals applied), before the models
    and the posting gate read it."""
    with record_run(locations.warehouse, "dashboard_actions", trigger) as run:
        summary.dashboard_actions = load_actions(locations.warehouse, run_id=run.run_id)
        run.rows_per_table = {"exception_actions": summary.dashboard_actions.exception_actions}
    for line in summary.dashboard_actions.lines():
        progress(f"dashboard: {line}")


def load_configuration(locations: Locations, config: BusinessConfig) -> None:
    app.run(config, locations.config, locations.warehouse, dlt_pipelines_dir(locations.warehouse))


def ingest_amazon(locations: Locations, config: BusinessConfig) -> IngestSummary:
    return ingest(locations, config, dlt_pipelines_dir(locations.warehouse))


def load_sage(locations: Locations, tokens: str | TokenProvider) -> None:
    with SageClient(locations.sage_url, tokens).connect() as client:
        sage200.run(client, destination=str(locations.warehouse), pipelines_dir=dlt_pipelines_dir(locations.warehouse))


# What the order-to-cash and remittance batches' audit rows feed: the order, shipment, invoice, document and
# remittance marts and the exceptions, rebuilt after the batches.
AFTER_ORDER_BATCH = "source:audit+"
# That rebuild runs the models only: their data tests ran minutes earlier in the pass's full build, over the
# same logic, and run again in the next one; a batch adds audit rows, which the source tests check there too.
# Running them twice a pass cost more than a third of each pass.
DATA_TESTS = "resource_type:test resource_type:unit_test"


def build_after_batches(warehouse: Path, now: datetime | None = None) -> DbtResult:
    return run_dbt("build", warehouse, select=AFTER_ORDER_BATCH, exclude=DATA_TESTS, now=now)


# Built only after the batch when one runs: before it, every PO about to be acknowledged would raise (and
# seconds later resolve) a deadline exception, noise in a history people are alerted from. What reads the
# exceptions (marts.sync_health) waits with them.
EXCEPTIONS_MART = "exceptions+"


def build_models(locations: Locations, now: datetime | None = None, exclude: str | None = None) -> DbtResult:
    return run_dbt("build", locations.warehouse, now=now, exclude=exclude)


def place_orders(
    locations: Locations,
    config: BusinessConfig,
    tokens: str | TokenProvider,
    run_id: str,
    clock: Callable[[], datetime],
) -> OrderBatchSummary:
    with SageClient(locations.sage_url, tokens).connect() as client:
        return run_order_batch(locations, config, client, clock=clock, run_id=run_id)


def count_rows(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return table_row_counts(
            con, schemas=("raw_app", "raw_amazon", "raw_sage200", "staging", "intermediate", "marts")
        )


class StageFailed(RuntimeError):
    """A stage failed and was recorded; the pass went on as far as it safely could and published."""


class SageLoadFailed(StageFailed):
    """The Sage stage failed; the rest of the pass ran on the data already in the warehouse."""


class OrderBatchFailed(StageFailed):
    """The order batch stopped (Sage unreachable, or the marts unfit to drive writes); the models it feeds
    were rebuilt from what it had done."""


class DocumentBatchFailed(StageFailed):
    """The ship notice or invoice batch stopped as a whole (one document failing never does); the models it
    feeds were rebuilt from what it had done."""


class RemittancePostingFailed(StageFailed):
    """The remittance posting stopped as a whole (one payment failing never does: Sage unreachable, the clearing
    bank missing); the models it feeds were rebuilt from what it had posted."""


def full_pass(
    locations: Locations,
    config: BusinessConfig,
    tokens: str | TokenProvider,
    *,
    trigger: str = "cli",
    progress: Callable[[str], None] = log.info,
    clock: Callable[[], datetime] | None = None,
) -> PassSummary:
    """Configuration, the Amazon inbox and Sage into raw, dbt build, orders and acknowledgements, publish the
    read snapshot; each stage audited.

    A failed Sage load does not stop the pass: dbt still builds on the data already in the warehouse (and
    raises `sage_read_failing` when failures persist) and the snapshot is published, so people see the
    exception; no orders are placed on stale data, the pass is recorded as failed and `SageLoadFailed`
    raised. A failed order batch likewise: the models it feeds are rebuilt, the snapshot published, and
    `OrderBatchFailed` raised. `clock` pins "now" for deadlines, decisions and documents (tests, replays).
    """
    locations.warehouse.parent.mkdir(parents=True, exist_ok=True)
    summary = PassSummary(run_id="", snapshot=locations.warehouse)
    try:
        with record_run(locations.warehouse, "run", trigger) as run:
            summary.run_id = run.run_id
            run_stages(locations, config, tokens, trigger, summary, progress, clock)
            run.rows_per_table = summary.rows_per_table
    except StageFailed:
        publish(locations, summary, progress)
        raise
    publish(locations, summary, progress)
    return summary


def run_stages(
    locations: Locations,
    config: BusinessConfig,
    tokens: str | TokenProvider,
    trigger: str,
    summary: PassSummary,
    progress: Callable[[str], None],
    clock: Callable[[], datetime] | None = None,
) -> None:
    pinned = clock() if clock is not None else None
    sage_error = load_stages(locations, config, tokens, trigger, summary, progress)
    with record_run(locations.warehouse, "dbt_build", trigger) as dbt_run:
        result = build_models(locations, now=pinned, exclude=EXCEPTIONS_MART if sage_error is None else None)
        dbt_run.rows_per_table = {"nodes": result.nodes}
    progress(f"dbt build finished ({result.nodes} nodes)")
    errors: dict[str, Exception] = {}
    if sage_error is None:
        errors = order_stages(locations, config, tokens, trigger, summary, progress, clock)
    summary.rows_per_table = count_rows(locations.warehouse)
    if sage_error is not None:
        raise SageLoadFailed(f"the Sage 200 load failed: {sage_error}") from sage_error
    if "orders" in errors:
        raise OrderBatchFailed(f"the order batch failed: {errors['orders']}") from errors["orders"]
    if errors:
        stage, error = next(iter(errors.items()))
        failure = RemittancePostingFailed if stage == "remittances" else DocumentBatchFailed
        raise failure(f"the {stage} batch failed: {error}") from error


def order_stages(
    locations: Locations,
    config: BusinessConfig,
    tokens: str | TokenProvider,
    trigger: str,
    summary: PassSummary,
    progress: Callable[[str], None],
    clock: Callable[[], datetime] | None = None,
) -> dict[str, Exception]:
    """Order to cash on what dbt just built: sales orders and acknowledgements, ship notices for Sage's
    despatches, invoices for Sage's invoices, Amazon's payments posted to Sage; then the models their audit
    rows feed (also when a batch failed: what it did before failing must show). Each batch runs whatever
    another did; their failures are returned by stage (orders, shipments, invoices, remittances), not
    raised."""
    now = clock or _utc_now
    errors: dict[str, Exception] = {}
    try:
        with record_run(locations.warehouse, "order_batch", trigger) as batch_run:
            summary.orders = place_orders(locations, config, tokens, batch_run.run_id, now)
            batch_run.rows_per_table = {
                "orders_created": len(summary.orders.orders_created),
                "acknowledgements": sum(summary.orders.acknowledged.values()),
                "not_done": len(summary.orders.not_done),
            }
        for line in summary.orders.lines():
            progress(f"orders: {line}")
    except Exception as exc:  # recorded in audit.runs by record_run
        progress(f"order batch FAILED: {exc}")
        errors["orders"] = exc
    try:
        with record_run(locations.warehouse, "shipment_batch", trigger) as batch_run:
            summary.shipments = run_shipment_batch(locations, config, clock=now, run_id=batch_run.run_id)
            batch_run.rows_per_table = {"sent": summary.shipments.sent, **summary.shipments.failed}
        for line in summary.shipments.lines:
            progress(f"shipments: {line}")
    except Exception as exc:
        progress(f"ship notice batch FAILED: {exc}")
        errors["shipments"] = exc
    try:
        with record_run(locations.warehouse, "invoice_batch", trigger) as batch_run:
            summary.invoices = run_invoice_batch(locations, config, clock=now, run_id=batch_run.run_id)
            batch_run.rows_per_table = {"sent": summary.invoices.sent, **summary.invoices.failed}
        for line in summary.invoices.lines:
            progress(f"invoices: {line}")
    except Exception as exc:
        progress(f"invoice batch FAILED: {exc}")
        errors["invoices"] = exc
    error = remittance_stage(locations, config, tokens, trigger, summary, progress, now)
    if error is not None:
        errors["remittances"] = error
    rebuild_after_batches(locations, trigger, progress, clock)
    return errors


def remittance_stage(
    locations: Locations,
    config: BusinessConfig,
    tokens: str | TokenProvider,
    trigger: str,
    summary: PassSummary,
    progress: Callable[[str], None],
    clock: Callable[[], datetime],
) -> Exception | None:
    """Amazon's payments posted to Sage as far as their gates allow, and the clearing bank checked; the
    failure of the stage as a whole, if any, is returned (recorded in audit.runs), not raised."""
    try:
        # Approvals given in the dashboard since the pass began count in this very posting.
        load_dashboard_actions(locations, trigger, summary, progress)
        with (
            record_run(locations.warehouse, "remittance_posting", trigger) as run,
            SageClient(locations.sage_url, tokens).connect() as client,
        ):
            summary.remittances = run_remittance_batch(locations, config, client, clock=clock, run_id=run.run_id)
            run.rows_per_table = {
                "payments_posted": len(summary.remittances.posted),
                "documents_posted": summary.remittances.documents["posted"],
                "awaiting_approval": len(summary.remittances.awaiting_approval),
                "refused": len(summary.remittances.refused),
                "incomplete": len(summary.remittances.incomplete) + len(summary.remittances.not_done),
            }
    except Exception as exc:
        progress(f"remittance posting FAILED: {exc}")
        return exc
    for line in summary.remittances.lines():
        progress(f"remittances: {line}")
    return None


def rebuild_after_batches(
    locations: Locations, trigger: str, progress: Callable[[str], None], clock: Callable[[], datetime] | None
) -> None:
    with record_run(locations.warehouse, "dbt_build_orders", trigger) as dbt_run:
        result = build_after_batches(locations.warehouse, now=clock() if clock else None)
        dbt_run.rows_per_table = {"nodes": result.nodes}
    progress(f"order, shipment, invoice and remittance marts and exceptions rebuilt ({result.nodes} nodes)")


def post_remittances(
    locations: Locations,
    config: BusinessConfig,
    tokens: str | TokenProvider,
    *,
    trigger: str = "cli",
    progress: Callable[[str], None] = log.info,
    clock: Callable[[], datetime] | None = None,
) -> RemittanceSummary:
    """The remittance stage on its own (after `avc2sage approve`, without a full pass): post, rebuild the models
    its audit rows feed, publish the read snapshot. Raises RemittancePostingFailed when the stage failed."""
    summary = PassSummary(run_id="", snapshot=locations.warehouse)
    error = remittance_stage(locations, config, tokens, trigger, summary, progress, clock or _utc_now)
    rebuild_after_batches(locations, trigger, progress, clock)
    publish(locations, summary, progress)
    if error is not None:
        raise RemittancePostingFailed(f"the remittance posting failed: {error}") from error
    return summary.remittances  # set whenever the stage did not fail


def _utc_now() -> datetime:
    return datetime.now(UTC)


def load_stages(
    locations: Locations,
    config: BusinessConfig,
    tokens: str | TokenProvider,
    trigger: str,
    summary: PassSummary,
    progress: Callable[[str], None],
) -> Exception | None:
    """The dashboard's actions into audit; configuration, the Amazon inbox and Sage into raw; the Sage failure,
    if any, is returned, not raised."""
    load_dashboard_actions(locations, trigger, summary, progress)
    with record_run(locations.warehouse, "configuration_load", trigger):
        load_configuration(locations, config)
    progress("configuration loaded into raw_app")
    with record_run(locations.warehouse, "amazon_ingest", trigger) as ingest_run:
        summary.inbound = ingest_amazon(locations, config)
        ingest_run.rows_per_table = {
            "files": len(summary.inbound.outcomes),
            "acknowledgements": len(summary.inbound.acknowledgements),
        }
    for line in summary.inbound.lines():
        progress(f"inbox: {line}")
    try:
        with record_run(locations.warehouse, "sage_load", trigger):
            load_sage(locations, tokens)
    except Exception as exc:  # recorded in audit.runs by record_run; dbt turns repeats into an exception
        progress(f"Sage 200 load FAILED: {exc}")
        return exc
    progress("Sage 200 loaded into raw_sage200")
    return None


def publish(locations: Locations, summary: PassSummary, progress: Callable[[str], None]) -> None:
    # After the run's own audit row is final, so the snapshot shows how this run ended.
    summary.snapshot = publish_snapshot(locations.warehouse)
    progress(f"read snapshot published at {summary.snapshot}")
