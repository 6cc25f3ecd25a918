"""The dashboard on the real sample vendor after its first pass, page by page and widget by widget (AppTest runs
the app in this process). Counts and rows on the pages are compared with SQL on the same snapshot; actions are
read back from the action store; the store's rows are loaded into audit by the pipeline's own loader."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time as wall_clock
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pandas as pd
import pytest
from playwright.sync_api import Page, expect, sync_playwright
from streamlit.testing.v1 import AppTest

from dashboard import data
from dashboard.ui import NO_MONTH_END, NO_SNAPSHOT, money
from pipelines.warehouse.actions import ActionStore, actions_path, load_actions
from pipelines.warehouse.snapshot import publish_snapshot, snapshot_path
from tests.dashboard.conftest import DASHBOARD_DELAY, Published

PAGES = ("overview", "exceptions", "lifecycle", "remittances", "deductions", "month_end", "handbook")
LONDON = ZoneInfo("Europe/London")
NAME = "Priya Shah"
OPEN = "status = 'open'"


# --- helpers --------------------------------------------------------------------------------------------


def block(at: AppTest, key: str) -> Any:
    """The container a page put under `key`."""

    def search(node: Any) -> Any:
        for child in getattr(node, "children", {}).values():
            if getattr(child, "key", None) == key:
                return child
            found = search(child)
            if found is not None:
                return found
        return None

    found = search(at.main)
    assert found is not None, f"no container {key!r} on the page"
    return found


def table(at: AppTest, key: str) -> pd.DataFrame:
    """The table in container `key` (empty when the page said there was nothing)."""
    frames = block(at, key).dataframe
    return frames[0].value if len(frames) else pd.DataFrame()


def metric(at: AppTest, label: str) -> str:
    [value] = [element.value for element in at.metric if element.label == label]
    return value


def texts(at: AppTest) -> list[str]:
    return [element.value for element in at.markdown]


def page(dashboard: Any, name: str, *, who: str | None = NAME, **query: str) -> AppTest:
    """The app opened on page `name`, as a person who said their name is `who` (None: nobody yet)."""
    at = dashboard.app()
    if who:
        at.session_state["identity_name"] = who
    at.query_params.update(query)
    at.switch_page(f"app_pages/{name}.py").run()
    assert not at.exception, at.exception
    return at


def run(target: Any) -> AppTest:
    """Rerun the app (`target` is the AppTest or one of its widgets, after an interaction)."""
    at = target.run()
    assert not at.exception, at.exception
    return at


def when(value: datetime) -> str:
    return value.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")


def pin_to_exceptions(dashboard: Any) -> datetime:
    """Three hours after the exceptions were detected (dbt stamps them with the build's own start)."""
    return dashboard.pin(dashboard.scalar("select max(detected_at) from marts.exceptions") + timedelta(hours=3))


def exception_where(dashboard: Any, where: str, parameters: list[Any] | None = None) -> list[tuple]:
    return dashboard.query(
        f"select exception_id, document_reference from marts.exceptions where {where} order by due_at, exception_id",
        parameters,
    )


def choose(at: AppTest, exception_id: str) -> AppTest:
    at.selectbox(key="exception_pick").select(exception_id)
    return run(at)


# --- no snapshot ----------------------------------------------------------------------------------------


def test_without_a_snapshot_every_page_says_how_to_publish_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AVC2SAGE_WAREHOUSE", str(tmp_path / "nothing-yet.duckdb"))
    at = AppTest.from_file(str(Path(data.__file__).with_name("streamlit_app.py")), default_timeout=60).run()
    for name in PAGES:
        at.switch_page(f"app_pages/{name}.py").run()
        assert not at.exception, name
        assert [info.value for info in at.info] == [NO_SNAPSHOT], name
        assert "`avc2sage run`" in NO_SNAPSHOT and len(at.dataframe) == 0 and len(at.title) == 0, name
    assert not (tmp_path / "nothing-yet.actions.sqlite3").exists(), "reading creates no action store"


# --- overview -------------------------------------------------------------------------------------------


def test_overview_shows_every_flow_the_clearing_bank_and_what_needs_a_person_today(dashboard: Any) -> None:
    now = pin_to_exceptions(dashboard)
    at = page(dashboard, "overview")

    flows = dashboard.query("select flow, flow_title, status from marts.sync_health")
    assert len(flows) == 7
    colours = {"green": "green", "amber": "orange", "red": "red"}
    for flow, title, status in flows:
        tile = block(at, f"health_{flow}")
        assert tile.markdown[0].value == f"**{title}** :{colours[status]}-badge[{status}]"
    unexplained = dashboard.scalar("select clearing_bank_unexplained from marts.sync_health where flow = 'remittances'")
    assert metric(at, "Clearing bank: unexplained") == money(unexplained)
    assert len(at.get("vega_lite_chart")) == 2

    due = exception_where(dashboard, f"{OPEN} and due_at <= ?", [now + timedelta(hours=24)])
    open_count = dashboard.scalar(f"select count(*) from marts.exceptions where {OPEN}")
    assert 0 < len(due) < open_count, "some exceptions are due within the day, others later"
    assert f"**{len(due)}** exception(s) due within 24 hours or overdue (**0** overdue)" in texts(at)
    assert table(at, "needs_a_person")["document_reference"].tolist() == [reference for _, reference in due]

    awaiting = dashboard.query(
        "select payment_number from marts.remittance_payments where posting_status = 'awaiting_approval'"
        " order by payment_date, payment_number"
    )
    assert f"**{len(awaiting)}** payment(s) awaiting approval" in texts(at)
    assert table(at, "awaiting_approval")["payment_number"].tolist() == [number for (number,) in awaiting]


# --- the exception queue --------------------------------------------------------------------------------


def test_the_queue_lists_the_open_exceptions_soonest_due_first(dashboard: Any) -> None:
    pin_to_exceptions(dashboard)
    at = page(dashboard, "exceptions")
    expected = exception_where(dashboard, OPEN)
    assert len(expected) == dashboard.scalar(f"select count(*) from marts.exceptions where {OPEN}") > 10
    assert f"**{len(expected)} exception(s)**, soonest due first" in texts(at)
    listed = table(at, "exception_list")
    assert listed["document_reference"].tolist() == [reference for _, reference in expected]
    assert listed["due_at"].tolist() == sorted(listed["due_at"])
    assert at.selectbox(key="exception_pick").options == [
        at.selectbox(key="exception_pick").format_func(exception_id) for exception_id, _ in expected
    ]


def test_each_filter_narrows_the_queue_exactly_as_its_sql_does(dashboard: Any) -> None:
    now = pin_to_exceptions(dashboard)
    # What later runs publish: one snooze over, one still asleep, one resolved, one detected two days earlier.
    first, second, third, fourth, *_ = [exception_id for exception_id, _ in exception_where(dashboard, OPEN)]
    dashboard.edit(
        "update marts.exceptions set status = 'snoozed', snoozed_until = ? where exception_id = ?",
        [now - timedelta(hours=1), first],
    )
    dashboard.edit(
        "update marts.exceptions set status = 'snoozed', snoozed_until = ? where exception_id = ?",
        [now + timedelta(days=1), second],
    )
    dashboard.edit(
        "update marts.exceptions set status = 'resolved', resolved_at = ?, resolved_by = 'Sam' where exception_id = ?",
        [now, third],
    )
    dashboard.edit(
        "update marts.exceptions set detected_at = detected_at - interval 2 day where exception_id = ?", [fourth]
    )
    due = f"({OPEN} or (status = 'snoozed' and snoozed_until <= ?))"

    def shown(at: AppTest) -> list[str]:
        return (
            table(at, "exception_list")["document_reference"].tolist()
            if len(block(at, "exception_list").dataframe)
            else []
        )

    def references(where: str, parameters: list[Any]) -> list[str]:
        return [reference for _, reference in exception_where(dashboard, where, parameters)]

    with dashboard.held_open():
        at = page(dashboard, "exceptions")
        default = references(due, [now])
        assert (
            shown(at) == default
            and len(default) == dashboard.scalar(f"select count(*) from marts.exceptions where {OPEN}") + 1
        )
        total = len(default)
        kinds = [kind for (kind,) in dashboard.query("select distinct kind from marts.exceptions order by 1")[:2]]
        for key, column, chosen in (
            ("filter_owner", "owner_role", ["finance"]),
            ("filter_kind", "kind", kinds),
            ("filter_flow", "flow", ["remittances", "po_intake"]),
        ):
            run(at.multiselect(key=key).set_value(chosen))
            expected = references(f"{due} and list_contains(?, {column})", [now, chosen])
            assert shown(at) == expected and 0 < len(expected) < total, key
            run(at.multiselect(key=key).set_value([]))
        statuses = {
            ("snoozed",): [second],
            ("resolved",): [third],
            ("snooze ended", "resolved"): [first, third],
        }
        for chosen, ids in statuses.items():
            run(at.multiselect(key="filter_status").set_value(list(chosen)))
            assert shown(at) == references("list_contains(?, exception_id)", [ids]), chosen
        run(at.multiselect(key="filter_status").set_value(list(data.DEFAULT_EXCEPTION_STATUSES)))
        ages = {
            "1 to 3 days": [fourth],
            "over 7 days": [],
            "under 1 day": [i for i, _ in exception_where(dashboard, due, [now]) if i != fourth],
        }
        for band, ids in ages.items():
            run(at.selectbox(key="filter_age").select(band))
            assert shown(at) == (references("list_contains(?, exception_id)", [ids]) if ids else []), band


# --- one exception --------------------------------------------------------------------------------------


def test_an_exception_shows_its_documents_and_the_raw_data_behind_them(dashboard: Any) -> None:
    pin_to_exceptions(dashboard)
    at = page(dashboard, "exceptions")
    by_type = dict(
        dashboard.query(
            "select document_type, min(exception_id) from marts.exceptions where status = 'open'"
            " and document_type in ('purchase_order_line', 'remittance_line', 'invoice', 'inbound_file', 'ORDERS')"
            " group by 1"
        )
    )
    assert len(by_type) == 5

    line = choose(at, by_type["purchase_order_line"])
    title, reference, amount, message = dashboard.query(
        "select title, document_reference, amount, message from marts.exceptions where exception_id = ?",
        [by_type["purchase_order_line"]],
    )[0]
    po, _, line_id = reference.partition("#")
    assert line.header[0].value == title and message in texts(line)
    assert metric(line, "Amount") == money(amount)
    assert table(line, "document_0")["purchase_order_number"].tolist() == [po]
    assert table(line, "document_1")["line_id"].tolist() == [line_id]
    versions = dashboard.scalar("select count(*) from raw_amazon.purchase_orders where po_number = ?", [po])
    assert len(table(line, "raw_0")) == versions and table(line, "raw_1")["line_id"].tolist() == [line_id]

    remitted = choose(at, by_type["remittance_line"])
    payment, _, number = dashboard.scalar(
        "select document_reference from marts.exceptions where exception_id = ?", [by_type["remittance_line"]]
    ).partition("#")
    assert table(remitted, "document_0")["payment_number"].tolist() == [payment]
    assert table(remitted, "document_1")["line_number"].tolist() == [int(number)]
    assert table(remitted, "raw_1")["line_number"].tolist() == [int(number)]

    invoice = dashboard.scalar(
        "select document_reference from marts.exceptions where exception_id = ?", [by_type["invoice"]]
    )
    short = choose(at, by_type["invoice"])
    paid = dashboard.scalar(
        "select count(*) from marts.remittance_lines where matched_invoice_reference = ? or root_invoice_number = ?",
        [invoice, invoice],
    )
    assert paid > 0 and len(table(short, "document_2")) == paid

    quarantined = choose(at, by_type["inbound_file"])
    assert table(quarantined, "raw_0")["outcome"].tolist() == ["quarantined"]
    one_set = choose(at, by_type["ORDERS"])
    assert table(one_set, "raw_1")["outcome"].tolist() == ["quarantined"]


def test_every_action_reaches_the_store_and_shows_on_the_page_at_once(dashboard: Any) -> None:
    now = pin_to_exceptions(dashboard)
    at = page(dashboard, "exceptions")
    exception_id = at.selectbox(key="exception_pick").value
    store = dashboard.store

    def history(at: AppTest) -> list[tuple[str, str, str]]:
        rows = table(at, "exception_history")
        return list(zip(rows["action"], rows["taken_by"], rows["state"], strict=True)) if len(rows) else []

    def status(at: AppTest) -> str:
        return next(text for text in texts(at) if "**Status:" in text)

    assert history(at) == [] and store.exception_actions() == []

    at.text_input(key="assign_to").input("Ana Ops")
    run(at.button(key="assign_button").click())
    [assign] = store.exception_actions([exception_id])
    assert (assign.action, assign.assignee, assign.taken_by, assign.identity_source) == (
        "assign",
        "Ana Ops",
        NAME,
        "name",
    )
    assert at.success[0].value == f"Assigned to Ana Ops — {data.PENDING}."
    assert metric(at, "Assignee") == "Ana Ops"
    assert at.text_input(key="assign_to").value == "", "the next action starts from an empty field"
    assert history(at) == [("assign", NAME, data.PENDING)]
    listed = table(at, "exception_list").set_index("document_reference")
    reference = dashboard.scalar(
        "select document_reference from marts.exceptions where exception_id = ?", [exception_id]
    )
    assert listed.loc[reference, "assignee"] == "Ana Ops"
    assert listed.loc[reference, "pending"] == f"assign by {NAME} ({data.PENDING})"

    day = now.astimezone(LONDON).date() + timedelta(days=2)
    at.date_input(key="snooze_day").set_value(day)
    at.time_input(key="snooze_time").set_value(time(10, 30))
    at.text_input(key="snooze_note").input("waiting for the buyer")
    run(at.button(key="snooze_button").click())
    snooze = store.exception_actions([exception_id])[-1]
    assert snooze.snoozed_until == datetime.combine(day, time(10, 30), tzinfo=LONDON)
    assert (snooze.action, snooze.note) == ("snooze", "waiting for the buyer")
    assert status(at).endswith(f"**Status: snoozed — {data.PENDING}**")

    run(at.button(key="resolve_button").click())
    assert [error.value for error in at.error] == ["a resolve needs a note saying why"]
    assert len(store.exception_actions()) == 2, "a refused action records nothing"
    at.text_area(key="resolve_note").input("fixed the cross reference in Sage")
    run(at.button(key="resolve_button").click())
    assert store.exception_actions()[-1].note == "fixed the cross reference in Sage"
    assert status(at).endswith(f"**Status: resolved — {data.PENDING}**")
    assert "Resolution note: fixed the cross reference in Sage" in next(t for t in texts(at) if "Resolved " in t)

    run(at.button(key="reopen_button").click())
    assert status(at).endswith("**Status: open**"), "reopened: the status the snapshot has"
    at.text_area(key="comment_note").input("called the buyer")
    run(at.button(key="comment_button").click())
    assert [action.action for action in store.exception_actions()] == [
        "assign",
        "snooze",
        "resolve",
        "reopen",
        "comment",
    ]
    assert history(at) == [
        (action, NAME, data.PENDING) for action in ("assign", "snooze", "resolve", "reopen", "comment")
    ]


def test_actions_a_run_has_loaded_show_as_loaded_not_pending(dashboard: Any, published: Any) -> None:
    pin_to_exceptions(dashboard)
    shutil.copyfile(published.warehouse, dashboard.warehouse)
    dashboard.own_snapshot()
    at = page(dashboard, "exceptions")
    exception_id = at.selectbox(key="exception_pick").value
    at.text_area(key="comment_note").input("looked at it")
    run(at.button(key="comment_button").click())
    [(_, _, state)] = [tuple(row) for row in table(at, "exception_history")[["action", "taken_by", "state"]].values]
    assert state == data.PENDING
    payment, plan = dashboard.query(
        "select payment_number, plan_sha256 from marts.remittance_payments where posting_status = 'awaiting_approval'"
        " order by payment_number limit 1"
    )[0]
    dashboard.store.approve_payment(payment, plan, by=NAME, identity_source="name")

    loaded = load_actions(dashboard.warehouse)  # what the next run does first
    assert (loaded.exception_actions, loaded.approvals) == (1, {"approved": [payment]})
    publish_snapshot(dashboard.warehouse)

    run(at)
    [(action, taken_by, state)] = [
        tuple(row) for row in table(at, "exception_history")[["action", "taken_by", "state"]].values
    ]
    assert (action, taken_by) == ("comment", NAME) and state.startswith("loaded ")
    listed = table(at, "exception_list")
    assert set(listed["pending"]) == {""}
    assert exception_id in {row[0] for row in dashboard.query("select exception_id from audit.exception_actions")}

    remittances = page(dashboard, "remittances", payment=payment)
    assert [element.label for element in remittances.expander] == ["Approvals (1 recorded, 0 pending)"]
    judged = table(remittances, "approval_outcomes")
    assert judged[["approved_by", "outcome"]].values.tolist() == [[NAME, "approved"]]
    recorded = table(remittances, "approvals_recorded")
    assert recorded[["approved_by", "channel"]].values.tolist()[-1] == [NAME, "dashboard"]


# --- identity -------------------------------------------------------------------------------------------


def test_the_person_is_asked_for_a_name_once_and_a_login_is_used_when_there_is_one(dashboard: Any) -> None:
    pin_to_exceptions(dashboard)
    at = page(dashboard, "exceptions", who=None)
    assert at.text_input(key="identity_name_input").label == "Your name"
    assert at.warning[0].value.startswith("Enter your name in the sidebar first")
    assert at.button(key="assign_button").disabled

    run(at.text_input(key="identity_name_input").input("Noor Finance"))
    assert "Acting as **Noor Finance** (recorded with every action)" in [
        caption.value for caption in at.sidebar.caption
    ]
    assert not at.warning and not at.button(key="assign_button").disabled
    at.text_input(key="assign_to").input("Ana Ops")
    run(at.button(key="assign_button").click())
    assert [(a.taken_by, a.identity_source) for a in dashboard.store.exception_actions()] == [("Noor Finance", "name")]
    run(at.switch_page("app_pages/overview.py"))
    assert "Acting as **Noor Finance** (recorded with every action)" in [
        caption.value for caption in at.sidebar.caption
    ]
    run(at.button(key="identity_change").click())
    assert at.text_input(key="identity_name_input").value == ""
    assert not [caption for caption in at.sidebar.caption if caption.value.startswith("Acting as")]

    logged_in = dashboard.app()
    logged_in.user = {"is_logged_in": True, "name": "Sam Login", "email": "sam@example.com"}
    run(logged_in.switch_page("app_pages/exceptions.py"))
    assert "Signed in as **Sam Login**" in [caption.value for caption in logged_in.sidebar.caption]
    assert not [widget for widget in logged_in.text_input if widget.key == "identity_name_input"]
    logged_in.text_area(key="comment_note").input("seen")
    run(logged_in.button(key="comment_button").click())
    last = dashboard.store.exception_actions()[-1]
    assert (last.action, last.taken_by, last.identity_source) == ("comment", "Sam Login", "login")

    # Login configured, nobody logged in yet: the person may log in, or give a name.
    logged_out = dashboard.app()
    logged_out.user = {"is_logged_in": False}
    run(logged_out.switch_page("app_pages/exceptions.py"))
    assert logged_out.button(key="identity_login").label == "Log in"
    assert logged_out.text_input(key="identity_name_input").label == "Your name"
    assert logged_out.button(key="assign_button").disabled


# --- handbook -------------------------------------------------------------------------------------------


def test_each_exception_links_to_its_kinds_handbook_page(
    dashboard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin_to_exceptions(dashboard)
    handbook = tmp_path / "handbook"
    handbook.mkdir()
    monkeypatch.setattr(data, "HANDBOOK_DIR", handbook)
    at = page(dashboard, "exceptions")
    kind = dashboard.scalar(
        "select kind from marts.exceptions where exception_id = ?", [at.selectbox(key="exception_pick").value]
    )
    [link] = [link for link in at.get("page_link") if link.value.startswith("Handbook")]
    assert (link.proto.page, link.proto.query_string, link.value) == ("handbook", f"kind={kind}", f"Handbook: {kind}")

    other = dashboard.scalar("select min(kind) from seeds.exception_kinds where kind <> ?", [kind])
    (handbook / f"{kind}.md").write_text(
        f"# {kind}\n\nCheck the thing, then [the other kind]({other}.md#how) and [the reference](../../warehouse.md)."
        "\n",
        encoding="utf-8",
    )
    title, owner, action = dashboard.query(
        "select title, owner_role, suggested_action from seeds.exception_kinds where kind = ?", [kind]
    )[0]
    shown = page(dashboard, "handbook", kind=kind)
    assert shown.header[0].value == title
    assert shown.info[0].value == f"**Suggested action:** {action}"
    assert f"owner: {owner}" in texts(shown)[0]
    assert (
        f"# {kind}\n\nCheck the thing, then [the other kind](?kind={other}) and the reference (`docs/warehouse.md`)."
        in texts(shown)
    )
    assert not shown.warning

    missing = page(dashboard, "handbook", kind=other)
    assert missing.header[0].value == dashboard.scalar(
        "select title from seeds.exception_kinds where kind = ?", [other]
    )
    assert [warning.value for warning in missing.warning] == [
        f"The handbook page for `{other}` is missing (docs/handbook/exceptions/{other}.md): the seed's title and "
        "suggested action above are all there is for now."
    ]
    run(missing.selectbox[0].select(kind))
    assert missing.header[0].value == title and missing.query_params["kind"] == kind

    unknown = page(dashboard, "handbook", kind="../../etc/passwd")
    assert unknown.warning[0].value.startswith("There is no exception kind called")
    assert data.handbook_path("../../etc/passwd") is None


# --- order lifecycle ------------------------------------------------------------------------------------


def test_a_pos_lifecycle_shows_each_step_reached_with_its_time_and_the_rest_pending(dashboard: Any) -> None:
    po, vendor, received_at, acknowledged_at, file_name = dashboard.query(
        "select purchase_order_number, vendor_code, received_at, acknowledged_at, acknowledgement_file_name"
        " from marts.purchase_orders where order_status = 'ordered' order by purchase_order_number limit 1"
    )[0]
    ordered_at = dashboard.scalar(
        "select min(recorded_at) from audit.sage_postings where posting_key = ? and status = 'posted'",
        [f"sop_order:{vendor}:{po}"],
    )
    at = page(dashboard, "lifecycle")
    at.text_input[0].input(po[:3])
    run(at)
    matches = dashboard.query(
        "select purchase_order_number from marts.purchase_orders where contains(lower(purchase_order_number), lower(?))"
        " order by received_at desc, purchase_order_number limit 50",
        [po[:3]],
    )
    assert at.selectbox(key="po_pick").options == [number for (number,) in matches]
    run(at.selectbox(key="po_pick").select(po))
    steps = table(at, "lifecycle_steps").set_index("step")
    assert steps.loc["PO received", "at"] == when(received_at)
    assert (steps.loc["Sales order", "status"], steps.loc["Sales order", "at"]) == ("ordered", when(ordered_at))
    assert (steps.loc["Acknowledgement", "status"], steps.loc["Acknowledgement", "at"]) == (
        "sent",
        when(acknowledged_at),
    )
    assert file_name in steps.loc["Acknowledgement", "detail"]
    for pending in ("Despatch", "Ship notice (ASN)", "Invoice", "Payment"):
        assert (steps.loc[pending, "status"], steps.loc[pending, "at"]) == ("pending", "—"), pending

    paid_po, paid_on = dashboard.query(
        "select orders.purchase_order_number, min(lines.payment_date) from marts.purchase_orders as orders"
        " join marts.remittance_lines as lines on lines.po_number = orders.purchase_order_number"
        " where orders.order_status = 'ordered_outside_avc2sage' group by 1 order by 1 limit 1"
    )[0]
    payments = dashboard.query(
        "select distinct payment_number from marts.remittance_lines where po_number = ? order by 1", [paid_po]
    )
    linked = page(dashboard, "lifecycle", po=paid_po)
    assert linked.text_input[0].value == paid_po and linked.selectbox(key="po_pick").value == paid_po
    steps = table(linked, "lifecycle_steps").set_index("step")
    assert steps.loc["Acknowledgement", "status"] == "not required"
    assert steps.loc["Payment", "at"] == paid_on.isoformat()
    assert steps.loc["Payment", "status"].split(", ")[0].startswith(payments[0][0])


# --- remittances ----------------------------------------------------------------------------------------


def test_a_payment_awaiting_approval_is_approved_here_with_the_plan_shown(dashboard: Any) -> None:
    at = page(dashboard, "remittances")
    awaiting = dashboard.query(
        "select payment_number from marts.remittance_payments where posting_status = 'awaiting_approval'"
        " order by payment_date desc, payment_number"
    )
    run(at.multiselect(key="payment_status").set_value(["awaiting_approval"]))
    assert table(at, "payment_list")["payment_number"].tolist() == [number for (number,) in awaiting]
    number = awaiting[0][0]
    gross, deductions, net, plan, vendor = dashboard.query(
        "select invoices_gross, deductions_total, net_paid, plan_sha256, vendor_code from marts.remittance_payments"
        " where payment_number = ?",
        [number],
    )[0]
    assert at.header[0].value == f"Payment {number}"
    assert [metric(at, label) for label in ("Invoices settled (gross)", "Deductions", "Net paid")] == [
        money(gross),
        money(deductions),
        money(net),
    ]
    assert "Posting status: :orange-badge[awaiting_approval]" in texts(at)
    lines = dashboard.scalar("select count(*) from marts.remittance_lines where payment_number = ?", [number])
    postings = dashboard.query(
        "select sum(debit), sum(credit), count(*) from marts.remittance_postings where payment_number = ?", [number]
    )[0]
    assert len(table(at, "payment_lines")) == lines > 0
    assert len(table(at, "payment_postings")) == postings[2] > 0
    assert f"Debits {money(postings[0])} · credits {money(postings[1])} · plan SHA-256 `{plan}`" in [
        caption.value for caption in at.caption
    ]
    sage_keys = dashboard.scalar(
        "select count(distinct posting_key) from audit.sage_postings where starts_with(posting_key, ?)",
        [f"remittance:{vendor}:{number}:"],
    )
    assert len(table(at, "payment_sage")) == sage_keys

    at.text_input(key="approval_note").input("checked against the bank statement")
    run(at.button(key="approve_button").click())
    [approval] = dashboard.store.payment_approvals()
    assert (approval.payment_number, approval.plan_sha256, approval.approved_by, approval.identity_source) == (
        number,
        plan,
        NAME,
        "name",
    )
    assert approval.note == "checked against the bank statement"
    assert at.success[0].value == f"Payment {number} approved by {NAME} — posts on the next run."
    assert f"Approved by {NAME} ({when(approval.taken_at)}) — posts on the next run." in [s.value for s in at.success]
    assert not [button for button in at.button if button.key == "approve_button"]
    pending = table(at, "approvals_pending")
    assert pending[["approved_by", "plan_sha256", "state"]].values.tolist() == [[NAME, plan, data.PENDING]]

    overview = page(dashboard, "overview")
    awaiting_table = table(overview, "awaiting_approval").set_index("payment_number")
    assert awaiting_table.loc[number, "dashboard"] == f"approved by {NAME} ({data.PENDING})"

    refused, reason = dashboard.query(
        "select payment_number, refusal_reason from marts.remittance_payments where posting_status = 'refused'"
    )[0]
    run(at.multiselect(key="payment_status").set_value(["refused"]))
    assert at.header[0].value == f"Payment {refused}"
    assert at.error[0].value.startswith(f"Refused: {reason}")
    assert not [button for button in at.button if button.key == "approve_button"]


# --- deductions -----------------------------------------------------------------------------------------


def test_deductions_by_type_and_month_and_the_dispute_windows_still_open(dashboard: Any) -> None:
    deadline = dashboard.scalar("select quantile_disc(dispute_deadline, 0.5) from marts.deductions")
    dashboard.pin(datetime.combine(deadline, time(12), tzinfo=UTC))
    # One deduction five months before the others: inside the default 12 months, outside 3.
    early = dashboard.scalar("select min(deduction_id) from marts.deductions")
    dashboard.edit(
        "update marts.deductions set payment_date = payment_date - interval 5 month where deduction_id = ?", [early]
    )
    with dashboard.held_open():
        at = page(dashboard, "deductions")
        by_month = dashboard.query(
            "select cast(date_trunc('month', payment_date) as date), deduction_type, count(*), sum(amount),"
            " sum(tax_amount) from marts.deductions group by all order by 1, 2"
        )
        shown = table(at, "deductions_by_month")
        assert shown[["deduction_type", "deductions", "amount", "tax_amount"]].values.tolist() == [
            [kind, count, money(amount), money(tax)] for _, kind, count, amount, tax in by_month
        ]
        total = sum((row[3] for row in by_month), start=Decimal(0))
        assert metric(at, "Deducted (VAT included)") == money(total)
        assert metric(at, "Deductions") == str(sum(row[2] for row in by_month))
        assert len(at.get("vega_lite_chart")) == 1

        open_count = dashboard.scalar("select count(*) from marts.deductions where dispute_deadline >= ?", [deadline])
        total_count = dashboard.scalar("select count(*) from marts.deductions")
        assert 0 < open_count < total_count
        assert (
            f"**{open_count}** deduction(s) can still be disputed (deadline {deadline.isoformat()} or later)"
            in texts(at)
        )
        assert len(table(at, "open_disputes")) == open_count

        run(at.selectbox(key="deduction_months").select(3))
        latest = by_month[-1][0]
        assert len({month for month, *_ in by_month}) == 2 and by_month[0][0] < latest - timedelta(days=90)
        assert table(at, "deductions_by_month")["month"].tolist() == [
            month for month, *_ in by_month if month == latest
        ]
        run(at.selectbox(key="deduction_months").select(12))

        kind = by_month[-1][1]
        run(at.multiselect(key="deduction_types").set_value([kind]))
        assert set(table(at, "deductions_by_month")["deduction_type"]) == {kind}
        of_kind = dashboard.scalar(
            "select count(*) from marts.deductions where dispute_deadline >= ? and deduction_type = ?", [deadline, kind]
        )
        assert len(table(at, "open_disputes")) == of_kind


# --- month-end ------------------------------------------------------------------------------------------


def captions(at: AppTest) -> list[str]:
    return [caption.value for caption in at.caption]


def test_month_end_before_any_close_after_a_blocked_one_and_on_a_snapshot_without_its_marts(dashboard: Any) -> None:
    at = page(dashboard, "month_end")
    newest = dashboard.scalar("select max(period) from marts.month_end_periods")
    assert dashboard.scalar("select count(*) from audit.month_end_runs") == 0
    assert set(table(at, "month_end_status")["close_status"]) == {"open"}
    assert at.selectbox(key="month_end_period").value == newest, "nothing closed: the newest month"
    assert [info.value for info in at.info] == [f"{newest} has not been closed yet."]
    assert any("avc2sage close --period YYYY-MM" in caption for caption in captions(at))

    # An attempt that failed a check, as the close records one (no version, no pack).
    dashboard.edit(
        "insert into audit.month_end_runs (close_id, period, status, closed_by, closed_at, code_version, checks,"
        " open_exceptions) values ('blocked-1', ?, 'blocked', 'Ana Finance', ?, 'test', '[]', 3)",
        [newest, dashboard.now],
    )
    dashboard.edit(
        "insert into audit.month_end_checks values ('blocked-1', 'customer_balance_agrees', false, 10.00, 12.50,"
        " 'AMA001: Sage 10.00, warehouse 12.50'), ('blocked-1', 'payments_balanced', true, 0, 0, 'balanced')"
    )
    run(at)
    assert table(at, "month_end_runs")[["status", "closed_by"]].values.tolist() == [["blocked", "Ana Finance"]]
    assert [error.value for error in at.error] == ["Blocked by: customer_balance_agrees."]
    assert table(at, "month_end_checks")[["check_name", "measured", "expected"]].values.tolist() == [
        ["customer_balance_agrees", "10.00", "12.50"],
        ["payments_balanced", "0.00", "0.00"],
    ]
    assert f"No pack: no close of {newest} has passed its checks yet." in captions(at)

    dashboard.edit("drop table marts.month_end_periods")
    dashboard.edit("drop table marts.month_end_deductions_by_type")
    run(at)
    assert [info.value for info in at.info] == [NO_MONTH_END] and len(at.dataframe) == 0


# --- the real app in a real browser -----------------------------------------------------------------------
# `avc2sage dashboard` serving the sample vendor's snapshot, Debian's Chromium driven headless by Playwright:
# Overview and Exceptions open with their headings, one action (an assignment) reaches the action store and
# shows on the page at once, and each page is saved as a screenshot (build/screenshots/, kept after the run).
# In this module so that it shares the published pass with the AppTest tests (xdist keeps a file together).

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
# Chromium as root in a container, on a machine whose network is closed: no sandbox, no background calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served(published: Published, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`avc2sage dashboard` on its own port, on a copy of the published snapshot; (its URL, the warehouse)."""
    warehouse = tmp_path / "avc2sage.duckdb"
    shutil.copyfile(published.snapshot, snapshot_path(warehouse))
    port = free_port()
    environment = {**os.environ, "AVC2SAGE_NOW": (published.pass_at + DASHBOARD_DELAY).isoformat()}
    command = [str(Path(sys.executable).with_name("avc2sage")), "--warehouse", str(warehouse), "dashboard"]
    server = subprocess.Popen(
        [*command, "--port", str(port)], env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = wall_clock.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=2).text == "ok":
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stdout.read().decode()
            assert wall_clock.monotonic() < deadline, "the dashboard did not start"
            wall_clock.sleep(0.3)
        yield url, warehouse
    finally:
        server.terminate()
        server.wait(timeout=10)


def screenshot(page: Page, name: str, tmp_path: Path) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    shutil.copy(path, tmp_path / path.name)
    return path


@pytest.mark.skipif(not CHROMIUM.exists(), reason="make test installs Debian's chromium; run it through make test")
def test_overview_and_exceptions_open_in_chromium_and_an_assignment_is_recorded(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    url, warehouse = served
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(30_000)
        # Assertions wait as long as actions: on two busy cores a first render can take more than expect's 5 s.
        expect.set_options(timeout=30_000)
        page.goto(url)

        expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
        expect(page.get_by_text("Sage 200 reads").first).to_be_visible()
        overview = screenshot(page, "overview", tmp_path)

        name = page.get_by_role("textbox", name="Your name")
        name.fill("Browser Tester")
        name.press("Enter")
        expect(page.get_by_text("Acting as")).to_be_visible()
        page.get_by_role("link", name="Exceptions").click()
        expect(page.get_by_role("heading", name="Exceptions", exact=True)).to_be_visible()
        page.get_by_role("textbox", name="Assign to").fill("Ana Ops")
        page.get_by_role("button", name="Assign", exact=True).click()
        expect(page.get_by_text("Assigned to Ana Ops").first).to_be_visible()
        exceptions = screenshot(page, "exceptions", tmp_path)
        browser.close()

    [action] = ActionStore(actions_path(warehouse)).exception_actions()
    assert (action.action, action.assignee, action.taken_by, action.identity_source) == (
        "assign",
        "Ana Ops",
        "Browser Tester",
        "name",
    )
    for picture in (overview, exceptions):
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 20_000
