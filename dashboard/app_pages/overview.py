"""Overview: how each flow is doing, the clearing bank, the trends, and what needs a person today."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd
import streamlit as st

from dashboard import charts, data, ui

snapshot = ui.snapshot_or_stop()
timezone = data.company_timezone(snapshot)
now = data.this_minute()

st.title("Overview")
shown = data.overview(snapshot, timezone, now)

# --- health tiles ---------------------------------------------------------------------------------------


def show_flow(flow: dict) -> None:
    """One flow's tile: status and why, freshness, backlog, success rate, exceptions."""
    colour = ui.STATUS_COLOURS.get(flow["status"], "gray")
    st.markdown(f"**{flow['flow_title']}** :{colour}-badge[{flow['status']}]")
    st.caption(flow["status_reason"] or "nothing to report")
    facts = [f"Freshness: **{flow['freshness']}**, last success {ui.when(flow['last_success_at'], timezone)}"]
    backlog = "—" if pd.isna(flow["backlog"]) else int(flow["backlog"])
    facts.append(f"Backlog: **{backlog}** {flow['backlog_description'] or ''}".rstrip())
    facts.append(
        f"Success rate: **{ui.ratio(flow['success_rate'])}** {flow['success_rate_description'] or ''}".rstrip()
    )
    facts.append(f"Open exceptions: **{flow['open_exceptions']}**, overdue: **{flow['overdue_exceptions']}**")
    st.markdown("  \n".join(facts))
    st.caption(f"{flow['owner_role']} · {flow['schedule']}")


st.subheader("Flows")
health = shown.health
if health.empty:
    st.caption("This snapshot has no sync health yet (marts.sync_health): it appears after the next run.")
else:
    tiles = st.columns(4)
    for position, flow in enumerate(health.to_dict("records")):
        with tiles[position % len(tiles)].container(border=True, key=f"health_{flow['flow']}"):
            show_flow(flow)

st.metric(
    "Clearing bank: unexplained",
    ui.money(shown.clearing_bank_unexplained),
    help="What the Amazon clearing bank in Sage holds that no posted payment explains (latest read-back). "
    "It should be £0.00.",
)

# --- trends ---------------------------------------------------------------------------------------------
left, right = st.columns(2)
with left:
    st.subheader("Exceptions opened and resolved per day")
    if shown.exceptions_per_day.empty:
        st.caption("No exceptions yet.")
    else:
        st.altair_chart(charts.exceptions_per_day(shown.exceptions_per_day), width="stretch")
with right:
    st.subheader("Amazon's payments per week")
    if shown.payments_per_week.empty:
        st.caption("No payments yet.")
    else:
        st.altair_chart(charts.remittances_per_week(shown.payments_per_week), width="stretch")

# --- what needs a person today --------------------------------------------------------------------------
st.subheader("What needs a person today")
due = shown.due
pending: dict[str, list] = defaultdict(list)
for action in data.pending_exception_actions(list(due["exception_id"]), shown.due_loaded_action_ids):
    pending[action.exception_id].append(action)
overdue = int(due["is_overdue"].sum()) if not due.empty else 0
st.markdown(
    f"**{len(due)}** exception(s) due within 24 hours or overdue (**{overdue}** overdue)"
    + (" — the first ones shown" if len(due) >= data.LIST_LIMIT else "")
)
if not due.empty:
    due = due.assign(pending=[data.describe_pending(pending[exception_id]) for exception_id in due["exception_id"]])
ui.table(
    due.drop(columns=["exception_id"], errors="ignore"),
    timezone,
    key="needs_a_person",
    empty="Nothing is due within 24 hours.",
)
st.page_link("app_pages/exceptions.py", label="Work the exception queue", icon=":material/report:")

awaiting = shown.awaiting_approval
st.markdown(f"**{len(awaiting)}** payment(s) awaiting approval")
if not awaiting.empty:
    # An approval given here shows at once; it counts only for the plan the person saw.
    approved_here = {
        (approval.payment_number, approval.plan_sha256): f"approved by {approval.approved_by} ({data.PENDING})"
        for approval in data.pending_payment_approvals(shown.judged_approval_ids, list(awaiting["payment_number"]))
    }
    awaiting = awaiting.assign(
        dashboard=[
            approved_here.get(key, "") for key in zip(awaiting["payment_number"], awaiting["plan_sha256"], strict=True)
        ]
    ).drop(columns=["plan_sha256"])
ui.table(awaiting, timezone, key="awaiting_approval", empty="No payment is waiting for approval.")
st.page_link("app_pages/remittances.py", label="Review and approve payments", icon=":material/payments:")
