"""Where Sage 200's behaviour is not documented, the sandbox's reading of it lives here, in one place.

Each choice is explained in docs/sage200-sandbox.md. Change a value here and the whole ledger follows.
"""

from decimal import Decimal
from zoneinfo import ZoneInfo

# The company's business day: a UK Sage 200 company books by London's calendar.
COMPANY_TIMEZONE = ZoneInfo("Europe/London")

# Posted transaction types on the sales ledger, as sales.json names them (POST /sales_receipts says a
# receipt is posted as TradingAccountEntryTypePurchasePaymentSalesReceipt, although the field's schema
# caps it at 30 characters: Sage's own text wins over its length limit).
INVOICE = "TradingAccountEntryTypeInvoice"
CREDIT_NOTE = "TradingAccountEntryTypeCreditNote"
RECEIPT = "TradingAccountEntryTypePurchasePaymentSalesReceipt"

# Sign of each type's document values on the customer account: what it does to the balance we are owed.
# Allocation lines follow the same sign: + against an invoice, − against a receipt or credit note, and the
# lines of one allocation add up to zero.
CUSTOMER_SIGN = {INVOICE: Decimal(1), CREDIT_NOTE: Decimal(-1), RECEIPT: Decimal(-1)}

# Cash book entry types; bank posted transactions carry money in as +, money out as −, so a bank's
# balance is the sum of its posted transactions.
BANK_PAYMENT = "EntryTypeNominalPayment"
BANK_RECEIPT = "EntryTypeNominalReceipt"
BANK_CUSTOMER_RECEIPT = "EntryTypeSalesReceipt"
BANK_TRANSFER_OUT = "EntryTypeTransferPayment"
BANK_TRANSFER_IN = "EntryTypeTransferReceipt"

# Nominal entries: debit +, credit −. Every posting's entries add up to zero, so does the trial balance.
DEBIT = Decimal(1)
CREDIT = Decimal(-1)

# Negative analysis lines are accepted (a correction inside one document), as long as the lines still
# add up to the header values.
ALLOW_NEGATIVE_ANALYSIS_LINES = True

# transaction_date_validation classifications.
NORMAL = "Normal"
ACCEPTABLE = "Acceptable"
UNACCEPTABLE = "Unacceptable"

PENNY = Decimal("0.01")

# Control accounts a posting needs, by the back office's key → the `control_nominal_code_type` shown by
# GET /control_nominal_codes (max 20 characters in Sage's schema).
CONTROL_ACCOUNT_TYPES = {
    "debtors": "DebtorsControl",
    "creditors": "CreditorsControl",
    "vat_output": "VatOutputControl",
    "vat_input": "VatInputControl",
    "suspense": "Suspense",
    "mispostings": "Mispostings",
    "exchange_difference": "ExchangeDifference",
}
