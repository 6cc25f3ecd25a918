"""The back office's sales order calls after entry, over HTTP: amending a line, despatching with the warehouse's
own number and note, invoicing chosen quantities under the desk's own number and date.

The seeded company (tests/conftest.py): products 0 and 1 sell in Each or in a Case of 12, with 216 and 235
Each free; AMA001's one order is despatched and invoiced (Sage's despatch and invoice series stand at 1), so
the customer has no value in current orders. Every call a person makes in Sage's desktop client is refused
with a 400 naming the field when Sage would refuse it, and a refused call leaves no trace.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pipelines.sage200.client import dumps

if TYPE_CHECKING:
    from conftest import SandboxCompany

D = Decimal
MARCH = "2026-03-12"
LATER_IN_MARCH = "2026-03-20"  # after the sandbox's today (2026-03-15), in the same open period


def stamp(day: str) -> str:
    return f"{day}T00:00:00Z"


def refusal(sandbox: SandboxCompany, path: str, body: dict[str, Any], *, status: int = 400) -> str:
    """POST to the back office expecting a refusal; its message."""
    response = sandbox.http.post(
        f"{sandbox.root}backoffice/{path}", content=dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status, response.text
    return response.json()["message"]


def three_cases_and_seven_each(sandbox: SandboxCompany, po: str = "PO-WH-1") -> tuple[int, int, int]:
    """A new order: 3 cases of product 0 at 60.00 and 7 each of product 1 at 4.50; (order id, line ids)."""
    order = sandbox.new_order(
        sandbox.order_line(0, D("3"), D("60.00"), case=True),
        sandbox.order_line(1, D("7"), D("4.50")),
        customer_document_no=po,
    )
    first, second = (line["id"] for line in sandbox.client.get(f"sop_orders/{order['id']}/sop_order_lines"))
    return order["id"], first, second


def line_of(sandbox: SandboxCompany, order_id: int, line_id: int) -> dict[str, Any]:
    return sandbox.client.get(f"sop_orders/{order_id}/sop_order_lines/{line_id}")


def free_and_allocated(sandbox: SandboxCompany, product: int) -> tuple[Decimal, Decimal]:
    holding = sandbox.holding(sandbox.ids.products[product])
    return holding["free_stock_available"], holding["quantity_allocated_sop"]


# --- despatch ---------------------------------------------------------------------------------------------


def test_despatch_carries_the_warehouses_own_number_courier_and_note(sandbox: SandboxCompany) -> None:
    order_id, first, second = three_cases_and_seven_each(sandbox)
    body = {
        "date": MARCH,
        "despatch_no": "WH-000417",
        "courier_name": "DPD",
        "consignment_no": "DPD15501234567",
        "notes": "SSCC: 050601230000000018",
        "lines": [{"sop_order_line_id": first, "quantity": "1.5"}],
    }
    despatch = sandbox.backoffice.post(f"sop_orders/{order_id}/despatch", body)
    receipt = sandbox.client.get(f"sop_despatch_receipts/{despatch['id']}")
    assert (receipt["despatch_no"], receipt["despatch_date"], receipt["courier_name"]) == (
        "WH-000417",
        stamp(MARCH),
        "DPD",
    )
    assert (receipt["consignment_no"], receipt["notes"]) == ("DPD15501234567", "SSCC: 050601230000000018")
    [view] = sandbox.client.get("sop_order_despatch_views", {"$filter": f"sop_order_id eq {order_id}"})
    assert (
        view["sop_despatch_document_no"],
        view["sop_despatch_courier_name"],
        view["sop_despatch_consignment_no"],
        view["sop_despatch_notes"],
    ) == ("WH-000417", "DPD", "DPD15501234567", "SSCC: 050601230000000018")
    [line_view] = sandbox.client.get("sop_order_despatch_line_views", {"$filter": f"sop_order_id eq {order_id}"})
    assert (line_view["sop_order_line_id"], line_view["sop_despatch_line_quantity"]) == (first, D("1.5"))
    line = line_of(sandbox, order_id, first)
    assert (
        line["despatch_receipt_quantity"],
        line["stock_unit_despatch_receipt_quantity"],
        line["allocated_quantity"],
        line["stock_unit_allocated_quantity"],
        line["despatch_receipt_status"],
    ) == (D("1.5"), D(18), D("1.5"), D(18), "Partial")
    assert free_and_allocated(sandbox, 0) == (D(180), D(18))  # 18 Each left the shelf, 18 still allocated
    assert line_of(sandbox, order_id, second)["despatch_receipt_status"] == "None"
    # The warehouse's number leaves Sage's series alone: Sage's next note is its second.
    rest = sandbox.backoffice.post(f"sop_orders/{order_id}/despatch", {"date": MARCH})
    assert rest["despatch_no"] == "0000000002"
    assert sandbox.client.get(f"sop_orders/{order_id}")["despatch_receipt_status"] == "Complete"


def test_a_despatch_number_used_before_is_accepted(sandbox: SandboxCompany) -> None:
    """Sage's number series can be reset, so a despatch note number may repeat one used before."""
    first_order, _, _ = three_cases_and_seven_each(sandbox, "PO-WH-1")
    second_order, _, _ = three_cases_and_seven_each(sandbox, "PO-WH-2")
    for order_id in (first_order, second_order):
        sandbox.backoffice.post(f"sop_orders/{order_id}/despatch", {"date": MARCH, "despatch_no": "0000000001"})
    notes = sandbox.client.get("sop_order_despatch_views", {"$filter": "sop_despatch_document_no eq '0000000001'"})
    assert sorted(note["sop_order_id"] for note in notes) == sorted([sandbox.ids.order, first_order, second_order])


NOT_A_LINE = "The field 'lines[0].sop_order_line_id' is not a line of this order."
NOT_A_NUMBER = "The field 'lines[0].quantity' must be a number or a decimal string such as \"1.5\"."
# Bad despatch bodies and Sage's answer to each; every line named is the order's first (3 cases).
DESPATCH_REFUSALS = [
    ({"despatch_no": ""}, "The field 'despatch_no' must not be blank."),
    ({"despatch_no": "D" * 21}, "The field 'despatch_no' must be a string with a maximum length of 20."),
    ({"despatch_no": 417}, "The field 'despatch_no' must be a string."),
    ({"courier_name": "C" * 61}, "The field 'courier_name' must be a string with a maximum length of 60."),
    ({"consignment_no": "N" * 61}, "The field 'consignment_no' must be a string with a maximum length of 60."),
    ({"notes": "S" * 257}, "The field 'notes' must be a string with a maximum length of 256."),
    ({"date": "12/03/2026"}, "The field 'date' must be a date such as 2026-01-31."),
    ({"lines": {"quantity": 1}}, "The field 'lines' must be an array."),
    ({"lines": [{"sop_order_line_id": 999999, "quantity": 1}]}, NOT_A_LINE),
    ({"lines": [{"sop_order_line_id": None, "quantity": 1}]}, NOT_A_LINE),
    ({"lines": [{"quantity": "abc"}]}, NOT_A_NUMBER),
    ({"lines": [{"quantity": None}]}, NOT_A_NUMBER),
    ({"lines": [{"quantity": "1.000001"}]}, "The field 'lines[0].quantity' must have at most 5 decimal places."),
    ({"lines": [{"quantity": "3.5"}]}, "The field 'lines[0].quantity' (3.5) must be between 0 and 3."),
    ({"lines": [{"quantity": 0}]}, "The field 'lines[0].quantity' (0) must be between 0 and 3."),
    ({"lines": [{"quantity": 2}] * 2}, "The field 'lines[1].quantity' (2) must be between 0 and 1."),
]


def naming_line(body: dict[str, Any], line_id: int) -> dict[str, Any]:
    """The body with every line entry that names no line naming `line_id`."""
    if not isinstance(body.get("lines"), list):
        return body
    lines = [{"sop_order_line_id": line_id} | item if isinstance(item, dict) else item for item in body["lines"]]
    return body | {"lines": lines}


def test_despatch_refuses_a_bad_field_and_leaves_no_trace(sandbox: SandboxCompany) -> None:
    order_id, first, _ = three_cases_and_seven_each(sandbox)
    answers = [
        refusal(sandbox, f"sop_orders/{order_id}/despatch", naming_line({"date": MARCH} | change, first))
        for change, _ in DESPATCH_REFUSALS
    ]
    assert answers == [message for _, message in DESPATCH_REFUSALS]
    assert sandbox.client.get("sop_order_despatch_views", {"$filter": f"sop_order_id eq {order_id}"}) == []
    assert line_of(sandbox, order_id, first)["despatch_receipt_quantity"] == 0
    assert free_and_allocated(sandbox, 0) == (D(180), D(36))


# --- invoice ----------------------------------------------------------------------------------------------


def test_invoice_with_chosen_quantities_may_invoice_more_than_is_despatched(sandbox: SandboxCompany) -> None:
    order_id, first, second = three_cases_and_seven_each(sandbox)
    despatch_one = {"date": MARCH, "lines": [{"sop_order_line_id": first, "quantity": 1}]}
    sandbox.backoffice.post(f"sop_orders/{order_id}/despatch", despatch_one)
    body = {
        "date": LATER_IN_MARCH,
        "invoice_no": "INV-DESK-7",
        "lines": [{"sop_order_line_id": first, "quantity": 3}, {"sop_order_line_id": second, "quantity": "2"}],
    }
    invoiced = sandbox.backoffice.post(f"sop_orders/{order_id}/invoice", body)
    assert invoiced["invoice_document_no"] == "INV-DESK-7"
    posted = sandbox.posted(invoiced["posted_transaction_id"])
    # 3 cases at 60.00 and 2 each at 4.50: 189.00 + 37.80 VAT, dated as asked although it is after today.
    assert (
        posted["reference"],
        posted["second_reference"],
        posted["transaction_date"],
        posted["document_goods_value"],
        posted["document_tax_value"],
        posted["document_gross_value"],
    ) == ("INV-DESK-7", "PO-WH-1", stamp(LATER_IN_MARCH), D("189.00"), D("37.80"), D("226.80"))
    lines = [line_of(sandbox, order_id, line_id) for line_id in (first, second)]
    assert [
        (line["invoice_credit_quantity"], line["despatch_receipt_quantity"], line["invoice_credit_status"])
        for line in lines
    ] == [(D(3), D(1), "Complete"), (D(2), D(0), "Partial")]
    assert [line["stock_unit_invoice_credit_quantity"] for line in lines] == [D(36), D(2)]
    assert [line["is_complete"] for line in lines] == [False, False]  # invoiced ahead of despatch: still open
    views = sandbox.client.get(
        "sop_order_return_line_invoice_credit_views", {"$filter": f"sop_invoice_credit_id eq {posted['id']}"}
    )
    assert sorted(
        (view["sop_order_return_line_id"], view["sop_invoice_credit_line_invoice_credit_quantity"]) for view in views
    ) == sorted([(first, D(3)), (second, D(2))])
    [despatched] = sandbox.client.get("sop_order_despatch_line_views", {"$filter": f"sop_order_id eq {order_id}"})
    assert despatched["sop_despatch_line_is_invoiced"] is True
    order = sandbox.client.get(f"sop_orders/{order_id}")
    assert (order["despatch_receipt_status"], order["invoice_credit_status"], order["document_status"]) == (
        "Partial",
        "Partial",
        "Live",
    )
    sandbox.assert_ledger_sound()

    # The rest of the cases leave already invoiced; the each line's despatch is invoiced for what is left.
    sandbox.backoffice.post(f"sop_orders/{order_id}/despatch", {"date": LATER_IN_MARCH})
    views = sandbox.client.get("sop_order_despatch_line_views", {"$filter": f"sop_order_id eq {order_id}"})
    assert sorted(
        (view["sop_order_line_id"], view["sop_despatch_line_quantity"], view["sop_despatch_line_is_invoiced"])
        for view in views
    ) == sorted([(first, D(1), True), (first, D(2), True), (second, D(7), False)])
    rest = sandbox.backoffice.post(f"sop_orders/{order_id}/invoice", {"date": LATER_IN_MARCH})
    assert rest["invoice_document_no"] == "0000000002"  # the desk's own number left Sage's series alone
    assert sandbox.posted(rest["posted_transaction_id"])["document_goods_value"] == D("22.50")  # 5 each
    order = sandbox.client.get(f"sop_orders/{order_id}")
    assert (order["invoice_credit_status"], order["document_status"]) == ("Complete", "Complete")
    customer = sandbox.client.get(f"customers/{sandbox.ids.customer}")
    assert (customer["balance"], customer["value_of_current_orders_in_sop"]) == (
        D("171.00") + D("226.80") + D("27.00"),
        0,
    )
    sandbox.assert_ledger_sound()


def test_an_invoice_number_used_before_is_accepted(sandbox: SandboxCompany) -> None:
    """Sage's number series can be reset, so an invoice may repeat a number used before."""
    order_id, _, _ = three_cases_and_seven_each(sandbox)
    sandbox.backoffice.post(f"sop_orders/{order_id}/despatch", {"date": MARCH})
    repeated = sandbox.ids.invoice_document_no
    invoiced = sandbox.backoffice.post(f"sop_orders/{order_id}/invoice", {"date": MARCH, "invoice_no": repeated})
    assert invoiced["invoice_document_no"] == repeated
    both = sandbox.client.get("sales_posted_transactions", {"$filter": f"reference eq '{repeated}'"})
    assert sorted(t["id"] for t in both) == sorted([sandbox.ids.invoice, invoiced["posted_transaction_id"]])
    sandbox.assert_ledger_sound()


UNINVOICED = "(ordered and not invoiced)"
# Bad invoice bodies (the order despatched in full) and Sage's answer to each.
INVOICE_REFUSALS = [
    ({"invoice_no": " "}, "The field 'invoice_no' must not be blank."),
    ({"invoice_no": "I" * 21}, "The field 'invoice_no' must be a string with a maximum length of 20."),
    ({"lines": [{"quantity": 4}]}, f"The field 'lines[0].quantity' (4) must be between 0 and 3 {UNINVOICED}."),
    ({"lines": [{"quantity": 2}] * 2}, f"The field 'lines[1].quantity' (2) must be between 0 and 1 {UNINVOICED}."),
    ({"lines": [{"quantity": -1}]}, f"The field 'lines[0].quantity' (-1) must be between 0 and 3 {UNINVOICED}."),
    ({"lines": [{"quantity": "x"}]}, NOT_A_NUMBER),
    ({"lines": ["first"]}, "The field 'lines[0]' must be an object."),
]


def test_invoice_refuses_a_bad_field_and_posts_nothing(sandbox: SandboxCompany) -> None:
    order_id, first, _ = three_cases_and_seven_each(sandbox)
    sandbox.backoffice.post(f"sop_orders/{order_id}/despatch", {"date": MARCH})
    before = sandbox.nominal_balances()
    answers = [
        refusal(sandbox, f"sop_orders/{order_id}/invoice", naming_line({"date": MARCH} | change, first))
        for change, _ in INVOICE_REFUSALS
    ]
    assert answers == [message for _, message in INVOICE_REFUSALS]
    assert sandbox.nominal_balances() == before
    assert line_of(sandbox, order_id, first)["invoice_credit_quantity"] == 0
    of_the_order = {"$filter": f"sop_order_return_id eq {order_id}"}
    assert sandbox.client.get("sop_order_return_invoice_credit_views", of_the_order) == []


# --- amending a line --------------------------------------------------------------------------------------


def test_amending_the_quantity_revalues_and_reallocates_as_on_entry(sandbox: SandboxCompany) -> None:
    order_id, first, _ = three_cases_and_seven_each(sandbox)  # 180.00 + 31.50 = 211.50 + 42.30 VAT
    sandbox.backoffice.post(f"sop_orders/{order_id}/lines/{first}", {"line_quantity": 5})
    line = line_of(sandbox, order_id, first)
    assert (
        line["line_quantity"],
        line["stock_unit_line_quantity"],
        line["allocated_quantity"],
        line["stock_unit_allocated_quantity"],
        line["to_allocate_quantity"],
        line["allocation_status"],
        line["line_total_value"],
        line["line_tax_value"],
    ) == (D(5), D(60), D(5), D(60), D(0), "Full", D("300.00"), D("60.00"))
    order = sandbox.client.get(f"sop_orders/{order_id}")
    assert (order["subtotal_goods_value"], order["total_net_value"], order["total_tax_value"]) == (
        D("331.50"),
        D("331.50"),
        D("66.30"),
    )
    assert order["total_gross_value"] == D("397.80")
    assert sandbox.client.get(f"customers/{sandbox.ids.customer}")["value_of_current_orders_in_sop"] == D("397.80")
    assert free_and_allocated(sandbox, 0) == (D(156), D(60))

    sandbox.backoffice.post(f"sop_orders/{order_id}/lines/{first}", {"line_quantity": "2"})
    line = line_of(sandbox, order_id, first)
    assert (line["line_quantity"], line["allocated_quantity"], line["line_total_value"]) == (D(2), D(2), D("120.00"))
    assert free_and_allocated(sandbox, 0) == (D(192), D(24))
    assert sandbox.client.get(f"sop_orders/{order_id}")["total_gross_value"] == D("181.80")
    assert sandbox.client.get(f"customers/{sandbox.ids.customer}")["value_of_current_orders_in_sop"] == D("181.80")


def test_amending_beyond_free_stock_allocates_whole_selling_units(sandbox: SandboxCompany) -> None:
    order_id, first, _ = three_cases_and_seven_each(sandbox)
    sandbox.backoffice.post(f"sop_orders/{order_id}/lines/{first}", {"line_quantity": 20})  # 240 Each, 216 free
    line = line_of(sandbox, order_id, first)
    assert (line["allocated_quantity"], line["to_allocate_quantity"], line["allocation_status"]) == (
        D(18),
        D(2),
        "Part",
    )
    assert free_and_allocated(sandbox, 0) == (D(0), D(216))


def test_a_despatched_line_can_come_down_to_what_left(sandbox: SandboxCompany) -> None:
    order_id, first, _ = three_cases_and_seven_each(sandbox)
    sandbox.backoffice.post(
        f"sop_orders/{order_id}/despatch", {"date": MARCH, "lines": [{"sop_order_line_id": first, "quantity": 1}]}
    )
    message = refusal(sandbox, f"sop_orders/{order_id}/lines/{first}", {"line_quantity": "0.5"})
    assert message == "The field 'line_quantity' (0.5) must be at least 1: line 1 has 1 despatched and 0 invoiced."
    sandbox.backoffice.post(f"sop_orders/{order_id}/lines/{first}", {"line_quantity": 1})
    line = line_of(sandbox, order_id, first)
    assert (line["line_quantity"], line["allocated_quantity"], line["despatch_receipt_status"]) == (
        D(1),
        D(0),
        "Complete",
    )
    assert free_and_allocated(sandbox, 0) == (D(204), D(0))  # 12 Each despatched, the other 24 freed


def test_the_price_changes_until_the_line_is_invoiced(sandbox: SandboxCompany) -> None:
    order_id, first, _ = three_cases_and_seven_each(sandbox)
    sandbox.backoffice.post(f"sop_orders/{order_id}/lines/{first}", {"selling_unit_price": "63.00"})
    line = line_of(sandbox, order_id, first)
    assert (line["selling_unit_price"], line["discounted_unit_price"], line["line_total_value"]) == (
        D("63.00"),
        D("63.00"),
        D("189.00"),
    )
    assert sandbox.client.get(f"sop_orders/{order_id}")["total_gross_value"] == D("264.60")  # (189 + 31.50) × 1.2
    sandbox.backoffice.post(f"sop_orders/{order_id}/despatch", {"date": MARCH})
    invoiced = sandbox.backoffice.post(f"sop_orders/{order_id}/invoice", {"date": MARCH})
    assert sandbox.posted(invoiced["posted_transaction_id"])["document_goods_value"] == D("220.50")
    message = refusal(sandbox, f"sop_orders/{order_id}/lines/{first}", {"selling_unit_price": 70})
    assert message == "The field 'selling_unit_price' cannot change: 3 of line 1 is invoiced."
    assert line_of(sandbox, order_id, first)["selling_unit_price"] == D("63.00")
    sandbox.assert_ledger_sound()


# Bad amendments and Sage's answer to each.
AMENDMENT_REFUSALS = [
    ({}, "The field 'line_quantity' or 'selling_unit_price' is required to amend a line."),
    ({"line_quantity": 0}, "The field 'line_quantity' must be greater than zero."),
    ({"line_quantity": "three"}, "The field 'line_quantity' must be a number or a decimal string such as \"1.5\"."),
    ({"selling_unit_price": "-1.00"}, f"The field 'selling_unit_price' must be at least 0 and less than {10**13}."),
    ({"selling_unit_price": "1.123456"}, "The field 'selling_unit_price' must have at most 5 decimal places."),
    ({"selling_unit_price": "63.00", "line_quantity": -2}, "The field 'line_quantity' must be greater than zero."),
]


def test_amending_refuses_a_bad_field_and_leaves_no_trace(sandbox: SandboxCompany) -> None:
    order_id, first, _ = three_cases_and_seven_each(sandbox)
    answers = [refusal(sandbox, f"sop_orders/{order_id}/lines/{first}", body) for body, _ in AMENDMENT_REFUSALS]
    assert answers == [message for _, message in AMENDMENT_REFUSALS]
    line = line_of(sandbox, order_id, first)
    assert (line["line_quantity"], line["selling_unit_price"], line["allocated_quantity"]) == (D(3), D("60.00"), D(3))
    assert sandbox.client.get(f"sop_orders/{order_id}")["total_gross_value"] == D("253.80")
    assert free_and_allocated(sandbox, 0) == (D(180), D(36))


def test_amending_a_line_of_another_order_is_not_found(sandbox: SandboxCompany) -> None:
    order_id, _, _ = three_cases_and_seven_each(sandbox)
    [seeded_line, _] = sandbox.client.get(f"sop_orders/{sandbox.ids.order}/sop_order_lines")
    path = f"sop_orders/{order_id}/lines/{seeded_line['id']}"
    message = refusal(sandbox, path, {"line_quantity": 1}, status=404)
    assert message == f"Sales order line {seeded_line['id']} does not exist on order {order_id}."
