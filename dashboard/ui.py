"""What every page shares: the snapshot (or a friendly stop), money and time formats, tables."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from dashboard import data
from pipelines.warehouse.snapshot import SnapshotMissing

NO_SNAPSHOT = (
    "No data published yet: run `avc2sage run` (or `make demo`) to load Amazon's files and Sage 200, build the "
    "warehouse and publish the read snapshot this dashboard shows."
)
NO_MONTH_END = (
    "No month-end data yet: run `avc2sage run` to build the month-end marts (`marts.month_end_periods`) and publish "
    "them, then close a month with `avc2sage close`."
)
STATUS_COLOURS = {"green": "green", "amber": "orange", "red": "red"}
SEVERITY_COLOURS = {"low": "gray", "medium": "blue", "high": "orange", "critical": "red"}


def snapshot_or_stop() -> data.Snapshot:
    """The published snapshot; when there is none, say how to make one and stop the page."""
    try:
        snapshot = data.current_snapshot()
    except SnapshotMissing:
        st.info(NO_SNAPSHOT)
        st.stop()
    timezone = data.company_timezone(snapshot)
    st.sidebar.caption(f"Data as published {when(snapshot.published_at, timezone)} ({timezone})")
    return snapshot


def _missing(value: object) -> bool:
    # pandas turns a missing time into NaT (which is a datetime) and may turn a missing number into NaN.
    return value is None or bool(pd.isna(value))


def money(value: Decimal | None) -> str:
    """£1,234.56; -£93.17; an em dash for no amount. Exact: a Decimal is never turned into a float."""
    if _missing(value):
        return "—"
    amount = Decimal(value).quantize(Decimal("0.01"))
    sign = "-" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.2f}"


def number(value: Decimal | None) -> str:
    """A figure that may be money or a count (a check's measure): 1,234.56 as it is; an em dash for none."""
    if _missing(value):
        return "—"
    return f"{Decimal(value):,}"


def ratio(value: Decimal | None) -> str:
    if _missing(value):
        return "—"
    return f"{Decimal(value) * 100:.1f}%"


def when(value: datetime | date | None, timezone: str) -> str:
    """A time in the company's time zone to the minute; a date as it is; an em dash for none."""
    if _missing(value):
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def readable(
    frame: pd.DataFrame,
    timezone: str,
    *,
    money_columns: Iterable[str] = (),
    time_columns: Iterable[str] = (),
    ratio_columns: Iterable[str] = (),
) -> pd.DataFrame:
    """A copy of a (small, already limited) frame with money, times and ratios as text people read."""
    shown = frame.copy()
    for column in money_columns:
        if column in shown:
            shown[column] = [money(value) for value in shown[column]]
    for column in time_columns:
        if column in shown:
            shown[column] = [when(value, timezone) for value in shown[column]]
    for column in ratio_columns:
        if column in shown:
            shown[column] = [ratio(value) for value in shown[column]]
    return shown


MONEY_COLUMNS = (
    "amount",
    "ordered_value",
    "accepted_value",
    "unit_cost",
    "net_amount",
    "tax_amount",
    "gross_amount",
    "goods_amount",
    "invoices_gross",
    "deductions_total",
    "net_paid",
    "receipt_value",
    "transfer_value",
    "posting_value",
    "discount_amount",
    "settlement_amount",
    "allocated_amount",
    "on_account_amount",
    "variance_amount",
    "debit",
    "credit",
    "paid_amount",
    "remaining_amount",
    "unit_price",
    "sage_balance",
    "expected_balance",
    "difference",
    "clearing_bank_unexplained",
    "invoiced_gross",
    "net_received",
    "deducted_goods",
    "deducted_tax",
    "deducted_gross",
    "unapplied_cash",
    "clearing_closing",
    "open_deductions_closing",
)
TIME_COLUMNS = (
    "detected_at",
    "due_at",
    "resolved_at",
    "snoozed_until",
    "taken_at",
    "loaded_at",
    "received_at",
    "processed_at",
    "acknowledgement_due_at",
    "acknowledged_at",
    "despatched_at",
    "asn_due_at",
    "asn_sent_at",
    "sent_at",
    "written_at",
    "answered_at",
    "response_due_at",
    "checked_at",
    "recorded_at",
    "approved_at",
    "started_at",
    "ended_at",
    "last_run_at",
    "last_success_at",
    "last_action_at",
    "closed_at",
    "latest_closed_at",
)
RATIO_COLUMNS = ("matched_ratio", "success_rate", "matched_by_value_ratio")


def table(frame: pd.DataFrame, timezone: str, *, key: str | None = None, empty: str = "Nothing here.") -> None:
    """Show a frame with money, times and ratios formatted, or a caption when it is empty; in a container named
    `key` when given (what tests and the browser find it by)."""
    with st.container(key=key) if key else nullcontext():
        if frame.empty:
            st.caption(empty)
            return
        shown = readable(
            frame, timezone, money_columns=MONEY_COLUMNS, time_columns=TIME_COLUMNS, ratio_columns=RATIO_COLUMNS
        )
        st.dataframe(shown, hide_index=True)


def flash(key: str = "flash") -> None:
    """Show (once) the message an action left before the page reran."""
    message = st.session_state.pop(key, None)
    if message:
        st.success(message)
