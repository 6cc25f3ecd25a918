"""Dagster: the remittance asset, its job and daily schedule load with the definitions, and the asset posts
against the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from orchestration.defs import remittances
from orchestration.defs.resources import SageResource, WarehouseResource
from pipelines import passes
from pipelines.settings import EXAMPLE_CONFIG
from pipelines.transform import DbtResult
from tests.remittances.conftest import full_payment, post_invoices


def test_the_definitions_hold_the_asset_its_job_and_its_schedule() -> None:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    asset = graph.get(dg.AssetKey(["remittances", "remittance_postings"]))
    assert asset.parent_keys == set(remittances.REMITTANCE_MARTS)
    job = defs.resolve_job_def("remittance_posting")
    assert "remittances/remittance_postings" in {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    schedule = defs.resolve_schedule_def("remittance_posting_daily")
    assert (schedule.job_name, schedule.cron_schedule, schedule.execution_timezone) == (
        "remittance_posting",
        "0 6 * * *",
        "Europe/London",
    )


def test_the_asset_posts_the_approved_payments(
    sandbox: Any, warehouse: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = warehouse.add(full_payment(post_invoices(sandbox)))
    rebuilt = []
    # The marts here are written by hand, not by dbt: the rebuild after posting is only recorded.
    monkeypatch.setattr(
        passes, "run_dbt", lambda command, path, **options: rebuilt.append(options["select"]) or DbtResult(
            command, 0, (), ""
        )
    )  # fmt: skip
    resources = {
        "warehouse": WarehouseResource(
            path=str(warehouse.path),
            config_file=str(EXAMPLE_CONFIG),
            inbox=str(tmp_path / "inbox"),
            outbox=str(tmp_path / "outbox"),
        ),
        "sage": SageResource(base_url=sandbox.api),
    }

    result = dg.materialize([remittances.remittance_postings], resources=resources)

    assert result.success
    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert (metadata["payments_posted"].value, metadata["documents_posted"].value) == (1, 7)
    assert metadata["clearing_bank_difference"].value == "0.00"
    assert rebuilt == ["source:audit+"]
    assert warehouse.query("select job, trigger, status from audit.runs order by started_at") == [
        ("remittance_posting", "manual", "succeeded"),
        ("dbt_build_orders", "manual", "succeeded"),
    ]
    assert warehouse.query("select count(*) from audit.remittance_plans where payment_number = ?",
                           [plan.payment_number]) == [(1,)]  # fmt: skip
