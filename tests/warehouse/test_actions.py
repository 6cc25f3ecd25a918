"""The dashboard's action store: what people do is kept as they did it, refused when incomplete, and loaded into
the warehouse's audit trail exactly once."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse.actions import ActionRefused, ActionStore, actions_path, load_actions

NOW = datetime(2026, 3, 15, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> ActionStore:
    return ActionStore(actions_path(tmp_path / "avc2sage.duckdb"), clock=lambda: NOW)


def test_the_store_lives_beside_the_warehouse_in_wal_mode(tmp_path: Path, store: ActionStore) -> None:
    assert store.path == tmp_path / "avc2sage.actions.sqlite3"
    with sqlite3.connect(store.path) as con:
        assert con.execute("pragma journal_mode").fetchone() == ("wal",)


def test_every_action_is_kept_with_who_when_and_why(store: ActionStore) -> None:
    until = NOW + timedelta(days=2)
    store.assign("E1", "Ana Ops", by="Priya Shah", identity_source="login")
    store.snooze("E1", until, by="Ana Ops", identity_source="name", note="carrier answers on Monday")
    store.comment("E2", by="Ana Ops", identity_source="name", note="  asked Amazon  ")
    store.resolve("E1", by="Ana Ops", identity_source="name", note="re-sent the ASN by hand")

    actions = store.exception_actions()

    assert [(a.exception_id, a.action, a.assignee, a.snoozed_until, a.note, a.taken_by) for a in actions] == [
        ("E1", "assign", "Ana Ops", None, None, "Priya Shah"),
        ("E1", "snooze", None, until, "carrier answers on Monday", "Ana Ops"),
        ("E2", "comment", None, None, "asked Amazon", "Ana Ops"),
        ("E1", "resolve", None, None, "re-sent the ASN by hand", "Ana Ops"),
    ]
    assert {a.taken_at for a in actions} == {NOW}
    assert [a.action for a in store.exception_actions(["E2"])] == ["comment"]
    assert store.exception_actions([]) == []


@pytest.mark.parametrize(
    ("act", "why"),
    [
        (lambda s: s.resolve("E1", by="Ana", identity_source="name", note=" "), "a resolve needs a note"),
        (lambda s: s.comment("E1", by="Ana", identity_source="name", note=""), "a comment needs a note"),
        (lambda s: s.assign("E1", "", by="Ana", identity_source="name"), "say who the exception is assigned to"),
        (lambda s: s.reopen("E1", by=" ", identity_source="name"), "say who you are"),
        (lambda s: s.snooze("E1", NOW, by="Ana", identity_source="name", note="x"), "must end in the future"),
        (lambda s: s.approve_payment("P1", "abc", by="", identity_source="login"), "say who you are"),
        (lambda s: s.reopen("", by="Ana", identity_source="name"), "choose an exception"),
    ],
)
def test_an_incomplete_action_is_refused_and_nothing_is_kept(store: ActionStore, act, why: str) -> None:
    with pytest.raises(ActionRefused, match=why):
        act(store)
    assert store.exception_actions() == [] and store.payment_approvals() == []


def test_the_identity_source_is_one_of_login_or_name(store: ActionStore) -> None:
    with pytest.raises(ValueError, match="unknown identity source"):
        store.reopen("E1", by="Ana", identity_source="guess")


def test_a_run_loads_each_action_into_audit_once(tmp_path: Path, store: ActionStore) -> None:
    warehouse = tmp_path / "avc2sage.duckdb"
    assert load_actions(warehouse).exception_actions == 0, "no store yet: nothing to load, nothing created"
    first = store.assign("E1", "Ana Ops", by="Priya Shah", identity_source="login", note="yours")

    assert load_actions(warehouse, run_id="run-1", clock=lambda: NOW + timedelta(minutes=15)).exception_actions == 1
    second = store.resolve("E1", by="Ana Ops", identity_source="name", note="fixed in Sage")
    assert load_actions(warehouse, run_id="run-2").exception_actions == 1
    assert load_actions(warehouse, run_id="run-3").exception_actions == 0

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select action_id, exception_id, action, assignee, note, taken_by, identity_source, taken_at, run_id"
            " from audit.exception_actions order by run_id"
        ).fetchall()
        loaded_at = con.execute("select loaded_at from audit.exception_actions where run_id = 'run-1'").fetchone()
    assert rows == [
        (first.action_id, "E1", "assign", "Ana Ops", "yours", "Priya Shah", "login", NOW, "run-1"),
        (second.action_id, "E1", "resolve", None, "fixed in Sage", "Ana Ops", "name", NOW, "run-2"),
    ]
    assert loaded_at == (NOW + timedelta(minutes=15),)
