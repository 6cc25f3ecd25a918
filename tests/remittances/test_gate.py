"""Which payments may post: refusals (closed period, figures), approval by a person or by avc2sage, and the plan
frozen when posting starts."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb
import pytest

from pipelines.remittances.approval import ApprovalRefused, approve
from pipelines.remittances.batch import planned_payments
from tests.remittances.conftest import CLEARING, NOW, REAL, RemittancePlan, full_payment, ledger, post_invoices

D = Decimal


def small_payment(sandbox: Any, number: str, reference: str = "INV-S", **options: Any) -> RemittancePlan:
    invoice = sandbox.post_invoice(reference, D("10.00"), D("2.00"))
    plan = RemittancePlan(number, **options)
    plan.line(1, reference, "invoice_payment", "12.00")
    plan.receipt("12.00")
    plan.allocation([(1, invoice["id"], "12.00")], [("RC", "12.00")])
    plan.transfer("12.00")
    return plan


def test_a_payment_in_a_closed_period_is_refused_and_posts_nothing(sandbox: Any, warehouse: Any, post: Any) -> None:
    sandbox.backoffice.post("periods/close", {"up_to": "2026-02-28"})
    plan = warehouse.add(small_payment(sandbox, "AMZPAYFEB1", payment_date=date(2026, 2, 20)))
    before = ledger(sandbox)

    summary = post(sandbox.client)
    again = post(sandbox.client)

    assert summary.refused == {"AMZPAYFEB1": "The date 2026-02-20 is in period 2, which is closed."}
    assert again.refused == summary.refused
    assert ledger(sandbox) == before
    assert warehouse.query("select payment_number, plan_sha256, reason, message from audit.remittance_refusals") == [
        ("AMZPAYFEB1", plan.sha256, "closed_period", "The date 2026-02-20 is in period 2, which is closed.")
    ]  # recorded once, however many runs refuse it
    assert warehouse.query("select count(*) from audit.sage_postings") == [(0,)]
    assert warehouse.query("select count(*) from audit.remittance_plans") == [(0,)]
    [planned] = planned_payments(warehouse.path, CLEARING)
    assert (planned.status, planned.why) == ("refused", "The date 2026-02-20 is in period 2, which is closed.")


def test_a_payment_the_marts_refuse_posts_nothing(sandbox: Any, warehouse: Any, post: Any) -> None:
    warehouse.add(
        small_payment(sandbox, "AMZPAYBAD1"), posting_status="refused", refusal_reason="figures_do_not_add_up"
    )

    summary = post(sandbox.client)

    assert list(summary.refused) == ["AMZPAYBAD1"]
    assert summary.refused["AMZPAYBAD1"].startswith("refused by the remittance marts (figures_do_not_add_up)")
    assert warehouse.query("select reason from audit.remittance_refusals") == [("figures_do_not_add_up",)]
    assert sandbox.bank_balances()[REAL] == D("0.00")


def test_a_plan_that_does_not_add_up_is_refused_before_any_posting(sandbox: Any, warehouse: Any, post: Any) -> None:
    plan = small_payment(sandbox, "AMZPAYODD1")
    plan.rows = [row | {"debit": D("12.01")} if row["document_code"] == "RC" and row["debit"] else row
                 for row in plan.rows]  # fmt: skip
    warehouse.add(plan)

    summary = post(sandbox.client)

    message = summary.refused["AMZPAYODD1"]
    assert "debits 36.01 do not equal credits 36.00" in message
    assert "the clearing bank AMZCLR nets to 0.01, not 0.00" in message
    assert "RC: debits 12.01 do not equal credits 12.00" in message
    assert warehouse.query("select reason from audit.remittance_refusals") == [("figures_do_not_add_up",)]
    assert warehouse.query("select count(*) from audit.sage_postings") == [(0,)]


def test_a_payment_needing_approval_waits_until_a_person_approves_it(sandbox: Any, warehouse: Any, post: Any) -> None:
    plan = warehouse.add(full_payment(post_invoices(sandbox)), needs_approval=True,
                         approval_reasons="posting value 1,146.00 above approval.posting_threshold")  # fmt: skip
    before = ledger(sandbox)
    [planned] = planned_payments(warehouse.path, CLEARING)
    assert (planned.status, planned.why) == (
        "awaiting_approval",
        "posting value 1,146.00 above approval.posting_threshold",
    )

    waiting = post(sandbox.client)

    assert waiting.awaiting_approval == {plan.payment_number: "posting value 1,146.00 above approval.posting_threshold"}
    assert ledger(sandbox) == before
    assert warehouse.query("select count(*) from audit.remittance_plans") == [(0,)]

    approval = approve(
        warehouse.path, plan.payment_number, "Jane Finance", note="checked against the bank", clock=lambda: NOW
    )
    assert (approval.plan_sha256, approval.channel) == (plan.sha256, "cli")
    [planned] = planned_payments(warehouse.path, CLEARING)
    assert (planned.status, planned.why) == ("approved", "by Jane Finance (cli)")

    posted = post(sandbox.client)

    assert posted.posted == [plan.payment_number]
    assert sandbox.bank_balances()[REAL] == D("239.00")
    assert warehouse.query("select approved_by, channel, note from audit.remittance_approvals") == [
        ("Jane Finance", "cli", "checked against the bank")
    ]
    [planned] = planned_payments(warehouse.path, CLEARING)
    assert (planned.status, planned.why) == ("posted", None)


def test_a_payment_needing_no_approval_is_approved_by_avc2sage(sandbox: Any, warehouse: Any, post: Any) -> None:
    plan = warehouse.add(small_payment(sandbox, "AMZPAYAUT1"))
    [planned] = planned_payments(warehouse.path, CLEARING)
    assert planned.status == "auto_approvable"

    assert post(sandbox.client).posted == ["AMZPAYAUT1"]

    assert warehouse.query("select plan_sha256, approved_by, channel from audit.remittance_approvals") == [
        (plan.sha256, "avc2sage", "auto")
    ]


def test_an_approval_is_of_one_plan(sandbox: Any, warehouse: Any, post: Any) -> None:
    """dbt's plan changes after the approval (a new version of the remittance): the payment waits again."""
    plan = warehouse.add(small_payment(sandbox, "AMZPAYCHG1"), needs_approval=True)
    approve(warehouse.path, "AMZPAYCHG1", "Jane Finance")
    with duckdb.connect(str(warehouse.path)) as con:
        con.execute("update marts.remittance_payments set plan_sha256 = 'another plan'")

    summary = post(sandbox.client)

    assert list(summary.awaiting_approval) == ["AMZPAYCHG1"]
    assert sandbox.bank_balances()[REAL] == D("0.00")
    assert plan.sha256 != "another plan"


def test_once_posting_started_the_frozen_plan_is_posted_whatever_the_marts_say(
    sandbox: Any, warehouse: Any, post: Any
) -> None:
    plan = warehouse.add(small_payment(sandbox, "AMZPAYFRZ1"))
    sandbox.backoffice.post("faults", {"fail": [{"status": 400, "count": 1, "method": "POST", "path_prefix":
                                                 "/bank_transfer"}]})  # fmt: skip
    first = post(sandbox.client)
    assert first.incomplete == {"AMZPAYFRZ1": ["TR failed: An error has occurred."]}
    frozen = warehouse.query("select * exclude (plan_sha256) from audit.remittance_plan_lines order by all")
    # The marts now plan a different transfer (and a new plan hash); the frozen plan still wins.
    with duckdb.connect(str(warehouse.path)) as con:
        con.execute("update marts.remittance_postings set debit = debit * 2, credit = credit * 2")
        con.execute("update marts.remittance_payments set plan_sha256 = 'changed', posting_status = 'refused'")

    second = post(sandbox.client)

    assert second.posted == ["AMZPAYFRZ1"]
    assert sandbox.bank_balances() == {REAL: D("12.00"), CLEARING: D("0.00")}
    assert warehouse.query("select payment_number, plan_sha256 from audit.remittance_plans") == [
        ("AMZPAYFRZ1", plan.sha256)
    ]
    assert warehouse.query("select * exclude (plan_sha256) from audit.remittance_plan_lines order by all") == frozen


@pytest.mark.parametrize(
    ("payment_number", "setup", "message"),
    [
        ("NOSUCHPAY", None, "no payment NOSUCHPAY in marts.remittance_payments"),
        ("AMZPAYREF1", "refused", "payment AMZPAYREF1 is refused and cannot be posted"),
        ("AMZPAYAUT2", "auto", "payment AMZPAYAUT2 needs no approval"),
        ("AMZPAYTWO1", "approved", "payment AMZPAYTWO1 is already approved by Jane Finance"),
        ("AMZPAYDON1", "posted", "payment AMZPAYDON1 is posted or being posted"),
    ],
)
def test_approve_says_why_it_cannot(
    sandbox: Any, warehouse: Any, post: Any, payment_number: str, setup: str | None, message: str
) -> None:
    if setup is not None:
        plan = small_payment(sandbox, payment_number)
        if setup == "refused":
            warehouse.add(plan, posting_status="refused", refusal_reason="closed_period")
        elif setup == "auto":
            warehouse.add(plan)
        else:
            warehouse.add(plan, needs_approval=True)
            approve(warehouse.path, payment_number, "Jane Finance")
            if setup == "posted":
                post(sandbox.client)
    with pytest.raises(ApprovalRefused, match=re.escape(message)):
        approve(warehouse.path, payment_number, "Joe Bloggs")


def test_approve_needs_a_name(warehouse: Any) -> None:
    with pytest.raises(ApprovalRefused, match="say who approves"):
        approve(warehouse.path, "AMZPAY0001", "  ")


def test_approve_on_a_warehouse_with_no_remittance_marts_says_to_run_first(tmp_path: Any) -> None:
    with pytest.raises(ApprovalRefused, match="run `avc2sage run`"):
        approve(tmp_path / "new.duckdb", "AMZPAY0001", "Jane Finance")
