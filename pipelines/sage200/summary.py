"""What a finance user recognises in a Sage 200 company, read back through the API.

Customers and their balances, open invoices, bank balances and the trial balance totals: the figures
someone would check in Sage's own screens to see the sample (or a real tenant) is what they expect.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pipelines.sage200.client import SageClient
from pipelines.sage200.sandbox.conventions import INVOICE

ZERO = Decimal(0)


@dataclass(frozen=True)
class CustomerBalance:
    reference: str
    name: str
    balance: Decimal
    open_invoices: int
    outstanding: Decimal


@dataclass(frozen=True)
class BankBalance:
    code: str
    description: str
    nominal: str
    balance: Decimal


@dataclass(frozen=True)
class LedgerSummary:
    customers: tuple[CustomerBalance, ...]
    banks: tuple[BankBalance, ...]
    nominal_accounts: int
    total_debit: Decimal
    total_credit: Decimal

    @property
    def trial_balance_agrees(self) -> bool:
        return self.total_debit == self.total_credit


def as_money(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def read_summary(client: SageClient) -> LedgerSummary:
    """Read the summary through Sage's API (nothing sandbox-specific)."""
    open_invoices: dict[int, list[Decimal]] = {}
    for posted in client.get_all(
        "sales_posted_transactions",
        {
            "$filter": f"trader_transaction_type eq '{INVOICE}' and document_outstanding_value gt 0",
            "$select": "id,customer_id,document_outstanding_value",
        },
    ):
        open_invoices.setdefault(posted["customer_id"], []).append(as_money(posted["document_outstanding_value"]))
    customers = tuple(
        CustomerBalance(
            reference=customer["reference"],
            name=customer["name"],
            balance=as_money(customer.get("balance", 0)),
            open_invoices=len(open_invoices.get(customer["id"], [])),
            outstanding=sum(open_invoices.get(customer["id"], []), ZERO),
        )
        for customer in client.get_all("customers", {"$select": "id,reference,name,balance"})
    )
    banks = tuple(
        BankBalance(
            code=bank["code"],
            description=bank.get("description", ""),
            nominal=bank.get("bank_account_nominal_reference", ""),
            balance=as_money(bank.get("balance", 0)),
        )
        for bank in client.get_all("banks")
    )
    nominal_codes = list(
        client.get_all("nominal_codes", {"$select": "id,debit_balance_year_to_date,credit_balance_year_to_date"})
    )
    return LedgerSummary(
        customers=customers,
        banks=banks,
        nominal_accounts=len(nominal_codes),
        total_debit=sum((as_money(code["debit_balance_year_to_date"]) for code in nominal_codes), ZERO),
        total_credit=sum((as_money(code["credit_balance_year_to_date"]) for code in nominal_codes), ZERO),
    )


def format_summary(summary: LedgerSummary) -> str:
    """Plain-text tables for the terminal."""
    lines = [
        "Customers (sales ledger)",
        f"  {'account':<9}{'name':<34}{'balance':>14}{'open inv.':>11}{'outstanding':>14}",
    ]
    lines += [
        f"  {c.reference:<9}{c.name[:33]:<34}{c.balance:>14,}{c.open_invoices:>11}{c.outstanding:>14,}"
        for c in summary.customers
    ]
    lines += ["", "Banks (cash book)", f"  {'code':<9}{'description':<34}{'nominal':<9}{'balance':>14}"]
    lines += [f"  {b.code:<9}{b.description[:33]:<34}{b.nominal:<9}{b.balance:>14,}" for b in summary.banks]
    verdict = "balances" if summary.trial_balance_agrees else "DOES NOT BALANCE"
    lines += [
        "",
        f"Trial balance over {summary.nominal_accounts} nominal accounts: "
        f"debits {summary.total_debit:,} / credits {summary.total_credit:,} — {verdict}",
    ]
    return "\n".join(lines)
