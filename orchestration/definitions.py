"""The one Dagster `Definitions` for avc2sage, assembled from orchestration/defs/.

`dagster dev` (with `[tool.dagster] module_name = "orchestration.definitions"`) loads it.
"""

from __future__ import annotations

import dagster as dg

from orchestration.defs.close import month_end_close, month_end_close_job
from orchestration.defs.documents import (
    despatch_to_invoice_job,
    sage_despatch_sensor,
    sage_invoice_sensor,
    ship_notices_and_invoices,
)
from orchestration.defs.ingestion import amazon_raw, configuration_raw, dashboard_actions, sage200_raw
from orchestration.defs.orders import (
    amazon_inbox_sensor,
    order_to_cash_job,
    purchase_orders_ready_for_write_back,
    sales_orders_and_acknowledgements,
)
from orchestration.defs.remittances import (
    remittance_posting_job,
    remittance_posting_schedule,
    remittance_postings,
)
from orchestration.defs.resources import default_resources
from orchestration.defs.schedules import sage_sync_job, sage_sync_schedule
from orchestration.defs.transform import dbt_models, warehouse_snapshot

defs = dg.Definitions(
    assets=[
        dashboard_actions,
        configuration_raw,
        amazon_raw,
        sage200_raw,
        dbt_models,
        sales_orders_and_acknowledgements,
        ship_notices_and_invoices,
        remittance_postings,
        warehouse_snapshot,
        month_end_close,
    ],
    asset_checks=[purchase_orders_ready_for_write_back],
    jobs=[sage_sync_job, order_to_cash_job, despatch_to_invoice_job, remittance_posting_job, month_end_close_job],
    schedules=[sage_sync_schedule, remittance_posting_schedule],
    sensors=[amazon_inbox_sensor, sage_despatch_sensor, sage_invoice_sensor],
    resources=default_resources(),
)
