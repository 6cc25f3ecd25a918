"""dbt models as Dagster assets, and the read snapshot published after them."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.ingestion import WAREHOUSE_POOL
from orchestration.defs.resources import WarehouseResource, dbt_project
from pipelines.warehouse.audit import record_run
from pipelines.warehouse.snapshot import publish_snapshot


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, pool=WAREHOUSE_POOL)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource) -> Iterator[Any]:
    """Staging, intermediate and marts, with their tests, on the warehouse."""
    # The dbt profile reads AVC2SAGE_WAREHOUSE, the same setting the warehouse resource comes from.
    with record_run(warehouse.warehouse, "dbt_build", "schedule"):
        yield from dbt.cli(["build", "--log-level-file", "warn"], context=context).stream()


# The snapshot comes after the write-back, so people see the orders, acknowledgements, ship notices,
# invoices and remittance postings just made.
SALES_ORDERS_AND_ACKNOWLEDGEMENTS = dg.AssetKey(["orders", "sales_orders_and_acknowledgements"])
SHIP_NOTICES = dg.AssetKey(["shipments", "ship_notices"])
AMAZON_INVOICES = dg.AssetKey(["invoices", "amazon_invoices"])
REMITTANCE_POSTINGS = dg.AssetKey(["remittances", "remittance_postings"])


@dg.asset(
    deps=[dbt_models, SALES_ORDERS_AND_ACKNOWLEDGEMENTS, SHIP_NOTICES, AMAZON_INVOICES, REMITTANCE_POSTINGS],
    pool=WAREHOUSE_POOL,
    group_name="publish",
    description="The read-only copy of the warehouse that the dashboard and analysts open.",
)
def warehouse_snapshot(warehouse: WarehouseResource) -> dg.MaterializeResult:
    path = publish_snapshot(warehouse.warehouse)
    return dg.MaterializeResult(metadata={"path": str(path), "bytes": path.stat().st_size})
