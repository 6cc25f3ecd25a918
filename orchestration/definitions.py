"""The one Dagster `Definitions` for avc2sage, assembled from orchestration/defs/.

`dagster dev` (with `[tool.dagster] module_name = "orchestration.definitions"`) loads it.
"""

from __future__ import annotations

import dagster as dg

from orchestration.defs.ingestion import amazon_raw, configuration_raw, sage200_raw
from orchestration.defs.resources import default_resources
from orchestration.defs.schedules import sage_sync_job, sage_sync_schedule
from orchestration.defs.transform import dbt_models, warehouse_snapshot

defs = dg.Definitions(
    assets=[configuration_raw, amazon_raw, sage200_raw, dbt_models, warehouse_snapshot],
    jobs=[sage_sync_job],
    schedules=[sage_sync_schedule],
    resources=default_resources(),
)
