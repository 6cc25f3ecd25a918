"""Posting a payment's plan to Sage: the ledger afterwards, read back through the sandbox's API, to the penny.

Real HTTP against the sandbox serving the seeded company, a real DuckDB warehouse holding the marts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pipelines.remittances.plan import second_reference
from tests.remittances.conftest import (
    CLEARING,
    FULL_PAYMENT_DOCUMENTS,
    REAL,
    RemittancePlan,
    full_payment,
    ledger,
    post_invoices,
)

D = Decimal
SEED = {"1100": D("171.00"), "2200": D("-28.50"), "4000": D("-142.50")}  # the seeded invoice


def sent_statuses(warehouse: Any) -> list[tuple[str, str]]:
    return warehouse.query("select posting_key, status from audit.sage_postings order by sequence_number")


def test_a_full_payment_leaves_the_ledger_exactly_right(sandbox: Any, warehouse: Any, post: Any) -> None:
    invoices = post_invoices(sandbox)
    plan = warehouse.add(full_payment(invoices))

    summary = post(sandbox.client)

    assert summary.posted == [plan.payment_number], summary.lines()
    assert summary.documents == {"posted": len(FULL_PAYMENT_DOCUMENTS)}
    assert sandbox.posted(invoices.a["id"])["document_outstanding_value"] == D("0.00")
    assert sandbox.posted(invoices.b["id"])["document_outstanding_value"] == D("0.00")
    # The seeded invoice is untouched; INV-A and INV-B are settled by the receipt, the credit note and discount.
    assert sandbox.customer_balance() == D("171.00")
    assert sandbox.bank_balances() == {REAL: D("239.00"), CLEARING: D("0.00")}
    balances = {code: value for code, value in sandbox.nominal_balances().items() if value}
    assert balances == {
        "1100": D("171.00"),  # debtors: only the seeded invoice is still owed
        "1200": D("239.00"),  # the real bank: up by the net paid
        "2200": D("-82.50"),  # output VAT: 28.50 + 20.00 + 40.00 − 6.00 (CN3) − 2.00 (DS2) + 2.00 (BR)
        "2201": D("10.00"),  # input VAT on the co-op with Amazon's VAT invoice
        "4000": D("-432.50"),  # sales 142.50 + 100.00 + 200.00 less the 10.00 terms discount
        "4050": D("20.00"),  # shortage 30.00 less the 10.00 claim reversal
        "6100": D("50.00"),  # co-op
        "6300": D("25.00"),  # chargeback, outside the scope of VAT
    }
    sandbox.assert_ledger_sound()
    # Each document carries Amazon's reference and ours.
    credit_note = sandbox.one("sales_posted_transactions", f"second_reference eq '{plan.payment_number}/CN3'")
    assert (credit_note["reference"], D(credit_note["document_gross_value"])) == ("INV-ASC", D("-36.00"))
    receipt = sandbox.one("sales_posted_transactions", f"second_reference eq '{plan.payment_number}/RC'")
    assert (receipt["reference"], receipt["document_outstanding_value"]) == (plan.payment_number, D("0.00"))
    assert summary.clearing is not None and summary.clearing.agrees
    assert summary.clearing.payments[0].sage_net == D("0.00")


def test_a_second_run_posts_nothing(sandbox: Any, warehouse: Any, post: Any) -> None:
    warehouse.add(full_payment(post_invoices(sandbox)))
    post(sandbox.client)
    before, postings = ledger(sandbox), sent_statuses(warehouse)

    again = post(sandbox.client)

    assert (again.posted, again.already_posted, sum(again.documents.values())) == ([], 1, 0)
    assert ledger(sandbox) == before
    assert sent_statuses(warehouse) == postings  # not even a row added to the audit trail
    assert warehouse.query("select count(*) from audit.remittance_approvals") == [(1,)]
    assert warehouse.query("select count(*) from audit.clearing_bank_checks where difference = 0") == [(2,)]


def test_a_negative_net_is_transferred_back_into_the_clearing_bank(sandbox: Any, warehouse: Any, post: Any) -> None:
    invoice = sandbox.post_invoice("INV-C", D("50.00"), D("10.00"))
    plan = RemittancePlan("AMZPAYNEG1")
    plan.line(1, "INV-C", "invoice_payment", "60.00")
    plan.line(2, "99VCBSINV", "chargeback", "-100.00")
    plan.receipt("60.00")
    plan.allocation([(1, invoice["id"], "60.00")], [("RC", "60.00")])
    plan.bank_entry("bank_payment", [(2, "6300", "100.00", "0.00", sandbox.ids.tax_codes[9])])
    plan.transfer("-40.00")
    warehouse.add(plan)

    summary = post(sandbox.client)

    assert summary.posted == ["AMZPAYNEG1"], summary.lines()
    assert sandbox.bank_balances() == {REAL: D("-40.00"), CLEARING: D("0.00")}
    transfer = sandbox.one("bank_posted_transactions", f"second_reference eq 'AMZPAYNEG1/TR' and bank_id eq "
                                                       f"{sandbox.ids.barc01}")  # fmt: skip
    assert D(transfer["cheque_value"]) == D("-40.00")
    assert sandbox.posted(invoice["id"])["document_outstanding_value"] == D("0.00")
    assert sandbox.nominal_balances()["6300"] == D("100.00")
    sandbox.assert_ledger_sound()


def test_long_payment_numbers_get_a_hashed_second_reference(sandbox: Any, warehouse: Any, post: Any) -> None:
    invoice = sandbox.post_invoice("INV-D", D("10.00"), D("2.00"))
    plan = RemittancePlan("AMAZON-PAYMENT-2026-0000042")
    plan.line(1, "INV-D", "invoice_payment", "12.00")
    plan.receipt("12.00")
    plan.allocation([(1, invoice["id"], "12.00")], [("RC", "12.00")])
    plan.transfer("12.00")
    warehouse.add(plan)

    assert post(sandbox.client).posted == [plan.payment_number]

    reference = second_reference(plan.payment_number, "RC")
    assert len(reference) == 20 and reference.endswith("/RC")
    receipt = sandbox.one("sales_posted_transactions", f"second_reference eq '{reference}'")
    assert receipt["reference"] == plan.payment_number[:20]
    assert post(sandbox.client).already_posted == 1


def test_a_refused_step_is_recorded_and_the_rest_still_posts(sandbox: Any, warehouse: Any, post: Any) -> None:
    """BP names a nominal Sage does not have: Sage refuses it, everything else posts, the clearing bank check
    expects exactly what moved; once the account exists the next run posts BP and the payment is complete."""
    invoices = post_invoices(sandbox)
    plan = full_payment(invoices)
    plan.rows = [row | {"account_code": "7777"} if row["account_code"] == "6300" else row for row in plan.rows]
    warehouse.add(plan)

    first = post(sandbox.client)

    [left] = first.incomplete[plan.payment_number]
    assert left.startswith("BP failed: ") and "7777" in left
    assert sandbox.bank_balances() == {REAL: D("239.00"), CLEARING: D("85.00")}  # 312 + 12 − 239: BP missing
    assert first.clearing is not None and first.clearing.difference == D("0.00")
    assert first.clearing.expected_balance == D("85.00")

    category = sandbox.client.get("nominal_codes/" + str(sandbox.ids.nominal_codes["6300"]))["report_category_id"]
    sandbox.client.post("nominal_codes", {"reference": "7777", "name": "Chargebacks (new)", "report_category_id":
                                          category})  # fmt: skip
    second = post(sandbox.client)

    assert second.posted == [plan.payment_number] and second.documents == {"posted": 1}
    assert sandbox.bank_balances() == {REAL: D("239.00"), CLEARING: D("0.00")}
    assert second.clearing is not None and second.clearing.agrees
    statuses = [status for key, status in sent_statuses(warehouse) if key.endswith(":BP")]
    assert statuses == ["attempting", "failed", "attempting", "posted"]


def test_the_allocation_waits_for_a_credit_note_sage_refused(sandbox: Any, warehouse: Any, post: Any) -> None:
    invoices = post_invoices(sandbox)
    plan = full_payment(invoices)
    plan.rows = [
        row | {"account_code": "4999"} if row["document_code"] == "CN3" and row["account_type"] == "nominal" else row
        for row in plan.rows
    ]
    warehouse.add(plan)

    summary = post(sandbox.client)

    left = summary.incomplete[plan.payment_number]
    assert left[0].startswith("CN3 failed: ") and left[1] == "AL waits for CN3"
    assert sandbox.posted(invoices.a["id"])["document_outstanding_value"] == D("120.00")  # nothing allocated
    assert sandbox.bank_balances()[CLEARING] == D("0.00")  # every bank document posted
    keys = {key.rsplit(":", 1)[1] for key, _ in sent_statuses(warehouse)}
    assert keys == set(FULL_PAYMENT_DOCUMENTS) - {"AL"}
