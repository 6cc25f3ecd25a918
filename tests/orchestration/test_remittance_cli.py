"""`avc2sage post-remittances [--dry-run]` and `avc2sage approve`: a person sees the exact plan, approves it,
and the posting follows; against the sandbox, on a warehouse holding the remittance marts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from orchestration.cli import main
from pipelines import passes
from pipelines.settings import EXAMPLE_CONFIG
from pipelines.transform import DbtResult
from tests.remittances.conftest import RemittanceWarehouse, full_payment, post_invoices

REASON = "posting value 1,146.00 above approval.posting_threshold"


@pytest.fixture
def warehouse(sandbox: Any, tmp_path: Path) -> RemittanceWarehouse:
    warehouse = RemittanceWarehouse(tmp_path / "avc2sage.duckdb")
    warehouse.add(full_payment(post_invoices(sandbox)), needs_approval=True, approval_reasons=REASON)
    return warehouse


def avc2sage(sandbox: Any, warehouse: RemittanceWarehouse, *arguments: str) -> Result:
    options = ["--warehouse", str(warehouse.path), "--sage-url", sandbox.api, "--config", str(EXAMPLE_CONFIG)]
    return CliRunner().invoke(main, [*options, *arguments])


def test_the_dry_run_prints_the_exact_plan_and_posts_nothing(sandbox: Any, warehouse: RemittanceWarehouse) -> None:
    result = avc2sage(sandbox, warehouse, "post-remittances", "--dry-run")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"payment AMZPAY0001 (HAFIN, 2026-03-12, net 239.00 GBP): awaiting approval — {REASON}"
    assert lines[1].split() == ["step", "document", "account", "debit", "credit"]
    plan = [line.split() for line in lines[2:] if line.strip()][:-1]
    assert ["credit_note", "CN3", "customer", "AMA001", "0.00", "36.00"] in plan
    assert ["receipt", "RC", "bank", "AMZCLR", "312.00", "0.00"] in plan
    assert ["transfer", "TR", "bank", "BARC01", "239.00", "0.00"] in plan
    assert len(plan) == len(warehouse.query("select * from marts.remittance_postings"))
    assert lines[-1] == "1 payment(s): 1 awaiting approval. Dry run: nothing was posted."
    assert warehouse.query("select count(*) from audit.sage_postings") == [(0,)]
    assert sandbox.bank_balances() == {"AMZCLR": Decimal("0.00"), "BARC01": Decimal("0.00")}


def test_approve_then_post(sandbox: Any, warehouse: RemittanceWarehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    rebuilt = []
    # The marts here are written by hand, not by dbt: the rebuild after posting is only recorded.
    monkeypatch.setattr(
        passes, "run_dbt", lambda command, warehouse, **options: rebuilt.append(options["select"]) or DbtResult(
            command, 0, (), ""
        )
    )  # fmt: skip

    waiting = avc2sage(sandbox, warehouse, "post-remittances")
    approved = avc2sage(sandbox, warehouse, "approve", "AMZPAY0001", "--by", "Jane Finance", "--note", "bank ok")
    twice = avc2sage(sandbox, warehouse, "approve", "AMZPAY0001", "--by", "Joe Bloggs")
    unknown = avc2sage(sandbox, warehouse, "approve", "AMZPAY9999", "--by", "Joe Bloggs")
    posted = avc2sage(sandbox, warehouse, "post-remittances")

    assert waiting.exit_code == 0, waiting.output
    assert f"remittances: payment AMZPAY0001 awaiting approval: {REASON}" in waiting.output
    assert approved.exit_code == 0 and approved.output.startswith("Approved payment AMZPAY0001 (plan ")
    assert twice.exit_code == 1 and "already approved by Jane Finance" in twice.output
    assert unknown.exit_code == 1 and "no payment AMZPAY9999 in marts.remittance_payments" in unknown.output
    assert posted.exit_code == 0, posted.output
    assert "remittances: 1 payment(s) posted in full to Sage (7 document(s) posted); 0 posted before" in posted.output
    assert (
        "remittances: clearing bank AMZCLR: Sage balance 0.00, expected 0.00, difference 0.00 (1 payment(s) checked)"
        in posted.output
    )
    assert sandbox.bank_balances() == {"AMZCLR": Decimal("0.00"), "BARC01": Decimal("239.00")}
    assert rebuilt == ["source:audit+", "source:audit+"]
    jobs = warehouse.query("select job, status from audit.runs order by started_at")
    assert jobs == [("dashboard_actions", "succeeded"), ("remittance_posting", "succeeded"),
                    ("dbt_build_orders", "succeeded")] * 2  # fmt: skip
    assert warehouse.query("select approved_by, channel, note from audit.remittance_approvals") == [
        ("Jane Finance", "cli", "bank ok")
    ]


def test_the_dry_run_without_a_warehouse_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--warehouse", str(tmp_path / "none.duckdb"), "post-remittances", "--dry-run"])
    assert result.exit_code == 1
    assert "run `avc2sage run` first" in result.output
