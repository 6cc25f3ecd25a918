"""Amazon's payments posted to Sage, in Dagster: downstream of the remittance marts dbt plans them in.

The asset is thin: `pipelines.remittances.batch` gates, posts and checks the clearing bank; the models its
audit rows feed (the remittance marts' posting status, the exceptions) are rebuilt after it, as after the
order-to-cash batches. A daily job posts what was approved since the day before; a person approving a
payment (`avc2sage approve`) may also post at once with `avc2sage post-remittances`.
"""

import dagster as dg

from orchestration.defs.health import flow_freshness
from orchestration.defs.ingestion import WAREHOUSE_POOL, amazon_raw, configuration_raw, dashboard_actions, sage200_raw
from orchestration.defs.resources import SageResource, WarehouseResource
from orchestration.defs.transform import REMITTANCE_POSTINGS, dbt_models, warehouse_snapshot
from pipelines.passes import build_after_batches
from pipelines.remittances.batch import run_remittance_batch
from pipelines.warehouse.audit import record_run

REMITTANCE_MARTS = [
    dg.AssetKey(["marts", "remittance_payments"]),
    dg.AssetKey(["marts", "remittance_postings"]),
    dg.AssetKey(["marts", "remittance_lines"]),
]


@dg.asset(
    key=REMITTANCE_POSTINGS,
    deps=REMITTANCE_MARTS,
    pool=WAREHOUSE_POOL,
    group_name="remittances",
    freshness_policy=flow_freshness("remittances"),
    description="Each approved Amazon payment posted to Sage through the clearing bank (credit notes, receipt, "
    "allocation, bank payment and receipt, transfer of the net), exactly once; the clearing bank read back and "
    "checked; the remittance marts and exceptions rebuilt from what was done.",
)
def remittance_postings(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, sage: SageResource
) -> dg.MaterializeResult:
    trigger = "schedule" if "dagster/schedule_name" in context.run.tags else "manual"
    with record_run(warehouse.warehouse, "remittance_posting", trigger) as run, sage.client() as client:
        summary = run_remittance_batch(warehouse.locations(), warehouse.business_config(), client, run_id=run.run_id)
    with record_run(warehouse.warehouse, "dbt_build_orders", trigger):
        build_after_batches(warehouse.warehouse)
    clearing = summary.clearing
    return dg.MaterializeResult(
        metadata={
            "payments_posted": len(summary.posted),
            "documents_posted": summary.documents["posted"],
            "awaiting_approval": len(summary.awaiting_approval),
            "refused": len(summary.refused),
            "incomplete": len(summary.incomplete) + len(summary.not_done),
            "clearing_bank_difference": str(clearing.difference) if clearing is not None else "not checked",
            "summary": "\n".join(summary.lines()),
        }
    )


remittance_posting_job = dg.define_asset_job(
    name="remittance_posting",
    selection=dg.AssetSelection.assets(
        dashboard_actions,
        configuration_raw,
        amazon_raw,
        sage200_raw,
        dbt_models,
        remittance_postings,
        warehouse_snapshot,
    ),
    description="The dashboard's approvals, the inbox (Amazon's remittances), configuration and Sage into raw, "
    "dbt, the approved payments "
    "posted to Sage and the clearing bank checked, the snapshot.",
)

# Once a day, early: yesterday's approvals are posted and the clearing bank checked before finance starts.
remittance_posting_schedule = dg.ScheduleDefinition(
    name="remittance_posting_daily",
    job=remittance_posting_job,
    cron_schedule="0 6 * * *",
    execution_timezone="Europe/London",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
