"""The data path end to end: configuration and Sage into raw, dbt build, the exceptions contract, audit runs
and read snapshots — against the sandbox serving the sample vendor, with a real DuckDB warehouse."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
from click.testing import CliRunner

from orchestration.cli import main
from pipelines.passes import full_pass
from pipelines.sage200.sandbox.backoffice import BackOffice
from pipelines.sage200.source.settings import TABLES
from pipelines.settings import EXAMPLE_CONFIG, Locations, load_business_config
from pipelines.warehouse.snapshot import snapshot_path

EXCEPTION_COLUMNS = {
    "exception_id": "VARCHAR",
    "kind": "VARCHAR",
    "severity": "VARCHAR",
    "owner_role": "VARCHAR",
    "flow": "VARCHAR",
    "title": "VARCHAR",
    "document_type": "VARCHAR",
    "document_reference": "VARCHAR",
    "detected_at": "TIMESTAMP WITH TIME ZONE",
    "due_at": "TIMESTAMP WITH TIME ZONE",
    "amount": "DECIMAL(18,2)",
    "message": "VARCHAR",
    "suggested_action": "VARCHAR",
    "status": "VARCHAR",
    "assignee": "VARCHAR",
    "snoozed_until": "TIMESTAMP WITH TIME ZONE",
    "resolved_at": "TIMESTAMP WITH TIME ZONE",
    "resolved_by": "VARCHAR",
    "resolution_note": "VARCHAR",
    "last_action_at": "TIMESTAMP WITH TIME ZONE",
    "last_seen_at": "TIMESTAMP WITH TIME ZONE",
}


def config_file(tmp_path: Path, name: str, **replacements: str) -> Path:
    text = EXAMPLE_CONFIG.read_text()
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return path


def cli_locations(locations: Locations) -> list[str]:
    return [
        "--warehouse", str(locations.warehouse), "--sage-url", locations.sage_url, "--inbox", str(locations.inbox),
        "--outbox", str(locations.outbox), "--config", str(locations.config),
    ]  # fmt: skip


def locations(tmp_path: Path, api_url: str, config: Path) -> Locations:
    return Locations.resolve(
        warehouse=str(tmp_path / "warehouse" / "avc2sage.duckdb"),
        sage_url=api_url,
        config=str(config),
        inbox=str(tmp_path / "inbox"),
        outbox=str(tmp_path / "outbox"),
    )


AMAZON_SAMPLES = Path(__file__).parents[1] / "fixtures" / "amazon"


def query(database: Path, sql: str, parameters: list[object] | None = None) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql, parameters).fetchall()


def raw_counts(database: Path) -> dict[str, int]:
    tables = query(
        database,
        "select table_name from information_schema.tables where table_schema = 'raw_sage200' "
        "and table_name not like '\\_dlt%' escape '\\'",
    )
    return {name: query(database, f'select count(*) from raw_sage200."{name}"')[0][0] for (name,) in tables}


def documented_queries() -> list[str]:
    """The SQL statements docs/warehouse.md offers analysts."""
    handbook = (Path(__file__).parents[2] / "docs" / "warehouse.md").read_text()
    blocks = re.findall(r"```sql\n(.*?)```", handbook, flags=re.DOTALL)
    statements = [part.strip() for block in blocks for part in block.split(";") if part.strip()]
    assert len(statements) >= 3
    return statements


def amazon_counts(database: Path) -> dict[str, int]:
    return {
        name: query(database, f"select count(*) from raw_amazon.{name}")[0][0]
        for name in ("inbound_files", "inbound_sets", "purchase_orders", "purchase_order_lines", "remittance_lines")
    }


HOLD_SNAPSHOT = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    before = con.execute("select count(*) from raw_sage200.customers").fetchone()[0]
    print("open", flush=True)
    sys.stdin.readline()  # hold the snapshot open until the run is over
    after = con.execute("select count(*) from raw_sage200.customers").fetchone()[0]
    print(before, after, flush=True)
    """
)


def test_full_pass_builds_the_warehouse_and_keeps_exception_history(sample_sandbox, tmp_path: Path) -> None:
    """Pass 1 with a configuration naming a bank Sage lacks; pass 2 with it fixed, while a reader holds the
    snapshot open: the exception opens, then resolves and stays in history; reloading adds no rows."""
    broken = config_file(tmp_path, "broken.toml", **{'real = "BARC01"': 'real = "NOBANK1"'})
    first = locations(tmp_path, sample_sandbox.api_url, broken)
    # Amazon's inbox: the sample vendor's files (two vendor codes, planted anomalies) and the public samples.
    shutil.copytree(sample_sandbox.sample / "inbox", first.inbox)
    for sample in AMAZON_SAMPLES.glob("*.edi"):
        shutil.copy(sample, first.inbox / sample.name)
    summary = full_pass(first, load_business_config(broken), "sandbox", trigger="manual")
    warehouse = first.warehouse

    counts = raw_counts(warehouse)
    for table in TABLES:
        assert counts.get(table.name, 0) > 0, f"raw_sage200.{table.name} has no rows"
    assert counts["sop_orders__lines"] == sample_sandbox.manifest.counts["sales_order_lines"]
    assert counts["customers"] == sample_sandbox.manifest.counts["customers"]
    staging = {
        name
        for (name,) in query(
            warehouse, "select table_name from information_schema.tables where table_schema = 'staging'"
        )
    }
    assert {"stg_sage200__customers", "stg_sage200__sales_transactions", "stg_sage200__sales_order_lines"} <= staging
    columns = dict(
        query(
            warehouse,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'exceptions'",
        )
    )
    assert columns == EXCEPTION_COLUMNS
    [(exception_id, status, reference, message)] = query(
        warehouse,
        "select exception_id, status, document_reference, message from marts.exceptions "
        "where kind = 'config_bank_missing'",
    )
    assert (status, reference) == ("open", "banks.real")
    assert "NOBANK1" in message
    open_exceptions = query(warehouse, "select kind, document_reference from marts.exceptions where status = 'open'")
    planted = {(anomaly.kind, anomaly.document_reference) for anomaly in sample_sandbox.manifest.anomalies}
    assert {kind for kind, _ in planted} >= {"inbound_file_quarantined", "po_line_unknown_product"}
    # The public samples' POs arrive outside any vendor code's folder: nobody can order them (L8266355 is
    # a test interchange, ISA15 T, so it needs no order at all).
    public_pos = {("po_blocked", po) for po in ("1AA1TEST", "1PCPDX1U")}
    assert set(open_exceptions) == planted | public_pos | {
        ("config_bank_missing", "banks.real"),
        ("inbound_file_quarantined", "amzdf810_stedi_starterkit_spec.edi"),
    }, "exactly the planted anomalies, the public samples' known defect and POs, and the broken configuration"
    # The Amazon inbox: every sample registered; their POs in staging whatever the syntax; a 997 or CONTRL
    # for every interchange in the outbox audit; files filed away.
    outcomes = dict(
        query(warehouse, "select file_name, outcome from raw_amazon.inbound_files where file_name like 'amz%'")
    )
    assert outcomes == {
        "amz850_predi_1PCPDX1U.edi": "loaded",
        "amz850_predi_guide_L8266355.edi": "loaded",
        "amzeu_orders_d96a_vscode_edi_support.edi": "loaded",
        "amzdf810_stedi_starterkit_spec.edi": "quarantined",
    }
    public = query(
        warehouse,
        "select po_number, source_format from staging.stg_amazon__purchase_orders where source_file like 'amz%'",
    )
    assert sorted(public) == [("1AA1TEST", "EDIFACT"), ("1PCPDX1U", "X12"), ("L8266355", "X12")]
    sage_orders = {
        po
        for (po,) in query(
            warehouse, "select customer_document_no from raw_sage200.sop_orders where customer__reference = 'AMA001'"
        )
    }
    amazon_orders = {po for (po,) in query(warehouse, "select po_number from staging.stg_amazon__purchase_orders")}
    assert sage_orders and sage_orders <= amazon_orders, "every Amazon order in Sage arrived as an Amazon PO"
    interchanges = query(
        warehouse,
        "select count(*) from raw_amazon.inbound_files where format in ('X12', 'EDIFACT') and sets_total > 0",
    )[0][0]
    acknowledged = query(
        warehouse,
        "select count(distinct related_inbound) from audit.outbound_documents where document_type in ('997', 'CONTRL')",
    )[0][0]
    assert acknowledged == interchanges, "a 997 or CONTRL for every X12 and EDIFACT interchange read"
    waiting = [path for path in first.inbox.rglob("*") if path.is_file() and path.relative_to(first.inbox).parts[0]
               not in ("processed", "quarantine")]  # fmt: skip
    assert waiting == [], "every file was filed away"
    raw_amazon_before = amazon_counts(warehouse)

    jobs = query(warehouse, "select job, status from audit.runs order by started_at")
    assert jobs == [
        ("run", "succeeded"),
        ("dashboard_actions", "succeeded"),  # first, so the models see what people did
        ("configuration_load", "succeeded"),
        ("amazon_ingest", "succeeded"),
        ("sage_load", "succeeded"),
        ("dbt_build", "succeeded"),
        ("order_batch", "succeeded"),
        ("shipment_batch", "succeeded"),
        ("invoice_batch", "succeeded"),
        ("dashboard_actions", "succeeded"),  # again: approvals given since the pass began count in the posting
        ("remittance_posting", "succeeded"),
        ("dbt_build_orders", "succeeded"),
    ]
    [(rows_json,)] = query(warehouse, "select rows_per_table from audit.runs where job = 'run'")
    assert '"raw_sage200.customers": 4' in rows_json
    assert summary.snapshot == snapshot_path(warehouse)
    assert query(summary.snapshot, "select count(*) from marts.exceptions") == [(len(open_exceptions),)]

    reader = subprocess.Popen(
        [sys.executable, "-c", HOLD_SNAPSHOT, str(summary.snapshot)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout.readline().strip() == "open"
    fixed = locations(tmp_path, sample_sandbox.api_url, EXAMPLE_CONFIG)
    full_pass(fixed, load_business_config(EXAMPLE_CONFIG), "sandbox", trigger="manual")
    out, _ = reader.communicate("done\n", timeout=60)
    assert reader.returncode == 0
    assert out.split() == ["4", "4"], "the reader kept reading the snapshot it had open"

    # Pass 1 ordered the new POs in Sage: pass 2 loads exactly those orders and their lines, nothing else.
    [(orders_created, order_lines_created)] = query(
        warehouse,
        "select count(distinct decisions.po_number), count(*) from audit.purchase_order_decision_lines as lines "
        "join audit.purchase_order_decisions as decisions using (decision_id) "
        "where lines.status <> 'Rejected' and lines.quantity > 0",
    )
    assert orders_created == sample_sandbox.manifest.counts["amazon_purchase_orders_to_order_in_sage"]
    counts |= {
        "sop_orders": counts["sop_orders"] + orders_created,
        "sop_orders__lines": counts["sop_orders__lines"] + order_lines_created,
    }
    assert raw_counts(warehouse) == counts, "loading the same Sage data twice must add nothing"
    assert amazon_counts(warehouse) == raw_amazon_before, "ingesting the same inbox again must add nothing"
    [(status, resolved_at)] = query(
        warehouse, f"select status, resolved_at from marts.exceptions where exception_id = '{exception_id}'"
    )
    assert status == "resolved" and resolved_at is not None
    assert set(query(snapshot_path(warehouse), "select kind, document_reference, status from marts.exceptions")) == {
        (kind, reference, "resolved" if kind.startswith("config_") else "open") for kind, reference in open_exceptions
    }
    assert query(warehouse, "select count(*) from audit.runs where job = 'run'") == [(2,)]

    for statement in documented_queries():
        query(snapshot_path(warehouse), statement)  # the handbook's first queries run as written

    # Pass 3, made by a month-end close: Sage fails. The failure is recorded, dbt still builds on what the
    # warehouse holds, and the snapshot is republished so people see it; one failure alone is not yet an
    # exception. The close that ran the pass is blocked, and says why.
    with BackOffice(sample_sandbox.root) as office:
        office.post("faults", {"fail": [{"status": 500, "count": 1000, "path_prefix": "/customers"}]})
    period = sample_sandbox.manifest.as_of.strftime("%Y-%m")
    closing = CliRunner().invoke(
        main,
        [*cli_locations(fixed), "close", "--period", period, "--by", "Priya Shah", "--note", "March interim"],
    )
    assert closing.exit_code == 1, closing.output
    assert f"the close of {period} is blocked" in closing.output
    [(close_id, version, status, closed_by, manifest)] = query(
        warehouse, "select close_id, version, status, closed_by, manifest_sha256 from audit.month_end_runs"
    )
    assert (version, status, closed_by, manifest) == (None, "blocked", "Priya Shah", None)
    failed = query(warehouse, "select check_name from audit.month_end_checks where not passed and close_id = ?",
                   [close_id])  # fmt: skip
    assert sorted(failed) == [("customer_balance_agrees",), ("flow_succeeded",), ("sage_read_after_flow",)]
    assert not (fixed.warehouse.parent / "close").exists(), "a blocked close writes no pack"
    latest = dict(query(warehouse, "select job, arg_max(status, started_at) from audit.runs group by job"))
    assert latest == {
        "month_end_close": "succeeded",  # it did its job: the attempt is recorded as blocked
        "run": "failed",
        "dashboard_actions": "succeeded",
        "configuration_load": "succeeded",
        "amazon_ingest": "succeeded",
        "sage_load": "failed",
        "dbt_build": "succeeded",
        "order_batch": "succeeded",  # pass 2's: no orders are placed on data Sage could not refresh
        "shipment_batch": "succeeded",
        "invoice_batch": "succeeded",
        "remittance_posting": "succeeded",
        "dbt_build_orders": "succeeded",
    }
    [(error,)] = query(warehouse, "select arg_max(error, started_at) from audit.runs where job = 'sage_load'")
    assert "500" in error
    assert raw_counts(warehouse) == counts
    assert set(query(snapshot_path(warehouse), "select kind, document_reference, status from marts.exceptions")) == {
        (kind, reference, "resolved" if kind.startswith("config_") else "open") for kind, reference in open_exceptions
    }
