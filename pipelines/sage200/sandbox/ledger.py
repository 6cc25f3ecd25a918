"""Ledger effects of every posting the sandbox accepts, as Sage 200 would make them.

Sage has no journal endpoint: each document below is balanced by construction. A posting validates
everything first (customer, bank, nominal accounts, tax codes, analysis totals, the period), then writes
the posted transaction, moves the customer and bank balances and writes balanced nominal entries, all in
the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pipelines.sage200.sandbox import conventions as c
from pipelines.sage200.sandbox.errors import BadRequest
from pipelines.sage200.sandbox.store import Store, utc_timestamp

ZERO = Decimal(0)


def money(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else ZERO


def business_date(value: str | None, today: date) -> date:
    """The company's calendar day of a Sage date-time field (a UK company books by London's day)."""
    if value is None:
        return today
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:  # Sage reads a date-time without an offset as the company's local time
        return moment.date()
    return moment.astimezone(c.COMPANY_TIMEZONE).date()


def sage_datetime(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


@dataclass(frozen=True)
class NominalLine:
    nominal_code_id: int
    value: Decimal  # debit +, credit −
    narrative: str = ""


class Ledger:
    """Postings against one company's ledgers held in a Store."""

    def __init__(self, store: Store, today: date) -> None:
        self.store = store
        self.today = today

    # lookups ----------------------------------------------------------------------------------------
    def customer(self, customer_id: Any) -> dict[str, Any]:
        customer = self.store.get("customers", customer_id) if isinstance(customer_id, int) else None
        if customer is None:
            raise BadRequest(f"The field 'customer_id' refers to customer {customer_id}, which does not exist.")
        return customer

    def bank(self, bank_id: Any, field: str = "bank_id") -> dict[str, Any]:
        bank = self.store.get("banks", bank_id) if isinstance(bank_id, int) else None
        if bank is None:
            raise BadRequest(f"The field '{field}' refers to bank {bank_id}, which does not exist.")
        return bank

    def tax_code(self, tax_code_id: Any, field: str) -> dict[str, Any]:
        tax_code = self.store.get("tax_codes", tax_code_id) if isinstance(tax_code_id, int) else None
        if tax_code is None:
            raise BadRequest(f"The field '{field}' refers to tax code {tax_code_id}, which does not exist.")
        return tax_code

    def nominal_account(self, item: dict[str, Any], field: str) -> int:
        """Resolve an account (code + cost centre + department) to its nominal code id."""
        reference = item.get("code", "")
        cost_centre = item.get("cost_centre", "")
        department = item.get("department", "")
        matches = self.store.find(
            "nominal_codes", reference=reference, cost_centre_code=cost_centre, department_code=department
        )
        if not matches:
            raise BadRequest(
                f"The field '{field}' names nominal account '{reference}' (cost centre '{cost_centre}', "
                f"department '{department}'), which does not exist."
            )
        return matches[0]["id"]

    def control_account(self, kind: str) -> int:
        account = self.store.find("control_nominal_codes", control_nominal_code_type=c.CONTROL_ACCOUNT_TYPES[kind])
        if not account:
            raise BadRequest(f"The {kind} control account is not set up in this company.")
        return self.nominal_account({"code": account[0]["account_number"]}, f"control account {kind}")

    def bank_nominal(self, bank: dict[str, Any]) -> int:
        return self.nominal_account(
            {
                "code": bank.get("bank_account_nominal_reference", ""),
                "cost_centre": bank.get("bank_account_nominal_cost_centre", ""),
                "department": bank.get("bank_account_nominal_department", ""),
            },
            f"bank {bank['code']} nominal account",
        )

    # periods ----------------------------------------------------------------------------------------
    def period_of(self, day: date) -> dict[str, Any] | None:
        stamp = sage_datetime(day)
        for period in self.store.find("financial_year_period_views"):
            if period["period_start_date"] <= stamp <= period["period_end_date"]:
                return period
        return None

    def classify_date(self, day: date) -> tuple[str, str]:
        """Sage's transaction date classification: Normal, Acceptable (other open period) or Unacceptable."""
        period = self.period_of(day)
        if period is None:
            return c.UNACCEPTABLE, f"The date {day.isoformat()} is not in any financial year set up."
        if period["accounting_period_id"] in self.store.setting("closed_periods", []):
            return (
                c.UNACCEPTABLE,
                f"The date {day.isoformat()} is in period {period['period_number']}, which is closed.",
            )
        current = self.period_of(self.today)
        if current is not None and current["accounting_period_id"] == period["accounting_period_id"]:
            return c.NORMAL, ""
        return c.ACCEPTABLE, f"The date {day.isoformat()} is not in the current period."

    def require_open_period(self, day: date, field: str = "transaction_date") -> None:
        classification, message = self.classify_date(day)
        if classification == c.UNACCEPTABLE:
            raise BadRequest(f"The field '{field}' is not valid: {message}")

    # writing ----------------------------------------------------------------------------------------
    def _journal(self, urn: int, day: date, lines: list[NominalLine], source: str, kind: str, reference: str) -> None:
        total = sum((line.value for line in lines), ZERO)
        if total != ZERO:  # a bug in a posting rule, never a client error
            raise AssertionError(f"unbalanced posting {kind} {reference}: {total}")
        for line in lines:
            if line.value == ZERO:
                continue
            self.store.add_nominal_entry(
                urn=urn,
                nominal_code_id=line.nominal_code_id,
                transaction_date=day.isoformat(),
                value=line.value,
                source=source,
                transaction_type=kind,
                reference=reference,
                narrative=line.narrative,
            )
            code = self.store.get("nominal_codes", line.nominal_code_id)
            code["balance_year_to_date"] = money(code.get("balance_year_to_date")) + line.value
            side = "debit_balance_year_to_date" if line.value > 0 else "credit_balance_year_to_date"
            code[side] = money(code.get(side)) + abs(line.value)
            self.store.save("nominal_codes", code)

    def _move_customer(self, customer: dict[str, Any], amount: Decimal) -> None:
        customer["balance"] = money(customer.get("balance")) + amount
        self.store.save("customers", customer)

    def _bank_entry(
        self, bank: dict[str, Any], kind: str, amount: Decimal, day: date, body: dict[str, Any], urn: int
    ) -> dict[str, Any]:
        bank["balance"] = money(bank.get("balance")) + amount
        bank["balance_in_base"] = bank["balance"]
        self.store.save("banks", bank)
        return self.store.insert(
            "bank_posted_transactions",
            {
                "bank_id": bank["id"],
                "bank_transaction_type": kind,
                "entry_description": body.get("narrative", ""),
                "reference": body.get("reference", ""),
                "second_reference": body.get("second_reference", ""),
                "transaction_date": sage_datetime(day),
                "posted_date": utc_timestamp(),
                "cheque_value": amount,
                "cheque_discount_value": ZERO,
                "cheque_to_account_currency_rate": Decimal(1),
                "bank_cheque_to_base_currency_rate": Decimal(1),
                "source": "CashBook" if kind != c.BANK_CUSTOMER_RECEIPT else "SalesLedger",
                "urn": urn,
                "user_name": "API",
                "nominal_analysis_items": [],
                "tax_analysis_items": [],
                "trade_items": [],
            },
        )

    # sales ledger -----------------------------------------------------------------------------------
    def post_sales_document(self, body: dict[str, Any], kind: str) -> dict[str, Any]:
        """A sales invoice or credit note: debtors control against sales nominals and output VAT."""
        customer = self.customer(body["customer_id"])
        day = business_date(body.get("transaction_date"), self.today)
        self.require_open_period(day)
        nominal_items = body.get("nominal_analysis_items") or []
        tax_items = body.get("tax_analysis_items") or []
        if not nominal_items:
            raise BadRequest("The field 'nominal_analysis_items' must have at least one item.")
        if not tax_items:
            raise BadRequest("The field 'tax_analysis_items' must have at least one item.")
        goods = money(body.get("document_goods_value", sum(money(i.get("value")) for i in nominal_items)))
        tax = money(body.get("document_tax_value", sum(money(i.get("tax_amount")) for i in tax_items)))
        check_total("nominal_analysis_items", "value", nominal_items, goods, "document_goods_value")
        check_total("tax_analysis_items", "goods_amount", tax_items, goods, "document_goods_value")
        check_total("tax_analysis_items", "tax_amount", tax_items, tax, "document_tax_value")
        accounts = [
            self.nominal_account(item, f"nominal_analysis_items[{n}].code") for n, item in enumerate(nominal_items)
        ]
        tax_codes = [self.tax_code(item.get("id"), f"tax_analysis_items[{n}].id") for n, item in enumerate(tax_items)]
        sign = c.CUSTOMER_SIGN[kind]
        gross = goods + tax
        urn = self.store.next_value("urn")
        due = (
            business_date(body["due_date"], self.today)
            if body.get("due_date")
            else day + timedelta(days=int(customer.get("payment_terms_days") or 30))
        )
        posted = self.store.insert(
            "sales_posted_transactions",
            {
                "customer_id": customer["id"],
                "trader_transaction_type": kind,
                "reference": body.get("reference", ""),
                "second_reference": body.get("second_reference", ""),
                "queried": "",
                "transaction_date": sage_datetime(day),
                "posted_date": utc_timestamp(),
                "due_date": sage_datetime(due),
                "document_goods_value": sign * goods,
                "document_gross_value": sign * gross,
                "document_tax_value": sign * tax,
                "document_discount_value": ZERO,
                "discount_percent": ZERO,
                "document_tax_discount_value": ZERO,
                "document_allocated_value": ZERO,
                "document_outstanding_value": sign * gross,
                "base_goods_value": sign * goods,
                "base_gross_value": sign * gross,
                "base_tax_value": sign * tax,
                "base_discount_value": ZERO,
                "base_tax_discount_value": ZERO,
                "base_allocated_value": ZERO,
                "control_value_in_base_currency": sign * gross,
                "exchange_rate": Decimal(1),
                "settled_immediately": False,
                "discount_days": 0,
                "urn": urn,
                "user_name": "API",
                "tax_analysis_items": [
                    {
                        "id": tax_code["id"],
                        "code": tax_code["code"],
                        "name": tax_code["name"],
                        "entry_type": "TaxEntryTypeSales",
                        "goods_amount": sign * money(item.get("goods_amount")),
                        "tax_amount": sign * money(item.get("tax_amount")),
                        "tax_discount_amount": ZERO,
                    }
                    for item, tax_code in zip(tax_items, tax_codes, strict=True)
                ],
                "nominal_analysis_items": [
                    {
                        "code": item["code"],
                        "cost_centre": item.get("cost_centre", ""),
                        "department": item.get("department", ""),
                        "narrative": item.get("narrative", ""),
                        "value": sign * money(item.get("value")),
                        "base_value": sign * money(item.get("value")),
                        "transaction_analysis_code": item.get("transaction_analysis_code", ""),
                        "source": "SalesLedger",
                    }
                    for item in nominal_items
                ],
                "bank_items": [],
                "allocation_session_items": [],
                "allocation_history_items": [],
            },
        )
        self._move_customer(customer, sign * gross)
        lines = [NominalLine(self.control_account("debtors"), sign * gross, "Debtors control")]
        lines += [
            NominalLine(account, -sign * money(item.get("value")), item.get("narrative", ""))
            for account, item in zip(accounts, nominal_items, strict=True)
        ]
        lines.append(NominalLine(self.control_account("vat_output"), -sign * tax, "Output VAT"))
        self._journal(urn, day, lines, "SalesLedger", kind, body.get("reference", ""))
        return posted

    def post_sales_receipt(self, body: dict[str, Any]) -> dict[str, Any]:
        """Cash from a customer into a bank: the bank's nominal against debtors control."""
        customer = self.customer(body["customer_id"])
        bank = self.bank(body["bank_id"])
        day = business_date(body.get("transaction_date"), self.today)
        self.require_open_period(day)
        value = money(body["cheque_value"])
        if value <= ZERO:
            raise BadRequest("The field 'cheque_value' must be greater than zero.")
        if money(body.get("settlement_discount_value")) != ZERO:
            raise BadRequest(
                "The field 'settlement_discount_value' is not supported by the sandbox: post a credit note."
            )
        sign = c.CUSTOMER_SIGN[c.RECEIPT]
        urn = self.store.next_value("urn")
        posted = self.store.insert(
            "sales_posted_transactions",
            {
                "customer_id": customer["id"],
                "trader_transaction_type": c.RECEIPT,
                "reference": body.get("reference", ""),
                "second_reference": body.get("second_reference", ""),
                "queried": "",
                "transaction_date": sage_datetime(day),
                "posted_date": utc_timestamp(),
                "due_date": sage_datetime(day),
                "document_goods_value": sign * value,
                "document_gross_value": sign * value,
                "document_tax_value": ZERO,
                "document_discount_value": ZERO,
                "discount_percent": ZERO,
                "document_tax_discount_value": ZERO,
                "document_allocated_value": ZERO,
                "document_outstanding_value": sign * value,
                "base_goods_value": sign * value,
                "base_gross_value": sign * value,
                "base_tax_value": ZERO,
                "base_discount_value": ZERO,
                "base_tax_discount_value": ZERO,
                "base_allocated_value": ZERO,
                "control_value_in_base_currency": sign * value,
                "exchange_rate": Decimal(1),
                "settled_immediately": False,
                "discount_days": 0,
                "urn": urn,
                "user_name": "API",
                "tax_analysis_items": [],
                "nominal_analysis_items": [],
                "bank_items": [
                    {
                        "bank_code": bank["code"],
                        "name": bank.get("description", ""),
                        "bank_entry_type": c.BANK_CUSTOMER_RECEIPT,
                        "reference": body.get("reference", ""),
                        "cheque_value": value,
                        "urn": urn,
                    }
                ],
                "allocation_session_items": [],
                "allocation_history_items": [],
            },
        )
        self._move_customer(customer, sign * value)
        self._bank_entry(bank, c.BANK_CUSTOMER_RECEIPT, value, day, body, urn)
        lines = [
            NominalLine(self.bank_nominal(bank), value, "Customer receipt"),
            NominalLine(self.control_account("debtors"), -value, "Debtors control"),
        ]
        self._journal(urn, day, lines, "SalesLedger", c.RECEIPT, body.get("reference", ""))
        return posted

    def allocate(self, body: dict[str, Any]) -> dict[str, Any]:
        """Tie receipts and credit notes to invoices: outstanding values move, nothing else does."""
        customer = self.customer(body["customer_id"])
        lines = body["allocation_lines"]
        if len(lines) < 2:
            raise BadRequest("The field 'allocation_lines' must have at least two lines.")
        total = sum((money(line["value_to_allocate"]) for line in lines), ZERO)
        if total != ZERO:
            raise BadRequest(f"The allocation_lines must add up to zero; they add up to {total}.")
        seen: set[int] = set()
        transactions = []
        for n, line in enumerate(lines):
            field = f"allocation_lines[{n}]"
            tran_id = line["posted_tran_id"]
            if tran_id in seen:
                raise BadRequest(f"The field '{field}.posted_tran_id' repeats transaction {tran_id}.")
            seen.add(tran_id)
            posted = self.store.get("sales_posted_transactions", tran_id)
            if posted is None or posted["customer_id"] != customer["id"]:
                raise BadRequest(
                    f"The field '{field}.posted_tran_id' refers to transaction {tran_id}, "
                    f"which is not on customer {customer['reference']}'s account."
                )
            value = money(line["value_to_allocate"])
            outstanding = money(posted["document_outstanding_value"])
            if value == ZERO or (value > 0) != (outstanding > 0) or abs(value) > abs(outstanding):
                raise BadRequest(
                    f"The field '{field}.value_to_allocate' ({value}) cannot be allocated against "
                    f"transaction {tran_id}, whose outstanding value is {outstanding}."
                )
            transactions.append((posted, value))
        day = business_date(body.get("allocation_date"), self.today)
        self.require_open_period(day, "allocation_date")
        now = utc_timestamp()
        for posted, value in transactions:
            posted["document_outstanding_value"] = money(posted["document_outstanding_value"]) - value
            posted["document_allocated_value"] = money(posted["document_allocated_value"]) + value
            posted["base_allocated_value"] = posted["document_allocated_value"]
            posted["allocation_history_items"].append(
                {
                    "id": self.store.next_value("allocation_history"),
                    "trading_revaluation_allocation_entry_type": "AllocationEntryTypeAllocation",
                    "entry_date": sage_datetime(day),
                    "allocation_value": value,
                    "nominal_updated": False,
                    "exchange_rate": Decimal(1),
                    "exchange_gain_loss": ZERO,
                    "date_time_created": now,
                    "date_time_updated": now,
                }
            )
            if posted["document_outstanding_value"] == ZERO:
                posted["full_settlement_date"] = sage_datetime(day)
            self.store.save("sales_posted_transactions", posted)
        return {
            "customer_id": customer["id"],
            "allocation_date": sage_datetime(day),
            "allocation_lines": [
                {"posted_tran_id": posted["id"], "value_to_allocate": value} for posted, value in transactions
            ],
        }

    # cash book --------------------------------------------------------------------------------------
    def post_bank_entry(self, body: dict[str, Any], *, payment: bool) -> dict[str, Any]:
        """A bank payment (money out to nominal accounts) or bank receipt (money in from them)."""
        bank = self.bank(body["bank_id"])
        day = business_date(body.get("transaction_date"), self.today)
        self.require_open_period(day)
        items = analysed_bank_items(body)
        gross = sum((item["gross_value"] for item in items), ZERO)
        if "cheque_value" in body and money(body["cheque_value"]) != gross:
            raise BadRequest(
                f"The field 'cheque_value' ({money(body['cheque_value'])}) does not equal the sum of the "
                f"nominal_analysis_items gross values ({gross})."
            )
        accounts = [self.nominal_account(item, f"nominal_analysis_items[{n}].code") for n, item in enumerate(items)]
        for n, item in enumerate(items):
            self.tax_code(item["tax_code_id"], f"nominal_analysis_items[{n}].tax_code_id")
        kind = c.BANK_PAYMENT if payment else c.BANK_RECEIPT
        direction = c.CREDIT if payment else c.DEBIT  # of the bank account
        urn = self.store.next_value("urn")
        posted = self._bank_entry(bank, kind, direction * gross, day, body, urn)
        posted["nominal_analysis_items"] = [
            {key: item[key] for key in ("code", "cost_centre", "department", "narrative")}
            | {
                "value": item["goods_value"],
                "base_value": item["goods_value"],
                "reference": posted["reference"],
            }
            for item in items
        ]
        self.store.save("bank_posted_transactions", posted)
        vat = self.control_account("vat_input" if payment else "vat_output")
        lines = [NominalLine(self.bank_nominal(bank), direction * gross, body.get("narrative", ""))]
        lines += [
            NominalLine(account, -direction * item["goods_value"], item.get("narrative", ""))
            for account, item in zip(accounts, items, strict=True)
        ]
        lines.append(NominalLine(vat, -direction * sum((i["tax_value"] for i in items), ZERO), "VAT"))
        self._journal(urn, day, lines, "CashBook", kind, body.get("reference", ""))
        return {"urn": str(urn)}

    def post_bank_transfer(self, body: dict[str, Any]) -> dict[str, Any]:
        """Money from one bank to another: two bank entries, one nominal movement."""
        source = self.bank(body["bank_from_id"], "bank_from_id")
        target = self.bank(body["bank_to_id"], "bank_to_id")
        if source["id"] == target["id"]:
            raise BadRequest("The fields 'bank_from_id' and 'bank_to_id' must name two different banks.")
        value = money(body["payment_value"])
        if value <= ZERO:
            raise BadRequest("The field 'payment_value' must be greater than zero.")
        if "receipt_value" in body and money(body["receipt_value"]) != value:
            raise BadRequest("The field 'receipt_value' must equal 'payment_value' between banks in one currency.")
        day = business_date(body.get("transaction_date"), self.today)
        self.require_open_period(day)
        urn = self.store.next_value("urn")
        self._bank_entry(source, c.BANK_TRANSFER_OUT, -value, day, body, urn)
        self._bank_entry(target, c.BANK_TRANSFER_IN, value, day, body, urn)
        lines = [
            NominalLine(self.bank_nominal(target), value, "Bank transfer in"),
            NominalLine(self.bank_nominal(source), -value, "Bank transfer out"),
        ]
        self._journal(urn, day, lines, "CashBook", "BankTransfer", body.get("reference", ""))
        return {key: body[key] for key in body} | {
            "transaction_date": sage_datetime(day),
            "receipt_value": value,
        }


def check_total(items_field: str, value_field: str, items: list[dict], expected: Decimal, header_field: str) -> None:
    """Sage refuses a document whose analysis lines do not add up to its header values."""
    values = [money(item.get(value_field)) for item in items]
    if not c.ALLOW_NEGATIVE_ANALYSIS_LINES and any(value < 0 for value in values):
        raise BadRequest(f"The field '{items_field}' cannot have negative {value_field} values.")
    total = sum(values, ZERO)
    if total != expected:
        raise BadRequest(
            f"The sum of {items_field} {value_field} ({total}) does not equal {header_field} ({expected})."
        )


def analysed_bank_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Bank analysis lines with goods + tax = gross on each line, filling the one value left out."""
    items = body.get("nominal_analysis_items") or []
    if not items:
        raise BadRequest("The field 'nominal_analysis_items' must have at least one item.")
    analysed = []
    for n, item in enumerate(items):
        field = f"nominal_analysis_items[{n}]"
        tax = money(item.get("tax_value"))
        goods = money(item["goods_value"]) if "goods_value" in item else None
        gross = money(item["gross_value"]) if "gross_value" in item else None
        if goods is None and gross is None:
            raise BadRequest(f"The field '{field}.goods_value' is required when gross_value is not given.")
        goods = goods if goods is not None else gross - tax
        gross = gross if gross is not None else goods + tax
        if goods + tax != gross:
            raise BadRequest(f"The field '{field}.gross_value' ({gross}) must equal goods_value + tax_value.")
        if not c.ALLOW_NEGATIVE_ANALYSIS_LINES and gross < 0:
            raise BadRequest(f"The field '{field}.gross_value' cannot be negative.")
        tax_code_id = item.get("tax_code_id", body.get("tax_code_id"))
        if tax_code_id is None:
            raise BadRequest(f"The field '{field}.tax_code_id' is required (or a header tax_code_id).")
        analysed.append(
            {
                "code": item["code"],
                "cost_centre": item.get("cost_centre", ""),
                "department": item.get("department", ""),
                "narrative": item.get("narrative", body.get("narrative", "")),
                "goods_value": goods,
                "tax_value": tax,
                "gross_value": gross,
                "tax_code_id": tax_code_id,
            }
        )
    return analysed
