"""The dashboard's charts (Altair, which ships with Streamlit). Money becomes a float here, for drawing only."""

from __future__ import annotations

import altair as alt
import pandas as pd


def _floats(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    drawn = frame.copy()
    for column in columns:
        drawn[column] = [float(value) if value is not None else None for value in drawn[column]]
    return drawn


def exceptions_per_day(trend: pd.DataFrame) -> alt.Chart:
    """Exceptions opened and resolved per day, side by side."""
    long = trend.melt(id_vars="day", value_vars=["opened", "resolved"], var_name="what", value_name="exceptions")
    long["day"] = pd.to_datetime(long["day"])
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("yearmonthdate(day):O", title="day"),
            xOffset="what:N",
            y=alt.Y("exceptions:Q", title="exceptions"),
            color=alt.Color("what:N", scale=alt.Scale(domain=["opened", "resolved"], range=["#d62728", "#2ca02c"])),
            tooltip=["day:T", "what:N", "exceptions:Q"],
        )
    )


def remittances_per_week(trend: pd.DataFrame) -> alt.Chart:
    """Invoices settled, deductions and net paid per week."""
    drawn = _floats(trend, ("invoices_gross", "deductions_total", "net_paid"))
    drawn["week"] = pd.to_datetime(drawn["week"])
    long = drawn.melt(
        id_vars="week", value_vars=["invoices_gross", "deductions_total", "net_paid"], var_name="what", value_name="£"
    )
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("week:T", title="week"),
            y=alt.Y("£:Q", title="£"),
            color=alt.Color("what:N", title=None),
            tooltip=["week:T", "what:N", alt.Tooltip("£:Q", format=",.2f")],
        )
    )


def deductions_per_month(by_month: pd.DataFrame) -> alt.Chart:
    """Deductions per month, stacked by type (as positive amounts: what Amazon took)."""
    drawn = _floats(by_month, ("amount",))
    drawn["taken"] = -drawn["amount"]
    drawn["month"] = pd.to_datetime(drawn["month"])
    return (
        alt.Chart(drawn)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):O", title="month"),
            y=alt.Y("sum(taken):Q", title="£ deducted (VAT included)"),
            color=alt.Color("deduction_type:N", title="type"),
            tooltip=["yearmonth(month):O", "deduction_type:N", alt.Tooltip("taken:Q", format=",.2f"), "deductions:Q"],
        )
    )
