"""The sandbox over real HTTP: OData options, Sage's headers, its 400/401/404/405 answers, concurrency.

Every GET body these tests receive is also held to Sage's response schema (see tests/conftest.py).
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import SandboxCompany

D = Decimal


def refused(
    sandbox: SandboxCompany,
    method: str,
    path: str,
    *,
    status: int = 400,
    params: dict[str, str] | None = None,
    body: object = None,
    content: str | bytes | None = None,
    headers: dict[str, str] | None = None,
) -> str:
    """Send a request Sage refuses; check the status and return the message it gave."""
    response = sandbox.raw(method, path, params=params, body=body, content=content, headers=headers)
    assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()["message"] if response.content else ""


def references(rows: list[dict[str, Any]]) -> set[str]:
    return {row["reference"] for row in rows}


# --- OData -----------------------------------------------------------------------------------------------

# (reference, name, payment_terms_days); the seeded AMA001 has 30 days.
ODATA_CUSTOMERS = [
    ("C001", "Alpha Ltd", 10),
    ("C002", "O'Brien's Stores", 20),
    ("C003", "Beta 100% Ltd", 30),
    ("C004", "Gamma_Ltd", 40),
]


@pytest.fixture
def customers(sandbox: SandboxCompany) -> SandboxCompany:
    for reference, name, days in ODATA_CUSTOMERS:
        sandbox.client.post("customers", {"reference": reference, "name": name, "payment_terms_days": days})
    return sandbox


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ("reference eq 'C002'", {"C002"}),
        ("reference ne 'AMA001'", {"C001", "C002", "C003", "C004"}),
        ("payment_terms_days gt 20", {"C003", "C004", "AMA001"}),
        ("payment_terms_days ge 20", {"C002", "C003", "C004", "AMA001"}),
        ("payment_terms_days lt 30", {"C001", "C002"}),
        ("payment_terms_days le 30", {"C001", "C002", "C003", "AMA001"}),
        ("payment_terms_days ge 20 and payment_terms_days le 30", {"C002", "C003", "AMA001"}),
        ("reference eq 'C001' or reference eq 'C004'", {"C001", "C004"}),
        ("(reference eq 'C001' or reference eq 'C004') and payment_terms_days gt 10", {"C004"}),
        ("name eq 'O''Brien''s Stores'", {"C002"}),
        ("startswith(name, 'Alpha')", {"C001"}),
        ("contains(name, '''')", {"C002"}),
        ("contains(name, '100%')", {"C003"}),
        ("contains(name, '_')", {"C004"}),
        ("contains(name, 'Ltd') and not startswith(name, 'Alpha')", {"C003", "C004"}),
        ("date_time_updated gt 2000-01-01T00:00:00Z", {"C001", "C002", "C003", "C004", "AMA001"}),
        ("date_time_updated lt 2000-01-01T00:00:00Z", set()),
    ],
)
def test_filter(customers: SandboxCompany, filter_: str, expected: set[str]) -> None:
    assert references(customers.client.get("customers", {"$filter": filter_})) == expected


def test_filter_on_date_time_updated_with_z_dates(customers: SandboxCompany) -> None:
    client = customers.client
    before = max(row["date_time_updated"] for row in client.get("customers"))
    assert before.endswith("Z")
    time.sleep(1.05)  # the stamps have whole seconds
    client.post("customers", {"reference": "LATE", "name": "Late arrival"})
    assert references(client.get("customers", {"$filter": f"date_time_updated gt {before}"})) == {"LATE"}
    assert "LATE" not in references(client.get("customers", {"$filter": f"date_time_updated le {before}"}))
    rows = client.get("customers", {"$filter": f"date_time_updated ge {before}"})
    assert "LATE" in references(rows)


def test_orderby_desc_then_asc(customers: SandboxCompany) -> None:
    rows = customers.client.get("customers", {"$orderby": "payment_terms_days desc,reference"})
    assert [row["reference"] for row in rows] == ["C004", "AMA001", "C003", "C002", "C001"]


def test_skip_pages_in_orderby_order(customers: SandboxCompany) -> None:
    rows = customers.client.get("customers", {"$orderby": "reference desc", "$top": "2", "$skip": "1"})
    assert [row["reference"] for row in rows] == ["C003", "C002"]


def test_skip_without_orderby_is_refused(sandbox: SandboxCompany) -> None:
    assert "$skip requires $orderby" in refused(sandbox, "GET", "customers", params={"$skip": "1"})


def test_top_defaults_to_500_and_is_capped_at_5000(sandbox: SandboxCompany) -> None:
    for n in range(500):  # 501 customers with the seeded one
        sandbox.client.post("customers", {"reference": f"T{n:04d}", "name": f"Customer {n}"})
    assert sandbox.client.get("customers", {"$count": "true"}) == 501
    assert len(sandbox.client.get("customers")) == 500
    assert len(sandbox.client.get("customers", {"$top": "5000"})) == 501
    assert len(list(sandbox.client.get_all("customers", page_size=200))) == 501
    message = refused(sandbox, "GET", "customers", params={"$top": "5001"})
    assert "5000" in message and "5001" in message


def test_select_returns_only_those_keys(customers: SandboxCompany) -> None:
    rows = customers.client.get("customers", {"$select": "id,reference,balance", "$orderby": "reference"})
    assert [set(row) for row in rows] == [{"id", "reference", "balance"}] * 5
    assert rows[0] == {"id": customers.ids.customer, "reference": "AMA001", "balance": D("171.00")}


def test_count_true_returns_the_bare_count(customers: SandboxCompany) -> None:
    response = customers.raw("GET", "customers", params={"$count": "true", "$filter": "payment_terms_days ge 30"})
    assert response.status_code == 200
    assert response.text == "3"


@pytest.mark.parametrize(
    "params",
    [
        {"$filter": "no_such_field eq 1"},
        {"$orderby": "no_such_field desc"},
        {"$select": "id,no_such_field"},
    ],
)
def test_unknown_field_is_refused_by_name(sandbox: SandboxCompany, params: dict[str, str]) -> None:
    assert "no_such_field" in refused(sandbox, "GET", "customers", params=params)


@pytest.mark.parametrize(
    "path",
    ["customers", "banks", "nominal_codes", "sales_posted_transactions", "sop_orders", "warehouse_holdings"],
)
def test_lists_are_bare_json_arrays(sandbox: SandboxCompany, path: str) -> None:
    response = sandbox.raw("GET", path)
    assert response.status_code == 200
    assert response.text.startswith("[")
    assert response.headers["Content-Type"].startswith("application/json")


# --- authentication and Sage's site headers --------------------------------------------------------------


@pytest.mark.parametrize("authorization", ["", "Bearer wrong", "Basic sandbox", "Bearer", "sandbox"])
def test_missing_or_wrong_bearer_is_401(sandbox: SandboxCompany, authorization: str) -> None:
    for method, path in [("GET", "customers"), ("GET", "sites"), ("POST", "customers")]:
        response = sandbox.raw(
            method, path, headers={"Authorization": authorization}, body={"reference": "X", "name": "X"}
        )
        assert response.status_code == 401, (method, path)
    assert sandbox.client.get("customers", {"$filter": "reference eq 'X'"}) == []


def test_missing_x_site_on_a_list_answers_an_empty_list(sandbox: SandboxCompany) -> None:
    response = sandbox.raw("GET", "customers", headers={"X-Site": "", "X-Company": ""})
    assert (response.status_code, response.text) == (200, "[]")


def test_missing_x_site_on_a_post_is_400(sandbox: SandboxCompany) -> None:
    message = refused(sandbox, "POST", "customers", body={"reference": "NOSITE", "name": "x"}, headers={"X-Site": ""})
    assert "X-Site" in message
    assert sandbox.client.get("customers", {"$filter": "reference eq 'NOSITE'"}) == []


@pytest.mark.parametrize("company", ["2", "abc"])
def test_wrong_x_company_is_400(sandbox: SandboxCompany, company: str) -> None:
    assert "X-Company" in refused(sandbox, "GET", "customers", headers={"X-Company": company})


def test_sites_needs_no_x_site(sandbox: SandboxCompany) -> None:
    response = sandbox.raw("GET", "sites", headers={"X-Site": "", "X-Company": ""})
    assert response.status_code == 200
    [site] = response.json()
    assert site["site_id"] == sandbox.client.site_id
    assert int(site["company_id"]) == sandbox.client.company_id


# --- Sage's 400s name the field --------------------------------------------------------------------------


def receipt_with(sandbox: SandboxCompany, **changes: Any) -> dict[str, Any]:
    """A good receipt body with some fields changed (or left out, with ...)."""
    body = sandbox.receipt_body("PAY-1", D("10.00")) | changes
    return {key: value for key, value in body.items() if value is not ...}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"customer_id": ...}, "The field 'customer_id' is required."),
        ({"reference": "R" * 21}, "The field 'reference' must be a string with a maximum length of 20."),
        ({"second_reference": None}, "The field 'second_reference' cannot be null."),
        ({"customer_id": "1"}, "The field 'customer_id' must be an integer."),
        ({"cheque_value": "10.00"}, "The field 'cheque_value' must be a number."),
        ({"cheque_value": D("10.001")}, "The field 'cheque_value' must have at most 2 decimal places."),
        ({"transaction_date": "2026-03-12"}, "The field 'transaction_date' must be a date-time"),
        ({"customer_id": 999}, "The field 'customer_id' refers to customer 999, which does not exist."),
        ({"bank_id": 999}, "The field 'bank_id' refers to bank 999, which does not exist."),
    ],
)
def test_bad_receipt_is_refused_naming_the_field(
    sandbox: SandboxCompany, changes: dict[str, Any], expected: str
) -> None:
    message = refused(sandbox, "POST", "sales_receipts", body=receipt_with(sandbox, **changes))
    assert message.startswith(expected)
    assert sandbox.client.get("sales_posted_transactions", {"$filter": "reference eq 'PAY-1'"}) == []
    assert sandbox.customer_balance() == D("171.00")


def test_customer_reference_longer_than_8_is_refused(sandbox: SandboxCompany) -> None:
    message = refused(sandbox, "POST", "customers", body={"reference": "AMAZON001", "name": "Too long"})
    assert message == "The field 'reference' must be a string with a maximum length of 8."


@pytest.mark.parametrize(
    "content",
    ['{"customer_id": 1,', "not json", b"\xff\xfe{}", "", "null", "[]", '"text"', "NaN"],
)
def test_malformed_body_is_400(sandbox: SandboxCompany, content: str | bytes) -> None:
    message = refused(sandbox, "POST", "sales_receipts", content=content)
    assert "JSON" in message or "cheque_value" in message


def test_unknown_id_is_404(sandbox: SandboxCompany) -> None:
    assert "999" in refused(sandbox, "GET", "customers/999", status=404)
    refused(sandbox, "GET", "sales_posted_transactions/999", status=404)
    refused(sandbox, "GET", "sop_orders/999/sop_order_lines", status=404)


@pytest.mark.parametrize("path", ["no_such_resource", "customers/1/no_such_child", "customers/1/2/3"])
def test_unknown_path_is_404(sandbox: SandboxCompany, path: str) -> None:
    refused(sandbox, "GET", path, status=404)


def test_path_outside_the_api_is_404(sandbox: SandboxCompany) -> None:
    response = sandbox.http.get(sandbox.root + "uk/sage200/accounts/v1/customers", headers=sandbox.headers())
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "sales_receipts"), ("DELETE", "sales_receipts"), ("PUT", "sales_invoices"), ("POST", "sites")],
)
def test_method_the_path_lacks_is_405(sandbox: SandboxCompany, method: str, path: str) -> None:
    message = refused(sandbox, method, path, status=405, body={})
    assert method in message


def test_patch_is_405(sandbox: SandboxCompany) -> None:
    refused(sandbox, "PATCH", "customers", status=405, body={})


# --- never a 500 -----------------------------------------------------------------------------------------

GARBAGE_QUERIES = [
    "$filter=(((((",
    "$filter=name%20eq",
    "$filter=name%20eq%20'unterminated",
    "$filter=reference%20eq%201",
    "$filter=date_time_updated%20gt%20'not%20a%20date'",
    "$filter=date_time_updated%20gt%202026-02-30T00:00:00Z",
    "$filter=id%20eq%2099999999999999999999999",
    "$filter=startswith(name)",
    "$filter=nosuchfunction(name,%20'a')",
    "$filter=" + "(" * 40 + "id%20eq%201" + ")" * 40,
    "$filter=" + "%20or%20".join(["id%20eq%201"] * 400),
    "$filter=%ff%fe",
    "$filter=name%20eq%20'%00'",
    "$top=99999999999999999999",
    "$top=-1",
    "$top=abc",
    "$top=",
    "$skip=1&$orderby=nope",
    "$skip=-5&$orderby=id",
    "$orderby=name%20desc%20desc",
    "$orderby=",
    "$select=",
    "$select=id,,name",
    "$count=maybe",
    "$bogus=1",
    "%zz=%%",
    "&&&=&=",
    "$filter=" + "x" * 20000,
]
GARBAGE_PATHS = [
    "customers/abc",
    "customers/1.5",
    "customers/-1",
    "customers/0",
    "customers/%20",
    "sop_orders/abc/sop_order_lines",
    f"sop_orders/1/sop_order_lines/{'9' * 12}",
    "sop_orders/1/sop_order_lines/abc",
    "sales_posted_transactions/1e3",
]
GARBAGE_BODIES: list[tuple[str, str]] = [
    ("sales_receipts", '{"customer_id": {}, "bank_id": [], "cheque_value": true}'),
    ("sales_receipts", '{"customer_id": 1, "bank_id": 1, "cheque_value": Infinity}'),
    ("sales_receipts", '{"customer_id": 1, "bank_id": 1, "cheque_value": -5}'),
    ("sales_receipts", '{"customer_id": 1, "bank_id": 1, "cheque_value": 0}'),
    ("sales_receipts", '{"customer_id": 1.5, "bank_id": 1, "cheque_value": 1}'),
    ("sales_receipts", '{"customer_id": 1, "bank_id": 1, "cheque_value": 1, "settlement_discount_value": 1}'),
    ("sales_allocations", '{"customer_id": 1, "allocation_lines": "all"}'),
    ("sales_allocations", '{"customer_id": 1, "allocation_lines": [null]}'),
    ("sales_allocations", '{"customer_id": 1, "allocation_lines": []}'),
    (
        "sales_allocations",
        '{"customer_id": 1, "allocation_lines": [{"posted_tran_id": 999, "value_to_allocate": 1},'
        ' {"posted_tran_id": 1, "value_to_allocate": -1}]}',
    ),
    (
        "sales_allocations",
        '{"customer_id": 1, "allocation_lines": [{"posted_tran_id": 1, "value_to_allocate": 1},'
        ' {"posted_tran_id": 1, "value_to_allocate": -1}]}',
    ),
    ("sales_invoices", '{"customer_id": 1}'),
    ("sales_invoices", '{"customer_id": 1, "nominal_analysis_items": [{}], "tax_analysis_items": [{}]}'),
    (
        "sales_invoices",
        '{"customer_id": 1, "nominal_analysis_items": [{"code": "4000", "value": 1}],'
        ' "tax_analysis_items": [{"id": 999, "goods_amount": 1, "tax_amount": 0}]}',
    ),
    (
        "sales_invoices",
        '{"customer_id": 1, "nominal_analysis_items": [{"code": "NOPE", "value": 1}],'
        ' "tax_analysis_items": [{"id": 2, "goods_amount": 1, "tax_amount": 0}]}',
    ),
    ("bank_payment", '{"bank_id": 1, "nominal_analysis_items": []}'),
    ("bank_payment", '{"bank_id": 1, "nominal_analysis_items": [{"code": "6100"}]}'),
    ("bank_payment", '{"bank_id": 1, "nominal_analysis_items": [{"code": "6100", "goods_value": 1}]}'),
    ("bank_transfer", '{"bank_from_id": 1, "bank_to_id": 1, "payment_value": 1}'),
    ("bank_transfer", '{"bank_from_id": 1, "bank_to_id": 2, "payment_value": 1, "receipt_value": 2}'),
    ("sop_orders", '{"customer_id": 1, "document_no": "", "lines": []}'),
    (
        "sop_orders",
        '{"customer_id": 1, "document_no": "", "lines": [{"line_type": "EnumLineTypeStandard",'
        ' "product_id": 1, "warehouse_id": 1, "code": "x", "description": "x", "line_quantity": -1}]}',
    ),
    ("customers", '{"reference": "AMA001", "name": "Duplicate"}'),
    ("transaction_date_validation", '{"date": "yesterday"}'),
]


def test_garbage_never_gets_a_500(sandbox: SandboxCompany) -> None:
    answers: list[tuple[str, int]] = []
    for query in GARBAGE_QUERIES:
        answers.append((f"GET customers?{query[:60]}", sandbox.raw("GET", "customers", query=query).status_code))
    for path in GARBAGE_PATHS:
        answers.append((f"GET {path}", sandbox.raw("GET", path).status_code))
    for path, content in GARBAGE_BODIES:
        answers.append((f"POST {path} {content[:60]}", sandbox.raw("POST", path, content=content).status_code))
    assert [(request, status) for request, status in answers if status not in (200, 400, 404)] == []
    assert [request for request, status in answers if status == 200 and request.startswith("POST")] == []
    sandbox.assert_ledger_sound()
    assert sandbox.customer_balance() == D("171.00")


@pytest.mark.parametrize("path", ["customers/abc/sales_posted_transactions", "banks/x/bank_posted_transactions"])
def test_non_numeric_parent_id_is_not_a_500(sandbox: SandboxCompany, path: str) -> None:
    assert sandbox.raw("GET", path).status_code in (400, 404)


def test_ids_beyond_int64_are_not_a_500(sandbox: SandboxCompany) -> None:
    huge = "99999999999999999999"
    assert sandbox.raw("GET", f"customers/{huge}").status_code == 404
    content = f'{{"customer_id": {huge}, "bank_id": 1, "cheque_value": 1}}'
    assert "customer_id" in refused(sandbox, "POST", "sales_receipts", content=content)


def test_eighteen_digit_amount_is_not_a_500(sandbox: SandboxCompany) -> None:
    content = '{"customer_id": 1, "bank_id": 2, "cheque_value": 1234567890123456.78}'
    assert sandbox.raw("POST", "sales_receipts", content=content).status_code in (200, 400)


# --- read-only fields ------------------------------------------------------------------------------------


def test_read_only_customer_balance_in_a_post_is_ignored(sandbox: SandboxCompany) -> None:
    created = sandbox.client.post("customers", {"reference": "RICH", "name": "Rich", "balance": D("1000.00")})
    assert sandbox.customer_balance(created["id"]) == 0
    sandbox.assert_ledger_sound()


def test_read_only_bank_balance_in_a_post_is_ignored(sandbox: SandboxCompany) -> None:
    body = {"code": "RICHB", "sort_code": "1", "bank_account_nominal_reference": "3000", "balance": 5000}
    sandbox.client.post("banks", body)
    assert sandbox.bank_balances()["RICHB"] == 0


def test_read_only_id_in_a_post_is_ignored(sandbox: SandboxCompany) -> None:
    response = sandbox.raw("POST", "customers", body={"id": sandbox.ids.customer, "reference": "DUP", "name": "x"})
    assert response.status_code == 200
    assert response.json()["id"] != sandbox.ids.customer


# --- concurrency -----------------------------------------------------------------------------------------

THREADS = 8
RECEIPTS_PER_THREAD = 10
INVOICE_GOODS, INVOICE_TAX = D("1000.00"), D("200.00")


def receipt_value(thread: int, n: int) -> Decimal:
    return D("10.00") + D(thread * RECEIPTS_PER_THREAD + n) / 100  # 10.00 … 10.79, all different


def pay_and_allocate(sandbox: SandboxCompany, thread: int, invoice_id: int, errors: list[BaseException]) -> None:
    """One thread's work: receipts posted and each allocated against the thread's invoice at once."""
    try:
        with sandbox.new_client() as client:
            for n in range(RECEIPTS_PER_THREAD):
                value, reference = receipt_value(thread, n), f"T{thread}R{n}"
                client.post("sales_receipts", sandbox.receipt_body(reference, value))
                [receipt] = client.get("sales_posted_transactions", {"$filter": f"reference eq '{reference}'"})
                client.post("sales_allocations", sandbox.allocation_body((invoice_id, value), (receipt["id"], -value)))
    except BaseException as exc:  # reported by the main thread
        errors.append(exc)


def test_concurrent_receipts_and_allocations_keep_the_ledger_exact(sandbox: SandboxCompany) -> None:
    invoices = [sandbox.post_invoice(f"CINV{t}", INVOICE_GOODS, INVOICE_TAX)["id"] for t in range(THREADS)]
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=pay_and_allocate, args=(sandbox, t, invoices[t], errors)) for t in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []

    paid = {t: sum((receipt_value(t, n) for n in range(RECEIPTS_PER_THREAD)), D(0)) for t in range(THREADS)}
    total_paid = sum(paid.values(), D(0))
    assert total_paid == D("831.60")
    gross = INVOICE_GOODS + INVOICE_TAX
    assert sandbox.customer_balance() == D("171.00") + THREADS * gross - total_paid
    assert sandbox.bank_balances() == {"BARC01": D(0), "AMZCLR": total_paid}
    for t, invoice_id in enumerate(invoices):
        invoice = sandbox.posted(invoice_id)
        assert invoice["document_outstanding_value"] == gross - paid[t]
        assert invoice["document_allocated_value"] == paid[t]
        assert len(invoice["allocation_history_items"]) == RECEIPTS_PER_THREAD
    receipts = sandbox.client.get("sales_posted_transactions", {"$filter": "startswith(reference, 'T')"})
    assert len(receipts) == THREADS * RECEIPTS_PER_THREAD
    assert all(receipt["document_outstanding_value"] == 0 for receipt in receipts)
    assert len({receipt["urn"] for receipt in receipts}) == THREADS * RECEIPTS_PER_THREAD
    balances = sandbox.nominal_balances()
    assert balances["1210"] == total_paid
    assert balances["1100"] == D("171.00") + THREADS * gross - total_paid
    sandbox.assert_ledger_sound()
