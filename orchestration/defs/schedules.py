"""Jobs and schedules: what runs together, and when."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.close import MONTH_END_CLOSE
from orchestration.defs.transform import REMITTANCE_POSTINGS

# Configuration, the inbox and Sage into raw, dbt build, orders and acknowledgements, ship notices and
# invoices, publish the snapshot. Amazon's payments are posted by their own daily job (remittances.py): finance
# approves during the day and the clearing bank is checked once, before they start.
sage_sync_job = dg.define_asset_job(
    name="sage_sync",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(REMITTANCE_POSTINGS, MONTH_END_CLOSE),
    description="Load the configuration, the Amazon inbox and Sage 200, build the dbt models, place orders and "
    "acknowledgements, publish the read snapshot.",
)

# Sage reads every 15 minutes: fresh enough for the order desk, far inside Sage's rate limits.
sage_sync_schedule = dg.ScheduleDefinition(
    name="sage_sync_every_15_minutes",
    job=sage_sync_job,
    cron_schedule="*/15 * * * *",
    execution_timezone="Europe/London",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
