"""The close report: one HTML page a finance person reads and files, from the rows the pack holds.

Every figure is a `<td data-figure="name">` carrying the exact decimal, so the report can be checked by a
program against the marts as well as read by a person.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from typing import Any

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #1b1b1b; }
h1 { margin-bottom: 0.2rem; } .meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.5rem; text-align: left; }
td.money, th.money { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; border-top: 2px solid #1b1b1b; }
.passed { color: #116611; } .failed { color: #aa1111; } .interim { color: #aa6600; font-weight: 600; }
"""


@dataclass(frozen=True)
class ReportContext:
    company: str
    period: str
    version: int
    closed_by: str
    closed_at: str
    code_version: str
    note: str | None
    period_row: dict[str, Any]
    deductions_by_type: Sequence[dict[str, Any]]
    checks: Sequence[Any]  # CheckResult
    open_exceptions: Sequence[dict[str, Any]]


def money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def figure(name: str, value: Decimal) -> str:
    return f'<td class="money" data-figure="{escape(name)}" data-value="{value}">{money(value)}</td>'


def figure_row(label: str, name: str, value: Decimal, total: bool = False) -> str:
    row_class = ' class="total"' if total else ""
    return f"<tr{row_class}><td>{escape(label)}</td>{figure(name, value)}</tr>"


def table(headers: Iterable[str], rows: Iterable[str], money_columns: int = 0) -> str:
    header_cells = list(headers)
    cells = "".join(
        f'<th class="money">{escape(h)}</th>' if i >= len(header_cells) - money_columns else f"<th>{escape(h)}</th>"
        for i, h in enumerate(header_cells)
    )
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render_report(context: ReportContext) -> str:
    p = context.period_row
    interim = (
        ""
        if p["period_ended"]
        else '<p class="interim">Interim close: the period had not ended when it was closed.</p>'
    )
    note = f"<p>Note: {escape(context.note)}</p>" if context.note else ""
    sections = [
        f"<h1>Month-end close {escape(context.period)}, version {context.version}</h1>",
        f'<p class="meta">{escape(context.company)} · closed by {escape(context.closed_by)} at '
        f"{escape(context.closed_at)} · code {escape(context.code_version)}</p>",
        interim,
        note,
        "<h2>Integrity checks</h2>",
        table(
            ["check", "result", "detail"],
            (
                f'<tr data-check="{escape(c.name)}"><td>{escape(c.name)}</td>'
                f'<td class="{"passed" if c.passed else "failed"}">{"passed" if c.passed else "FAILED"}</td>'
                f"<td>{escape(c.detail)}</td></tr>"
                for c in context.checks
            ),
        ),
        "<h2>Invoiced to Amazon</h2>",
        table(
            ["", "amount"],
            [
                f'<tr><td>Invoices</td><td class="money">{p["invoices_count"]}</td></tr>',
                figure_row("Goods", "invoiced_goods", p["invoiced_goods"]),
                figure_row("VAT", "invoiced_tax", p["invoiced_tax"]),
                figure_row("Gross", "invoiced_gross", p["invoiced_gross"], total=True),
            ],
            money_columns=1,
        ),
        "<h2>Paid by Amazon (payments posted to Sage)</h2>",
        table(
            ["", "amount"],
            [
                f'<tr><td>Payments posted</td><td class="money">{p["payments_posted"]}</td></tr>',
                figure_row("Invoices settled", "invoices_settled", p["invoices_settled"]),
                figure_row("Less deducted", "less_deducted", -p["deducted_gross"]),
                figure_row("Net received", "net_received", p["net_received"], total=True),
            ],
            money_columns=1,
        ),
        "<h2>Deducted by type</h2>",
        table(
            ["type", "count", "goods", "VAT", "gross"],
            [
                *(
                    f'<tr><td>{escape(row["deduction_type"])}</td><td class="money">{row["deductions_count"]}</td>'
                    + figure(f"deducted_goods:{row['deduction_type']}", row["deducted_goods"])
                    + figure(f"deducted_tax:{row['deduction_type']}", row["deducted_tax"])
                    + figure(f"deducted_gross:{row['deduction_type']}", row["deducted_gross"])
                    + "</tr>"
                    for row in context.deductions_by_type
                ),
                f'<tr class="total"><td>Total</td><td class="money">{p["deductions_count"]}</td>'
                + figure("deducted_goods", p["deducted_goods"])
                + figure("deducted_tax", p["deducted_tax"])
                + figure("deducted_gross", p["deducted_gross"])
                + "</tr>",
            ],
            money_columns=4,
        ),
        "<h2>Amazon clearing bank roll-forward (Sage)</h2>",
        table(
            ["", "amount"],
            [
                figure_row("Opening balance", "clearing_opening", p["clearing_opening"]),
                figure_row("Amazon payments received", "clearing_amazon_receipts", p["clearing_amazon_receipts"]),
                figure_row("Deductions paid out", "clearing_deductions_paid", p["clearing_deductions_paid"]),
                figure_row("Recoveries received", "clearing_recoveries_received", p["clearing_recoveries_received"]),
                figure_row("Transfers to the bank", "clearing_transfers", p["clearing_transfers"]),
                figure_row("Other movements", "clearing_other", p["clearing_other"]),
                figure_row("Closing balance", "clearing_closing", p["clearing_closing"], total=True),
            ],
            money_columns=1,
        ),
        "<h2>Open deductions roll-forward (recoverable deductions)</h2>",
        table(
            ["", "amount"],
            [
                figure_row("Opening", "open_deductions_opening", p["open_deductions_opening"]),
                figure_row("New", "open_deductions_new", p["open_deductions_new"]),
                figure_row("Recovered", "open_deductions_recovered", -p["open_deductions_recovered"]),
                figure_row("Written off", "open_deductions_written_off", -p["open_deductions_written_off"]),
                figure_row("Closing", "open_deductions_closing", p["open_deductions_closing"], total=True),
            ],
            money_columns=1,
        ),
        "<h2>Unapplied cash</h2>",
        table(
            ["", "amount"],
            [figure_row("On account at the period end", "unapplied_cash", p["unapplied_cash"], total=True)],
            money_columns=1,
        ),
        f"<h2>Open exceptions ({len(context.open_exceptions)})</h2>",
        "<p>Open exceptions do not block a close; each has an owner.</p>",
        table(
            ["kind", "severity", "owner", "assigned to", "document", "due", "what"],
            (
                f'<tr data-exception="{escape(e["exception_id"])}"><td>{escape(e["kind"])}</td>'
                f"<td>{escape(e['severity'])}</td><td>{escape(e['owner_role'])}</td>"
                f"<td>{escape(e['assignee'] or '')}</td><td>{escape(e['document_reference'] or '')}</td>"
                f"<td>{escape(str(e['due_at'] or ''))}</td><td>{escape(e['title'] or e['message'] or '')}</td></tr>"
                for e in context.open_exceptions
            ),
        ),
        "<p>Every file of this pack and its SHA-256 are in manifest.json; the manifest's own SHA-256 is in "
        "audit.month_end_runs. <code>avc2sage verify-close --period "
        f"{escape(context.period)} --version {context.version}</code> checks them.</p>",
    ]
    body = "\n".join(section for section in sections if section)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Month-end close {escape(context.period)} v{context.version}</title><style>{STYLE}</style>"
        f"</head><body>\n{body}\n</body></html>\n"
    )
