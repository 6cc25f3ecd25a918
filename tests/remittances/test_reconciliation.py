"""The clearing bank read back from Sage: it holds only what payments still in flight have moved."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.remittances.conftest import CLEARING, full_payment, post_invoices

D = Decimal


def test_money_on_the_clearing_bank_that_is_not_ours_is_a_difference(sandbox: Any, warehouse: Any, post: Any) -> None:
    plan = warehouse.add(full_payment(post_invoices(sandbox)))
    post(sandbox.client)
    # Someone pays a fee out of the clearing bank by hand.
    sandbox.client.post(
        "bank_payment",
        {
            "bank_id": sandbox.ids.amzclr,
            "transaction_date": "2026-03-13T00:00:00Z",
            "reference": "FEE",
            "nominal_analysis_items": [
                {"code": "6300", "goods_value": D("5.00"), "tax_code_id": sandbox.ids.tax_codes[9]}
            ],
        },
    )

    summary = post(sandbox.client)

    check = summary.clearing
    assert check is not None and not check.agrees
    assert (check.sage_balance, check.expected_balance, check.difference) == (D("-5.00"), D("0.00"), D("-5.00"))
    assert check.detail == "-5.00 on the clearing bank not posted by avc2sage (second references: (none))"
    rows = warehouse.query(
        "select bank_code, sage_balance, expected_balance, difference, payments_checked from audit.clearing_bank_checks"
        " order by sequence_number"
    )
    assert rows == [(CLEARING, D("0.00"), D("0.00"), D("0.00"), 1), (CLEARING, D("-5.00"), D("0.00"), D("-5.00"), 1)]
    assert warehouse.query(
        "select payment_number, sage_net, expected_net from audit.clearing_bank_check_payments where check_id = ?",
        [check.check_id],
    ) == [(plan.payment_number, D("0.00"), D("0.00"))]
    assert summary.lines()[-2:] == [
        "clearing bank AMZCLR: Sage balance -5.00, expected 0.00, difference -5.00 (1 payment(s) checked)",
        "-5.00 on the clearing bank not posted by avc2sage (second references: (none))",
    ]


def test_a_payment_whose_clearing_transactions_do_not_net_to_zero_is_named(
    sandbox: Any, warehouse: Any, post: Any
) -> None:
    """A transaction carrying one of our second references but not posted by us: Sage's net for the payment is off."""
    plan = warehouse.add(full_payment(post_invoices(sandbox)))
    post(sandbox.client)
    sandbox.client.post(
        "bank_receipt",
        {
            "bank_id": sandbox.ids.amzclr,
            "transaction_date": "2026-03-13T00:00:00Z",
            "reference": "ADJ",
            "second_reference": f"{plan.payment_number}/BR",
            "nominal_analysis_items": [
                {"code": "9999", "goods_value": D("1.50"), "tax_code_id": sandbox.ids.tax_codes[9]}
            ],
        },
    )

    check = post(sandbox.client).clearing

    assert check is not None and check.difference == D("1.50")
    assert check.detail == f"payment {plan.payment_number}: Sage 1.50 on the clearing bank, expected 0.00"
