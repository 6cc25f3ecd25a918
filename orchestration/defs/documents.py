"""Order to cash, part 2, in Dagster: Sage's despatches become ship notices, Sage's invoices go to Amazon.

Both batches read only the warehouse (dbt's prepared despatch and invoice lines) and write the outbox, so
they run as one step after the models they read, and the models their audit rows feed are rebuilt once
after both. Two sensors watch Sage for a new despatch or a new invoice and start the job at once: an ASN
is due 30 minutes after the truck leaves, far sooner than the next 15-minute schedule could promise.
"""

from collections.abc import Iterator

import dagster as dg

from orchestration.defs.health import flow_freshness
from orchestration.defs.ingestion import WAREHOUSE_POOL, configuration_raw, dashboard_actions, sage200_raw
from orchestration.defs.resources import SageResource, WarehouseResource
from orchestration.defs.transform import AMAZON_INVOICES, SHIP_NOTICES, dbt_models, warehouse_snapshot
from pipelines.invoices.batch import run_invoice_batch
from pipelines.passes import build_after_batches
from pipelines.sage200.client import SageClient
from pipelines.shipments.batch import run_shipment_batch
from pipelines.warehouse.audit import record_run

SHIPMENT_LINES = dg.AssetKey(["intermediate", "int_shipment_lines_prepared"])
INVOICE_LINES = dg.AssetKey(["intermediate", "int_invoice_lines_prepared"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            SHIP_NOTICES,
            deps=[SHIPMENT_LINES],
            group_name="shipments",
            freshness_policy=flow_freshness("asns"),
            description="Ship notices (856 / DESADV / SP-API) for Sage's confirmed despatches, with their carton "
            "labels; the ones that break an Amazon rule stopped as exceptions.",
        ),
        dg.AssetSpec(
            AMAZON_INVOICES,
            deps=[INVOICE_LINES, SHIP_NOTICES],
            group_name="invoices",
            freshness_policy=flow_freshness("invoices"),
            description="Invoices (810 / INVOIC / SP-API) for Sage's invoices of Amazon orders; the ones that would "
            "come back as a price or shortage claim stopped as exceptions.",
        ),
    ],
    pool=WAREHOUSE_POOL,
)
def ship_notices_and_invoices(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    trigger = "sensor" if "dagster/sensor_name" in context.run.tags else "schedule"
    locations, config = warehouse.locations(), warehouse.business_config()
    with record_run(warehouse.warehouse, "shipment_batch", trigger) as run:
        shipments = run_shipment_batch(locations, config, run_id=run.run_id)
    with record_run(warehouse.warehouse, "invoice_batch", trigger) as run:
        invoices = run_invoice_batch(locations, config, run_id=run.run_id)
    with record_run(warehouse.warehouse, "dbt_build_orders", trigger):
        build_after_batches(warehouse.warehouse)
    for key, summary in ((SHIP_NOTICES, shipments), (AMAZON_INVOICES, invoices)):
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "sent": summary.sent,
                "stopped": sum(summary.failed.values()),
                "summary": "\n".join(summary.lines),
            },
        )


despatch_to_invoice_job = dg.define_asset_job(
    name="despatch_to_invoice",
    selection=dg.AssetSelection.assets(
        dashboard_actions, configuration_raw, sage200_raw, dbt_models, warehouse_snapshot
    )
    | dg.AssetSelection.assets(SHIP_NOTICES, AMAZON_INVOICES),
    description="Configuration and Sage into raw, dbt, ship notices and invoices to Amazon, the snapshot.",
)


def newest_id(client: SageClient, resource: str, id_field: str) -> int | None:
    """The highest id Sage has for `resource` (a despatch, an invoice), or None when it has none."""
    rows = client.get(resource, {"$orderby": f"{id_field} desc", "$top": 1, "$select": id_field})
    return int(rows[0][id_field]) if rows else None


def _sensor_for(name: str, resource: str, id_field: str, what: str) -> dg.SensorDefinition:
    @dg.sensor(
        name=name,
        job=despatch_to_invoice_job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Start despatch-to-invoice when Sage has a new {what}.",
    )
    def _sensor(sage: SageResource) -> dg.SensorResult | dg.SkipReason:
        with sage.client() as client:
            newest = newest_id(client, resource, id_field)
        if newest is None:
            return dg.SkipReason(f"Sage has no {what} yet")
        # One run per new newest id: Dagster skips a run key it has seen.
        return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"{name}:{newest}")])

    return _sensor


sage_despatch_sensor = _sensor_for("sage_despatch_sensor", "sop_despatch_receipts", "id", "despatch")
sage_invoice_sensor = _sensor_for(
    "sage_invoice_sensor", "sop_order_return_invoice_credit_views", "sop_invoice_credit_id", "invoice"
)
