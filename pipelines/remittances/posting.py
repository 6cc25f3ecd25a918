"""Each planned document as the Sage request that posts it, how it is found again in Sage, and the exactly-once
post (`pipelines.sage200.postings.post_once`) under the key ``remittance:<vendor>:<payment>:<document>``.

Every document but the allocation carries our second reference (``<payment>/<code>``): a credit note or the
receipt is found among the customer's posted transactions by it, a bank payment, bank receipt or transfer
among the clearing bank's. An allocation has no reference field: whether it was made is read from the
documents it applies — our receipt and credit notes, which only this allocation ever allocates — by their
outstanding value and allocation history (see :func:`allocation_state`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb

from pipelines.remittances.plan import (
    ALLOCATION,
    BANK,
    BANK_PAYMENT,
    BANK_RECEIPT,
    CREDIT_NOTE,
    CUSTOMER,
    NOMINAL,
    RECEIPT,
    RECEIPT_CODE,
    TAX,
    TRANSFER,
    ZERO,
    Document,
    Payment,
    PlanRow,
)
from pipelines.sage200.client import OutcomeUnknown, SageApiError, SageClient, odata_literal, sage_date
from pipelines.sage200.postings import Posting, PostingLog, post_once

RESOURCES = {
    CREDIT_NOTE: "sales_credit_notes",
    RECEIPT: "sales_receipts",
    ALLOCATION: "sales_allocations",
    BANK_PAYMENT: "bank_payment",
    BANK_RECEIPT: "bank_receipt",
    TRANSFER: "bank_transfer",
}
UNACCEPTABLE_DATE = "Unacceptable"


class PlanNotPostable(ValueError):
    """A document of the plan names a customer or bank Sage does not have (its id is needed to post it)."""


class SageAccounts:
    """The Sage ids behind the plan's account codes, each read from Sage once per run."""

    def __init__(self, client: SageClient) -> None:
        self.client = client
        self._customers: dict[str, int] = {}
        self._banks: dict[str, int] | None = None

    def customer_id(self, reference: str) -> int:
        if reference not in self._customers:
            found = self.client.get("customers", {"$filter": f"reference eq {odata_literal(reference)}", "$top": 1})
            if not found:
                raise PlanNotPostable(f"Sage has no customer account {reference}")
            self._customers[reference] = int(found[0]["id"])
        return self._customers[reference]

    def bank_id(self, code: str) -> int:
        if self._banks is None:
            self._banks = {bank["code"]: int(bank["id"]) for bank in self.client.get_all("banks")}
        if code not in self._banks:
            raise PlanNotPostable(f"Sage has no bank account {code}")
        return self._banks[code]


# Every remittance document's latest posting, as `PostingLog.latest` reads one key: one query for all of them,
# so a run over a year of posted payments does not ask the audit trail once per document.
LATEST_POSTINGS_QUERY = """
select posting_key, status, sage_id, sage_reference, message, source_version
from audit.sage_postings
where posting_key like 'remittance:%'
qualify row_number() over (partition by posting_key order by sequence_number desc) = 1
"""


def latest_postings(con: duckdb.DuckDBPyConnection) -> dict[str, Posting]:
    """The latest posting of every remittance document, by posting key."""
    return {row[0]: Posting(*row) for row in con.execute(LATEST_POSTINGS_QUERY).fetchall()}


def date_refusal(client: SageClient, payment: Payment) -> str | None:
    """Sage's own message when it would refuse a posting on the payment's date (a closed period), else None."""
    answer = client.post("transaction_date_validation", {"date": sage_date(payment.payment_date)})
    if answer.get("classification") == UNACCEPTABLE_DATE:
        return answer.get("message") or f"Sage does not accept postings dated {payment.payment_date}"
    return None


# --- bodies --------------------------------------------------------------------------------------------


def body_for(
    payment: Payment, document: Document, accounts: SageAccounts, posted_ids: dict[str, int]
) -> dict[str, Any]:
    """The Sage request for one document; `posted_ids` are the Sage ids of the documents already posted."""
    if document.step == CREDIT_NOTE:
        return credit_note_body(payment, document, accounts)
    if document.step == RECEIPT:
        return receipt_body(payment, document, accounts)
    if document.step == ALLOCATION:
        return allocation_body(payment, document, accounts, posted_ids)
    if document.step in (BANK_PAYMENT, BANK_RECEIPT):
        return bank_entry_body(payment, document, accounts)
    return transfer_body(payment, document, accounts)


def _header(payment: Payment, document: Document) -> dict[str, Any]:
    return {
        "transaction_date": sage_date(payment.payment_date),
        "reference": payment.reference(document),
        "second_reference": payment.second_reference(document.code),
    }


def _narrative(payment: Payment, document: Document) -> str:
    return f"Amazon remittance {payment.payment_number} {document.code}"


def _account(row: PlanRow) -> dict[str, Any]:
    """A nominal account as Sage's analysis lines take it: code, and cost centre and department when set."""
    account: dict[str, Any] = {"code": row.account_code}
    if row.cost_centre:
        account["cost_centre"] = row.cost_centre
    if row.department:
        account["department"] = row.department
    return account


def credit_note_body(payment: Payment, document: Document, accounts: SageAccounts) -> dict[str, Any]:
    """Customer credit of the gross; goods per nominal row and tax per tax code, as the plan debits them."""
    [customer] = document.rows_of(CUSTOMER)
    nominal_rows = document.rows_of(NOMINAL)
    goods_by_code: dict[int, Decimal] = defaultdict(lambda: ZERO)
    tax_by_code: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for row in nominal_rows:
        goods_by_code[row.tax_code] += row.net
    for row in document.rows_of(TAX):
        tax_by_code[row.tax_code] += row.net
    codes = sorted(set(goods_by_code) | set(tax_by_code))
    return {
        "customer_id": accounts.customer_id(customer.account_code),
        **_header(payment, document),
        "document_goods_value": sum(goods_by_code.values(), ZERO),
        "document_tax_value": sum(tax_by_code.values(), ZERO),
        "tax_analysis_items": [
            {"id": code, "goods_amount": goods_by_code[code], "tax_amount": tax_by_code[code]} for code in codes
        ],
        "nominal_analysis_items": [
            _account(row) | {"value": row.net, "narrative": row.narrative or _narrative(payment, document)}
            for row in nominal_rows
        ],
    }


def receipt_body(payment: Payment, document: Document, accounts: SageAccounts) -> dict[str, Any]:
    """The cash that settles the customer account, into the clearing bank."""
    [bank] = document.rows_of(BANK)
    [customer] = document.rows_of(CUSTOMER)
    return {
        "customer_id": accounts.customer_id(customer.account_code),
        "bank_id": accounts.bank_id(bank.account_code),
        "cheque_value": bank.net,
        **_header(payment, document),
    }


def allocation_body(
    payment: Payment, document: Document, accounts: SageAccounts, posted_ids: dict[str, int]
) -> dict[str, Any]:
    """Invoices +, the credit notes and receipt they are settled by −; the lines add up to zero."""
    values: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for row in document.rows:
        if row.sage_transaction_id is not None:
            values[int(row.sage_transaction_id)] += row.debit - row.credit
    for row in document.rows:
        if row.applied_document_code:
            values[posted_ids[row.applied_document_code]] -= row.credit - row.debit
    customer = document.rows_of(CUSTOMER)[0].account_code
    return {
        "customer_id": accounts.customer_id(customer),
        "allocation_date": sage_date(payment.payment_date),
        "allocation_lines": [
            {"posted_tran_id": posted_tran_id, "value_to_allocate": value}
            for posted_tran_id, value in values.items()
            if value != ZERO
        ],
    }


def bank_entry_body(payment: Payment, document: Document, accounts: SageAccounts) -> dict[str, Any]:
    """A bank payment (deductions that are costs) or bank receipt (positive non-invoice lines) on the clearing
    bank: one analysis line per nominal row, carrying the tax of its remittance line and tax code."""
    [bank] = document.rows_of(BANK)
    direction = Decimal(1) if document.step == BANK_PAYMENT else Decimal(-1)  # nominal rows are debits on a payment
    tax = defaultdict(lambda: ZERO)
    for row in document.rows_of(TAX):
        tax[(row.line_number, row.tax_code)] += direction * row.net
    items = []
    for row in document.rows_of(NOMINAL):
        goods = direction * row.net
        tax_value = tax.pop((row.line_number, row.tax_code), ZERO)
        items.append(
            _account(row)
            | {
                "narrative": row.narrative or _narrative(payment, document),
                "goods_value": goods,
                "tax_value": tax_value,
                "gross_value": goods + tax_value,
                "tax_code_id": row.tax_code,
            }
        )
    return {
        "bank_id": accounts.bank_id(bank.account_code),
        **_header(payment, document),
        "narrative": _narrative(payment, document),
        "nominal_analysis_items": items,
    }


def transfer_body(payment: Payment, document: Document, accounts: SageAccounts) -> dict[str, Any]:
    """The net from the clearing bank to the destination, or back when the payment's net is negative."""
    [source] = [row for row in document.rows_of(BANK) if row.credit > 0]
    [target] = [row for row in document.rows_of(BANK) if row.debit > 0]
    return {
        "bank_from_id": accounts.bank_id(source.account_code),
        "bank_to_id": accounts.bank_id(target.account_code),
        **_header(payment, document),
        "narrative": _narrative(payment, document),
        "payment_value": target.debit,
    }


# --- finding a document again in Sage ------------------------------------------------------------------


def find_sales_document(client: SageClient, customer_id: int, second_reference: str) -> dict[str, Any] | None:
    """The customer's posted transaction (credit note, receipt) carrying our second reference."""
    condition = f"customer_id eq {customer_id} and second_reference eq {odata_literal(second_reference)}"
    found = client.get("sales_posted_transactions", {"$filter": condition, "$orderby": "id", "$top": 1})
    return found[0] if found else None


def find_bank_entry(client: SageClient, bank_id: int, second_reference: str) -> dict[str, Any] | None:
    """The bank's posted transaction (bank payment, bank receipt, one side of a transfer) with our reference."""
    condition = f"bank_id eq {bank_id} and second_reference eq {odata_literal(second_reference)}"
    found = client.get("bank_posted_transactions", {"$filter": condition, "$orderby": "id", "$top": 1})
    return found[0] if found else None


@dataclass(frozen=True)
class AllocationState:
    """What Sage shows of an allocation: made as planned, not made at all, or something else (`conflict`)."""

    made: bool
    anchor: dict[str, Any]  # the receipt (or first credit note) it applies, as Sage has it
    conflict: str | None = None


def allocation_state(client: SageClient, document: Document, posted_ids: dict[str, int]) -> AllocationState:
    """Whether the allocation was made, read from the documents it applies.

    Our receipt and credit notes are made for this payment and allocated by this allocation only, so each one's
    allocated value (gross less outstanding, and the sum of its allocation history) is either 0.00 — not made —
    or exactly what the plan applies from it — made. Anything else means someone allocated them in Sage by hand:
    a conflict a person must look at, never something to allocate over.
    """
    planned: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in document.rows:
        if row.applied_document_code:
            planned[row.applied_document_code] += row.credit - row.debit
    seen = []
    for code in document.applied_codes:
        transaction = client.get(f"sales_posted_transactions/{posted_ids[code]}")
        gross = abs(Decimal(transaction["document_gross_value"]))
        outstanding = abs(Decimal(transaction["document_outstanding_value"]))
        history = abs(
            sum((Decimal(item["allocation_value"]) for item in transaction.get("allocation_history_items") or []), ZERO)
        )
        seen.append((code, transaction, gross - outstanding, history))
    anchor_code = RECEIPT_CODE if RECEIPT_CODE in planned else document.applied_codes[0]
    anchor = next(transaction for code, transaction, _, _ in seen if code == anchor_code)
    if all(allocated == ZERO and history == ZERO for _, _, allocated, history in seen):
        return AllocationState(made=False, anchor=anchor)
    if all(allocated == history == planned[code] for code, _, allocated, history in seen):
        return AllocationState(made=True, anchor=anchor)
    found = ", ".join(f"{code} {allocated} allocated of {planned[code]} planned" for code, _, allocated, _ in seen)
    return AllocationState(made=False, anchor=anchor, conflict=f"allocated in Sage outside this posting: {found}")


class _ReadBack:
    """Sage answers these POSTs with a URN (or an echo of the request), not the document: the document is read
    back by its reference, so the posting records the Sage id the next steps need. A document Sage accepted but
    cannot show is an unknown outcome, which `post_once` settles by looking again."""

    def __init__(self, client: SageClient, find: Callable[[], dict[str, Any] | None]) -> None:
        self.client = client
        self.find = find

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        self.client.post(path, body)
        try:
            found = self.find()
        except SageApiError as error:
            raise OutcomeUnknown(f"Sage took the POST to {path} but reading it back failed: {error}") from error
        if found is None:
            raise OutcomeUnknown(f"Sage took the POST to {path} but does not show the document")
        return found


def finder(
    client: SageClient,
    payment: Payment,
    document: Document,
    accounts: SageAccounts,
    posted_ids: dict[str, int],
    clearing_bank: str,
) -> Callable[[], dict[str, Any] | None]:
    """How `post_once` looks for the document in Sage, before posting and after an unanswered POST."""
    reference = payment.second_reference(document.code)
    if document.step in (CREDIT_NOTE, RECEIPT):
        customer_id = accounts.customer_id(document.rows_of(CUSTOMER)[0].account_code)
        return lambda: find_sales_document(client, customer_id, reference)
    if document.step == ALLOCATION:

        def made_allocation() -> dict[str, Any] | None:
            state = allocation_state(client, document, posted_ids)
            return state.anchor if state.made else None

        return made_allocation
    # Every bank document of the plan moves the clearing bank: its side carries our reference.
    bank_id = accounts.bank_id(clearing_bank)
    return lambda: find_bank_entry(client, bank_id, reference)


def post_document(
    client: SageClient,
    postings: PostingLog,
    payment: Payment,
    document: Document,
    accounts: SageAccounts,
    posted_ids: dict[str, int],
    clearing_bank: str,
) -> Posting:
    """Post one document exactly once (or find it already in Sage); the posting says what happened."""
    reference = payment.second_reference(document.code)
    find = finder(client, payment, document, accounts, posted_ids, clearing_bank)
    return post_once(
        _ReadBack(client, find),  # post_once only calls .post on its client
        postings,
        key=payment.posting_key(document.code),
        resource=RESOURCES[document.step],
        body=body_for(payment, document, accounts, posted_ids),
        find_existing=find,
        reference_of=lambda _: reference,
        source_version=payment.plan_sha256,
    )
