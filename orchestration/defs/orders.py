"""Order to cash in Dagster: Amazon's POs become Sage orders and acknowledgements.

The write-back asset sits downstream of the order marts and of a blocking check on them, so a mart that
would order or acknowledge wrongly stops it before any write. A sensor on the Amazon inbox starts the
order-to-cash job as soon as files arrive, rather than waiting for the 15-minute schedule: the
acknowledgement deadline runs from the PO's arrival.
"""

import hashlib
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.defs.health import flow_freshness
from orchestration.defs.ingestion import WAREHOUSE_POOL, amazon_raw, configuration_raw, dashboard_actions, sage200_raw
from orchestration.defs.resources import SageResource, WarehouseResource
from orchestration.defs.transform import SALES_ORDERS_AND_ACKNOWLEDGEMENTS, dbt_models, warehouse_snapshot
from pipelines.amazon.inbox import scan
from pipelines.orders.batch import run_order_batch
from pipelines.orders.readiness import write_back_blockers
from pipelines.passes import build_after_batches
from pipelines.warehouse.audit import record_run

PURCHASE_ORDERS = dg.AssetKey(["marts", "purchase_orders"])
PURCHASE_ORDER_LINES = dg.AssetKey(["marts", "purchase_order_lines"])


@dg.asset_check(
    asset=PURCHASE_ORDER_LINES,
    blocking=True,
    pool=WAREHOUSE_POOL,
    description="The order marts are fit to drive writes: no PO twice, every line to order fully resolved, "
    "decided quantities adding up. Blocks the Sage write-back when it fails.",
)
def purchase_orders_ready_for_write_back(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with duckdb.connect(str(warehouse.warehouse), read_only=True) as con:
        problems = write_back_blockers(con)
    return dg.AssetCheckResult(passed=not problems, metadata={"problems": "\n".join(problems) or "none"})


@dg.asset(
    key=SALES_ORDERS_AND_ACKNOWLEDGEMENTS,
    deps=[PURCHASE_ORDERS, PURCHASE_ORDER_LINES],
    pool=WAREHOUSE_POOL,
    group_name="orders",
    freshness_policy=flow_freshness("sales_orders", "acknowledgements"),
    description="Sage sales orders for the POs that need one, then their acknowledgements (855 / ORDRSP / "
    "SP-API JSON) in the outbox; the order marts and exceptions rebuilt from what was done.",
)
def sales_orders_and_acknowledgements(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, sage: SageResource
) -> dg.MaterializeResult:
    trigger = "sensor" if "dagster/sensor_name" in context.run.tags else "schedule"
    with record_run(warehouse.warehouse, "order_batch", trigger) as run, sage.client() as client:
        summary = run_order_batch(warehouse.locations(), warehouse.business_config(), client, run_id=run.run_id)
    with record_run(warehouse.warehouse, "dbt_build_orders", trigger):
        build_after_batches(warehouse.warehouse)
    return dg.MaterializeResult(
        metadata={
            "orders_created": len(summary.orders_created),
            "orders_found_in_sage": len(summary.orders_found),
            "acknowledgements": sum(summary.acknowledged.values()),
            "not_done": len(summary.not_done),
            "summary": "\n".join(summary.lines()),
        }
    )


order_to_cash_job = dg.define_asset_job(
    name="order_to_cash",
    selection=dg.AssetSelection.assets(
        dashboard_actions,
        configuration_raw,
        amazon_raw,
        sage200_raw,
        dbt_models,
        sales_orders_and_acknowledgements,
        warehouse_snapshot,
    ),
    description="The dashboard's actions, the inbox, configuration and Sage into raw, dbt, orders and "
    "acknowledgements, the snapshot.",
)


def waiting_files_key(inbox: Path) -> str | None:
    """A key naming the files waiting in the inbox now (None when there are none): one run per arrival."""
    files = scan(inbox, vendor_codes=set()) if inbox.exists() else []
    if not files:
        return None
    return hashlib.sha256("\n".join(f"{file.name}:{file.sha256}" for file in files).encode()).hexdigest()


@dg.sensor(job=order_to_cash_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def amazon_inbox_sensor(warehouse: WarehouseResource) -> dg.SensorResult | dg.SkipReason:
    """Start order-to-cash when new files wait in the Amazon inbox."""
    key = waiting_files_key(Path(warehouse.inbox))
    if key is None:
        return dg.SkipReason("the Amazon inbox is empty")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=key)])
