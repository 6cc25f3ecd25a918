"""The Vendor Central remittance export reader: golden files, bad input quarantined, the money and date rules."""

from __future__ import annotations

import codecs
import csv
import io
import random
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from pipelines.amazon.documents import FileRejected, ParsedFile, RemittanceLine, RemittancePayment, SetResult
from pipelines.amazon.remittance_export import (
    DateOrder,
    _date,
    _mark_vote,
    _money,
    _text,
    date_order_for,
    read_remittance_export,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "remittance"
D = Decimal
PINNED_TIME = (2026, 3, 5, 9, 0, 0)

INVOICE_HEADER = [
    "Payment Number", "Invoice Number", "Invoice Date", "Description", "Invoice Amount", "Terms Discount Taken",
    "Amount Paid", "Remaining Amount", "Invoice Currency",
]  # fmt: skip
FLAT_HEADER = ["Payment Number", "Payment Date", "Invoice Number", "Invoice Date", "Invoice Amount", "Amount Paid"]


def line(
    invoice_number: str,
    invoice_date: date,
    description: str,
    gross: str,
    discount: str,
    paid: str,
    remaining: str | None,
    currency: str,
    **extra: str | None,
) -> RemittanceLine:
    return RemittanceLine(
        invoice_number=invoice_number,
        invoice_date=invoice_date,
        description=description,
        gross_amount=D(gross),
        discount_amount=D(discount),
        paid_amount=D(paid),
        remaining_amount=None if remaining is None else D(remaining),
        currency=currency,
        **extra,
    )


def payment(number: str, paid_on: date, currency: str, amount: str, *lines: RemittanceLine) -> SetResult:
    document = RemittancePayment(number, paid_on, currency, D(amount), None, None, tuple(lines))
    return SetResult(number, "REMITTANCE", document)


def excel_datetime(text: str) -> datetime:
    """A date-time as openpyxl reads an Excel date cell: without time zone, as Excel stores it."""
    return datetime.fromisoformat(text)


def xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    """A workbook written by openpyxl, made byte-for-byte reproducible.

    openpyxl stamps the time of saving into docProps/core.xml and into every ZIP entry; both are pinned so the
    same rows always give the same bytes (the inbox recognises duplicates by their hash).
    """
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.properties.created = excel_datetime("2026-03-05T09:00")
    saved = io.BytesIO()
    workbook.save(saved)
    pinned = io.BytesIO()
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(pinned, "w") as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-03-05T09:00:00Z", content)
            target.writestr(zipfile.ZipInfo(entry.filename, PINNED_TIME), content, zipfile.ZIP_DEFLATED)
    return pinned.getvalue()


def us_workbook() -> bytes:
    """Layout (a) from a US vendor code: payment block with two payments, `Invoices`, then the invoice table.

    Cells mix what Excel holds (int, float, datetime) with text as Vendor Central writes it ("$2,500.00",
    "03/05/2026"); two floats carry the binary noise a formula leaves (5144.999999999999 for 5145.00).
    """
    rows: list[list[object]] = [
        ["Remittance Advice"],
        ["Amazon.com Services LLC"],
        [],
        ["Payment Number", "Payment Date", "Payment Amount", "Currency"],
        [3000123456, "03/05/2026", 10418.85, "USD"],
        ["3000123457", excel_datetime("2026-03-12"), "$2,500.00", "USD"],
        [],
        ["Invoices"],
        INVOICE_HEADER,
        [3000123456, "INV1001", "02/03/2026", "Invoice", 5250.0, 105.0, 5144.999999999999, 0, "USD"],
        [3000123456, "INV1002", excel_datetime("2026-02-10"), "Invoice", 6000, 120.0, 5880.000000000001, 0,
         "USD"],
        [3000123456, "INV1001SC", "02/28/2026", "Quantity shortage", -312.5, None, -312.5, None, "USD"],
        [3000123456, "INV1002", "02/27/2026", "Price variance", -43.65, None, -43.65, None, "USD"],
        [3000123456, "ABCD-12345678", "03/01/2026", "COOP – Service agreement", "($250.00)", None, "($250.00)", None,
         "USD"],
        ["3000123457", "INV1003", "02/20/2026", "Invoice", "$2,900.00", "$58.00", "$2,842.00", "$0.00", "USD"],
        ["3000123457", "12345VCBSINV", "03/02/2026", "Vendor compliance chargeback", -150, None, -150, None, "USD"],
        ["3000123457", "98765-PROVISION FOR RECEIVABLES", "03/03/2026", "Provision for aged receivable", -192.0, None,
         -192.0, None, "USD"],
    ]  # fmt: skip
    return xlsx({"Remittance": rows})


US_PAYMENTS = [
    payment(
        "3000123456", date(2026, 3, 5), "USD", "10418.85",
        line("INV1001", date(2026, 2, 3), "Invoice", "5250.00", "105.00", "5145.00", "0.00", "USD"),
        line("INV1002", date(2026, 2, 10), "Invoice", "6000.00", "120.00", "5880.00", "0.00", "USD"),
        line("INV1001SC", date(2026, 2, 28), "Quantity shortage", "-312.50", "0.00", "-312.50", None, "USD"),
        line("INV1002", date(2026, 2, 27), "Price variance", "-43.65", "0.00", "-43.65", None, "USD"),
        line("ABCD-12345678", date(2026, 3, 1), "COOP – Service agreement", "-250.00", "0.00", "-250.00", None, "USD"),
    ),
    payment(
        "3000123457", date(2026, 3, 12), "USD", "2500.00",
        line("INV1003", date(2026, 2, 20), "Invoice", "2900.00", "58.00", "2842.00", "0.00", "USD"),
        line("12345VCBSINV", date(2026, 3, 2), "Vendor compliance chargeback", "-150.00", "0.00", "-150.00", None,
             "USD"),
        line("98765-PROVISION FOR RECEIVABLES", date(2026, 3, 3), "Provision for aged receivable", "-192.00", "0.00",
             "-192.00", None, "USD"),
    ),
]  # fmt: skip

UK_PAYMENT = payment(
    "4100987654", date(2026, 3, 5), "GBP", "12006.80",
    line("UK-10045", date(2026, 2, 3), "Invoice", "6240.00", "124.80", "6115.20", "0.00", "GBP"),
    line("UK-10046", date(2026, 2, 10), "Invoice", "7500.00", "150.00", "7350.00", "0.00", "GBP"),
    line("UK-10045SC", date(2026, 2, 25), "Quantity shortage", "-312.00", "0.00", "-312.00", None, "GBP"),
    line("UK-10046", date(2026, 2, 26), "Price variance", "-48.40", "0.00", "-48.40", None, "GBP"),
    line("12345VCBSINV", date(2026, 3, 1), "Vendor compliance chargeback", "-150.00", "0.00", "-150.00", None, "GBP"),
    line("ABCD-12345678", date(2026, 3, 2), "COOP – Service agreement", "-448.00", "0.00", "-448.00", None, "GBP"),
    line("77777-PROVISION FOR RECEIVABLES", date(2026, 3, 4), "Provision for aged receivable", "-1000.00", "0.00",
         "-1000.00", None, "GBP"),
    line("66666-PROVISION FOR RECEIVABLESR", date(2026, 3, 4), "Provision for aged receivable", "500.00", "0.00",
         "500.00", None, "GBP"),
)  # fmt: skip


def eu_line(
    invoice_number: str, invoice_date: date, kind: str, description: str, original: str | None, po: str | None,
    gross: str, discount: str, paid: str, remaining: str | None,
) -> RemittanceLine:  # fmt: skip
    return line(
        invoice_number, invoice_date, description, gross, discount, paid, remaining, "EUR",
        po_number=po, transaction_type=kind, original_invoice_number=original,
    )  # fmt: skip


EU_PAYMENTS = [
    payment(
        "5200001111", date(2026, 3, 5), "EUR", "11344.92",
        eu_line("DE-2026-0101", date(2026, 2, 1), "Invoice", "Payments", None, "2K7X9QPL",
                "1234.56", "24.69", "1209.87", "0.00"),
        eu_line("DE-2026-0101SC", date(2026, 2, 20), "Financial Debit Note Invoice", "Quantity shortage",
                "DE-2026-0101", "2K7X9QPL", "-123.45", "0.00", "-123.45", None),
        eu_line("DE-2026-0102", date(2026, 2, 3), "Invoice", "Payments", None, "3M8Y1RTS",
                "10500.00", "210.00", "10290.00", "0.00"),
        eu_line("DE-2026-0102", date(2026, 2, 27), "Financial Debit Note Invoice", "Price variance",
                "DE-2026-0102", "3M8Y1RTS", "-31.50", "0.00", "-31.50", None),
    ),
    payment(
        "5200002222", date(2026, 3, 12), "EUR", "1270.00",
        eu_line("DE-2026-0103", date(2026, 2, 10), "Invoice", "Payments", None, "4N9Z2SUV",
                "2000.00", "40.00", "1960.00", "0.00"),
        eu_line("DE-2026-0101SCR", date(2026, 3, 6), "Financial Credit Note", "Quantity shortage reversal",
                "DE-2026-0101", "2K7X9QPL", "60.00", "0.00", "60.00", None),
        eu_line("ABCD-87654321", date(2026, 3, 1), "Financial Debit Note Invoice", "COOP – Service agreement",
                None, None, "-250.00", "0.00", "-250.00", None),
        eu_line("98765-PROVISION FOR RECEIVABLES", date(2026, 2, 28), "Provision deduction",
                "Provision for aged receivable", None, None, "-500.00", "0.00", "-500.00", None),
    ),
]  # fmt: skip


def to_csv(rows: list[list[str]], delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def read(data: bytes, date_order: DateOrder = "MDY") -> ParsedFile:
    return read_remittance_export(data, "remittance", date_order=date_order)


def by_number(parsed: ParsedFile) -> dict[str, SetResult]:
    return {result.control_number: result for result in parsed.sets}


# --------------------------------------------------------------------------------------------------
# Golden files
# --------------------------------------------------------------------------------------------------


def test_us_xlsx_with_payment_block_and_invoices_block() -> None:
    parsed = read(us_workbook(), "MDY")

    assert parsed.format == "REMITTANCE_XLSX"
    assert parsed.sets == US_PAYMENTS
    assert (parsed.sender_id, parsed.interchange_control_number, parsed.envelope_errors) == (None, None, [])


def test_uk_csv_with_pound_signs_thousands_separators_and_net_amount_paid() -> None:
    parsed = read((FIXTURES / "uk_payment_block.csv").read_bytes(), "DMY")

    assert parsed.format == "REMITTANCE_CSV"
    assert parsed.sets == [UK_PAYMENT]


def test_utf16_tab_separated_text_reads_like_the_utf8_csv() -> None:
    data = (FIXTURES / "uk_payment_block_utf16.txt").read_bytes()
    assert data.startswith(codecs.BOM_UTF16_LE)

    assert read(data, "DMY").sets == [UK_PAYMENT]


def test_flat_multi_payment_csv_with_bom_semicolons_and_decimal_commas() -> None:
    data = (FIXTURES / "eu_flat_payments_bom.csv").read_bytes()
    assert data.startswith(codecs.BOM_UTF8)

    parsed = read(data, "DMY")

    assert parsed.format == "REMITTANCE_CSV"
    assert parsed.sets == EU_PAYMENTS


def test_cp1252_csv_is_read_when_it_is_not_utf8() -> None:
    text = (FIXTURES / "uk_payment_block.csv").read_text("utf-8").replace("–", "-")
    data = text.encode("cp1252")  # "£" is byte 0xA3, invalid as UTF-8

    parsed = read(data, "DMY")

    assert parsed.sets[0].document is not None
    assert parsed.sets[0].document.amount == D("12006.80")


def test_same_bytes_parse_identically_and_the_workbook_is_reproducible() -> None:
    workbook = us_workbook()
    assert workbook == us_workbook()
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:  # pinned, so a later run gives the same bytes too
        assert {entry.date_time for entry in archive.infolist()} == {PINNED_TIME}
        assert b">2026-03-05T09:00:00Z</dcterms:modified>" in archive.read("docProps/core.xml")
    for data, order in [
        (workbook, "MDY"),
        ((FIXTURES / "uk_payment_block.csv").read_bytes(), "DMY"),
        ((FIXTURES / "eu_flat_payments_bom.csv").read_bytes(), "DMY"),
    ]:
        assert read(data, order) == read(data, order)


def test_the_header_is_found_on_a_later_sheet_and_with_synonyms() -> None:
    rows: list[list[object]] = [
        ["Payment No.", "PAYMENT DATE", "Invoice #", "Invoice Amount (Gross)", "net_amount_paid", "Currency"],
        ["77", "2026-03-05", "INV9", "£1,000.00", "£1,000.00", "gbp"],
    ]
    data = xlsx({"Read me": [["Exported from Vendor Central"]], "Payments": rows})

    [result] = read(data, "DMY").sets

    assert result.document == RemittancePayment(
        "77", date(2026, 3, 5), "GBP", D("1000.00"), None, None,
        (RemittanceLine("INV9", None, None, D("1000.00"), D("0.00"), D("1000.00"), None, "GBP"),),
    )  # fmt: skip


def test_lines_without_payment_number_belong_to_the_single_payment_above() -> None:
    rows = [
        ["Payment Number", "Payment Date"],
        ["55", "03/05/2026"],
        ["Invoices"],
        ["Invoice Number", "Invoice Amount", "Amount Paid", "Invoice Currency"],
        ["INV1", "10.00", "10.00", "USD"],
        [],
        ["INV2", "5.00", "5.00", "USD"],
    ]

    [result] = read(to_csv(rows)).sets

    assert result.document is not None
    assert [line.invoice_number for line in result.document.lines] == ["INV1", "INV2"]
    assert result.document.amount == D("15.00")


# --------------------------------------------------------------------------------------------------
# Bad rows quarantine their payment, with the row
# --------------------------------------------------------------------------------------------------


def test_an_impossible_date_quarantines_only_its_payment() -> None:
    rows = [
        [*FLAT_HEADER, "Invoice Currency"],
        ["1", "03/05/2026", "INV1", "02/03/2026", "100.00", "100.00", "USD"],
        ["2", "03/05/2026", "INV2", "13/25/2026", "50.00", "50.00", "USD"],
        ["2", "03/05/2026", "INV3", "02/03/2026", "20.00", "20.00", "USD"],
        ["1", "03/05/2026", "INV4", "02/04/2026", "1.00", "1.00", "USD"],
    ]

    results = by_number(read(to_csv(rows), "MDY"))

    assert results["1"].document is not None
    assert [line.invoice_number for line in results["1"].document.lines] == ["INV1", "INV4"]
    assert results["2"].document is None
    assert results["2"].position == "row 3"
    assert results["2"].error == "row 3: Invoice Date '13/25/2026': is not a valid MM/DD/YYYY date"


@pytest.mark.parametrize(
    ("date_order", "expected"), [("MDY", date(2026, 2, 3)), ("DMY", date(2026, 3, 2))], ids=["MDY", "DMY"]
)
def test_dates_follow_the_configured_order_never_the_values(date_order: DateOrder, expected: date) -> None:
    rows = [[*FLAT_HEADER, "Currency"], ["1", "02/03/2026", "INV1", "02/03/2026", "1.00", "1.00", "USD"]]

    [result] = read(to_csv(rows), date_order).sets

    assert result.document is not None
    assert (result.document.payment_date, result.document.lines[0].invoice_date) == (expected, expected)


def test_an_impossible_payment_date_in_the_block_quarantines_that_payment() -> None:
    rows = [
        ["Payment Number", "Payment Date"],
        ["1", "25/02/2026"],
        ["2", "02/25/2026"],
        [],
        INVOICE_HEADER,
        ["1", "A1", "", "", "1.00", "", "1.00", "", "USD"],
        ["2", "A2", "", "", "2.00", "", "2.00", "", "USD"],
    ]

    results = by_number(read(to_csv(rows), "MDY"))

    assert (results["1"].position, results["1"].document) == ("row 2", None)
    assert "'25/02/2026': is not a valid MM/DD/YYYY date" in (results["1"].error or "")
    assert results["2"].document is not None


def test_a_payment_amount_that_differs_from_its_lines_quarantines_the_payment() -> None:
    rows = [
        ["Title"],
        ["Payment Number", "Payment Date", "Payment Amount", "Currency"],
        ["1", "03/05/2026", "100.00", "USD"],
        ["2", "03/05/2026", "7.50", "USD"],
        ["Invoices"],
        INVOICE_HEADER,
        ["1", "A1", "", "", "60.00", "", "60.00", "", "USD"],
        ["1", "A1SC", "", "Quantity shortage", "-1.00", "", "-1.00", "", "USD"],
        ["1", "A2", "", "", "40.00", "", "40.00", "", "USD"],
        ["2", "B1", "", "", "7.50", "", "7.50", "", "USD"],
    ]

    results = by_number(read(to_csv(rows)))

    assert results["1"].document is None
    assert results["1"].position == "row 3"
    assert results["1"].error == (
        "row 3: payment amount 100.00 differs from the sum of the lines' amounts paid 99.00 by 1.00"
    )
    assert results["2"].document is not None


def test_a_flat_file_whose_lines_disagree_on_the_payment_date_quarantines_it() -> None:
    rows = [
        [*FLAT_HEADER, "Invoice Currency"],
        ["1", "03/05/2026", "A1", "", "1.00", "1.00", "USD"],
        ["1", "03/06/2026", "A2", "", "1.00", "1.00", "USD"],
    ]

    [result] = read(to_csv(rows)).sets

    assert result.position == "row 3"
    assert result.error == "row 3: payment date 2026-03-06 differs from 2026-03-05 given earlier for this payment"


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("1,2345.00", "Amount Paid '1,2345.00': has misplaced thousands separators for decimal mark '.'"),
        ("abc", "Amount Paid 'abc': is not an amount"),
        ("12.345", "Amount Paid '12.345': has more than two decimals"),
        ("((5.00)", "Amount Paid '((5.00)': is not an amount"),
        ("-5.00-", "Amount Paid '-5.00-': has unbalanced parentheses or more than one sign"),
        ("", "Amount Paid is blank"),
    ],
)
def test_a_malformed_amount_quarantines_its_payment_only(cell: str, problem: str) -> None:
    rows = [
        [*FLAT_HEADER, "Invoice Currency"],
        ["1", "03/05/2026", "A1", "", "5.00", cell, "USD"],
        ["2", "03/05/2026", "B1", "", "5.00", "5.00", "USD"],
    ]

    results = by_number(read(to_csv(rows)))

    assert (results["1"].error, results["1"].position) == (f"row 2: {problem}", "row 2")
    assert results["2"].document is not None


def test_a_column_mixing_decimal_commas_and_points_is_not_guessed() -> None:
    rows = [
        [*FLAT_HEADER, "Invoice Currency"],
        ["1", "03/05/2026", "A1", "", "5", "1,50", "USD"],
        ["2", "03/05/2026", "B1", "", "5", "2.50", "USD"],
        ["3", "03/05/2026", "C1", "", "5", "5", "USD"],
    ]

    results = by_number(read(to_csv(rows, ";")))

    assert "mixes decimal commas and decimal points" in (results["1"].error or "")
    assert "mixes decimal commas and decimal points" in (results["2"].error or "")
    assert results["3"].document is not None


def test_a_line_without_payment_number_under_several_payments_is_quarantined_on_its_own() -> None:
    rows = [
        ["Payment Number", "Payment Date"],
        ["1", "03/05/2026"],
        ["2", "03/05/2026"],
        [],
        INVOICE_HEADER,
        ["1", "A1", "", "", "1.00", "", "1.00", "", "USD"],
        ["", "A2", "", "", "2.00", "", "2.00", "", "USD"],
        ["2", "B1", "", "", "3.00", "", "3.00", "", "USD"],
    ]

    parsed = read(to_csv(rows))

    assert [result.control_number for result in parsed.sets] == ["1", "2", "row 7"]
    orphan = parsed.sets[2]
    assert (orphan.document, orphan.position) == (None, "row 7")
    assert "no Payment Number" in (orphan.error or "")
    assert all(result.document is not None for result in parsed.sets[:2])


def test_a_payment_block_row_without_payment_number_is_quarantined_on_its_own() -> None:
    rows = [
        ["Payment Number", "Payment Date"],
        ["", "03/05/2026"],
        ["1", "03/05/2026"],
        [],
        INVOICE_HEADER,
        ["1", "A1", "", "", "1.00", "", "1.00", "", "USD"],
    ]

    parsed = read(to_csv(rows))

    assert [result.control_number for result in parsed.sets] == ["row 2", "1"]
    assert (parsed.sets[0].error, parsed.sets[0].position) == ("row 2: Payment Number is blank", "row 2")
    assert parsed.sets[1].document is not None


def test_a_payment_in_the_block_without_invoice_lines_is_quarantined() -> None:
    rows = [
        ["Payment Number", "Payment Date", "Payment Amount"],
        ["1", "03/05/2026", "1.00"],
        ["2", "03/05/2026", "9.00"],
        [],
        INVOICE_HEADER,
        ["1", "A1", "", "", "1.00", "", "1.00", "", "USD"],
    ]

    results = by_number(read(to_csv(rows)))

    assert (results["2"].error, results["2"].position) == ("row 3: the payment has no invoice lines", "row 3")
    assert results["1"].document is not None


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        (["", "1.00", "USD"], "row 2: Invoice Number is blank"),
        (["A1", "1.00", "US Dollar"], "row 2: Invoice Currency 'US Dollar': is not a three-letter currency code"),
    ],
    ids=["blank-invoice-number", "currency-name"],
)
def test_a_malformed_text_cell_quarantines_its_payment(cells: list[str], problem: str) -> None:
    rows = [["Payment Number", "Payment Date", "Invoice Number", "Invoice Amount", "Amount Paid", "Invoice Currency"]]

    [result] = read(to_csv([*rows, ["1", "03/05/2026", cells[0], cells[1], cells[1], cells[2]]])).sets

    assert (result.document, result.error) == (None, problem)


def test_description_and_transaction_description_are_both_kept() -> None:
    rows = [
        [*FLAT_HEADER, "Invoice Currency", "Description", "Transaction Description"],
        ["1", "03/05/2026", "A1SC", "", "-1.00", "-1.00", "USD", "Deduction", "Quantity shortage"],
        ["1", "03/05/2026", "A2", "", "3.00", "3.00", "USD", "Invoice", "Invoice"],
    ]

    [result] = read(to_csv(rows)).sets

    assert result.document is not None
    assert [line.description for line in result.document.lines] == ["Deduction / Quantity shortage", "Invoice"]


@pytest.mark.parametrize(
    ("header", "cells", "problem"),
    [
        ("Withholding Amount", ["USD", "1.50"], "Withholding Amount 1.50 cannot be recorded (no withholding field)"),
        ("Payment Currency", ["USD", "EUR"], "paid in EUR for invoices in USD: no exchange rate to convert them"),
        ("PO Number", ["", "2K7X9QPL"], "no single currency for the payment"),
        ("Original Invoice Number", ["USD", "1.23457E+11"], "Excel rewrote this number in scientific notation"),
    ],
    ids=["withholding", "foreign-currency", "no-currency", "excel-scientific"],
)
def test_what_the_model_cannot_hold_faithfully_is_quarantined(header: str, cells: list[str], problem: str) -> None:
    rows = [[*FLAT_HEADER, "Invoice Currency", header], ["1", "03/05/2026", "A1", "", "5.00", "5.00", *cells]]

    [result] = read(to_csv(rows)).sets

    assert result.document is None
    assert problem in (result.error or "")
    assert result.position == "row 2"


# --------------------------------------------------------------------------------------------------
# Unreadable files are rejected whole
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the file is empty"),
        (b" \r\n\t\r\n", "the file holds only blank space"),
        (random.Random(20260305).randbytes(2048), "binary data (NUL bytes)"),
        (bytes(range(1, 32)) * 4, "binary data (control characters)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "an old binary Excel (.xls) workbook"),
        (b"Payment Number,Invoice Number\r\n\x81\x8d", "not valid cp1252 text"),
        (b"Remittance\r\nnothing,to,see\r\n", "no invoice header row found"),
    ],
    ids=["empty", "blank", "garbage-nul", "garbage-control", "xls", "undecodable", "no-header"],
)
def test_unreadable_files_are_rejected(data: bytes, reason: str) -> None:
    with pytest.raises(FileRejected) as rejected:
        read(data)
    assert rejected.value.reason.startswith(reason)


def test_a_workbook_openpyxl_cannot_read_is_rejected() -> None:
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "not xml")

    with pytest.raises(FileRejected, match="the workbook cannot be read"):
        read(broken.getvalue())


def test_a_csv_field_beyond_the_csv_module_limit_is_rejected_with_its_row() -> None:
    data = b"Title\r\n" + b'"' + b"x" * (csv.field_size_limit() + 1) + b'"\r\n'

    with pytest.raises(FileRejected, match="not readable as CSV") as rejected:
        read(data)
    assert rejected.value.position == "row 2"


def test_a_zip_that_is_not_a_workbook_and_a_truncated_workbook_are_rejected() -> None:
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(FileRejected, match="not an XLSX workbook"):
        read(other.getvalue())
    with pytest.raises(FileRejected, match="truncated or corrupt"):
        read(us_workbook()[:1000])


def test_a_workbook_without_invoice_header_names_the_closest_row() -> None:
    rows = [["Remittance"], [], ["Payment Number", "Invoice Number", "Invoice Amount", "Paid"], ["1", "A", "1", "1"]]

    with pytest.raises(FileRejected) as rejected:
        read(xlsx({"Sheet": rows}))

    assert rejected.value.reason.endswith("row 3 comes closest but lacks Amount Paid")
    assert rejected.value.position == "row 3"


def test_a_header_naming_one_column_twice_is_rejected() -> None:
    rows = [["Payment Number", "Invoice Number", "Invoice Amount", "Amount Paid", "Net Amount Paid"]]

    with pytest.raises(FileRejected, match="'Amount Paid' and 'Net Amount Paid' mean the same thing"):
        read(to_csv(rows))


def test_an_invoice_table_that_cannot_name_its_payment_is_rejected() -> None:
    rows = [["Invoice Number", "Invoice Amount", "Amount Paid"], ["A1", "1.00", "1.00"]]

    with pytest.raises(FileRejected, match="no Payment Number column") as rejected:
        read(to_csv(rows))
    assert rejected.value.position == "row 1"


# --------------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marketplace", "order"), [("US", "MDY"), ("CA", "MDY"), ("MX", "MDY"), ("UK", "DMY"), ("DE", "DMY")]
)
def test_date_order_comes_from_the_marketplace(marketplace: str, order: str) -> None:
    assert date_order_for(marketplace) == order


def test_the_date_order_must_be_given_explicitly() -> None:
    with pytest.raises(ValueError, match="date_order must be 'MDY' or 'DMY'"):
        read_remittance_export(b"x", "remittance", date_order="YMD")  # type: ignore[arg-type]


def test_an_unknown_marketplace_has_no_date_order() -> None:
    with pytest.raises(ValueError, match="unknown marketplace 'GB'"):
        date_order_for("GB")


@pytest.mark.parametrize(
    ("cell", "mark", "expected"),
    [
        ("1,234.56", ".", "1234.56"),
        ("(1,234.56)", ".", "-1234.56"),
        ("1.234,56", ",", "1234.56"),
        ("-1.234,56 €", ",", "-1234.56"),
        ("1 234,56 kr", ",", "1234.56"),
        ("1'234.50", ".", "1234.50"),
        ("US$1,000.00", ".", "1000.00"),
        ("GBP 12.00", ".", "12.00"),
        ("12.00 EUR", ".", "12.00"),
        ("£-5", ".", "-5.00"),
        ("\u22125.00", ".", "-5.00"),
        ("\u20145.00", ".", "-5.00"),
        ("+5.5", ".", "5.50"),
        ("5.00-", ".", "-5.00"),
        ("1.234", ",", "1234.00"),
        ("1,234", ".", "1234.00"),
        (7, ".", "7.00"),
        (5879.999999999999, ".", "5880.00"),
        (-43.65, ".", "-43.65"),
    ],
)
def test_money_cells(cell: object, mark: str, expected: str) -> None:
    assert _money(cell, mark) == D(expected)


@pytest.mark.parametrize(
    ("cell", "mark", "problem"),
    [
        ("1,23,4.00", ".", "misplaced thousands separators"),
        ("12.34.56", ".", "more than one decimal mark"),
        ("1.234", ".", "more than two decimals"),
        (12.345, ".", "more than two decimals"),
        (float("nan"), ".", "not a finite number"),
        (True, ".", "not an amount"),
        ("(5.00-)", ".", "unbalanced parentheses or more than one sign"),
        ("GBP5.00USD", ".", "not an amount"),
        ("1" * 30, ".", "too large to be an amount"),
        (10**30, ".", "too large to be an amount"),
    ],
)
def test_money_cells_that_are_errors(cell: object, mark: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        _money(cell, mark)


def test_a_whole_number_excel_wrote_as_a_double_is_an_identifier_without_decimals() -> None:
    # openpyxl writes 3000123456.0 as "3000123456", but other writers keep ".0" and openpyxl then reads a float.
    assert _text(3000123456.0) == "3000123456"


@pytest.mark.parametrize(
    ("cell", "vote"),
    [
        ("1.234,56", ","), ("1,234.56", "."), ("12,5", ","), ("12.50", "."), ("1,234,567", "."),
        ("1.234.567", ","), ("1,234", None), ("1.234", None), ("100", None), ("GBP", None), (12.5, None),
    ],
)  # fmt: skip
def test_which_decimal_mark_a_cell_proves(cell: object, vote: str | None) -> None:
    assert _mark_vote(cell) == vote


@pytest.mark.parametrize(
    ("cell", "order", "expected"),
    [
        ("2026-03-05", "MDY", date(2026, 3, 5)),
        ("2026/03/05", "DMY", date(2026, 3, 5)),
        ("05-Mar-2026", "MDY", date(2026, 3, 5)),
        ("5 September 2026", "MDY", date(2026, 9, 5)),
        ("Sept 5, 2026", "DMY", date(2026, 9, 5)),
        ("03/05/2026 00:00:00", "MDY", date(2026, 3, 5)),
        ("03/05/2026 12:30 pm", "DMY", date(2026, 5, 3)),
        ("05.03.2026", "DMY", date(2026, 3, 5)),
        (excel_datetime("2026-03-05T14:00"), "DMY", date(2026, 3, 5)),
    ],
)
def test_date_cells(cell: object, order: DateOrder, expected: date) -> None:
    assert _date(cell, order) == expected


@pytest.mark.parametrize(
    ("cell", "order", "problem"),
    [
        ("13/25/2026", "MDY", "is not a valid MM/DD/YYYY date"),
        ("25/02/2026", "MDY", "is not a valid MM/DD/YYYY date"),
        ("02/25/2026", "DMY", "is not a valid DD/MM/YYYY date"),
        ("2026-02-30", "DMY", "is not a valid DD/MM/YYYY date"),
        ("5/3/26", "DMY", "is not a date (expected DD/MM/YYYY)"),
        ("5 Mär 2026", "DMY", "is not a date"),
        ("5 Maz 2026", "DMY", "unknown month name 'Maz'"),
        (46086, "DMY", "is a number, not a date"),
    ],
)
def test_date_cells_that_are_errors(cell: object, order: DateOrder, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        _date(cell, order)
