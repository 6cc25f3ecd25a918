"""A warehouse holding the remittance marts as dbt writes them (the contract's columns), with plans written by
hand for invoices posted in the seeded Sage company; and the standard payment every posting test uses.

The standard payment (`full_payment`) has every kind of document: two invoice-payment lines (one with a terms
discount), a shortage claim, a co-op and a chargeback deduction, and a claim reversal.

    line 1  invoice A 120.00 paid                      → allocated 120.00
    line 2  invoice B 228.00 paid + 12.00 discount     → allocated 240.00, DS2 credit note 12.00 (10.00 + 2.00 VAT)
    line 3  shortage claim on A −36.00                 → CN3 credit note (30.00 on 4050 + 6.00 VAT)
    line 4  co-op −60.00, VAT invoice held            → BP: 50.00 on 6100 + 10.00 input VAT
    line 5  chargeback −25.00                          → BP: 25.00 on 6300, outside the scope of VAT
    line 6  claim reversal +12.00                      → BR: 10.00 on 4050 + 2.00 VAT
    net paid 239.00 = receipt 312.00 − bank payment 85.00 + bank receipt 12.00 → transfer 239.00 to BARC01
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from pipelines.remittances.batch import RemittanceSummary, run_remittance_batch
from pipelines.sage200.client import SageClient
from pipelines.sage200.sandbox.backoffice import BackOffice
from pipelines.sage200.sandbox.server import api_url, run_in_thread
from pipelines.settings import EXAMPLE_CONFIG, BusinessConfig, Locations, load_business_config
from pipelines.warehouse.audit import ensure_audit_schema
from tests.conftest import TOKEN, CheckedSageClient, SandboxCompany, copy_database, local_transport

D = Decimal
ZERO = D("0.00")
CUSTOMER = "AMA001"
CLEARING, REAL = "AMZCLR", "BARC01"
PAYMENT_DATE = date(2026, 3, 12)
NOW = datetime(2026, 3, 15, 9, 0, tzinfo=UTC)
STEP_SEQUENCE = {
    "credit_note": 1,
    "receipt": 2,
    "allocation": 3,
    "bank_payment": 4,
    "bank_receipt": 5,
    "transfer": 6,
}

MARTS_DDL = """
create schema if not exists marts;
create table marts.remittance_payments (
    payment_number varchar, vendor_code varchar, sage_customer_account varchar, payment_date date, currency varchar,
    invoices_gross decimal(18, 2), deductions_total decimal(18, 2), net_paid decimal(18, 2),
    matched_ratio decimal(9, 4), receipt_value decimal(18, 2), transfer_value decimal(18, 2),
    posting_value decimal(18, 2), exceptions_count integer, needs_approval boolean, approval_reasons varchar,
    plan_sha256 varchar, approved_by varchar, approved_at timestamptz, refusal_reason varchar, posting_status varchar
);
create table marts.remittance_postings (
    payment_number varchar, step_sequence integer, step varchar, document_code varchar, line_number integer,
    account_type varchar, account_code varchar, cost_centre varchar, department varchar, tax_code integer,
    sage_transaction_id bigint, applied_document_code varchar, debit decimal(18, 2), credit decimal(18, 2),
    narrative varchar
);
create table marts.remittance_lines (
    payment_number varchar, line_number integer, vendor_code varchar, payment_date date, invoice_number varchar,
    description varchar, po_number varchar, line_kind varchar, deduction_type varchar, amount decimal(18, 2),
    discount_amount decimal(18, 2), settlement_amount decimal(18, 2), matched_invoice_reference varchar,
    sage_transaction_id bigint, match_method varchar, match_reason varchar, match_status varchar,
    allocated_amount decimal(18, 2), on_account_amount decimal(18, 2), variance_amount decimal(18, 2),
    root_invoice_number varchar, nominal_code varchar, posting_method varchar, document_code varchar
);
"""


@dataclass
class RemittancePlan:
    """One payment's remittance lines and planned journal, written the way the marts hold them."""

    payment_number: str
    payment_date: date = PAYMENT_DATE
    vendor_code: str = "HAFIN"
    rows: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)

    def row(self, step: str, code: str, account_type: str, account_code: str, **values: Any) -> None:
        self.rows.append(
            {
                "step_sequence": STEP_SEQUENCE[step],
                "step": step,
                "document_code": code,
                "line_number": values.get("line"),
                "account_type": account_type,
                "account_code": account_code,
                "cost_centre": values.get("cost_centre"),
                "department": values.get("department"),
                "tax_code": values.get("tax_code"),
                "sage_transaction_id": values.get("sage_id"),
                "applied_document_code": values.get("applies"),
                "debit": D(values.get("debit", "0.00")),
                "credit": D(values.get("credit", "0.00")),
                "narrative": values.get("narrative"),
            }
        )

    def line(self, number: int, invoice_number: str, kind: str, amount: str, discount: str = "0.00") -> None:
        self.lines.append(
            {"line_number": number, "invoice_number": invoice_number, "line_kind": kind, "amount": D(amount),
             "discount_amount": D(discount)}
        )  # fmt: skip

    def credit_note(self, code: str, line: int, nominal: str, goods: str, tax: str, tax_code: int) -> None:
        """`tax_code` is Sage's tax code id, as the plan carries it."""
        self.row("credit_note", code, "customer", CUSTOMER, credit=D(goods) + D(tax), line=line)
        self.row("credit_note", code, "nominal", nominal, debit=goods, line=line, tax_code=tax_code)
        if D(tax):
            self.row("credit_note", code, "tax", str(tax_code), debit=tax, line=line, tax_code=tax_code)

    def receipt(self, value: str) -> None:
        self.row("receipt", "RC", "bank", CLEARING, debit=value)
        self.row("receipt", "RC", "customer", CUSTOMER, credit=value)

    def allocation(self, invoices: list[tuple[int, int, str]], applies: list[tuple[str, str]]) -> None:
        """`invoices`: (line, Sage invoice id, value); `applies`: (document code, value)."""
        for line, sage_id, value in invoices:
            self.row("allocation", "AL", "customer", CUSTOMER, debit=value, line=line, sage_id=sage_id)
        for code, value in applies:
            self.row("allocation", "AL", "customer", CUSTOMER, credit=value, applies=code)

    def bank_entry(self, step: str, items: list[tuple[int, str, str, str, int]]) -> None:
        """A bank payment or receipt: (line, nominal, goods, tax, Sage tax code id) per deduction line."""
        code, side, other = ("BP", "debit", "credit") if step == "bank_payment" else ("BR", "credit", "debit")
        total = sum((D(goods) + D(tax) for _, _, goods, tax, _ in items), ZERO)
        self.row(step, code, "bank", CLEARING, **{other: total})
        for line, nominal, goods, tax, tax_code in items:
            self.row(step, code, "nominal", nominal, line=line, tax_code=tax_code, **{side: goods})
            if D(tax):
                self.row(step, code, "tax", str(tax_code), line=line, tax_code=tax_code, **{side: tax})

    def transfer(self, value: str, destination: str = REAL) -> None:
        """The net out of the clearing bank; a negative net comes back into it from the destination."""
        amount = D(value)
        if amount >= 0:
            self.row("transfer", "TR", "bank", CLEARING, credit=amount)
            self.row("transfer", "TR", "bank", destination, debit=amount)
        else:
            self.row("transfer", "TR", "bank", CLEARING, debit=-amount)
            self.row("transfer", "TR", "bank", destination, credit=-amount)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(repr(self.rows).encode()).hexdigest()

    @property
    def net_paid(self) -> Decimal:
        return sum((line["amount"] for line in self.lines), ZERO)


class RemittanceWarehouse:
    """A DuckDB warehouse with the three remittance marts and the audit schema."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with duckdb.connect(str(path)) as con:
            con.execute(MARTS_DDL)
            ensure_audit_schema(con)

    def add(
        self,
        plan: RemittancePlan,
        *,
        needs_approval: bool = False,
        approval_reasons: str | None = None,
        posting_status: str | None = None,
        refusal_reason: str | None = None,
    ) -> RemittancePlan:
        invoices = sum((line["amount"] + line["discount_amount"] for line in plan.lines if
                        line["line_kind"] == "invoice_payment"), ZERO)  # fmt: skip
        status = posting_status or ("awaiting_approval" if needs_approval else "planned")
        posting_value = sum((row["debit"] for row in plan.rows), ZERO)
        with duckdb.connect(str(self.path)) as con:
            con.execute(
                "insert into marts.remittance_payments (payment_number, vendor_code, sage_customer_account,"
                " payment_date, currency, invoices_gross, deductions_total, net_paid, matched_ratio, posting_value,"
                " exceptions_count, needs_approval, approval_reasons, plan_sha256, refusal_reason, posting_status)"
                " values (?, ?, ?, ?, 'GBP', ?, ?, ?, 1, ?, 0, ?, ?, ?, ?, ?)",
                [plan.payment_number, plan.vendor_code, CUSTOMER, plan.payment_date, invoices,
                 plan.net_paid - invoices, plan.net_paid, posting_value, needs_approval, approval_reasons,
                 plan.sha256, refusal_reason, status],
            )  # fmt: skip
            for row in plan.rows:
                con.execute(
                    f"insert into marts.remittance_postings (payment_number, {', '.join(row)})"
                    f" values (?, {', '.join('?' for _ in row)})",
                    [plan.payment_number, *row.values()],
                )
            for line in plan.lines:
                con.execute(
                    "insert into marts.remittance_lines (payment_number, line_number, vendor_code, payment_date,"
                    " invoice_number, line_kind, amount, discount_amount) values (?, ?, ?, ?, ?, ?, ?, ?)",
                    [plan.payment_number, line["line_number"], plan.vendor_code, plan.payment_date,
                     line["invoice_number"], line["line_kind"], line["amount"], line["discount_amount"]],
                )  # fmt: skip
        return plan

    def query(self, sql: str, parameters: list[Any] | None = None) -> list[tuple]:
        with duckdb.connect(str(self.path)) as con:
            return con.execute(sql, parameters or []).fetchall()

    def locations(self, sage_url: str = "http://127.0.0.1:1/") -> Locations:
        return Locations.resolve(warehouse=str(self.path), sage_url=sage_url, config=str(EXAMPLE_CONFIG))


@dataclass(frozen=True)
class Invoices:
    """The two invoices the standard payment settles, as Sage posted them, and the company's tax code ids."""

    a: dict[str, Any]  # INV-A: 100.00 + 20.00 VAT
    b: dict[str, Any]  # INV-B: 200.00 + 40.00 VAT
    tax_codes: dict[int, int]  # Sage tax code number → its id (1 standard rate, 9 outside the scope of VAT)


def post_invoices(sandbox: Any) -> Invoices:
    return Invoices(
        a=sandbox.post_invoice("INV-A", D("100.00"), D("20.00")),
        b=sandbox.post_invoice("INV-B", D("200.00"), D("40.00")),
        tax_codes=dict(sandbox.ids.tax_codes),
    )


def full_payment(invoices: Invoices, payment_number: str = "AMZPAY0001") -> RemittancePlan:
    plan = RemittancePlan(payment_number)
    plan.line(1, "INV-A", "invoice_payment", "120.00")
    plan.line(2, "INV-B", "invoice_payment", "228.00", discount="12.00")
    plan.line(3, "INV-ASC", "shortage_claim", "-36.00")
    plan.line(4, "QZPK-20260301", "coop_agreement", "-60.00")
    plan.line(5, "1234VCBSINV", "chargeback", "-25.00")
    plan.line(6, "INV-ASCR", "claim_reversal", "12.00")
    standard, outside_scope = invoices.tax_codes[1], invoices.tax_codes[9]
    plan.credit_note("DS2", 2, "4000", "10.00", "2.00", standard)
    plan.credit_note("CN3", 3, "4050", "30.00", "6.00", standard)
    plan.receipt("312.00")
    plan.allocation(
        [(1, invoices.a["id"], "120.00"), (2, invoices.b["id"], "240.00")],
        [("CN3", "36.00"), ("DS2", "12.00"), ("RC", "312.00")],
    )
    plan.bank_entry(
        "bank_payment", [(4, "6100", "50.00", "10.00", standard), (5, "6300", "25.00", "0.00", outside_scope)]
    )
    plan.bank_entry("bank_receipt", [(6, "4050", "10.00", "2.00", standard)])
    plan.transfer("239.00")
    return plan


FULL_PAYMENT_DOCUMENTS = ("DS2", "CN3", "RC", "AL", "BP", "BR", "TR")


@pytest.fixture
def config() -> BusinessConfig:
    return load_business_config(EXAMPLE_CONFIG)


@pytest.fixture
def warehouse(tmp_path: Path) -> RemittanceWarehouse:
    return RemittanceWarehouse(tmp_path / "warehouse.duckdb")


@pytest.fixture
def post(warehouse: RemittanceWarehouse, config: BusinessConfig) -> Iterator[Callable[..., RemittanceSummary]]:
    """Run the remittance batch on the warehouse with a client (the sandbox's by default)."""

    def run(client: SageClient) -> RemittanceSummary:
        return run_remittance_batch(warehouse.locations(), config, client, clock=lambda: NOW, run_id="test-run")

    yield run


def ledger(sandbox: Any) -> dict[str, Any]:
    """Everything the posting may change, as Sage shows it, without ids or timestamps: what two runs that end
    the same way must agree on to the penny."""
    customer = sandbox.ids.customer
    banks = {bank["id"]: bank["code"] for bank in sandbox.client.get("banks")}
    sales = sorted(
        (t["trader_transaction_type"], t["reference"], t["second_reference"], D(t["document_gross_value"]),
         D(t["document_outstanding_value"]))
        for t in sandbox.client.get_all(f"customers/{customer}/sales_posted_transactions")
    )  # fmt: skip
    bank_entries = sorted(
        (banks[t["bank_id"]], t["bank_transaction_type"], t["reference"], t["second_reference"], D(t["cheque_value"]))
        for t in sandbox.client.get_all("bank_posted_transactions")
    )
    return {
        "nominal": sandbox.nominal_balances(),
        "customer": sandbox.customer_balance(),
        "banks": sandbox.bank_balances(),
        "sales_transactions": sales,
        "bank_transactions": bank_entries,
    }


@contextmanager
def serve_company(company: Any, folder: Path) -> Iterator[Any]:
    """The seeded company served from a private copy, as the `sandbox` fixture does, for any fixture scope."""
    db_path = copy_database(company.db_path, folder)
    with (
        run_in_thread(db_path) as root,
        BackOffice(root) as office,
        CheckedSageClient(api_url(root), TOKEN, transport=local_transport()) as client,
        httpx.Client(verify=False, timeout=httpx.Timeout(30.0)) as http,
    ):
        client.connect()
        yield SandboxCompany(root, client, office, company.ids, http)


@pytest.fixture(scope="module")
def uninterrupted_ledger(mini_company_db: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The ledger after the standard payment posted in one uninterrupted run: what every recovery must reach."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    with serve_company(mini_company_db, folder) as company:
        warehouse = RemittanceWarehouse(folder / "warehouse.duckdb")
        warehouse.add(full_payment(post_invoices(company)))
        summary = run_remittance_batch(warehouse.locations(), load_business_config(EXAMPLE_CONFIG), company.client,
                                       clock=lambda: NOW)  # fmt: skip
        assert len(summary.posted) == 1, summary.lines()
        return ledger(company)
