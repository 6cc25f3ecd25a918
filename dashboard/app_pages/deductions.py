"""Deductions: what Amazon took, by type and month with its VAT, and which deductions can still be disputed."""

from __future__ import annotations

from decimal import Decimal

import streamlit as st

from dashboard import charts, data, ui

snapshot = ui.snapshot_or_stop()
timezone = data.company_timezone(snapshot)

st.title("Deductions")
types = st.multiselect("Deduction type", data.deduction_types(snapshot), key="deduction_types", placeholder="all")
months = st.selectbox("Months", [3, 6, 12, 24], index=2, key="deduction_months", help="Up to the latest payment")

today = data.today_in(timezone)
shown = data.deductions(snapshot, today, tuple(types), months)
by_month = shown.by_month
total = sum(by_month["amount"], start=Decimal(0))
tax = sum(by_month["tax_amount"], start=Decimal(0))
figures = st.columns(3)
figures[0].metric("Deducted (VAT included)", ui.money(total))
figures[1].metric("of which VAT", ui.money(tax))
figures[2].metric("Deductions", int(by_month["deductions"].sum()) if not by_month.empty else 0)

st.subheader("By type and month")
if by_month.empty:
    st.caption("No deductions in these months.")
else:
    st.altair_chart(charts.deductions_per_month(by_month), width="stretch")
ui.table(by_month, timezone, key="deductions_by_month", empty="No deductions in these months.")

st.subheader("Still open to dispute")
disputes, open_count = shown.open_disputes, shown.open_dispute_count
shown = f", the {len(disputes)} nearest deadlines shown" if open_count > len(disputes) else ""
st.markdown(f"**{open_count}** deduction(s) can still be disputed (deadline {today.isoformat()} or later){shown}")
ui.table(disputes, timezone, key="open_disputes", empty="No dispute window is open.")
