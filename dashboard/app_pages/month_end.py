"""Month-end: each month's close status and figures; for one month its roll-forwards, deductions by type, close
runs with their checks, and the packs the closes wrote."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data, ui

HOW_TO_CLOSE = (
    'Close a month with `avc2sage close --period YYYY-MM --by "<name>"` (or the Dagster job `month_end_close`): it '
    "reads Sage again and requires every integrity check green, and a blocked close is listed under *Close runs* "
    "with the checks that failed."
)
STATUS_COLOURS = {"closed": "green", "blocked": "red", "open": "gray"}

snapshot = ui.snapshot_or_stop()
timezone = data.company_timezone(snapshot)

st.title("Month-end")
st.caption(HOW_TO_CLOSE)
periods = data.month_end_periods(snapshot)
if periods is None or periods.empty:
    st.info(ui.NO_MONTH_END)
    st.stop()

# --- status per period ----------------------------------------------------------------------------------
st.subheader("Status per period")
ui.table(periods[list(data.PERIOD_STATUS_COLUMNS)], timezone, key="month_end_status")

choices = periods["period"].tolist()
period = st.selectbox(
    "Period", choices, index=choices.index(data.default_close_period(periods)), key="month_end_period"
)
row: dict[str, Any] = periods[periods["period"] == period].iloc[0].to_dict()
detail = data.period_close(snapshot, period)

# --- one period -----------------------------------------------------------------------------------------
st.divider()
st.header(period)
status = row["close_status"]
running = "" if row["period_ended"] else " · the month is still running: a close now is an interim close"
st.markdown(f"Close status: :{STATUS_COLOURS.get(status, 'blue')}-badge[{status}]{running}")


def show_roll_forward(title: str, frame: pd.DataFrame, key: str) -> None:
    """A roll-forward as a two-column table whose amounts add up to its last line (said when they do not)."""
    st.markdown(f"**{title}**")
    ui.table(frame, timezone, key=key)
    difference = data.roll_forward_difference(frame)
    if difference:
        st.error(f"These lines do not add up to the last one (off by {ui.money(difference)}).")


left, right = st.columns(2)
with left:
    show_roll_forward("Amazon clearing bank", data.clearing_roll_forward(row), "clearing_roll_forward")
with right:
    show_roll_forward("Open deductions", data.open_deductions_roll_forward(row), "open_deductions_roll_forward")

st.subheader("Deductions by type")
st.caption(
    f"{row['deductions_count']} deduction(s) on payments posted in {period}: {ui.money(row['deducted_gross'])}"
    f" deducted, of which VAT {ui.money(row['deducted_tax'])}."
)
ui.table(detail.deductions_by_type, timezone, key="month_end_deductions", empty="No deductions this month.")

# --- close runs -----------------------------------------------------------------------------------------
st.subheader("Close runs")
runs = detail.runs
if runs.empty:
    st.info(f"{period} has not been closed yet.")
    st.stop()
ui.table(runs.drop(columns=["close_id"]), timezone, key="month_end_runs")


def describe_run(close_id: str) -> str:
    run = runs[runs["close_id"] == close_id].iloc[0]
    name = f"version {run['version']}" if run["status"] == "closed" else "blocked attempt"
    return f"{name}, by {run['closed_by']} at {ui.when(run['closed_at'], timezone)}"


chosen = st.selectbox("Checks of", runs["close_id"].tolist(), format_func=describe_run, key="month_end_run")
checks = detail.checks[detail.checks["close_id"] == chosen].drop(columns=["close_id"])
failed = checks[~checks["passed"].astype(bool)]["check_name"].tolist()
if failed:
    st.error(f"Blocked by: {', '.join(failed)}.")
shown = checks.assign(
    measured=[ui.number(value) for value in checks["measured"]],
    expected=[ui.number(value) for value in checks["expected"]],
)
ui.table(shown, timezone, key="month_end_checks", empty="No checks recorded for this run.")

# --- the packs ------------------------------------------------------------------------------------------
st.subheader("Close packs")
closed = runs[runs["status"] == "closed"]
if closed.empty:
    st.caption(f"No pack: no close of {period} has passed its checks yet.")
for run in closed.to_dict("records"):
    version = run["version"]
    with st.container(key=f"pack_v{version}", border=True):
        st.markdown(
            f"**Version {version}** — closed by {run['closed_by']} at {ui.when(run['closed_at'], timezone)}"
            f" · `{run['pack_path']}`"
        )
        pack = data.close_pack(run["pack_path"])
        if pack.problem:
            st.warning(pack.problem)
            continue
        ui.table(pack.files, timezone, key=f"pack_files_v{version}", empty="The manifest lists no files.")
        if pack.report is None:
            st.warning("The pack has no report.html.")
        else:
            st.download_button(
                "Download report.html",
                pack.report,
                file_name=f"month-end-{period}-v{version}.html",
                mime="text/html",
                key=f"report_v{version}",
                on_click="ignore",
            )
        st.caption(
            f"Check the pack is as closed: `avc2sage verify-close --period {period} --version {version}`"
            " (every file's SHA-256 against the manifest, and the manifest's against the audit trail)."
        )
