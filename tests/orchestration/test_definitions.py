"""Dagster: the definitions load, dlt and dbt share one lineage graph, and the job materialises against
the sandbox serving the sample vendor."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import duckdb
import pytest

from orchestration.defs.health import SYNC_FLOWS_SEED
from orchestration.defs.resources import SageResource, default_resources
from pipelines.settings import EXAMPLE_CONFIG, Locations
from pipelines.warehouse.actions import ActionStore, actions_path
from pipelines.warehouse.snapshot import snapshot_path

if TYPE_CHECKING:
    from conftest import SandboxCompany


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    from orchestration.definitions import defs

    return defs


def test_definitions_list_the_assets_jobs_and_schedules(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"raw_sage200/customers", "raw_sage200/sales_posted_transactions", "raw_app/business_settings"} <= keys
    assert {"raw_amazon/inbound_files", "raw_amazon/purchase_orders", "staging/stg_amazon__purchase_orders"} <= keys
    assert {"staging/stg_sage200__customers", "marts/exceptions", "marts/sync_health", "warehouse_snapshot"} <= keys
    assert {"audit/exception_actions", "audit/dashboard_approvals"} <= keys
    assert definitions.resolve_job_def("sage_sync").name == "sage_sync"
    assert "orders/sales_orders_and_acknowledgements" in keys
    assert {"marts/purchase_orders", "marts/purchase_order_lines"} <= keys
    assert {"shipments/ship_notices", "invoices/amazon_invoices"} <= keys
    assert definitions.resolve_job_def("despatch_to_invoice").name == "despatch_to_invoice"
    assert [sensor.name for sensor in definitions.sensors] == [
        "amazon_inbox_sensor",
        "sage_despatch_sensor",
        "sage_invoice_sensor",
    ]
    assert [schedule.cron_schedule for schedule in definitions.schedules] == ["*/15 * * * *", "0 6 * * *"]
    assert set(definitions.resources) == {"warehouse", "sage", "dlt", "dbt"}


def test_each_flow_turns_amber_then_red_in_dagster_after_its_seed_windows(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    windows = {
        key.to_user_string(): (policy.warn_window.to_timedelta(), policy.fail_window.to_timedelta())
        for key in graph.get_all_asset_keys()
        if (policy := graph.get(key).freshness_policy) is not None
    }
    seed = {row["flow"]: row for row in csv.DictReader(SYNC_FLOWS_SEED.open())}

    def of(flow: str) -> tuple[timedelta, timedelta]:
        return timedelta(minutes=int(seed[flow]["amber_after_minutes"])), timedelta(
            minutes=int(seed[flow]["red_after_minutes"])
        )

    assert windows["raw_amazon/purchase_orders"] == of("po_intake")
    assert windows["orders/sales_orders_and_acknowledgements"] == min(of("sales_orders"), of("acknowledgements"))
    assert windows["shipments/ship_notices"] == of("asns")
    assert windows["invoices/amazon_invoices"] == of("invoices")
    assert windows["remittances/remittance_postings"] == of("remittances") == (timedelta(hours=26), timedelta(hours=48))
    assert windows["raw_sage200/customers"] == of("sage_reads")
    assert "raw_amazon/remittance_payments" not in windows, "Amazon pays weekly: no 15-minute promise there"


def test_dlt_asset_keys_are_the_dbt_source_keys(definitions: dg.Definitions) -> None:
    """One graph: the staging model's upstream is the very asset dlt materialises."""
    graph = definitions.resolve_asset_graph()
    staging = graph.get(dg.AssetKey(["staging", "stg_sage200__customers"]))
    assert dg.AssetKey(["raw_sage200", "customers"]) in staging.parent_keys
    assert graph.get(dg.AssetKey(["raw_sage200", "customers"])).is_materializable


def test_every_warehouse_writer_is_in_the_duckdb_pool(definitions: dg.Definitions) -> None:
    for assets_def in definitions.resolve_asset_graph().assets_defs:
        if assets_def.is_executable:
            pools = {node.pool for node in assets_def.node_def.iterate_op_defs()}
            assert pools == {"duckdb"}, assets_def.node_def.name


def test_the_close_job_runs_the_whole_flow_then_the_close_and_only_it_closes(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    close, postings = dg.AssetKey(["month_end", "close"]), dg.AssetKey(["remittances", "remittance_postings"])

    def selected(job: str) -> set[dg.AssetKey]:
        return set(definitions.resolve_job_def(job).asset_layer.selected_asset_keys)

    assert selected("month_end_close") == selected("sage_sync") | {postings, close}
    for job in ("sage_sync", "order_to_cash", "despatch_to_invoice", "remittance_posting"):
        assert close not in selected(job), job
    assert dg.AssetKey(["warehouse_snapshot"]) in graph.get(close).parent_keys
    assert not any(schedule.job_name == "month_end_close" for schedule in definitions.schedules), "a person closes"
    fields = definitions.resolve_job_def("month_end_close").run_config_schema.config_type.fields
    close_config = fields["ops"].config_type.fields["month_end__close"].config_type.fields["config"].config_type
    assert {name for name, field in close_config.fields.items() if field.is_required} == {"period", "closed_by"}


def test_the_sync_job_materialises_against_the_sandbox(
    definitions: dg.Definitions, sample_sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = tmp_path / "dagster" / "avc2sage.duckdb"
    warehouse.parent.mkdir()
    monkeypatch.setenv("AVC2SAGE_WAREHOUSE", str(warehouse))  # dbt's profile reads the same setting
    locations = Locations.resolve(
        warehouse=str(warehouse),
        sage_url=sample_sandbox.api_url,
        config=str(EXAMPLE_CONFIG),
        inbox=str(tmp_path / "inbox"),
        outbox=str(tmp_path / "outbox"),
    )
    shutil.copytree(sample_sandbox.sample / "inbox", locations.inbox)  # Amazon's files, new POs among them
    # Someone acted in the dashboard before the run: the run loads it into the audit trail.
    store = ActionStore(actions_path(warehouse))
    action = store.comment("an-exception-id", by="Ana Ops", identity_source="name", note="called the carrier")
    store.approve_payment("NO-SUCH-PAYMENT", "0" * 64, by="Ana Ops", identity_source="name")
    job = definitions.resolve_job_def("sage_sync")
    result = job.execute_in_process(resources=default_resources(locations), instance=dg.DagsterInstance.ephemeral())
    assert result.success
    materialised = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}
    expected = {"raw_sage200/customers", "raw_app/business_settings", "marts/exceptions", "warehouse_snapshot"}
    assert expected | {"orders/sales_orders_and_acknowledgements"} <= materialised
    [ready] = [
        check.passed
        for check in result.get_asset_check_evaluations()
        if check.check_name == "purchase_orders_ready_for_write_back"
    ]
    assert ready
    [orders] = [
        event.materialization.metadata
        for event in result.get_asset_materialization_events()
        if event.asset_key == dg.AssetKey(["orders", "sales_orders_and_acknowledgements"])
    ]
    assert orders["orders_created"].value == sample_sandbox.manifest.counts["amazon_purchase_orders_to_order_in_sage"]
    assert orders["acknowledgements"].value == sample_sandbox.manifest.counts["amazon_purchase_orders_not_in_sage"]
    with duckdb.connect(str(snapshot_path(warehouse)), read_only=True) as con:
        assert con.execute("select count(*) from staging.stg_sage200__customers").fetchone() == (4,)
        jobs = {job for (job,) in con.execute("select distinct job from audit.runs").fetchall()}
        loaded = con.execute("select action_id, taken_by, note from audit.exception_actions").fetchall()
        approvals = con.execute("select payment_number, outcome from audit.dashboard_approvals").fetchall()
        flows = con.execute("select count(*) from marts.sync_health").fetchone()
    assert {"configuration_load", "amazon_ingest", "sage_load", "dbt_build", "order_batch", "dbt_build_orders"} <= jobs
    assert "dashboard_actions" in jobs
    assert loaded == [(action.action_id, "Ana Ops", "called the carrier")]
    assert approvals == [("NO-SUCH-PAYMENT", "refused")]
    assert flows == (7,)


def test_the_inbox_sensor_starts_order_to_cash_once_per_arrival(definitions: dg.Definitions, tmp_path: Path) -> None:
    sensor = definitions.resolve_sensor_def("amazon_inbox_sensor")
    assert sensor.job_name == "order_to_cash"
    locations = Locations.resolve(warehouse=str(tmp_path / "w.duckdb"), inbox=str(tmp_path / "inbox"))

    def evaluate() -> dg.SensorResult | dg.SkipReason:
        context = dg.build_sensor_context(resources={"warehouse": default_resources(locations)["warehouse"]})
        return sensor(context)

    assert isinstance(evaluate(), dg.SkipReason)  # no inbox yet
    (tmp_path / "inbox" / "HAFIN").mkdir(parents=True)
    (tmp_path / "inbox" / "HAFIN" / "ORDERS_1.edi").write_bytes(b"UNB+UNOA:2+A+B+260101:0000+1'")
    first = evaluate().run_requests
    assert len(first) == 1 and evaluate().run_requests[0].run_key == first[0].run_key  # same files: same run
    (tmp_path / "inbox" / "HAFIN" / "ORDERS_2.edi").write_bytes(b"UNB+UNOA:2+A+B+260101:0000+2'")
    assert evaluate().run_requests[0].run_key != first[0].run_key  # a new arrival: a new run
    (tmp_path / "inbox" / "processed").mkdir()
    for path in (tmp_path / "inbox" / "HAFIN").iterdir():
        path.rename(tmp_path / "inbox" / "processed" / path.name)
    assert isinstance(evaluate(), dg.SkipReason)  # filed away: nothing waits


@pytest.mark.parametrize(
    ("name", "path"),
    [("sage_despatch_sensor", "despatch"), ("sage_invoice_sensor", "invoice")],
)
def test_the_sage_sensors_start_despatch_to_invoice_once_per_new_despatch_or_invoice(
    definitions: dg.Definitions, sandbox: SandboxCompany, name: str, path: str
) -> None:
    sensor = definitions.resolve_sensor_def(name)
    assert sensor.job_name == "despatch_to_invoice"

    def run_key() -> str:
        context = dg.build_sensor_context(resources={"sage": SageResource(base_url=sandbox.api)})
        (request,) = sensor(context).run_requests
        return request.run_key

    # The seeded company's one order is despatched and invoiced once: Sage's newest of each is id 1.
    assert run_key() == run_key() == f"{name}:1"
    order = sandbox.new_order(sandbox.order_line(0, Decimal("2"), Decimal("60.00"), case=True))
    sandbox.backoffice.post(f"sop_orders/{order['id']}/despatch", {"date": "2026-03-15"})
    if path == "invoice":
        sandbox.backoffice.post(f"sop_orders/{order['id']}/invoice", {"date": "2026-03-15"})
    assert run_key() != f"{name}:1"  # a new despatch or invoice: a new run


def test_dagster_validates_the_project_as_dagster_dev_loads_it() -> None:
    """`dagster dev` finds the definitions through pyproject's [tool.dagster] module_name."""
    repository = Path(__file__).parents[2]
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [str(dagster), "definitions", "validate"], cwd=repository, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "All code locations passed validation" in result.stdout + result.stderr


def test_the_instance_runs_one_warehouse_writer_at_a_time(tmp_path: Path) -> None:
    """`make dagster`'s instance settings (copied: the instance writes its state beside them)."""
    shutil.copy(Path(__file__).parents[2] / ".dagster" / "dagster.yaml", tmp_path)
    settings = dg.DagsterInstance.from_config(str(tmp_path)).get_concurrency_config()
    assert settings.pool_config.default_pool_limit == 1
