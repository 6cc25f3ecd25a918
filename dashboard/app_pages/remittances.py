"""Remittances: each Amazon payment, its lines and posting plan, its approval (given here) and its Sage ids."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboard import data, identity, ui
from pipelines.warehouse.actions import ActionRefused

snapshot = ui.snapshot_or_stop()
timezone = data.company_timezone(snapshot)

st.title("Remittances")
ui.flash()

# --- the payments ---------------------------------------------------------------------------------------
chosen = st.multiselect(
    "Posting status", data.posting_statuses(snapshot), key="payment_status", placeholder="any status"
)
payments = data.remittance_payments(snapshot, tuple(chosen))
more = f" (the first {data.LIST_LIMIT}: choose a status to narrow them)" if len(payments) >= data.LIST_LIMIT else ""
st.markdown(f"**{len(payments)}** payment(s), waiting for approval first, then newest first{more}")
ui.table(payments, timezone, key="payment_list", empty="No payment has this status.")
if payments.empty:
    st.stop()
numbers = payments["payment_number"].tolist()
asked = st.query_params.get("payment")
# No widget key: the index follows a link (?payment=), so a link to another payment opens that payment.
number = st.selectbox("Payment", numbers, index=numbers.index(asked) if asked in numbers else 0)
detail = data.payment_detail(snapshot, number)
if detail is None:
    st.warning(f"Payment {number} is not in the published snapshot.")
    st.stop()
payment = detail.payment

# --- one payment ----------------------------------------------------------------------------------------
st.divider()
st.header(f"Payment {number}")
st.caption(
    f"{payment['vendor_code']} · Sage customer {payment['sage_customer_account']} · paid {payment['payment_date']}"
    f" · {payment['currency']}"
)
figures = st.columns(4)
figures[0].metric("Invoices settled (gross)", ui.money(payment["invoices_gross"]))
figures[1].metric("Deductions", ui.money(payment["deductions_total"]))
figures[2].metric("Net paid", ui.money(payment["net_paid"]))
figures[3].metric("Matched", ui.ratio(payment["matched_ratio"]), help="Allocated to Sage invoices ÷ invoices settled")
colour = {"posted": "green", "awaiting_approval": "orange", "refused": "red", "failed": "red"}
st.markdown(f"Posting status: :{colour.get(payment['posting_status'], 'blue')}-badge[{payment['posting_status']}]")

# --- its approval ---------------------------------------------------------------------------------------
st.subheader("Approval")
pending = data.pending_payment_approvals(frozenset(detail.outcomes["approval_id"]), [number])
of_this_plan = [approval for approval in pending if approval.plan_sha256 == payment["plan_sha256"]]
if payment["approval_reasons"]:
    st.markdown(f"Why it needs a person: {payment['approval_reasons']}")
if payment["posting_status"] == "awaiting_approval":
    if of_this_plan:
        approval = of_this_plan[-1]
        st.success(
            f"Approved by {approval.approved_by} ({ui.when(approval.taken_at, timezone)}) — posts on the next run."
        )
    else:
        st.caption(f"The plan below, SHA-256 `{payment['plan_sha256']}`, is what you approve.")
        who = identity.require()
        note = st.text_input("Note (optional)", key="approval_note")
        if st.button("Approve this posting plan", key="approve_button", type="primary", disabled=who is None):
            try:
                data.action_store().approve_payment(
                    number, payment["plan_sha256"], by=who.name, identity_source=who.source, note=note or None
                )
            except ActionRefused as refused:
                st.error(str(refused))
            else:
                st.session_state["flash"] = f"Payment {number} approved by {who.name} — posts on the next run."
                st.rerun()
elif payment["posting_status"] == "refused":
    st.error(f"Refused: {payment['refusal_reason']}. It is not posted; see its exception.")
elif payment["approved_by"]:
    approved = f"Approved by {payment['approved_by']} ({ui.when(payment['approved_at'], timezone)})"
    st.success(approved + (" — posts on the next run." if payment["posting_status"] == "approved" else "."))
else:
    st.caption(f"Posting status: {payment['posting_status']}.")

approvals, outcomes = detail.approvals, detail.outcomes
pending_rows = pd.DataFrame(
    [
        {
            "approved_by": approval.approved_by,
            "identity_source": approval.identity_source,
            "taken_at": approval.taken_at,
            "note": approval.note,
            "plan_sha256": approval.plan_sha256,
            "state": data.PENDING,
        }
        for approval in pending
    ]
)
with st.expander(f"Approvals ({len(approvals)} recorded, {len(pending)} pending)", expanded=bool(pending)):
    st.markdown("**Recorded approvals** (audit.remittance_approvals)")
    ui.table(approvals.drop(columns=["approval_id"]), timezone, key="approvals_recorded", empty="None yet.")
    st.markdown("**Approvals given here, and what the runs made of them** (audit.dashboard_approvals)")
    ui.table(
        outcomes.drop(columns=["approval_id"], errors="ignore"),
        timezone,
        key="approval_outcomes",
        empty="None judged yet.",
    )
    st.markdown("**Given here, waiting for the next run**")
    ui.table(pending_rows, timezone, key="approvals_pending", empty="None.")

# --- lines, plan, Sage --------------------------------------------------------------------------------
st.subheader("Lines")
ui.table(detail.lines, timezone, key="payment_lines", empty="No lines.")

st.subheader("Posting plan")
postings = detail.postings
debits = sum(postings["debit"].dropna(), start=Decimal(0))
credits = sum(postings["credit"].dropna(), start=Decimal(0))
st.caption(f"Debits {ui.money(debits)} · credits {ui.money(credits)} · plan SHA-256 `{payment['plan_sha256']}`")
ui.table(postings, timezone, key="payment_postings", empty="Nothing to post.")

st.subheader("In Sage")
ui.table(detail.sage_documents, timezone, key="payment_sage", empty="Nothing posted to Sage yet.")
