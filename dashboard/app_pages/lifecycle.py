"""Order lifecycle: one PO from Amazon's order to Amazon's payment, step by step; a step not reached is pending."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data, ui

snapshot = ui.snapshot_or_stop()
timezone = data.company_timezone(snapshot)

st.title("Order lifecycle")
PENDING_STEP = "pending"

# --- which PO -------------------------------------------------------------------------------------------
# A link (?po=) fills the search box; no widget key, so a link to another PO starts a new search.
asked = st.query_params.get("po", "")
search = st.text_input("Search PO number", value=asked, placeholder="part of a PO number")
matches = data.find_purchase_orders(snapshot, search)
if not matches:
    st.info(f"No purchase order matches '{search}'." if search else "No purchase orders yet.")
    st.stop()
po = st.selectbox(
    "Purchase order", matches, key="po_pick", help="The 50 newest matches; type more of the number to narrow them."
)
lifecycle = data.order_lifecycle(snapshot, po)
if lifecycle is None:
    st.warning(f"PO {po} is not in the published snapshot.")
    st.stop()
header = lifecycle.purchase_order


# --- the steps ------------------------------------------------------------------------------------------
def step(name: str, status: str, at: Any, detail: str = "") -> dict[str, Any]:
    return {"step": name, "status": status, "at": ui.when(at, timezone), "detail": detail}


def earliest(frame: pd.DataFrame, column: str) -> Any:
    values = frame[column].dropna()
    return values.min() if not values.empty else None


def statuses(frame: pd.DataFrame, number: str, *columns: str) -> str:
    """'<number>: <status>/<status>' per document, or pending when there is none."""
    if frame.empty:
        return PENDING_STEP
    return ", ".join(f"{row[0]}: {'/'.join(row[1:])}" for row in frame[[number, *columns]].itertuples(index=False))


def sales_order() -> dict[str, Any]:
    status = header["order_status"]
    detail = [f"Sage order {header['sage_order_number']}" if header["sage_order_number"] else ""]
    detail += [header["blocked_reason"] or "", header["sales_order_failure"] or ""]
    return step(
        "Sales order",
        PENDING_STEP if status == "pending" else status,
        lifecycle.sales_order_at,
        "; ".join(part for part in detail if part),
    )


def acknowledgement() -> dict[str, Any]:
    document = lifecycle.acknowledgement
    status = header["acknowledgement_status"]
    if document is not None:
        detail = f"{document['standard']} {document['document_type']} {document['file_name']}: {document['status']}"
        return step("Acknowledgement", "sent", header["acknowledged_at"], detail)
    if status == "not_required":
        return step("Acknowledgement", "not required", None, "ordered outside avc2sage, cancelled or a test PO")
    due = ui.when(header["acknowledgement_due_at"], timezone)
    return step("Acknowledgement", PENDING_STEP, None, f"{status}, due {due}")


def steps() -> list[dict[str, Any]]:
    shipments, invoices, payments = lifecycle.shipments, lifecycle.invoices, lifecycle.payments
    sent = shipments[shipments["asn_sent_at"].notna()]
    gross = sum(invoices["gross_amount"], start=Decimal(0))
    return [
        step(
            "PO received",
            "received",
            header["received_at"],
            f"version {header['version_number']}, {header['line_count']} line(s), {ui.money(header['ordered_value'])}",
        ),
        sales_order(),
        acknowledgement(),
        step(
            "Despatch",
            f"{len(shipments)} despatch(es)" if not shipments.empty else PENDING_STEP,
            earliest(shipments, "despatched_at"),
            ", ".join(shipments["despatch_number"]),
        ),
        step(
            "Ship notice (ASN)",
            statuses(shipments, "despatch_number", "validation_status", "transmission_status"),
            earliest(sent, "asn_sent_at"),
            f"{len(sent)} of {len(shipments)} sent" if not shipments.empty else "",
        ),
        step(
            "Invoice",
            statuses(invoices, "invoice_number", "validation_status", "transmission_status"),
            earliest(invoices, "sent_at"),
            f"{ui.money(gross)} gross" if not invoices.empty else "",
        ),
        step(
            "Payment",
            statuses(payments, "payment_number", "match_status", "posting_status"),
            earliest(payments, "payment_date"),
            f"{ui.money(sum(payments['settlement_amount'], start=Decimal(0)))} settled" if not payments.empty else "",
        ),
    ]


PROBLEMS = ("failed", "rejected", "blocked", "unmatched", "partially_matched", "refused", "cancelled")


def marker(status: str) -> str:
    if status == PENDING_STEP:
        return ":gray-badge[pending]"
    if any(problem in status for problem in PROBLEMS):
        return ":orange-badge[needs a look]"
    return ":green-badge[done]"


st.subheader(f"PO {po}")
st.caption(
    f"{header['vendor_code']} · {header['edi_standard']} · ship to {header['ship_to_location'] or header['ship_to_id']}"
    f" · window {ui.when(header['window_start_date'], timezone)} to {ui.when(header['window_end_date'], timezone)}"
)
lifecycle_steps = steps()
markers = st.columns(len(lifecycle_steps))
for column, reached in zip(markers, lifecycle_steps, strict=True):
    column.markdown(f"{marker(reached['status'])}  \n**{reached['step']}**")
with st.container(key="lifecycle_steps"):
    st.dataframe(pd.DataFrame(lifecycle_steps), hide_index=True)

with st.expander(f"Lines ({len(lifecycle.lines)})"):
    ui.table(lifecycle.lines, timezone, empty="No lines.")
with st.expander(f"Despatches and ship notices ({len(lifecycle.shipments)})"):
    ui.table(lifecycle.shipments, timezone, empty="Not despatched yet.")
with st.expander(f"Invoices ({len(lifecycle.invoices)})"):
    ui.table(lifecycle.invoices, timezone, empty="Not invoiced yet.")
with st.expander(f"Amazon's payments ({len(lifecycle.payments)})"):
    ui.table(lifecycle.payments, timezone, empty="Not paid yet.")
