"""Raw loads as Dagster assets: the business configuration and Sage 200, through dlt; the Amazon inbox; what
people did in the dashboard.

Asset keys equal dbt's source keys (raw_sage200/<table>, raw_app/<table>), so dlt and dbt assets form one
lineage graph. Every asset that writes the warehouse runs in the "duckdb" pool (one writer at a time).
"""

from collections import Counter
from collections.abc import Iterator
from typing import Any

import dagster as dg
import dlt
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from orchestration.defs.health import flow_freshness
from orchestration.defs.resources import SageResource, WarehouseResource
from pipelines import app
from pipelines.amazon.ingest import ingest
from pipelines.amazon.source import TABLES as AMAZON_TABLES
from pipelines.passes import dlt_pipelines_dir
from pipelines.sage200.auth import StaticToken
from pipelines.sage200.client import SageClient
from pipelines.sage200.source import sage200_source
from pipelines.sage200.source.settings import DATASET_NAME
from pipelines.settings import EXAMPLE_CONFIG, Locations, load_business_config
from pipelines.warehouse.actions import load_actions
from pipelines.warehouse.audit import record_run

WAREHOUSE_POOL = "duckdb"


class RawSchemaTranslator(DagsterDltTranslator):
    """dlt resource → the asset key dbt gives the same table as a source: <dataset>/<table>, with the freshness
    policy of the flow the load serves."""

    def __init__(self, dataset: str, freshness_policy: dg.FreshnessPolicy | None = None) -> None:
        self.dataset = dataset
        self.freshness_policy = freshness_policy

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        return (
            super()
            .get_asset_spec(data)
            .replace_attributes(
                key=dg.AssetKey([self.dataset, data.resource.name]), deps=[], freshness_policy=self.freshness_policy
            )
        )


def warehouse_pipeline(name: str, dataset: str, warehouse_path: str) -> dlt.Pipeline:
    warehouse = Locations.resolve(warehouse=warehouse_path).warehouse
    return dlt.pipeline(
        pipeline_name=name,
        destination=dlt.destinations.duckdb(str(warehouse)),
        dataset_name=dataset,
        pipelines_dir=str(dlt_pipelines_dir(warehouse)),
    )


def definition_time_sage_source() -> Any:
    # dlt_assets needs a source to list the tables; building it does no I/O, so an unconnected client will
    # do. The run itself gets a connected one.
    return sage200_source(client=SageClient(Locations.resolve().sage_url, StaticToken("")))


@dlt_assets(
    dlt_source=definition_time_sage_source(),
    dlt_pipeline=warehouse_pipeline("sage200", DATASET_NAME, str(Locations.resolve().warehouse)),
    name="sage200",
    group_name="sage200",
    dagster_dlt_translator=RawSchemaTranslator(DATASET_NAME, flow_freshness("sage_reads")),
    pool=WAREHOUSE_POOL,
)
def sage200_raw(
    context: dg.AssetExecutionContext, dlt: DagsterDltResource, sage: SageResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """Sage 200 ledgers, stock and sales orders into raw_sage200 (incremental where Sage allows)."""
    with record_run(warehouse.warehouse, "sage_load", "schedule"), sage.client() as client:
        yield from dlt.run(
            context=context,
            dlt_source=sage200_source(client=client),
            dlt_pipeline=warehouse_pipeline("sage200", DATASET_NAME, warehouse.path),
        )


@dlt_assets(
    dlt_source=app.app_source(load_business_config(EXAMPLE_CONFIG), str(EXAMPLE_CONFIG)),
    dlt_pipeline=warehouse_pipeline("app", "raw_app", str(Locations.resolve().warehouse)),
    name="app_configuration",
    group_name="configuration",
    dagster_dlt_translator=RawSchemaTranslator("raw_app"),
    pool=WAREHOUSE_POOL,
)
def configuration_raw(
    context: dg.AssetExecutionContext, dlt: DagsterDltResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """The business configuration in force into raw_app, so dbt can check Sage has what it names."""
    with record_run(warehouse.warehouse, "configuration_load", "schedule"):
        yield from dlt.run(
            context=context,
            dlt_source=app.app_source(warehouse.business_config(), warehouse.config_file),
            dlt_pipeline=warehouse_pipeline("app", "raw_app", warehouse.path),
        )


@dg.multi_asset(
    # The inbox's POs are the PO intake flow; its other tables arrive as Amazon sends them (remittances weekly).
    specs=[
        dg.AssetSpec(
            ["raw_amazon", table],
            group_name="amazon",
            freshness_policy=flow_freshness("po_intake") if table == "purchase_orders" else None,
        )
        for table in AMAZON_TABLES
    ],
    name="amazon_inbox",
    pool=WAREHOUSE_POOL,
)
def amazon_raw(warehouse: WarehouseResource) -> Iterator[dg.MaterializeResult]:
    """The Amazon inbox into raw_amazon: every file registered with its outcome, then filed away and
    acknowledged (997 / CONTRL) through the outbox."""
    with record_run(warehouse.warehouse, "amazon_ingest", "schedule"):
        summary = ingest(warehouse.locations(), warehouse.business_config(), dlt_pipelines_dir(warehouse.warehouse))
    outcomes = Counter(outcome.outcome for outcome in summary.outcomes)
    for table in AMAZON_TABLES:
        yield dg.MaterializeResult(
            asset_key=["raw_amazon", table],
            metadata={"files": len(summary.outcomes), **{f"files_{name}": count for name, count in outcomes.items()}},
        )


DASHBOARD_ACTION_TABLES = ("exception_actions", "dashboard_approvals")


@dg.multi_asset(
    specs=[dg.AssetSpec(["audit", table], group_name="dashboard") for table in DASHBOARD_ACTION_TABLES],
    name="dashboard_actions",
    pool=WAREHOUSE_POOL,
)
def dashboard_actions(warehouse: WarehouseResource) -> Iterator[dg.MaterializeResult]:
    """What people did in the dashboard since the last run (its SQLite store) into audit: exception actions,
    and payment approvals applied as `avc2sage approve` applies them (channel dashboard)."""
    with record_run(warehouse.warehouse, "dashboard_actions", "schedule") as run:
        loaded = load_actions(warehouse.warehouse, run_id=run.run_id)
    yield dg.MaterializeResult(asset_key=["audit", "exception_actions"], metadata={"loaded": loaded.exception_actions})
    yield dg.MaterializeResult(
        asset_key=["audit", "dashboard_approvals"],
        metadata={outcome: ", ".join(numbers) for outcome, numbers in loaded.approvals.items()},
    )
