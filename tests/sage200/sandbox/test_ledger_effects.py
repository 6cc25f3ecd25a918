"""Ledger effects of every posting the sandbox accepts, read back over HTTP and checked to the penny.

The seeded company (tests/conftest.py) starts with one invoiced sales order: AMA001 owes 171.00, nominal
1100 is +171.00, 4000 −142.50 and 2200 −28.50, both banks are at 0. Nominal balances are debit +, credit −.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from pipelines.sage200.client import SageApiError
from pipelines.sage200.sandbox.errors import BadRequest

if TYPE_CHECKING:
    from conftest import SandboxCompany

D = Decimal
SEED_BALANCE = D("171.00")
MARCH = "2026-03-12"
FEBRUARY = "2026-02-12"


def stamp(day: str) -> str:
    return f"{day}T00:00:00Z"


def movement(before: dict[str, Decimal], after: dict[str, Decimal]) -> dict[str, Decimal]:
    """What changed between two {key: amount} readings, zero changes left out."""
    return {key: after[key] - before.get(key, D(0)) for key in after if after[key] != before.get(key, D(0))}


@dataclass
class Snapshot:
    """The balances a posting can move."""

    nominal: dict[str, Decimal]
    customer: Decimal
    banks: dict[str, Decimal]

    @classmethod
    def take(cls, sandbox: SandboxCompany) -> Snapshot:
        return cls(sandbox.nominal_balances(), sandbox.customer_balance(), sandbox.bank_balances())


def refusal_message(action: Callable[[], Any]) -> str:
    """Run something the sandbox must refuse with a 400; its message."""
    with pytest.raises((SageApiError, BadRequest)) as refused:
        action()
    if isinstance(refused.value, SageApiError):
        assert refused.value.status == 400, refused.value
        return refused.value.message
    return str(refused.value)


# --- every posting type ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostingCase:
    """A posting type: how to prepare for it, how to post it on a day, and what it must do to the ledger."""

    name: str
    post: Callable[[SandboxCompany, Any, str], None]
    nominal: dict[str, Decimal]
    customer: Decimal = Decimal(0)
    banks: dict[str, Decimal] = field(default_factory=dict)
    prepare: Callable[[SandboxCompany], Any] = lambda sandbox: None


def post_invoice(sandbox: SandboxCompany, _: Any, day: str) -> None:
    sandbox.client.post("sales_invoices", sandbox.invoice_body("INV-1", D("1000.00"), D("200.00"), date=stamp(day)))


def post_credit_note(sandbox: SandboxCompany, _: Any, day: str) -> None:
    sandbox.client.post("sales_credit_notes", sandbox.invoice_body("CRN-1", D("50.00"), D("10.00"), date=stamp(day)))


def post_receipt(sandbox: SandboxCompany, _: Any, day: str) -> None:
    sandbox.client.post("sales_receipts", sandbox.receipt_body("PAY-1", SEED_BALANCE, date=stamp(day)))


def receive_100(sandbox: SandboxCompany) -> int:
    return sandbox.post_receipt("PAY-100", D("100.00"))["id"]


def post_allocation(sandbox: SandboxCompany, receipt_id: int, day: str) -> None:
    body = sandbox.allocation_body((sandbox.ids.invoice, D("100.00")), (receipt_id, D("-100.00")))
    sandbox.client.post("sales_allocations", body | {"allocation_date": stamp(day)})


def post_bank_payment(sandbox: SandboxCompany, _: Any, day: str) -> None:
    item = {
        "code": "6100",
        "goods_value": D("250.00"),
        "tax_value": D("50.00"),
        "tax_code_id": sandbox.ids.tax_codes[1],
    }
    body = {"bank_id": sandbox.ids.amzclr, "transaction_date": stamp(day), "reference": "COOP-1"}
    sandbox.client.post("bank_payment", body | {"nominal_analysis_items": [item]})


def post_bank_receipt(sandbox: SandboxCompany, _: Any, day: str) -> None:
    items = [
        {"code": "3000", "goods_value": D("5000.00"), "tax_code_id": sandbox.ids.tax_codes[9]},
        {"code": "4000", "goods_value": D("100.00"), "tax_value": D("20.00"), "tax_code_id": sandbox.ids.tax_codes[1]},
    ]
    body = {"bank_id": sandbox.ids.barc01, "transaction_date": stamp(day), "reference": "CAPITAL-1"}
    sandbox.client.post("bank_receipt", body | {"cheque_value": D("5120.00"), "nominal_analysis_items": items})


def receive_171(sandbox: SandboxCompany) -> None:
    sandbox.post_receipt("PAY-171", SEED_BALANCE)


def post_bank_transfer(sandbox: SandboxCompany, _: Any, day: str) -> None:
    body = {"bank_from_id": sandbox.ids.amzclr, "bank_to_id": sandbox.ids.barc01, "payment_value": D("150.00")}
    sandbox.client.post("bank_transfer", body | {"transaction_date": stamp(day), "reference": "SWEEP-1"})


def despatched_order(sandbox: SandboxCompany) -> int:
    """1 case of the first product at 60.00 and 3 each of the second at 4.50: 73.50 + 14.70 VAT."""
    order = sandbox.new_order(
        sandbox.order_line(0, D("1"), D("60.00"), case=True),
        sandbox.order_line(1, D("3"), D("4.50")),
        customer_document_no="PO-AMZ-0002",
    )
    sandbox.backoffice.post(f"sop_orders/{order['id']}/despatch", {"date": "2026-03-11"})
    return order["id"]


def post_sop_invoice(sandbox: SandboxCompany, order_id: int, day: str) -> None:
    sandbox.backoffice.post(f"sop_orders/{order_id}/invoice", {"date": day})


POSTINGS = [
    PostingCase(
        "sales invoice",
        post_invoice,
        nominal={"1100": D("1200.00"), "4000": D("-1000.00"), "2200": D("-200.00")},
        customer=D("1200.00"),
    ),
    PostingCase(
        "sales credit note",
        post_credit_note,
        nominal={"1100": D("-60.00"), "4000": D("50.00"), "2200": D("10.00")},
        customer=D("-60.00"),
    ),
    PostingCase(
        "sales receipt",
        post_receipt,
        nominal={"1210": SEED_BALANCE, "1100": -SEED_BALANCE},
        customer=-SEED_BALANCE,
        banks={"AMZCLR": SEED_BALANCE},
    ),
    PostingCase("sales allocation", post_allocation, nominal={}, prepare=receive_100),
    PostingCase(
        "bank payment with VAT",
        post_bank_payment,
        nominal={"1210": D("-300.00"), "6100": D("250.00"), "2201": D("50.00")},
        banks={"AMZCLR": D("-300.00")},
    ),
    PostingCase(
        "bank receipt",
        post_bank_receipt,
        nominal={"1200": D("5120.00"), "3000": D("-5000.00"), "4000": D("-100.00"), "2200": D("-20.00")},
        banks={"BARC01": D("5120.00")},
    ),
    PostingCase(
        "bank transfer",
        post_bank_transfer,
        nominal={"1210": D("-150.00"), "1200": D("150.00")},
        banks={"AMZCLR": D("-150.00"), "BARC01": D("150.00")},
        prepare=receive_171,
    ),
    PostingCase(
        "back-office SOP invoice",
        post_sop_invoice,
        nominal={"1100": D("88.20"), "4000": D("-73.50"), "2200": D("-14.70")},
        customer=D("88.20"),
        prepare=despatched_order,
    ),
]
POSTING_IDS = [case.name for case in POSTINGS]


@pytest.mark.parametrize("case", POSTINGS, ids=POSTING_IDS)
def test_posting_moves_exactly_its_accounts(sandbox: SandboxCompany, case: PostingCase) -> None:
    context = case.prepare(sandbox)
    before = Snapshot.take(sandbox)
    case.post(sandbox, context, MARCH)
    after = Snapshot.take(sandbox)
    assert movement(before.nominal, after.nominal) == case.nominal
    assert after.customer - before.customer == case.customer
    assert movement(before.banks, after.banks) == case.banks
    sandbox.assert_ledger_sound()


def test_seeded_company_is_what_the_tests_assume(sandbox: SandboxCompany) -> None:
    balances = sandbox.nominal_balances()
    assert {ref: value for ref, value in balances.items() if value} == {
        "1100": D("171.00"),
        "2200": D("-28.50"),
        "4000": D("-142.50"),
    }
    assert sandbox.customer_balance() == SEED_BALANCE
    assert sandbox.bank_balances() == {"BARC01": D(0), "AMZCLR": D(0)}
    invoice = sandbox.posted(sandbox.ids.invoice)
    assert invoice["reference"] == sandbox.ids.invoice_document_no
    assert invoice["second_reference"] == "PO-AMZ-0001"
    sandbox.assert_ledger_sound()


# --- posted values and signs ----------------------------------------------------------------------------


def test_sales_invoice_posted_values(sandbox: SandboxCompany) -> None:
    posted = sandbox.post_invoice("INV-1", D("1000.00"), D("200.00"))
    assert posted["trader_transaction_type"] == "TradingAccountEntryTypeInvoice"
    assert posted["customer_id"] == sandbox.ids.customer
    assert (posted["document_goods_value"], posted["document_tax_value"], posted["document_gross_value"]) == (
        D("1000.00"),
        D("200.00"),
        D("1200.00"),
    )
    assert (posted["document_outstanding_value"], posted["document_allocated_value"]) == (D("1200.00"), 0)
    assert (posted["transaction_date"], posted["due_date"]) == ("2026-03-10T00:00:00Z", "2026-04-09T00:00:00Z")
    assert [(item["code"], item["value"]) for item in posted["nominal_analysis_items"]] == [("4000", D("1000.00"))]
    [tax] = posted["tax_analysis_items"]
    assert (tax["id"], tax["goods_amount"], tax["tax_amount"]) == (sandbox.ids.tax_codes[1], D("1000.00"), D("200"))
    assert sandbox.customer_balance() == SEED_BALANCE + D("1200.00")


def test_credit_note_posted_values_are_negative(sandbox: SandboxCompany) -> None:
    posted = sandbox.post_invoice("CRN-1", D("50.00"), D("10.00"), endpoint="sales_credit_notes")
    assert posted["trader_transaction_type"] == "TradingAccountEntryTypeCreditNote"
    assert (posted["document_goods_value"], posted["document_tax_value"], posted["document_gross_value"]) == (
        D("-50.00"),
        D("-10.00"),
        D("-60.00"),
    )
    assert posted["document_outstanding_value"] == D("-60.00")
    assert posted["nominal_analysis_items"][0]["value"] == D("-50.00")
    assert posted["tax_analysis_items"][0]["tax_amount"] == D("-10.00")
    assert sandbox.customer_balance() == D("111.00")


def test_receipt_posted_values_and_bank_entry(sandbox: SandboxCompany) -> None:
    posted = sandbox.post_receipt("PAY-1", D("171.00"))
    assert (posted["document_gross_value"], posted["document_outstanding_value"]) == (D("-171.00"), D("-171.00"))
    [bank_item] = posted["bank_items"]
    assert (bank_item["bank_code"], bank_item["cheque_value"]) == ("AMZCLR", D("171.00"))
    [entry] = sandbox.client.get(f"banks/{sandbox.ids.amzclr}/bank_posted_transactions")
    assert (entry["bank_transaction_type"], entry["cheque_value"], entry["reference"]) == (
        "EntryTypeSalesReceipt",
        D("171.00"),
        "PAY-1",
    )
    assert entry["urn"] == posted["urn"]
    assert sandbox.customer_balance() == 0


def test_receipt_has_sages_transaction_type(sandbox: SandboxCompany) -> None:
    posted = sandbox.post_receipt("PAY-1", D("171.00"))
    assert posted["trader_transaction_type"] == "TradingAccountEntryTypePurchasePaymentSalesReceipt"


def test_bank_payment_entry_is_money_out(sandbox: SandboxCompany) -> None:
    post_bank_payment(sandbox, None, MARCH)
    [entry] = sandbox.client.get(f"banks/{sandbox.ids.amzclr}/bank_posted_transactions")
    assert (entry["bank_transaction_type"], entry["cheque_value"]) == ("EntryTypeNominalPayment", D("-300.00"))
    assert [(item["code"], item["value"]) for item in entry["nominal_analysis_items"]] == [("6100", D("250.00"))]


def test_bank_transfer_writes_one_entry_per_bank(sandbox: SandboxCompany) -> None:
    receive_171(sandbox)
    post_bank_transfer(sandbox, None, MARCH)
    entries = sandbox.client.get("bank_posted_transactions", {"$filter": "reference eq 'SWEEP-1'", "$orderby": "id"})
    assert [(e["bank_id"], e["bank_transaction_type"], e["cheque_value"]) for e in entries] == [
        (sandbox.ids.amzclr, "EntryTypeTransferPayment", D("-150.00")),
        (sandbox.ids.barc01, "EntryTypeTransferReceipt", D("150.00")),
    ]
    assert sandbox.bank_balances() == {"BARC01": D("150.00"), "AMZCLR": D("21.00")}


# --- analysis lines must add up -------------------------------------------------------------------------


def invoice_with(sandbox: SandboxCompany, **changes: Any) -> dict[str, Any]:
    return sandbox.invoice_body("INV-BAD", D("100.00"), D("20.00")) | changes


def bank_payment_with(sandbox: SandboxCompany, *items: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {"bank_id": sandbox.ids.amzclr, "transaction_date": stamp(MARCH), "nominal_analysis_items": list(items)} | (
        changes
    )


@pytest.mark.parametrize(
    ("endpoint", "make_body", "expected"),
    [
        (
            "sales_invoices",
            lambda s: invoice_with(s, nominal_analysis_items=[{"code": "4000", "value": D("90.00")}]),
            "The sum of nominal_analysis_items value (90",
        ),
        (
            "sales_invoices",
            lambda s: invoice_with(
                s, tax_analysis_items=[{"id": s.ids.tax_codes[1], "goods_amount": D("99.99"), "tax_amount": D("20")}]
            ),
            "The sum of tax_analysis_items goods_amount (99.99",
        ),
        (
            "sales_invoices",
            lambda s: invoice_with(
                s, tax_analysis_items=[{"id": s.ids.tax_codes[1], "goods_amount": D("100"), "tax_amount": D("19.99")}]
            ),
            "The sum of tax_analysis_items tax_amount (19.99",
        ),
        (
            "sales_credit_notes",
            lambda s: invoice_with(s, document_goods_value=D("100.01")),
            "The sum of nominal_analysis_items value (100",
        ),
        (
            "bank_payment",
            lambda s: bank_payment_with(
                s,
                {
                    "code": "6100",
                    "goods_value": D("10"),
                    "tax_value": D("2"),
                    "gross_value": D("12.01"),
                    "tax_code_id": s.ids.tax_codes[1],
                },
            ),
            "The field 'nominal_analysis_items[0].gross_value' (12.01) must equal goods_value + tax_value.",
        ),
        (
            "bank_receipt",
            lambda s: bank_payment_with(
                s,
                {"code": "3000", "goods_value": D("10"), "tax_code_id": s.ids.tax_codes[9]},
                {"code": "3000", "goods_value": D("5"), "tax_code_id": s.ids.tax_codes[9]},
                cheque_value=D("15.01"),
            ),
            "The field 'cheque_value' (15.01) does not equal the sum",
        ),
    ],
    ids=["invoice nominal", "invoice tax goods", "invoice tax", "credit note goods", "bank gross", "cheque value"],
)
def test_analysis_that_does_not_add_up_is_refused(
    sandbox: SandboxCompany, endpoint: str, make_body: Callable[[SandboxCompany], dict], expected: str
) -> None:
    before = Snapshot.take(sandbox)
    assert refusal_message(lambda: sandbox.client.post(endpoint, make_body(sandbox))).startswith(expected)
    assert Snapshot.take(sandbox) == before


def test_negative_invoice_lines_that_add_up_are_accepted(sandbox: SandboxCompany) -> None:
    before = Snapshot.take(sandbox)
    body = sandbox.invoice_body("INV-NEG", D("1000.00"), D("200.00")) | {
        "nominal_analysis_items": [{"code": "4000", "value": D("1100.00")}, {"code": "4050", "value": D("-100.00")}]
    }
    sandbox.client.post("sales_invoices", body)
    after = Snapshot.take(sandbox)
    assert movement(before.nominal, after.nominal) == {
        "1100": D("1200.00"),
        "4000": D("-1100.00"),
        "4050": D("100.00"),
        "2200": D("-200.00"),
    }
    assert [item["value"] for item in sandbox.posted_by_reference("INV-NEG")["nominal_analysis_items"]] == [
        D("1100.00"),
        D("-100.00"),
    ]
    sandbox.assert_ledger_sound()


def test_negative_bank_lines_that_add_up_are_accepted(sandbox: SandboxCompany) -> None:
    before = Snapshot.take(sandbox)
    items = (
        {"code": "6100", "goods_value": D("300"), "tax_value": D("60"), "tax_code_id": sandbox.ids.tax_codes[1]},
        {"code": "6300", "goods_value": D("-50"), "tax_code_id": sandbox.ids.tax_codes[9]},
    )
    sandbox.client.post("bank_payment", bank_payment_with(sandbox, *items, cheque_value=D("310.00")))
    after = Snapshot.take(sandbox)
    assert movement(before.nominal, after.nominal) == {
        "1210": D("-310.00"),
        "6100": D("300.00"),
        "6300": D("-50.00"),
        "2201": D("60.00"),
    }
    assert movement(before.banks, after.banks) == {"AMZCLR": D("-310.00")}
    sandbox.assert_ledger_sound()


# --- allocations ----------------------------------------------------------------------------------------


def test_partial_allocation_leaves_the_rest_outstanding(sandbox: SandboxCompany) -> None:
    receipt = sandbox.post_receipt("PAY-100", D("100.00"))
    before = Snapshot.take(sandbox)
    answer = sandbox.allocate((sandbox.ids.invoice, D("100.00")), (receipt["id"], D("-100.00")))
    assert answer["allocation_lines"] == [
        {"posted_tran_id": sandbox.ids.invoice, "value_to_allocate": D("100.00")},
        {"posted_tran_id": receipt["id"], "value_to_allocate": D("-100.00")},
    ]
    invoice, receipt = sandbox.posted(sandbox.ids.invoice), sandbox.posted(receipt["id"])
    assert (invoice["document_outstanding_value"], invoice["document_allocated_value"]) == (D("71.00"), D("100.00"))
    assert invoice.get("full_settlement_date") in (None, "")
    assert (receipt["document_outstanding_value"], receipt["document_allocated_value"]) == (0, D("-100.00"))
    assert receipt["full_settlement_date"] == "2026-03-15T00:00:00Z"
    assert [item["allocation_value"] for item in invoice["allocation_history_items"]] == [D("100.00")]
    assert Snapshot.take(sandbox) == before  # an allocation moves no balance
    sandbox.assert_ledger_sound()


def test_full_allocation_settles_both_sides(sandbox: SandboxCompany) -> None:
    receipt = sandbox.post_receipt("PAY-171", SEED_BALANCE)
    sandbox.allocate((sandbox.ids.invoice, SEED_BALANCE), (receipt["id"], -SEED_BALANCE))
    for posted_id in (sandbox.ids.invoice, receipt["id"]):
        posted = sandbox.posted(posted_id)
        assert posted["document_outstanding_value"] == 0
        assert posted["full_settlement_date"] == "2026-03-15T00:00:00Z"
    settled = sandbox.client.get("sales_posted_transactions", {"$filter": "document_outstanding_value eq 0"})
    assert {row["id"] for row in settled} == {sandbox.ids.invoice, receipt["id"]}


def test_credit_note_allocates_against_an_invoice(sandbox: SandboxCompany) -> None:
    credit = sandbox.post_invoice("CRN-SHORT", D("50.00"), D("10.00"), endpoint="sales_credit_notes")
    sandbox.allocate((sandbox.ids.invoice, D("60.00")), (credit["id"], D("-60.00")))
    assert sandbox.posted(sandbox.ids.invoice)["document_outstanding_value"] == D("111.00")
    assert sandbox.posted(credit["id"])["document_outstanding_value"] == 0
    assert sandbox.customer_balance() == D("111.00")
    sandbox.assert_ledger_sound()


@pytest.mark.parametrize(
    ("invoice_value", "receipt_value", "expected"),
    [
        (D("100.00"), D("-90.00"), "The allocation_lines must add up to zero; they add up to 10"),
        (D("200.00"), D("-200.00"), "The field 'allocation_lines[0].value_to_allocate' (200"),
        (D("-50.00"), D("50.00"), "The field 'allocation_lines[0].value_to_allocate' (-50"),
        (D("0.00"), D("0.00"), "The field 'allocation_lines[0].value_to_allocate' (0"),
    ],
    ids=["not zero-sum", "over-allocation", "wrong sign", "zero"],
)
def test_bad_allocation_is_refused(
    sandbox: SandboxCompany, invoice_value: Decimal, receipt_value: Decimal, expected: str
) -> None:
    receipt = sandbox.post_receipt("PAY-200", D("200.00"))
    message = refusal_message(
        lambda: sandbox.allocate((sandbox.ids.invoice, invoice_value), (receipt["id"], receipt_value))
    )
    assert message.startswith(expected)
    assert sandbox.posted(sandbox.ids.invoice)["document_outstanding_value"] == SEED_BALANCE
    assert sandbox.posted(receipt["id"])["document_outstanding_value"] == D("-200.00")


def test_allocation_needs_two_distinct_transactions(sandbox: SandboxCompany) -> None:
    receipt = sandbox.post_receipt("PAY-50", D("50.00"))
    assert "at least two lines" in refusal_message(lambda: sandbox.allocate((receipt["id"], D("-50.00"))))
    message = refusal_message(lambda: sandbox.allocate((receipt["id"], D("-50.00")), (receipt["id"], D("50.00"))))
    assert "repeats transaction" in message


def test_allocation_of_another_customers_transaction_is_refused(sandbox: SandboxCompany) -> None:
    other = sandbox.new_customer("AMA002")
    their_invoice = sandbox.post_invoice("INV-THEIRS", D("50.00"), D("10.00"), customer_id=other)
    our_receipt = sandbox.post_receipt("PAY-OURS", D("60.00"))
    message = refusal_message(
        lambda: sandbox.allocate((their_invoice["id"], D("60.00")), (our_receipt["id"], D("-60.00")))
    )
    assert "which is not on customer AMA001's account" in message
    message = refusal_message(
        lambda: sandbox.allocate((their_invoice["id"], D("60.00")), (our_receipt["id"], D("-60.00")), customer_id=other)
    )
    assert "which is not on customer AMA002's account" in message
    assert sandbox.posted(their_invoice["id"])["document_outstanding_value"] == D("60.00")
    assert sandbox.posted(our_receipt["id"])["document_outstanding_value"] == D("-60.00")


# --- closed periods -------------------------------------------------------------------------------------


def close_february(sandbox: SandboxCompany) -> None:
    closed = sandbox.backoffice.post("periods/close", {"up_to": "2026-02-28"})
    assert len(closed["closed_accounting_period_ids"]) == 2  # January and February


@pytest.mark.parametrize(
    "case",
    [case for case in POSTINGS],
    ids=POSTING_IDS,
)
def test_posting_into_a_closed_period_is_refused(sandbox: SandboxCompany, case: PostingCase) -> None:
    context = case.prepare(sandbox)
    close_february(sandbox)
    before = Snapshot.take(sandbox)
    message = refusal_message(lambda: case.post(sandbox, context, FEBRUARY))
    assert "closed" in message and "2026-02-12" in message
    assert Snapshot.take(sandbox) == before
    case.post(sandbox, context, MARCH)  # March is still open
    after = Snapshot.take(sandbox)
    assert movement(before.nominal, after.nominal) == case.nominal
    sandbox.assert_ledger_sound()


def test_posting_outside_every_financial_year_is_refused(sandbox: SandboxCompany) -> None:
    message = refusal_message(lambda: post_invoice(sandbox, None, "2027-01-12"))
    assert "not in any financial year" in message


def classify(sandbox: SandboxCompany, day: str) -> str:
    answer = sandbox.client.post("transaction_date_validation", {"date": stamp(day), "ledger_type": "SalesLedger"})
    return answer["classification"]


def test_transaction_date_validation_classifies_dates(sandbox: SandboxCompany) -> None:
    days = [
        "2026-03-01",
        "2026-03-31",
        "2026-01-10",
        "2026-02-10",
        "2026-04-10",
        "2026-12-31",
        "2025-12-31",
        "2027-01-01",
    ]
    assert [classify(sandbox, day) for day in days] == [
        "Normal",
        "Normal",
        "Acceptable",
        "Acceptable",
        "Acceptable",
        "Acceptable",
        "Unacceptable",
        "Unacceptable",
    ]
    close_february(sandbox)
    assert [classify(sandbox, day) for day in ("2026-01-10", "2026-02-28", "2026-03-01", "2026-04-10")] == [
        "Unacceptable",
        "Unacceptable",
        "Normal",
        "Acceptable",
    ]
    answer = sandbox.client.post("transaction_date_validation", {"date": stamp("2026-02-10")})
    assert "closed" in answer["message"]


# --- sales order processing -----------------------------------------------------------------------------


def stock(sandbox: SandboxCompany, product: int) -> tuple[Decimal, Decimal, Decimal]:
    """(quantity_in_stock, quantity_allocated_sop, free_stock_available) of a product, in Each."""
    holding = sandbox.holding(sandbox.ids.products[product])
    return holding["quantity_in_stock"], holding["quantity_allocated_sop"], holding["free_stock_available"]


def test_order_allocates_free_stock_converting_cases_to_each(sandbox: SandboxCompany) -> None:
    assert [stock(sandbox, product) for product in (0, 1)] == [(D(216), 0, D(216)), (D(235), 0, D(235))]
    order = sandbox.new_order(
        sandbox.order_line(0, D("3"), D("60.00"), case=True), sandbox.order_line(1, D("7"), D("4.50"))
    )
    assert [stock(sandbox, product) for product in (0, 1)] == [(D(216), D(36), D(180)), (D(235), D(7), D(228))]
    assert sandbox.client.get(f"products/{sandbox.ids.products[0]}")["free_stock_quantity"] == D(180)
    lines = sandbox.client.get(f"sop_orders/{order['id']}/sop_order_lines")
    assert [
        (line["line_quantity"], line["stock_unit_line_quantity"], line["allocated_quantity"], line["allocation_status"])
        for line in lines
    ] == [(D(3), D(36), D(3), "Full"), (D(7), D(7), D(7), "Full")]
    assert (order["total_net_value"], order["total_tax_value"], order["total_gross_value"]) == (
        D("211.50"),
        D("42.30"),
        D("253.80"),
    )
    customer = sandbox.client.get(f"customers/{sandbox.ids.customer}")
    assert customer["value_of_current_orders_in_sop"] == D("253.80")
    assert customer["balance"] == SEED_BALANCE  # an order is not a posting


def test_order_beyond_free_stock_allocates_whole_cases_only(sandbox: SandboxCompany) -> None:
    order = sandbox.new_order(sandbox.order_line(0, D("20"), D("60.00"), case=True))  # 240 Each, 216 free
    [line] = sandbox.client.get(f"sop_orders/{order['id']}/sop_order_lines")
    assert (line["allocated_quantity"], line["to_allocate_quantity"], line["allocation_status"]) == (
        D(18),
        D(2),
        "Part",
    )
    assert stock(sandbox, 0) == (D(216), D(216), D(0))


def test_lines_are_shown_only_with_expand(sandbox: SandboxCompany) -> None:
    order_id = sandbox.ids.order
    assert "lines" not in sandbox.client.get(f"sop_orders/{order_id}")
    expanded = sandbox.client.get(f"sop_orders/{order_id}", {"$expand": "lines"})
    assert [(line["product_id"], line["line_quantity"]) for line in expanded["lines"]] == [
        (sandbox.ids.products[0], D(2)),
        (sandbox.ids.products[1], D(5)),
    ]
    assert all("lines" not in order for order in sandbox.client.get("sop_orders"))


def test_expand_lines_on_the_order_list(sandbox: SandboxCompany) -> None:
    [order] = sandbox.client.get("sop_orders", {"$expand": "lines"})
    assert [(line["line_number"], line["selling_unit_id"]) for line in order["lines"]] == [
        (1, sandbox.ids.case_unit),
        (2, sandbox.ids.each_unit),
    ]


def test_order_lines_honour_filter_and_orderby(sandbox: SandboxCompany) -> None:
    path = f"sop_orders/{sandbox.ids.order}/sop_order_lines"
    filtered = sandbox.client.get(path, {"$filter": f"product_id eq {sandbox.ids.products[1]}"})
    assert [line["product_id"] for line in filtered] == [sandbox.ids.products[1]]
    descending = sandbox.client.get(path, {"$orderby": "line_number desc"})
    assert [line["line_number"] for line in descending] == [2, 1]


def test_despatch_moves_stock_and_writes_the_despatch_views(sandbox: SandboxCompany) -> None:
    order = sandbox.new_order(
        sandbox.order_line(0, D("3"), D("60.00"), case=True),
        sandbox.order_line(1, D("7"), D("4.50")),
        customer_document_no="PO-AMZ-0003",
    )
    nominal_before = sandbox.nominal_balances()
    despatch = sandbox.backoffice.post(f"sop_orders/{order['id']}/despatch", {"date": MARCH})
    assert [stock(sandbox, product) for product in (0, 1)] == [(D(180), 0, D(180)), (D(228), 0, D(228))]
    assert sandbox.client.get(f"sop_despatch_receipts/{despatch['id']}")["despatch_date"] == stamp(MARCH)
    [view] = sandbox.client.get("sop_order_despatch_views", {"$filter": f"sop_order_id eq {order['id']}"})
    assert (view["sop_despatch_id"], view["sop_order_customer_document_no"], view["customer_reference"]) == (
        despatch["id"],
        "PO-AMZ-0003",
        "AMA001",
    )
    line_views = sandbox.client.get("sop_order_despatch_line_views", {"$filter": f"sop_order_id eq {order['id']}"})
    assert sorted(view["sop_despatch_line_quantity"] for view in line_views) == [D(3), D(7)]
    expanded = sandbox.client.get(f"sop_orders/{order['id']}", {"$expand": "lines"})
    assert expanded["despatch_receipt_status"] == "Complete"
    assert [line["stock_unit_despatch_receipt_quantity"] for line in expanded["lines"]] == [D(36), D(7)]
    assert sandbox.nominal_balances() == nominal_before  # no stock valuation in the sandbox's nominal


def test_refused_despatch_leaves_no_trace(sandbox: SandboxCompany) -> None:
    order = sandbox.new_order(
        sandbox.order_line(0, D("3"), D("60.00"), case=True), sandbox.order_line(1, D("2"), D("4.50"))
    )
    first, second = (line["id"] for line in sandbox.client.get(f"sop_orders/{order['id']}/sop_order_lines"))
    receipts_before = len(sandbox.client.get("sop_despatch_receipts"))
    lines = [{"sop_order_line_id": first, "quantity": 1}, {"sop_order_line_id": second, "quantity": 3}]
    message = refusal_message(
        lambda: sandbox.backoffice.post(f"sop_orders/{order['id']}/despatch", {"date": MARCH, "lines": lines})
    )
    assert "lines[1].quantity" in message
    assert [stock(sandbox, product) for product in (0, 1)] == [(D(216), D(36), D(180)), (D(235), D(2), D(233))]
    assert len(sandbox.client.get("sop_despatch_receipts")) == receipts_before
    assert sandbox.client.get("sop_order_despatch_views", {"$filter": f"sop_order_id eq {order['id']}"}) == []


def test_invoice_posts_the_despatched_goods_with_the_customer_po(sandbox: SandboxCompany) -> None:
    order_id = despatched_order(sandbox)
    invoiced = sandbox.backoffice.post(f"sop_orders/{order_id}/invoice", {"date": MARCH})
    posted = sandbox.posted(invoiced["posted_transaction_id"])
    assert (posted["reference"], posted["second_reference"]) == (invoiced["invoice_document_no"], "PO-AMZ-0002")
    assert (posted["document_goods_value"], posted["document_tax_value"], posted["document_gross_value"]) == (
        D("73.50"),
        D("14.70"),
        D("88.20"),
    )
    assert posted["transaction_date"] == stamp(MARCH)
    [view] = sandbox.client.get(
        "sop_order_return_invoice_credit_views", {"$filter": f"sop_order_return_id eq {order_id}"}
    )
    assert (view["sop_invoice_credit_id"], view["sop_invoice_credit_document_no"]) == (
        posted["id"],
        invoiced["invoice_document_no"],
    )
    assert (view["sop_order_return_customer_document_no"], view["sop_invoice_credit_total_gross_value"]) == (
        "PO-AMZ-0002",
        D("88.20"),
    )
    order = sandbox.client.get(f"sop_orders/{order_id}")
    assert (order["invoice_credit_status"], order["document_status"]) == ("Complete", "Complete")
    customer = sandbox.client.get(f"customers/{sandbox.ids.customer}")
    assert (customer["balance"], customer["value_of_current_orders_in_sop"]) == (SEED_BALANCE + D("88.20"), 0)
    assert "nothing despatched" in refusal_message(
        lambda: sandbox.backoffice.post(f"sop_orders/{order_id}/invoice", {"date": MARCH})
    )


def test_partial_despatch_is_invoiced_on_its_own(sandbox: SandboxCompany) -> None:
    order = sandbox.new_order(sandbox.order_line(0, D("3"), D("60.00"), case=True))
    [line] = order["lines"] if "lines" in order else sandbox.client.get(f"sop_orders/{order['id']}/sop_order_lines")
    sandbox.backoffice.post(
        f"sop_orders/{order['id']}/despatch",
        {"date": MARCH, "lines": [{"sop_order_line_id": line["id"], "quantity": 1}]},
    )
    assert stock(sandbox, 0) == (D(204), D(24), D(180))
    invoiced = sandbox.backoffice.post(f"sop_orders/{order['id']}/invoice", {"date": MARCH})
    posted = sandbox.posted(invoiced["posted_transaction_id"])
    assert (posted["document_goods_value"], posted["document_tax_value"]) == (D("60.00"), D("12.00"))
    state = sandbox.client.get(f"sop_orders/{order['id']}")
    assert (state["despatch_receipt_status"], state["invoice_credit_status"], state["document_status"]) == (
        "Partial",
        "Partial",
        "Live",
    )
    sandbox.assert_ledger_sound()
