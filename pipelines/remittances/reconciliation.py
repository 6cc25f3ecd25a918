"""The clearing bank read back from Sage and compared with what avc2sage posted through it.

The clearing bank is dedicated to Amazon money in flight (the settings refuse to share it with another bank
role), and each payment's plan nets to 0.00 on it. So, live from Sage:

- per payment whose posting started, the net of the clearing bank's transactions carrying that payment's
  second references must be what the payment has moved so far: 0.00 once every document is posted;
- the bank's balance must be the sum of those nets — 0.00 when every payment is complete.

Each check is recorded (`audit.clearing_bank_checks` and `..._payments`); dbt raises
`clearing_bank_difference` from the latest one when its difference is not 0.00.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import duckdb

from pipelines.remittances.plan import BANK, ZERO, Payment
from pipelines.sage200.client import SageClient, odata_literal
from pipelines.sage200.postings import Posting


class ClearingBankMissing(RuntimeError):
    """Sage has no bank with the configured clearing bank code."""


@dataclass(frozen=True)
class PaymentCheck:
    payment_number: str
    sage_net: Decimal  # the clearing bank's transactions carrying the payment's references, in Sage
    expected_net: Decimal  # what the payment's posted documents move on it, per the plan


@dataclass(frozen=True)
class ClearingBankCheck:
    check_id: str
    bank_code: str
    sage_balance: Decimal
    expected_balance: Decimal
    difference: Decimal
    payments: tuple[PaymentCheck, ...]
    detail: str | None

    @property
    def agrees(self) -> bool:
        return self.difference == ZERO and all(check.sage_net == check.expected_net for check in self.payments)

    def lines(self) -> list[str]:
        lines = [
            f"clearing bank {self.bank_code}: Sage balance {self.sage_balance:,.2f}, expected"
            f" {self.expected_balance:,.2f}, difference {self.difference:,.2f}"
            f" ({len(self.payments)} payment(s) checked)"
        ]
        if self.detail:
            lines += self.detail.split("\n")
        return lines


def check_clearing_bank(
    con: duckdb.DuckDBPyConnection,
    client: SageClient,
    clearing_bank: str,
    payments: Sequence[Payment],
    postings: dict[str, Posting],
    *,
    run_id: str | None,
    clock: Callable[[], datetime],
) -> ClearingBankCheck:
    """Compare the clearing bank in Sage with the payments whose posting started (`payments`, with the latest
    `postings` of their documents by key), and record the check."""
    found = client.get("banks", {"$filter": f"code eq {odata_literal(clearing_bank)}", "$top": 1})
    if not found:
        raise ClearingBankMissing(f"Sage has no bank {clearing_bank} (banks.clearing)")
    bank = found[0]
    in_sage: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for transaction in client.get_all(f"banks/{bank['id']}/bank_posted_transactions"):
        in_sage[transaction.get("second_reference") or ""] += Decimal(transaction["cheque_value"])
    checks = []
    ours: set[str] = set()
    for payment in payments:
        sage_net = expected_net = ZERO
        for document in payment.documents():
            if not any(row.account_code == clearing_bank for row in document.rows_of(BANK)):
                continue
            reference = payment.second_reference(document.code)
            ours.add(reference)
            sage_net += in_sage.get(reference, ZERO)
            posting = postings.get(payment.posting_key(document.code))
            if posting is not None and posting.is_settled:
                expected_net += document.clearing_movement(clearing_bank)
        checks.append(PaymentCheck(payment.payment_number, sage_net, expected_net))
    sage_balance = Decimal(bank["balance"])
    expected_balance = sum((check.expected_net for check in checks), ZERO)
    detail = _detail(checks, {reference: value for reference, value in in_sage.items() if reference not in ours})
    check = ClearingBankCheck(
        check_id=str(uuid.uuid4()),
        bank_code=clearing_bank,
        sage_balance=sage_balance,
        expected_balance=expected_balance,
        difference=sage_balance - expected_balance,
        payments=tuple(checks),
        detail=detail,
    )
    _record(con, check, run_id, clock)
    return check


def _detail(checks: Sequence[PaymentCheck], others: dict[str, Decimal]) -> str | None:
    """Where the differences are, in words: per payment, and money on the bank that is none of ours."""
    lines = [
        f"payment {check.payment_number}: Sage {check.sage_net:,.2f} on the clearing bank, expected"
        f" {check.expected_net:,.2f}"
        for check in checks
        if check.sage_net != check.expected_net
    ]
    total = sum(others.values(), ZERO)
    if total != ZERO:
        references = ", ".join(sorted(reference or "(none)" for reference in others))
        lines.append(f"{total:,.2f} on the clearing bank not posted by avc2sage (second references: {references})")
    return "\n".join(lines) or None


def _record(
    con: duckdb.DuckDBPyConnection, check: ClearingBankCheck, run_id: str | None, clock: Callable[[], datetime]
) -> None:
    con.execute("begin transaction")
    try:
        con.execute(
            "insert into audit.clearing_bank_checks (check_id, bank_code, sage_balance, expected_balance, difference,"
            " payments_checked, detail, checked_at, run_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [check.check_id, check.bank_code, check.sage_balance, check.expected_balance, check.difference,
             len(check.payments), check.detail, clock(), run_id],
        )  # fmt: skip
        if check.payments:
            con.executemany(
                "insert into audit.clearing_bank_check_payments (check_id, payment_number, sage_net, expected_net)"
                " values (?, ?, ?, ?)",
                [[check.check_id, p.payment_number, p.sage_net, p.expected_net] for p in check.payments],
            )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
