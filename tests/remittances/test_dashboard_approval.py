"""A payment approved in the dashboard: the person's approval of the plan they were shown reaches the same audit
as `avc2sage approve` on the next run, and only while that plan is still the payment's plan."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from pipelines.warehouse.actions import ActionStore, actions_path, load_actions
from tests.remittances.conftest import REAL, RemittancePlan

D = Decimal
SHOWN_AT = datetime(2026, 3, 15, 10, 30, tzinfo=UTC)


def small_payment(sandbox: Any, number: str) -> RemittancePlan:
    invoice = sandbox.post_invoice(f"INV-{number[-2:]}", D("10.00"), D("2.00"))
    plan = RemittancePlan(number)
    plan.line(1, f"INV-{number[-2:]}", "invoice_payment", "12.00")
    plan.receipt("12.00")
    plan.allocation([(1, invoice["id"], "12.00")], [("RC", "12.00")])
    plan.transfer("12.00")
    return plan


def store_for(warehouse: Path) -> ActionStore:
    return ActionStore(actions_path(warehouse), clock=lambda: SHOWN_AT)


def test_an_approval_given_in_the_dashboard_is_applied_by_the_next_run_and_posts(
    sandbox: Any, warehouse: Any, post: Any
) -> None:
    plan = warehouse.add(small_payment(sandbox, "AMZPAYDB01"), needs_approval=True)
    store_for(warehouse.path).approve_payment(
        "AMZPAYDB01", plan.sha256, by="Priya Shah", identity_source="login", note="matches the bank statement"
    )
    assert post(sandbox.client).awaiting_approval, (
        "the store is not the audit trail: nothing posts before a run loads it"
    )

    loaded = load_actions(warehouse.path, run_id="run-2")

    assert loaded.approvals == {"approved": ["AMZPAYDB01"]}
    assert warehouse.query(
        "select plan_sha256, approved_by, approved_at, channel, note, run_id from audit.remittance_approvals"
    ) == [(plan.sha256, "Priya Shah", SHOWN_AT, "dashboard", "matches the bank statement", "run-2")]
    assert post(sandbox.client).posted == ["AMZPAYDB01"]
    assert sandbox.bank_balances()[REAL] == D("12.00")


def test_an_approval_of_a_plan_that_changed_since_is_not_applied(sandbox: Any, warehouse: Any, post: Any) -> None:
    plan = warehouse.add(small_payment(sandbox, "AMZPAYDB02"), needs_approval=True)
    store_for(warehouse.path).approve_payment("AMZPAYDB02", plan.sha256, by="Priya Shah", identity_source="name")
    with duckdb.connect(str(warehouse.path)) as con:
        con.execute("update marts.remittance_payments set plan_sha256 = 'the plan after a new remittance version'")

    loaded = load_actions(warehouse.path, run_id="run-2")

    assert loaded.approvals == {"plan_changed": ["AMZPAYDB02"]}
    assert warehouse.query("select count(*) from audit.remittance_approvals") == [(0,)]
    [(outcome, message)] = warehouse.query("select outcome, message from audit.dashboard_approvals")
    assert outcome == "plan_changed" and "approve it again" in message
    assert list(post(sandbox.client).awaiting_approval) == ["AMZPAYDB02"]


def test_each_dashboard_approval_is_judged_once(sandbox: Any, warehouse: Any) -> None:
    plan = warehouse.add(small_payment(sandbox, "AMZPAYDB03"), needs_approval=True)
    store = store_for(warehouse.path)
    store.approve_payment("AMZPAYDB03", plan.sha256, by="Priya Shah", identity_source="name")
    store.approve_payment("AMZPAYDB03", plan.sha256, by="Sam Jones", identity_source="name")  # a second click

    first = load_actions(warehouse.path, run_id="run-2")
    again = load_actions(warehouse.path, run_id="run-3")

    assert first.approvals == {"approved": ["AMZPAYDB03"], "refused": ["AMZPAYDB03"]}
    assert again.approvals == {}
    assert warehouse.query("select approved_by from audit.remittance_approvals") == [("Priya Shah",)]
    judged = warehouse.query("select approved_by, outcome, message from audit.dashboard_approvals order by taken_at")
    assert [row[:2] for row in judged] == [("Priya Shah", "approved"), ("Sam Jones", "refused")]
    assert "already approved by Priya Shah" in judged[1][2]
