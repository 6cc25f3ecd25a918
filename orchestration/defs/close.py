"""Month-end close in Dagster: the whole flow, then the close, in one job a person launches for a period.

The asset is thin: `pipelines.close.month_end` reads Sage again, checks, writes the pack and records the close.
The job materialises every asset of the flow first (as `sage_sync` and `remittance_posting` do), so the close
itself does not run a pass of its own.
"""

import dataclasses

import dagster as dg

from orchestration.defs.ingestion import WAREHOUSE_POOL
from orchestration.defs.resources import SageResource, WarehouseResource
from orchestration.defs.transform import warehouse_snapshot
from pipelines.close.month_end import CloseBlocked, close_period
from pipelines.sage200.auth import tokens_from_environment

MONTH_END_CLOSE = dg.AssetKey(["month_end", "close"])


class MonthEndCloseConfig(dg.Config):
    """What the person launching the job gives: the month and their name (recorded in the audit trail)."""

    period: str  # YYYY-MM
    closed_by: str
    note: str | None = None


@dg.asset(
    key=MONTH_END_CLOSE,
    deps=[warehouse_snapshot],
    pool=WAREHOUSE_POOL,
    group_name="month_end",
    description="The month closed: Sage read again, the integrity checks green, the close pack written "
    "(marts as Parquet and CSV, report.html, manifest.json) and recorded in audit.month_end_runs as the "
    "period's next version. A failed check records a blocked attempt and fails the run.",
)
def month_end_close(
    context: dg.AssetExecutionContext, config: MonthEndCloseConfig, warehouse: WarehouseResource, sage: SageResource
) -> dg.MaterializeResult:
    locations = dataclasses.replace(warehouse.locations(), sage_url=sage.base_url)
    try:
        outcome = close_period(
            locations,
            warehouse.business_config(),
            tokens_from_environment(),
            config.period,
            config.closed_by,
            note=config.note,
            trigger="manual",
            run_flow=False,
            progress=context.log.info,
        )
    except CloseBlocked as blocked:
        raise dg.Failure(description=str(blocked), metadata={"checks": "\n".join(blocked.outcome.lines())}) from blocked
    return dg.MaterializeResult(
        metadata={
            "period": outcome.period,
            "version": outcome.version,
            "pack": str(outcome.pack),
            "manifest_sha256": outcome.manifest_sha256,
            "open_exceptions": outcome.open_exceptions,
            "checks": "\n".join(outcome.lines()),
        }
    )


month_end_close_job = dg.define_asset_job(
    name="month_end_close",
    selection=dg.AssetSelection.all(),
    description="Month-end close of one period (run config: period YYYY-MM and closed_by): the whole flow, then "
    "the close. Launched by a person from the Dagster UI; never scheduled.",
)
