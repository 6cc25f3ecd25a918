"""Read the Vendor Central remittance export (Payments › Remittance › Export), as XLSX or CSV.

No public sample of the export exists (see ``tests/fixtures/amazon/PROVENANCE.md``); what third-party code
that parses it shows, and what this reader therefore accepts:

* **Where the tables are.** Header rows are found by their column names wherever they are: title rows,
  blank rows and section labels before them are skipped. Names match whatever their case, spacing and
  punctuation (``Invoice Amount (Gross)`` = ``invoice_amount_gross``), through the synonym tables
  :data:`PAYMENT_COLUMNS` and :data:`LINE_COLUMNS`.
* **Layouts.** (a) A payment block (``Payment Number``, ``Payment Date``, maybe ``Payment Amount`` and
  ``Currency``; one row per payment, ended by a blank row or an ``Invoices`` label), then the invoice table
  whose lines name their payment. (b) A flat invoice table whose lines carry ``Payment Number`` and
  ``Payment Date`` themselves. Both may hold several payments; lines are grouped by payment number, each
  payment becoming one :class:`SetResult` (control number = payment number). A line with a blank payment
  number belongs to the payment above its table when that block lists exactly one.
* **Money.** Currency symbols and codes (``£ $ € US$ GBP`` ...), thousands separators (``,`` ``.`` space
  ``'``), negatives as ``-1.00``, ``−1.00``, ``–1.00`` (en/em dash), ``1.00-`` or ``(1.00)``. The decimal mark
  is decided per column from the column's own cells (:func:`_mark_vote`): a separator followed by one or two
  final digits, or the last of two different separators, is the decimal mark; a repeated one groups
  thousands. A column with no such cell follows the file's other columns when they agree, else the decimal
  point. A column voting both ways is not guessed: its cells holding a separator quarantine their payment.
  Because money never has three decimals, a wrong choice can only turn ``1,234`` into an error, never into
  a wrong amount. Blank optional amounts are 0 (discount, withholding) or unknown (remaining amount).
* **Dates.** Text dates are read in the configured order (``date_order``, from the vendor code's
  marketplace, :func:`date_order_for`), never guessed from the values: a date impossible in that order
  quarantines its payment. Year-first dates (``2026-03-05``, ``2026/03/05``) and English month names
  (``05-Mar-2026``, ``Mar 5, 2026``) are unambiguous and read in either order. Excel date cells are dates.
* **Checks.** Invoice amounts are gross and deductions negative, as the export writes them. The payment
  amount is the sum of the lines' ``Amount Paid``; when the file also states it, the two must agree. Any
  bad cell quarantines its payment with ``row N`` (the spreadsheet row; for CSV the record number, which is
  the row Excel shows); other payments still parse. A file that cannot be read at all raises
  :class:`FileRejected`.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import math
import re
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

import openpyxl

from pipelines.amazon.documents import FileRejected, Format, ParsedFile, RemittanceLine, RemittancePayment, SetResult
from pipelines.settings import MARKETPLACES

log = logging.getLogger(__name__)

DateOrder = Literal["MDY", "DMY"]

#: Marketplaces whose Vendor Central writes dates month first (MM/dd/yyyy); all others write dd/MM/yyyy.
MONTH_FIRST_MARKETPLACES = frozenset({"US", "CA", "MX"})

_PAYMENT_NUMBER = ("Payment Number", "Payment No", "Payment #", "Payment ID")
_PAYMENT_DATE = ("Payment Date", "Date Paid", "Paid Date")

#: The payment block's columns. Its header row needs the payment number and a date or an amount, and has no
#: invoice number (that would make it the invoice table).
PAYMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "payment_number": _PAYMENT_NUMBER,
    "payment_date": _PAYMENT_DATE,
    "payment_amount": ("Payment Amount", "Amount in Payment Currency", "Total Payment Amount"),
    "payment_currency": ("Currency", "Payment Currency"),
}

#: The invoice table's columns. Its header row needs every column in :data:`LINE_REQUIRED`. ``Currency``
#: means the invoice currency here; payment-level columns let a flat export carry its payments on the lines.
LINE_COLUMNS: dict[str, tuple[str, ...]] = {
    "payment_number": _PAYMENT_NUMBER,
    "invoice_number": ("Invoice Number", "Invoice No", "Invoice #", "Invoice ID"),
    "invoice_date": ("Invoice Date",),
    "description": ("Description", "Invoice Description"),
    "transaction_description": ("Transaction Description",),
    "transaction_type": ("Transaction Type",),
    "original_invoice_number": ("Original Invoice Number", "Original Invoice No", "Original Invoice"),
    "po_number": ("PO Number", "PO No", "PO #", "Purchase Order", "Purchase Order Number"),
    "invoice_amount": ("Invoice Amount", "Invoice Amount (Gross)", "Gross Invoice Amount", "Gross Amount"),
    "discount": ("Terms Discount Taken", "Terms Discount", "Discount Taken"),
    "withholding": ("Withholding Amount", "Withholding", "Withholding Tax"),
    "amount_paid": ("Amount Paid", "Net Amount Paid", "Paid Amount"),
    "remaining": ("Remaining Amount", "Amount Remaining"),
    "invoice_currency": ("Invoice Currency", "Currency"),
    "payment_date": _PAYMENT_DATE,
    "payment_amount": ("Payment Amount",),
    "payment_currency": ("Payment Currency",),
}
LINE_REQUIRED = ("invoice_number", "invoice_amount", "amount_paid")

_MONEY_FIELDS = ("invoice_amount", "discount", "withholding", "amount_paid", "remaining", "payment_amount")
# A row holding only one of these ends the payment block (the export writes "Invoices" above the invoice table).
_SECTION_LABELS = frozenset({"invoices", "invoice details"})

_CENT = Decimal("0.01")
# A double's noise is far below this (about 1e-10 on millions); a real third decimal is far above it.
_FLOAT_NOISE = Decimal("0.000001")
_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DELIMITERS = (",", ";", "\t")
_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_MINUS = "\\-\u2212\u2013\u2014"  # hyphen-minus (escaped: it sits in character classes), minus sign, en/em dash
_AMOUNT = re.compile(
    rf"""
    (?P<open>\()?
    (?P<lead>[+{_MINUS}])?
    (?P<symbol>[A-Z]{{0,3}}[£$€¥₹]|[A-Z]{{3}})?      # £ $ € US$ CA$ GBP ...
    (?P<lead2>[{_MINUS}])?                   # £-1.00
    (?P<number>\d(?:[\d.,']*\d)?)
    (?P<suffix>[£$€]|[A-Z]{{3}}|kr|zł)?              # 1,00€  100.00 USD  1 234,56 kr
    (?P<trail>[{_MINUS}])?
    (?P<close>\))?
    """,
    re.VERBOSE,
)
_EXCEL_SCIENTIFIC = re.compile(r"\d(?:[.,]\d+)?E\+\d+", re.IGNORECASE)
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")

_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?: ?[AP]M)?)?"
_YEAR_FIRST = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME, re.IGNORECASE)
_NUMERIC_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})" + _TIME, re.IGNORECASE)
_DAY_MONTH_NAME = re.compile(r"(\d{1,2})[- ]([A-Za-z]{3,9})\.?[- ,]+(\d{4})" + _TIME, re.IGNORECASE)
_MONTH_NAME_DAY = re.compile(r"([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})" + _TIME, re.IGNORECASE)
_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip


def date_order_for(marketplace: str) -> DateOrder:
    """The order Vendor Central writes dates in for ``marketplace``: ``MDY`` for US, CA and MX, else ``DMY``.

    Raises:
        ValueError: ``marketplace`` is not one of :data:`pipelines.settings.MARKETPLACES`.
    """
    if marketplace not in MARKETPLACES:
        raise ValueError(f"unknown marketplace {marketplace!r} (known: {', '.join(sorted(MARKETPLACES))})")
    return "MDY" if marketplace in MONTH_FIRST_MARKETPLACES else "DMY"


def read_remittance_export(data: bytes, file_name: str, *, date_order: DateOrder) -> ParsedFile:
    """Parse a remittance export into one :class:`SetResult` per payment, in the order the file lists them.

    The format is detected from the content, never the name: a ZIP holding ``xl/workbook.xml`` is XLSX,
    anything else must be text (UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252) separated
    by ``,``, ``;`` or tab — whichever of them yields a recognisable header row.

    Args:
        data: The file's bytes.
        file_name: The file's name, for the log.
        date_order: ``MDY`` or ``DMY``, from the vendor code's marketplace (:func:`date_order_for`).

    Raises:
        FileRejected: The file is empty, binary, an unreadable workbook, or has no invoice header row.
    """
    if date_order not in ("MDY", "DMY"):
        raise ValueError(f"date_order must be 'MDY' or 'DMY', not {date_order!r}")
    if not data:
        raise FileRejected("the file is empty", "byte 0")
    file_format: Format
    if data.startswith(b"PK\x03\x04"):
        file_format, tables = "REMITTANCE_XLSX", _xlsx_tables(data)
    elif data.startswith(_XLS_MAGIC):
        raise FileRejected("an old binary Excel (.xls) workbook: export the remittance as .xlsx or CSV", "byte 0")
    else:
        file_format, tables = "REMITTANCE_CSV", _csv_tables(_decode(data))
    sets = _payments(tables, date_order)
    log.info(
        "Read %s as %s: %d payment(s), %d quarantined",
        file_name,
        file_format,
        len(sets),
        sum(result.document is None for result in sets),
    )
    return ParsedFile(
        format=file_format,
        sender_id=None,
        receiver_id=None,
        interchange_control_number=None,
        syntax_version=None,
        sets=sets,
    )


# --------------------------------------------------------------------------------------------------
# Rows and tables
# --------------------------------------------------------------------------------------------------

#: A cell as read: always ``str`` from CSV; ``str``, ``int``, ``float``, ``datetime`` ... or ``None`` from openpyxl.
Cell = object


@dataclass(frozen=True)
class _Row:
    number: int  # 1-based: the spreadsheet row, or the CSV record
    cells: tuple[Cell, ...]

    def get(self, index: int) -> Cell:
        return self.cells[index] if index < len(self.cells) else None

    @property
    def is_blank(self) -> bool:
        return all(_is_blank(cell) for cell in self.cells)


@dataclass
class _Table:
    """A header row and the data rows under it."""

    kind: Literal["payments", "lines"]
    header_row: int
    columns: dict[str, int]  # field → column index
    names: dict[str, str]  # field → the column's name as written, for messages
    block: _Table | None = None  # lines: the payment block above them, if any
    rows: list[_Row] = field(default_factory=list)
    decimal_marks: dict[str, str | None] = field(default_factory=dict)  # money field → "." / "," / None (mixed)


def _normalise(name: str) -> str:
    """Compare column names without case, spacing or punctuation (``#`` kept: ``Invoice #`` is a name)."""
    return re.sub(r"[^a-z0-9#]+", " ", name.casefold()).strip()


def _lookup(columns: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    return {_normalise(name): key for key, names in columns.items() for name in names}


_PAYMENT_LOOKUP = _lookup(PAYMENT_COLUMNS)
_LINE_LOOKUP = _lookup(LINE_COLUMNS)


@dataclass
class _Header:
    """The recognised columns of a row read as a header."""

    columns: dict[str, int] = field(default_factory=dict)  # field → column index
    names: dict[str, str] = field(default_factory=dict)  # field → the column's name as written
    clash: str | None = None  # two columns with the same meaning: which one to read cannot be told

    def has(self, *keys: str) -> bool:
        return all(key in self.columns for key in keys)

    def table(self, kind: Literal["payments", "lines"], row: _Row, block: _Table | None = None) -> _Table:
        if self.clash:
            raise FileRejected(self.clash, f"row {row.number}")
        return _Table(kind, row.number, self.columns, self.names, block=block)


def _header(row: _Row, lookup: Mapping[str, str]) -> _Header:
    header = _Header()
    for index, cell in enumerate(row.cells):
        if not isinstance(cell, str) or (key := lookup.get(_normalise(cell))) is None:
            continue
        if key in header.columns:
            header.clash = f"columns {header.names[key]!r} and {cell.strip()!r} mean the same thing"
            continue
        header.columns[key] = index
        header.names[key] = cell.strip()
    return header


def _segment(rows: Iterable[_Row]) -> list[_Table]:
    """Split rows into payment blocks and invoice tables; rows before the first header are titles."""
    tables: list[_Table] = []
    current: _Table | None = None
    block: _Table | None = None
    for row in rows:
        if row.is_blank:
            if current is not None and current.kind == "payments":
                current = None  # a blank row ends the payment block; invoice tables may have gaps
            continue
        header = _header(row, _LINE_LOOKUP)
        if header.has(*LINE_REQUIRED):
            current = header.table("lines", row, block)
            tables.append(current)
            continue
        if not header.has("invoice_number"):
            header = _header(row, _PAYMENT_LOOKUP)
            if header.has("payment_number") and (header.has("payment_date") or header.has("payment_amount")):
                current = block = header.table("payments", row)
                tables.append(current)
                continue
        if current is None:
            continue
        if current.kind == "payments" and _is_section_label(row):
            current = None
            continue
        current.rows.append(row)
    return tables


def _is_section_label(row: _Row) -> bool:
    filled = [cell for cell in row.cells if not _is_blank(cell)]
    return len(filled) == 1 and isinstance(filled[0], str) and _normalise(filled[0]) in _SECTION_LABELS


def _has_invoice_table(tables: list[_Table]) -> bool:
    return any(table.kind == "lines" for table in tables)


def _no_header(candidates: Iterable[Iterable[_Row]]) -> FileRejected:
    """Say which row came closest to an invoice header, so the person fixing the file knows where to look."""
    wanted = " / ".join(LINE_COLUMNS[key][0] for key in LINE_REQUIRED)
    best: tuple[int, int, dict[str, str]] | None = None
    for rows in candidates:
        for row in rows:
            names = _header(row, _LINE_LOOKUP).names
            if len(names) >= 2 and (best is None or len(names) > best[0]):
                best = (len(names), row.number, names)
    reason = f"no invoice header row found (it needs columns {wanted} or a synonym)"
    if best is None:
        return FileRejected(reason, "file")
    _, number, names = best
    missing = ", ".join(LINE_COLUMNS[key][0] for key in LINE_REQUIRED if key not in names)
    return FileRejected(f"{reason}; row {number} comes closest but lacks {missing}", f"row {number}")


# --------------------------------------------------------------------------------------------------
# XLSX and CSV
# --------------------------------------------------------------------------------------------------


def _xlsx_tables(data: bytes) -> list[_Table]:
    """The tables of the first worksheet that has an invoice header row."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile as error:
        raise FileRejected(f"a ZIP/XLSX file that cannot be opened ({error}): truncated or corrupt", "file") from error
    if "xl/workbook.xml" not in names:
        raise FileRejected("a ZIP archive but not an XLSX workbook (no xl/workbook.xml)", "file")
    try:
        sheets = _xlsx_sheets(data)
    except Exception as error:  # a damaged part surfaces as KeyError, ValueError, XML errors ...
        raise FileRejected(f"the workbook cannot be read: {type(error).__name__}: {error}", "file") from error
    for rows in sheets:
        tables = _segment(rows)
        if _has_invoice_table(tables):
            return tables
    raise _no_header(sheets)


def _xlsx_sheets(data: bytes) -> list[list[_Row]]:
    """Every worksheet's rows, all read here so that a damaged part fails here and not halfway through."""
    with warnings.catch_warnings():
        # openpyxl warns about styles and extensions it does not read; they do not affect cell values.
        warnings.simplefilter("ignore")
        # read_only streams the sheets instead of building every cell object: far less memory on big exports.
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheets = []
            for sheet in workbook.worksheets:
                sheet.reset_dimensions()  # read every row even when the file records its size wrongly
                # min_row/min_col = 1: otherwise reading starts at the first used cell and row numbers shift.
                values = sheet.iter_rows(min_row=1, min_col=1, values_only=True)
                sheets.append([_Row(number, tuple(cells)) for number, cells in enumerate(values, start=1)])
        finally:
            workbook.close()
    return sheets


def _decode(data: bytes) -> str:
    """The text of a CSV export, or FileRejected when it is binary or in no encoding we know."""
    if data.startswith(codecs.BOM_UTF8):
        encoding, body = "utf-8", data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, body = "utf-16", data  # the codec reads the BOM to choose the byte order
    elif b"\x00" in data:
        raise FileRejected("binary data (NUL bytes), neither a CSV nor an XLSX export", f"byte {data.index(0)}")
    else:
        try:
            return _text_only(data.decode("utf-8"))
        except UnicodeDecodeError:
            encoding, body = "cp1252", data  # Excel's plain "CSV" on Windows
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as error:
        raise FileRejected(f"not valid {encoding} text", f"byte {error.start}") from error
    return _text_only(text)


def _text_only(text: str) -> str:
    if (control := _CONTROL_CHARACTER.search(text)) is not None:
        line = text.count("\n", 0, control.start()) + 1
        raise FileRejected("binary data (control characters), neither a CSV nor an XLSX export", f"line {line}")
    if not text.strip():
        raise FileRejected("the file holds only blank space", "file")
    return text


def _csv_tables(text: str) -> list[_Table]:
    """The tables under whichever delimiter makes the most columns of an invoice header recognisable."""
    best: tuple[int, list[_Table]] | None = None
    tried: list[list[_Row]] = []
    for delimiter in _DELIMITERS:
        rows = _csv_rows(text, delimiter)
        tables = _segment(rows)
        lines = [table for table in tables if table.kind == "lines"]
        if lines and (best is None or len(lines[0].columns) > best[0]):
            best = (len(lines[0].columns), tables)
        tried.append(rows)
    if best is None:
        raise _no_header(tried)
    return best[1]


def _csv_rows(text: str, delimiter: str) -> list[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[_Row] = []
    try:
        for number, cells in enumerate(reader, start=1):
            rows.append(_Row(number, tuple(cells)))
    except csv.Error as error:
        raise FileRejected(f"not readable as CSV: {error}", f"row {len(rows) + 1}") from error
    return rows


# --------------------------------------------------------------------------------------------------
# Payments
# --------------------------------------------------------------------------------------------------


@dataclass
class _Draft:
    """A payment being assembled from its block row and lines; its problems collected as (row, message)."""

    number: str
    first_row: int
    payment_date: date | None = None
    amount: Decimal | None = None
    amount_row: int | None = None
    currency: str | None = None
    lines: list[RemittanceLine] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)

    def agree(self, attribute: Literal["payment_date", "amount", "currency"], value: object, row: int) -> None:
        """Record a payment-level value; the block and every line that repeat it must give the same one."""
        if value is None:
            return
        current = getattr(self, attribute)
        if current is None:
            setattr(self, attribute, value)
            if attribute == "amount":
                self.amount_row = row
        elif current != value:
            label = attribute.replace("_", " ") if attribute != "amount" else "payment amount"
            self.errors.append((row, f"{label} {value} differs from {current} given earlier for this payment"))


def _payments(tables: list[_Table], date_order: DateOrder) -> list[SetResult]:
    _decide_decimal_marks(tables)
    drafts: dict[str, _Draft] = {}
    orphans: list[tuple[int, SetResult]] = []
    for table in tables:
        if table.kind == "payments":
            for row in table.rows:
                _read_payment_row(table, row, date_order, drafts, orphans)
            continue
        default = _single_payment(table.block)
        if "payment_number" not in table.columns and default is None:
            raise FileRejected(
                "the invoice table has no Payment Number column and no single payment above it to belong to",
                f"row {table.header_row}",
            )
        for row in table.rows:
            _read_line(table, row, date_order, default, drafts, orphans)
    results = [(draft.first_row, _finish(draft)) for draft in drafts.values()] + orphans
    return [result for _, result in sorted(results, key=lambda pair: pair[0])]


def _single_payment(block: _Table | None) -> str | None:
    if block is None:
        return None
    numbers = {_text(row.get(block.columns["payment_number"])) for row in block.rows} - {None}
    return numbers.pop() if len(numbers) == 1 else None


def _draft(drafts: dict[str, _Draft], number: str, row: int) -> _Draft:
    if number not in drafts:
        drafts[number] = _Draft(number, row)
    return drafts[number]


def _orphan(row: int, problem: str) -> tuple[int, SetResult]:
    # "row N" as control number: unique in the file, and no payment number is spelt like it.
    message = f"row {row}: {problem}"
    return row, SetResult(f"row {row}", "REMITTANCE", None, error=message, position=f"row {row}")


def _read_payment_row(
    table: _Table, row: _Row, date_order: DateOrder, drafts: dict[str, _Draft], orphans: list[tuple[int, SetResult]]
) -> None:
    cells = _RowReader(table, row, date_order)
    number = cells.identifier("payment_number", required=True)
    payment_date = cells.date("payment_date")
    amount = cells.money("payment_amount")
    currency = cells.currency("payment_currency")
    if number is None:
        orphans.append(_orphan(row.number, "; ".join(cells.errors)))
        return
    draft = _draft(drafts, number, row.number)
    draft.errors += [(row.number, error) for error in cells.errors]
    draft.agree("payment_date", payment_date, row.number)
    draft.agree("amount", amount, row.number)
    draft.agree("currency", currency, row.number)


def _read_line(
    table: _Table,
    row: _Row,
    date_order: DateOrder,
    default: str | None,
    drafts: dict[str, _Draft],
    orphans: list[tuple[int, SetResult]],
) -> None:
    cells = _RowReader(table, row, date_order)
    number = cells.identifier("payment_number") or default
    if number is None:
        problem = "no Payment Number, and no single payment above the invoice table for the line to belong to"
        orphans.append(_orphan(row.number, "; ".join([problem, *cells.errors])))
        return
    draft = _draft(drafts, number, row.number)
    invoice_number = cells.identifier("invoice_number", required=True)
    gross = cells.money("invoice_amount", required=True)
    discount = cells.money("discount")
    withholding = cells.money("withholding")
    if withholding:
        # RemittanceLine has no field for it: loading the line without it would misstate what was deducted.
        cells.errors.append(f"{table.names['withholding']} {withholding} cannot be recorded (no withholding field)")
    paid = cells.money("amount_paid", required=True)
    invoice_date = cells.date("invoice_date")
    description = _join(cells.text("description"), cells.text("transaction_description"))
    remaining = cells.money("remaining")
    currency = cells.currency("invoice_currency")
    po_number = cells.identifier("po_number")
    transaction_type = cells.text("transaction_type")
    original_invoice_number = cells.identifier("original_invoice_number")
    draft.agree("payment_date", cells.date("payment_date"), row.number)
    draft.agree("amount", cells.money("payment_amount"), row.number)
    draft.agree("currency", cells.currency("payment_currency"), row.number)
    if cells.errors or invoice_number is None or gross is None or paid is None:  # (None comes with an error)
        draft.errors += [(row.number, error) for error in cells.errors]
        return
    draft.lines.append(
        RemittanceLine(
            invoice_number=invoice_number,
            invoice_date=invoice_date,
            description=description,
            gross_amount=gross,
            discount_amount=discount or Decimal("0.00"),
            paid_amount=paid,
            remaining_amount=remaining,
            currency=currency,
            po_number=po_number,
            transaction_type=transaction_type,
            original_invoice_number=original_invoice_number,
        )
    )


def _join(description: str | None, transaction_description: str | None) -> str | None:
    """One description: variants of the export write ``Description``, others ``Transaction Description``."""
    if description and transaction_description and description != transaction_description:
        return f"{description} / {transaction_description}"
    return description or transaction_description


def _finish(draft: _Draft) -> SetResult:
    errors = list(draft.errors)
    if draft.payment_date is None:
        errors.append((draft.first_row, "no payment date (neither a payment block row nor a Payment Date column)"))
    line_currencies = sorted({line.currency for line in draft.lines if line.currency})
    currency = draft.currency or (line_currencies[0] if len(line_currencies) == 1 else None)
    total = sum((line.paid_amount for line in draft.lines), Decimal("0.00"))
    # Checks of the payment as a whole mean nothing while some of its lines could not be read.
    if not draft.errors and (problem := _whole_payment_problem(draft, currency, line_currencies, total)):
        errors.append(problem)
    if errors or draft.payment_date is None or currency is None:  # (both None cases are in errors already)
        errors.sort(key=lambda error: error[0])
        message = "; ".join(f"row {row}: {problem}" for row, problem in errors)
        return SetResult(draft.number, "REMITTANCE", None, error=message, position=f"row {errors[0][0]}")
    payment = RemittancePayment(
        payment_number=draft.number,
        payment_date=draft.payment_date,
        currency=currency,
        amount=total,
        payer_id=None,
        payee_id=None,
        lines=tuple(draft.lines),
    )
    return SetResult(draft.number, "REMITTANCE", payment)


def _whole_payment_problem(
    draft: _Draft, currency: str | None, line_currencies: list[str], total: Decimal
) -> tuple[int, str] | None:
    if not draft.lines:
        return draft.first_row, "the payment has no invoice lines"
    if currency is None:
        return draft.first_row, f"no single currency for the payment (lines in {line_currencies or 'none'})"
    if set(line_currencies) - {currency}:
        invoiced = ", ".join(line_currencies)
        return draft.first_row, f"paid in {currency} for invoices in {invoiced}: no exchange rate to convert them"
    if draft.amount is not None and draft.amount != total:
        return (
            draft.amount_row or draft.first_row,
            f"payment amount {draft.amount} differs from the sum of the lines' amounts paid {total} "
            f"by {draft.amount - total}",
        )
    return None


# --------------------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------------------


class _CellError(ValueError):
    """A cell that cannot be read as what its column holds."""


class _RowReader:
    """Reads one row's cells by meaning, collecting every problem instead of stopping at the first."""

    def __init__(self, table: _Table, row: _Row, date_order: DateOrder) -> None:
        self.table = table
        self.row = row
        self.date_order = date_order
        self.errors: list[str] = []

    def _cell(self, key: str) -> Cell:
        index = self.table.columns.get(key)
        return None if index is None else self.row.get(index)

    def _problem(self, key: str, error: _CellError) -> None:
        self.errors.append(f"{self.table.names[key]} {self._cell(key)!r}: {error}")

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = _text(self._cell(key))
        if value is None and required:
            self.errors.append(f"{self.table.names[key]} is blank")
        return value

    def identifier(self, key: str, *, required: bool = False) -> str | None:
        value = self.text(key, required=required)
        if value is not None and _EXCEL_SCIENTIFIC.fullmatch(value):
            self._problem(key, _CellError("Excel rewrote this number in scientific notation; its digits are lost"))
            return None
        return value

    def money(self, key: str, *, required: bool = False) -> Decimal | None:
        cell = self._cell(key)
        if _is_blank(cell):
            if required:
                self.errors.append(f"{self.table.names[key]} is blank")
            return None
        try:
            return _money(cell, self.table.decimal_marks.get(key, "."))
        except _CellError as error:
            self._problem(key, error)
            return None

    def date(self, key: str) -> date | None:
        cell = self._cell(key)
        if _is_blank(cell):
            return None
        try:
            return _date(cell, self.date_order)
        except _CellError as error:
            self._problem(key, error)
            return None

    def currency(self, key: str) -> str | None:
        value = self.text(key)
        if value is None:
            return None
        if not _CURRENCY_CODE.fullmatch(value.upper()):
            self._problem(key, _CellError("is not a three-letter currency code"))
            return None
        return value.upper()


def _is_blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _text(cell: Cell) -> str | None:
    if _is_blank(cell):
        return None
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))  # Excel keeps every number as a double: 3000123456.0 is payment 3000123456
    return str(cell).strip()


def _decide_decimal_marks(tables: list[_Table]) -> None:
    """Each money column's decimal mark, from its own text cells (see the module docstring)."""
    votes: dict[tuple[int, str], set[str]] = {}
    for number, table in enumerate(tables):
        for key in _MONEY_FIELDS:
            if key in table.columns:
                cells = (row.get(table.columns[key]) for row in table.rows)
                votes[number, key] = {vote for cell in cells if (vote := _mark_vote(cell)) is not None}
    decided = {next(iter(marks)) for marks in votes.values() if len(marks) == 1}
    default = decided.pop() if len(decided) == 1 else "."
    for (number, key), marks in votes.items():
        tables[number].decimal_marks[key] = next(iter(marks)) if len(marks) == 1 else (None if marks else default)


def _mark_vote(cell: Cell) -> str | None:
    """The decimal mark one text cell proves, or None when it proves none (``1,234``, ``100``, numbers)."""
    if not isinstance(cell, str):
        return None
    number = "".join(character for character in cell if character in "0123456789.,")
    last = max(number.rfind("."), number.rfind(","))
    if last < 0:
        return None
    mark, other = number[last], "," if number[last] == "." else "."
    if other in number:
        return mark  # 1.234,56 / 1,234.56: the last separator is the decimal mark
    if number.count(mark) > 1:
        return other  # 1,234,567: a repeated separator groups thousands
    if len(number) - last - 1 in (1, 2):
        return mark  # money has at most two decimals, so 12,5 and 12,50 are decimal commas
    return None


def _money(cell: Cell, mark: str | None) -> Decimal:
    """An amount in cents precision; ``mark`` is the column's decimal mark (None: the column mixes both)."""
    if isinstance(cell, bool) or not isinstance(cell, int | float | str):
        raise _CellError("is not an amount")
    if isinstance(cell, int):
        return _cents(Decimal(cell))
    if isinstance(cell, float):
        return _money_from_double(cell)
    text = "".join(cell.split())  # spaces (also no-break) only group digits or pad symbols
    match = _AMOUNT.fullmatch(text)
    if match is None or (match["symbol"] and match["suffix"]):
        raise _CellError("is not an amount")
    signs = [sign for sign in (match["lead"], match["lead2"], match["trail"]) if sign]
    if bool(match["open"]) != bool(match["close"]) or len(signs) > 1 or (match["open"] and signs):
        raise _CellError("has unbalanced parentheses or more than one sign")
    negative = bool(match["open"]) or (bool(signs) and signs[0] != "+")
    amount = _number(match["number"], mark)
    return -amount if negative else amount


def _money_from_double(value: float) -> Decimal:
    """An Excel number cell as money.

    Excel stores numbers as binary doubles, so a cell showing 5880.00 may hold 5879.999999999999 after a
    formula. ``repr`` gives the shortest decimal that round-trips the double (what Excel displays); money has
    two decimals, so that is rounded to cents — but a real third decimal (12.345) is an error, not rounded away.
    """
    if not math.isfinite(value):
        raise _CellError("is not a finite number")
    exact = Decimal(repr(value))
    cents = _cents(exact)
    if abs(exact - cents) > _FLOAT_NOISE:
        raise _CellError("has more than two decimals")
    return cents


def _number(number: str, mark: str | None) -> Decimal:
    """Digits with separators (no sign, no symbol) as a non-negative Decimal, under the decimal mark ``mark``."""
    if mark is None:
        if "." in number or "," in number:
            raise _CellError("its column mixes decimal commas and decimal points, so the decimal mark is unknown")
        return _cents(Decimal(number))
    whole, _, decimals = number.partition(mark)
    if decimals and not decimals.isdigit():
        raise _CellError("has more than one decimal mark")
    if len(decimals) > 2:
        raise _CellError("has more than two decimals")
    groups = set(re.sub(r"\d", "", whole))
    if len(groups) > 1 or (groups and not re.fullmatch(r"\d{1,3}(?:[.,']\d{3})+", whole)):
        raise _CellError(f"has misplaced thousands separators for decimal mark {mark!r}")
    digits = re.sub(r"\D", "", whole)
    return _cents(Decimal(f"{digits}.{decimals or '0'}"))


def _cents(amount: Decimal) -> Decimal:
    try:
        return amount.quantize(_CENT)
    except InvalidOperation:  # more digits than the decimal context holds (28)
        raise _CellError("is too large to be an amount") from None


def _date(cell: Cell, order: DateOrder) -> date:
    """A date cell (Excel dates are already dates) or text read in ``order``."""
    if isinstance(cell, datetime):  # openpyxl reads every Excel date cell as a datetime
        return cell.date()
    if not isinstance(cell, str):
        raise _CellError("is a number, not a date: format the column as a date or text")
    text = " ".join(cell.split())
    order_name = "MM/DD/YYYY" if order == "MDY" else "DD/MM/YYYY"
    if match := _YEAR_FIRST.fullmatch(text):
        year, month, day = match.groups()
    elif match := _NUMERIC_DATE.fullmatch(text):
        first, second, year = match.groups()
        month, day = (first, second) if order == "MDY" else (second, first)
    elif match := _DAY_MONTH_NAME.fullmatch(text):
        day, name, year = match.groups()
        month = str(_month(name))
    elif match := _MONTH_NAME_DAY.fullmatch(text):
        name, day, year = match.groups()
        month = str(_month(name))
    else:
        raise _CellError(f"is not a date (expected {order_name})")
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise _CellError(f"is not a valid {order_name} date") from None


def _month(name: str) -> int:
    """An English month name or its abbreviation (``Sep`` and ``Sept`` both)."""
    lowered = name.casefold()
    for number, month in enumerate(_MONTHS, start=1):
        if lowered in (month, month[:3]) or (number == 9 and lowered == "sept"):
            return number
    raise _CellError(f"has an unknown month name {name!r}")
