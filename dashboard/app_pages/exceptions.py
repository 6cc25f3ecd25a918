"""Exceptions: the queue, filtered and soonest due first; one exception's documents, history and actions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from dashboard import data, identity, ui
from pipelines.warehouse.actions import ActionRefused, ExceptionAction

snapshot = ui.snapshot_or_stop()
timezone = data.company_timezone(snapshot)
now = data.this_minute()

st.title("Exceptions")
ui.flash()

# --- the queue ------------------------------------------------------------------------------------------
options = data.exception_filter_options(snapshot)
owner, kind, flow, status, age = st.columns([1, 2, 1, 2, 1])
chosen = data.ExceptionFilter(
    owner_roles=tuple(owner.multiselect("Owner", options["owner_role"], key="filter_owner", placeholder="all")),
    kinds=tuple(kind.multiselect("Kind", options["kind"], key="filter_kind", placeholder="all")),
    flows=tuple(flow.multiselect("Flow", options["flow"], key="filter_flow", placeholder="all")),
    statuses=tuple(
        status.multiselect(
            "Status",
            data.EXCEPTION_STATUSES,
            default=data.DEFAULT_EXCEPTION_STATUSES,
            key="filter_status",
            placeholder="any",
            help="'snooze ended': snoozed, and the snooze is over; 'snoozed': still asleep.",
        )
    ),
    age=age.selectbox("Age", list(data.AGE_BANDS), key="filter_age"),
)
queue = data.exception_queue(snapshot, chosen, now)
listed, total = queue.exceptions, queue.total
pending: dict[str, list[ExceptionAction]] = defaultdict(list)
for action in data.pending_exception_actions(list(listed["exception_id"]), queue.loaded_action_ids):
    pending[action.exception_id].append(action)

shown = f"{total} exception(s)" + (f", the {len(listed)} due soonest shown" if total > len(listed) else "")
st.markdown(f"**{shown}**, soonest due first")
if not listed.empty:
    # What people did since the snapshot shows at once, marked as pending.
    overlaid = []
    for row in listed.to_dict("records"):
        actions = pending[row["exception_id"]]
        overlaid.append({**data.with_pending(row, actions), "pending": data.describe_pending(actions)})
    listed = pd.DataFrame(overlaid)
QUEUE_COLUMNS = [
    "due_at",
    "is_overdue",
    "kind",
    "severity",
    "owner_role",
    "flow",
    "status",
    "snoozed_until",
    "document_type",
    "document_reference",
    "amount",
    "assignee",
    "age_hours",
    "pending",
]
ui.table(
    listed.reindex(columns=QUEUE_COLUMNS),
    timezone,
    key="exception_list",
    empty="No exception matches these filters.",
)


rows: dict[str, dict[str, Any]] = {row["exception_id"]: row for row in listed.to_dict("records")}
if not rows:
    st.stop()


def label(exception_id: str) -> str:
    row = rows[exception_id]
    return f"due {ui.when(row['due_at'], timezone)} · {row['kind']} · {row['document_reference']}"


picked = st.selectbox("Open one", list(rows), format_func=label, key="exception_pick")

# --- one exception --------------------------------------------------------------------------------------
detail = data.exception_detail(snapshot, picked)
if detail is None:
    st.warning("This exception is not in the published snapshot.")
    st.stop()
row = detail.exception
own_pending = data.pending_exception_actions([picked], frozenset(detail.actions["action_id"]))
current = data.with_pending(row, own_pending)

st.divider()
st.header(current["title"] or current["kind"])
severity_colour = ui.SEVERITY_COLOURS.get(current["severity"], "gray")
status_text = current["status"] + (f" — {data.PENDING}" if current["status"] != row["status"] else "")
st.markdown(
    f":{severity_colour}-badge[{current['severity']}] :blue-badge[{current['owner_role']}] "
    f":gray-badge[{current['flow']}] **Status: {status_text}**"
)
st.markdown(current["message"])
st.info(f"**Suggested action:** {current['suggested_action']}")
st.page_link(
    "app_pages/handbook.py",
    label=f"Handbook: {current['kind']}",
    query_params={"kind": current["kind"]},
    icon=":material/menu_book:",
)

facts = st.columns(2)
facts[0].metric("Amount", ui.money(current["amount"]))
facts[1].metric("Assignee", current["assignee"] or "nobody")
details = [
    f"Detected **{ui.when(current['detected_at'], timezone)}**, due **{ui.when(current['due_at'], timezone)}**"
    + (" (overdue)" if current["due_at"] < now else ""),
    f"Document: **{current['document_type']}** `{current['document_reference']}`",
    f"Last seen by a run: {ui.when(current['last_seen_at'], timezone)}",
]
if current["status"] == "snoozed":
    details.append(f"Snoozed until {ui.when(current['snoozed_until'], timezone)}")
if current["status"] == "resolved":
    by = current["resolved_by"] or "itself (no longer detected)"
    details.append(f"Resolved {ui.when(current['resolved_at'], timezone)} by {by}")
    if current["resolution_note"]:
        details.append(f"Resolution note: {current['resolution_note']}")
st.markdown("  \n".join(details))
po = data.purchase_order_of(current["document_type"], current["document_reference"])
if po:
    st.page_link(
        "app_pages/lifecycle.py",
        label=f"PO {po} from start to payment",
        query_params={"po": po},
        icon=":material/timeline:",
    )

# --- the documents behind it ----------------------------------------------------------------------------
st.subheader("Documents")
sections = detail.documents
for position, section in enumerate(section for section in sections if not section.is_raw):
    st.markdown(f"**{section.title}**")
    ui.table(section.frame, timezone, key=f"document_{position}", empty="Not in the warehouse.")
raw = [section for section in sections if section.is_raw]
if raw:
    with st.expander("The raw data behind it"):
        for position, section in enumerate(raw):
            st.markdown(f"**{section.title}**")
            ui.table(section.frame, timezone, key=f"raw_{position}", empty="Not in the warehouse.")

# --- history --------------------------------------------------------------------------------------------
st.subheader("History")
taken = [
    {**action, "state": f"loaded {ui.when(action['loaded_at'], timezone)}"}
    for action in detail.actions.to_dict("records")
]
taken += [{**vars(action), "state": data.PENDING} for action in own_pending]
history = pd.DataFrame(
    taken,
    columns=["taken_at", "action", "taken_by", "identity_source", "assignee", "snoozed_until", "note", "state"],
)
ui.table(history, timezone, key="exception_history", empty="Nobody has acted on it yet.")

# --- actions --------------------------------------------------------------------------------------------
st.subheader("Act")
who = identity.require()
ACTION_INPUTS = (
    "assign_to",
    "assign_note",
    "snooze_day",
    "snooze_time",
    "snooze_note",
    "resolve_note",
    "reopen_note",
    "comment_note",
)


def act(done: str, record: Callable[[identity.Identity], ExceptionAction]) -> None:
    """Record an action in the store; show it at once (rerun), or say why it was refused."""
    if who is None:
        return
    try:
        record(who)
    except ActionRefused as refused:
        st.error(str(refused))
        return
    st.session_state["flash"] = f"{done} — {data.PENDING}."
    for key in ACTION_INPUTS:  # the next action starts from empty fields
        st.session_state.pop(key, None)
    st.rerun()


assign, snooze, resolve, reopen, comment = st.tabs(["Assign", "Snooze", "Resolve", "Reopen", "Comment"])
with assign:
    assignee = st.text_input("Assign to", key="assign_to", placeholder="a person's name")
    assign_note = st.text_input("Note (optional)", key="assign_note")
    if st.button("Assign", key="assign_button", disabled=who is None):
        act(
            f"Assigned to {assignee.strip()}",
            lambda who: data.action_store().assign(
                picked, assignee, by=who.name, identity_source=who.source, note=assign_note or None
            ),
        )
with snooze:
    local = now.astimezone(ZoneInfo(timezone))
    until_day = st.date_input("Until (day)", value=local.date() + timedelta(days=1), key="snooze_day")
    until_time = st.time_input("Until (time)", value=time(9, 0), key="snooze_time")
    snooze_note = st.text_input("Why (required)", key="snooze_note")
    until = datetime.combine(until_day, until_time, tzinfo=ZoneInfo(timezone)).astimezone(UTC)
    if st.button("Snooze", key="snooze_button", disabled=who is None):
        act(
            f"Snoozed until {ui.when(until, timezone)}",
            lambda who: data.action_store().snooze(
                picked, until, by=who.name, identity_source=who.source, note=snooze_note
            ),
        )
with resolve:
    resolve_note = st.text_area("What was done (required)", key="resolve_note")
    if st.button("Resolve", key="resolve_button", disabled=who is None):
        act(
            "Resolved",
            lambda who: data.action_store().resolve(picked, by=who.name, identity_source=who.source, note=resolve_note),
        )
with reopen:
    reopen_note = st.text_input("Why (optional)", key="reopen_note")
    if st.button("Reopen", key="reopen_button", disabled=who is None):
        act(
            "Reopened",
            lambda who: data.action_store().reopen(
                picked, by=who.name, identity_source=who.source, note=reopen_note or None
            ),
        )
with comment:
    comment_note = st.text_area("Comment", key="comment_note")
    if st.button("Comment", key="comment_button", disabled=who is None):
        act(
            "Comment added",
            lambda who: data.action_store().comment(picked, by=who.name, identity_source=who.source, note=comment_note),
        )
