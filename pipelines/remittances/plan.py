"""The posting plan of each Amazon payment: read from the marts, or from the copy frozen when its posting began.

dbt writes the plan (`marts.remittance_postings`: one row per debit or credit of each Sage document) and the
payment's header (`marts.remittance_payments`). When a payment's posting starts, its plan rows are copied
into `audit.remittance_plans` / `audit.remittance_plan_lines` once; from then on every step and every re-run
posts from that copy, whatever the marts say since (a new version of the remittance, changed mapping data),
so a half-posted payment is always finished as it was approved.

Nothing here talks to Sage: these are the figures, their checks, and the keys and references the documents
carry in Sage.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import duckdb

ZERO = Decimal("0.00")
SAGE_REFERENCE_MAX = 20

CREDIT_NOTE = "credit_note"
RECEIPT = "receipt"
ALLOCATION = "allocation"
BANK_PAYMENT = "bank_payment"
BANK_RECEIPT = "bank_receipt"
TRANSFER = "transfer"
STEPS = (CREDIT_NOTE, RECEIPT, ALLOCATION, BANK_PAYMENT, BANK_RECEIPT, TRANSFER)

BANK, CUSTOMER, NOMINAL, TAX = "bank", "customer", "nominal", "tax"
RECEIPT_CODE = "RC"  # the plan's one receipt per payment

# The columns of marts.remittance_postings after payment_number, as audit.remittance_plan_lines repeats them.
PLAN_COLUMNS = (
    "step_sequence",
    "step",
    "document_code",
    "line_number",
    "account_type",
    "account_code",
    "cost_centre",
    "department",
    "tax_code",
    "sage_transaction_id",
    "applied_document_code",
    "debit",
    "credit",
    "narrative",
)
_PLAN_SELECT = ", ".join(PLAN_COLUMNS)

PAYMENTS_QUERY = """
select payment_number, vendor_code, sage_customer_account, payment_date, currency, invoices_gross,
    deductions_total, net_paid, posting_value, needs_approval, approval_reasons, plan_sha256, refusal_reason,
    posting_status
from marts.remittance_payments
order by payment_date, payment_number
"""
MART_PLAN_QUERY = f"""
select payment_number, {_PLAN_SELECT}
from marts.remittance_postings
order by payment_number, step_sequence, document_code
"""
FROZEN_PLAN_QUERY = f"""
select plans.payment_number, {", ".join(f"lines.{column}" for column in PLAN_COLUMNS)}
from audit.remittance_plans as plans
inner join audit.remittance_plan_lines as lines
    on lines.payment_number = plans.payment_number and lines.plan_sha256 = plans.plan_sha256
order by plans.payment_number, lines.step_sequence, lines.document_code
"""
LINE_REFERENCES_QUERY = """
select payment_number, line_number, invoice_number
from marts.remittance_lines
where invoice_number is not null
"""


@dataclass(frozen=True)
class PlanRow:
    """One debit or credit of one Sage document of a payment's plan."""

    step_sequence: int
    step: str
    document_code: str
    line_number: int | None  # the remittance line it comes from
    account_type: str  # bank, customer, nominal or tax
    account_code: str  # Sage bank code, customer account reference, nominal code, or tax code id
    cost_centre: str | None
    department: str | None
    tax_code: int | None  # Sage's tax code (record) id, on nominal and tax rows
    sage_transaction_id: int | None  # on allocation rows against an invoice
    applied_document_code: str | None  # on allocation rows applying a credit note or the receipt
    debit: Decimal
    credit: Decimal
    narrative: str | None

    @property
    def net(self) -> Decimal:
        """Debit less credit: what the row moves, debit positive."""
        return self.debit - self.credit

    def shown(self) -> str:
        """The account as a person reads it: ``nominal 4050/AMZ/SAL (tax code id 2)``, ``bank AMZCLR``."""
        if self.account_type == TAX:
            return f"tax code id {self.account_code}"
        parts = [self.account_code, self.cost_centre or "", self.department or ""]
        account = "/".join(parts).rstrip("/")
        if self.account_type == NOMINAL and self.tax_code is not None:
            account += f" (tax code id {self.tax_code})"
        if self.sage_transaction_id is not None:
            account += f" (Sage invoice {self.sage_transaction_id})"
        if self.applied_document_code:
            account += f" (applies {self.applied_document_code})"
        return f"{self.account_type} {account}"


def _row_order(row: PlanRow) -> tuple:
    """Rows of a document in one fixed order, so its Sage body is the same on every run."""
    return (
        row.line_number if row.line_number is not None else -1,
        row.account_type,
        row.account_code,
        row.tax_code if row.tax_code is not None else -1,
        row.sage_transaction_id if row.sage_transaction_id is not None else -1,
        row.applied_document_code or "",
        row.cost_centre or "",
        row.department or "",
    )


@dataclass(frozen=True)
class Document:
    """One Sage document of the plan (credit note, receipt, allocation, bank payment or receipt, transfer)."""

    code: str  # CN12, DS7, RC, AL, BP, BR, TR
    step: str
    step_sequence: int
    rows: tuple[PlanRow, ...]

    def rows_of(self, account_type: str) -> list[PlanRow]:
        return [row for row in self.rows if row.account_type == account_type]

    @property
    def applied_codes(self) -> list[str]:
        """The documents an allocation applies (credit notes, the receipt), in plan order."""
        codes: list[str] = []
        for row in self.rows:
            if row.applied_document_code and row.applied_document_code not in codes:
                codes.append(row.applied_document_code)
        return codes

    def clearing_movement(self, clearing_bank: str) -> Decimal:
        """What this document moves on the clearing bank (money in positive)."""
        return sum((row.net for row in self.rows_of(BANK) if row.account_code == clearing_bank), ZERO)


@dataclass(frozen=True)
class Payment:
    """One Amazon payment with the plan it is (or will be) posted from."""

    payment_number: str
    vendor_code: str
    sage_customer_account: str
    payment_date: date
    currency: str
    invoices_gross: Decimal
    deductions_total: Decimal
    net_paid: Decimal
    posting_value: Decimal
    needs_approval: bool
    approval_reasons: str | None
    plan_sha256: str  # the frozen plan's once frozen, else the plan dbt computed now
    refusal_reason: str | None
    posting_status: str  # as dbt last saw it
    rows: tuple[PlanRow, ...]
    frozen: bool  # posting has started: rows are the frozen copy
    line_references: dict[int, str] = field(default_factory=dict)  # remittance line → Amazon's invoice number

    def documents(self) -> list[Document]:
        """The plan's documents in posting order (step, then the remittance line they come from)."""
        grouped: dict[str, list[PlanRow]] = defaultdict(list)
        for row in self.rows:
            grouped[row.document_code].append(row)
        documents = [
            Document(code, rows[0].step, rows[0].step_sequence, tuple(sorted(rows, key=_row_order)))
            for code, rows in grouped.items()
        ]
        return sorted(documents, key=lambda document: (document.step_sequence, _first_line(document), document.code))

    def posting_key(self, document_code: str) -> str:
        """The exactly-once key of one document in `audit.sage_postings`."""
        return f"remittance:{self.vendor_code}:{self.payment_number}:{document_code}"

    def second_reference(self, document_code: str) -> str:
        return second_reference(self.payment_number, document_code)

    def reference(self, document: Document) -> str:
        """Sage's `reference`: Amazon's own — the deduction's invoice number on a credit note, else the payment."""
        if document.step == CREDIT_NOTE:
            line = _first_line(document)
            if line in self.line_references:
                return self.line_references[line][:SAGE_REFERENCE_MAX]
        return self.payment_number[:SAGE_REFERENCE_MAX]


def _first_line(document: Document) -> int:
    lines = [row.line_number for row in document.rows if row.line_number is not None]
    return min(lines) if lines else -1


def second_reference(payment_number: str, document_code: str) -> str:
    """`<payment>/<code>`, or when that is over Sage's 20 characters the start of the payment number's SHA-256
    instead of the payment number: unique per document, and found again by the same rule."""
    plain = f"{payment_number}/{document_code}"
    if len(plain) <= SAGE_REFERENCE_MAX:
        return plain
    digest = hashlib.sha256(payment_number.encode("utf-8")).hexdigest()
    return f"{digest[: SAGE_REFERENCE_MAX - len(document_code) - 1]}/{document_code}"


# --- reading -------------------------------------------------------------------------------------------


def read_payments(con: duckdb.DuckDBPyConnection) -> list[Payment]:
    """Every payment dbt knows, oldest first, each with its frozen plan when its posting has started."""
    cursor = con.execute(PAYMENTS_QUERY)
    names = [column[0] for column in cursor.description]
    headers = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    mart_rows = _rows_by_payment(con.execute(MART_PLAN_QUERY).fetchall())
    frozen_sha = dict(con.execute("select payment_number, plan_sha256 from audit.remittance_plans").fetchall())
    frozen_rows = _rows_by_payment(con.execute(FROZEN_PLAN_QUERY).fetchall())
    references: dict[str, dict[int, str]] = defaultdict(dict)
    for payment_number, line_number, invoice_number in con.execute(LINE_REFERENCES_QUERY).fetchall():
        references[payment_number][line_number] = invoice_number
    payments = []
    for header in headers:
        number = header["payment_number"]
        frozen = number in frozen_sha
        header.update(
            approval_reasons=_text(header["approval_reasons"]),
            plan_sha256=frozen_sha[number] if frozen else header["plan_sha256"],
            needs_approval=bool(header["needs_approval"]),
        )
        rows = frozen_rows.get(number, ()) if frozen else mart_rows.get(number, ())
        payments.append(Payment(**header, rows=tuple(rows), frozen=frozen, line_references=references[number]))
    return payments


def _rows_by_payment(rows: Iterable[tuple]) -> dict[str, list[PlanRow]]:
    grouped: dict[str, list[PlanRow]] = defaultdict(list)
    for payment_number, *values in rows:
        grouped[payment_number].append(PlanRow(*values))
    return grouped


def _text(value: object) -> str | None:
    """approval_reasons as one line, whether dbt wrote it as text or as a list."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return "; ".join(str(item) for item in value) or None
    return str(value) or None


def freeze(
    con: duckdb.DuckDBPyConnection, payment: Payment, *, run_id: str | None, clock: Callable[[], datetime]
) -> bool:
    """Copy the payment's plan into the audit trail, once: False when it was frozen already."""
    con.execute("begin transaction")
    try:
        (already,) = con.execute(
            "select count(*) from audit.remittance_plans where payment_number = ?", [payment.payment_number]
        ).fetchone()
        if already:
            con.execute("rollback")
            return False
        con.execute(
            "insert into audit.remittance_plans (payment_number, plan_sha256, frozen_at, run_id) values (?, ?, ?, ?)",
            [payment.payment_number, payment.plan_sha256, clock(), run_id],
        )
        if payment.rows:
            con.executemany(
                f"insert into audit.remittance_plan_lines (payment_number, plan_sha256, {_PLAN_SELECT})"
                f" values ({', '.join('?' for _ in range(len(PLAN_COLUMNS) + 2))})",
                [
                    [payment.payment_number, payment.plan_sha256, *(getattr(row, column) for column in PLAN_COLUMNS)]
                    for row in payment.rows
                ],
            )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return True


# --- checks --------------------------------------------------------------------------------------------


def plan_problems(payment: Payment, clearing_bank: str) -> list[str]:
    """Why the plan cannot be posted as Sage documents, in words; empty when it can.

    The marts' own tests prove the same balances; they are checked again here because this is the last moment
    before money moves in Sage, and a plan that does not add up is refused rather than half posted.
    """
    problems = []
    debits = sum((row.debit for row in payment.rows), ZERO)
    credits = sum((row.credit for row in payment.rows), ZERO)
    if debits != credits:
        problems.append(f"debits {debits} do not equal credits {credits}")
    clearing = sum(
        (row.net for row in payment.rows if row.account_type == BANK and row.account_code == clearing_bank), ZERO
    )
    if clearing != ZERO:
        problems.append(f"the clearing bank {clearing_bank} nets to {clearing}, not 0.00")
    for row in payment.rows:
        if row.debit < 0 or row.credit < 0 or (row.debit != 0 and row.credit != 0):
            problems.append(f"{row.document_code} {row.shown()}: debit {row.debit} and credit {row.credit}")
    documents = payment.documents()
    codes = {document.code: document.step for document in documents}
    for document in documents:
        problems += [f"{document.code}: {problem}" for problem in _document_problems(document, clearing_bank, codes)]
    return problems


def _document_problems(document: Document, clearing_bank: str, codes: dict[str, str]) -> list[str]:
    problems = []
    if document.step not in STEPS:
        return [f"unknown step {document.step!r}"]
    if any(row.step != document.step for row in document.rows):
        problems.append("rows of more than one step")
    debits = sum((row.debit for row in document.rows), ZERO)
    credits = sum((row.credit for row in document.rows), ZERO)
    if debits != credits:
        problems.append(f"debits {debits} do not equal credits {credits}")
    expected_accounts = {
        CREDIT_NOTE: {CUSTOMER, NOMINAL, TAX},
        RECEIPT: {BANK, CUSTOMER},
        ALLOCATION: {CUSTOMER},
        BANK_PAYMENT: {BANK, NOMINAL, TAX},
        BANK_RECEIPT: {BANK, NOMINAL, TAX},
        TRANSFER: {BANK},
    }[document.step]
    unexpected = sorted({row.account_type for row in document.rows} - expected_accounts)
    if unexpected:
        problems.append(f"{', '.join(unexpected)} rows on a {document.step}")
    if any(row.tax_code is None for row in document.rows_of(NOMINAL) + document.rows_of(TAX)):
        problems.append("a nominal or tax row without a tax code")
    banks = document.rows_of(BANK)
    if document.step in (RECEIPT, BANK_PAYMENT, BANK_RECEIPT):
        if len(banks) != 1 or banks[0].account_code != clearing_bank:
            problems.append(f"needs exactly one bank row, on the clearing bank {clearing_bank}")
        if document.step != RECEIPT and not _tax_rows_pair_with_nominal_rows(document):
            problems.append("a tax row with no nominal row of the same line and tax code")
    if document.step in (CREDIT_NOTE, RECEIPT) and len(document.rows_of(CUSTOMER)) != 1:
        problems.append("needs exactly one customer row")
    one_each_way = sum(row.debit > 0 for row in banks) == 1 and sum(row.credit > 0 for row in banks) == 1
    if document.step == TRANSFER and (
        len(banks) != 2 or not one_each_way or [row.account_code for row in banks].count(clearing_bank) != 1
    ):
        problems.append(f"needs two bank rows, one in and one out, one of them the clearing bank {clearing_bank}")
    if document.step == ALLOCATION:
        for row in document.rows:
            if row.debit > 0 and row.sage_transaction_id is None:
                problems.append("an invoice row without its Sage transaction id")
            if row.credit > 0 and codes.get(row.applied_document_code or "") not in (CREDIT_NOTE, RECEIPT):
                problems.append(f"applies {row.applied_document_code!r}, not a credit note or receipt of this plan")
    return problems


def _tax_rows_pair_with_nominal_rows(document: Document) -> bool:
    nominal = {(row.line_number, row.tax_code) for row in document.rows_of(NOMINAL)}
    return all((row.line_number, row.tax_code) in nominal for row in document.rows_of(TAX))


def plan_table(rows: Sequence[PlanRow]) -> list[str]:
    """The plan as a person checks it: step, document, account, debit, credit."""
    lines = [f"{'step':<13}{'document':<10}{'account':<44}{'debit':>12}{'credit':>12}"]
    ordered = sorted(rows, key=lambda row: (row.step_sequence, row.document_code, *_row_order(row)))
    for row in ordered:
        lines.append(f"{row.step:<13}{row.document_code:<10}{row.shown():<44}{row.debit:>12,}{row.credit:>12,}")
    return lines
