"""What people do in the dashboard: the action store, and its load into the warehouse's audit trail.

The dashboard may not write the warehouse (one writer: the pipeline) and must never wait for a run, so the
actions people take (assign, snooze, resolve, reopen or comment on an exception; approve a payment's posting
plan) go to a small SQLite file of the dashboard's own, beside the warehouse, in WAL mode so the pipeline
reads it while people write. Rows are only ever inserted. At the start of every run :func:`load_actions`
copies the rows the warehouse has not seen into ``audit.exception_actions`` and ``audit.dashboard_approvals``;
an approval whose plan is still the one the person saw becomes an approval of ``audit.remittance_approvals``
(channel ``dashboard``), exactly as ``avc2sage approve`` records one.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import astuple, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.remittances.approval import ApprovalRefused, PlanChanged, approve
from pipelines.warehouse.audit import ensure_audit_schema

log = logging.getLogger(__name__)

ACTIONS_SUFFIX = ".actions.sqlite3"
EXCEPTION_ACTIONS = ("assign", "snooze", "resolve", "reopen", "comment")
IDENTITY_SOURCES = ("login", "name")  # Streamlit's login, or a name the person typed
APPROVAL_OUTCOMES = ("approved", "plan_changed", "refused")
BUSY_TIMEOUT_SECONDS = 10


def utc_now() -> datetime:
    return datetime.now(UTC)


def actions_path(warehouse: Path) -> Path:
    """Where the dashboard's action store for `warehouse` lives: ``<stem>.actions.sqlite3`` beside it."""
    return warehouse.with_name(warehouse.stem + ACTIONS_SUFFIX)


class ActionRefused(ValueError):
    """The action cannot be recorded as asked; the message says why, for the person."""


@dataclass(frozen=True)
class ExceptionAction:
    action_id: str
    exception_id: str
    action: str
    assignee: str | None
    snoozed_until: datetime | None
    note: str | None
    taken_by: str
    identity_source: str
    taken_at: datetime


@dataclass(frozen=True)
class PaymentApproval:
    approval_id: str
    payment_number: str
    plan_sha256: str
    approved_by: str
    identity_source: str
    note: str | None
    taken_at: datetime


STORE_SCHEMA = f"""
create table if not exists exception_actions (
    action_id text primary key,
    exception_id text not null,
    action text not null check (action in ({", ".join(f"'{a}'" for a in EXCEPTION_ACTIONS)})),
    assignee text,
    snoozed_until text,
    note text,
    taken_by text not null,
    identity_source text not null,
    taken_at text not null
);
create table if not exists payment_approvals (
    approval_id text primary key,
    payment_number text not null,
    plan_sha256 text not null,
    approved_by text not null,
    identity_source text not null,
    note text,
    taken_at text not null
);
"""


class ActionStore:
    """The dashboard's SQLite store of actions; every method opens and closes its own connection."""

    def __init__(self, path: Path, clock: Callable[[], datetime] = utc_now) -> None:
        self.path = Path(path)
        self.clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as con:
            # WAL: the pipeline reads while people write, and neither waits for the other.
            con.execute("pragma journal_mode = wal")
            con.executescript(STORE_SCHEMA)

    def assign(
        self, exception_id: str, assignee: str, *, by: str, identity_source: str, note: str | None = None
    ) -> ExceptionAction:
        if not assignee.strip():
            raise ActionRefused("say who the exception is assigned to")
        return self._record(exception_id, "assign", by, identity_source, note, assignee=assignee.strip())

    def snooze(
        self, exception_id: str, until: datetime, *, by: str, identity_source: str, note: str
    ) -> ExceptionAction:
        if until.tzinfo is None:
            raise ValueError("a snooze must end at a timezone-aware time")
        if until <= self.clock():
            raise ActionRefused("a snooze must end in the future")
        return self._record(exception_id, "snooze", by, identity_source, _required(note, "snooze"), until=until)

    def resolve(self, exception_id: str, *, by: str, identity_source: str, note: str) -> ExceptionAction:
        return self._record(exception_id, "resolve", by, identity_source, _required(note, "resolve"))

    def reopen(self, exception_id: str, *, by: str, identity_source: str, note: str | None = None) -> ExceptionAction:
        return self._record(exception_id, "reopen", by, identity_source, note)

    def comment(self, exception_id: str, *, by: str, identity_source: str, note: str) -> ExceptionAction:
        return self._record(exception_id, "comment", by, identity_source, _required(note, "comment"))

    def approve_payment(
        self, payment_number: str, plan_sha256: str, *, by: str, identity_source: str, note: str | None = None
    ) -> PaymentApproval:
        """Approve the plan the person was shown; the next run checks it is still the payment's plan."""
        approval = PaymentApproval(
            str(uuid.uuid4()),
            payment_number,
            plan_sha256,
            _person(by),
            _identity(identity_source),
            _optional(note),
            self.clock(),
        )
        with self._connection() as con:
            con.execute(f"insert into payment_approvals values ({_placeholders(PaymentApproval)})", _row(approval))
        return approval

    def exception_actions(self, exception_ids: Sequence[str] | None = None) -> list[ExceptionAction]:
        """The actions taken, oldest first; only those on `exception_ids` when given."""
        sql = "select * from exception_actions"
        parameters: list[str] = []
        if exception_ids is not None:
            sql += f" where exception_id in ({', '.join('?' * len(exception_ids)) or 'null'})"
            parameters = list(exception_ids)
        with self._connection() as con:
            rows = con.execute(sql + " order by taken_at, rowid", parameters).fetchall()
        return [_exception_action(row) for row in rows]

    def payment_approvals(self, payment_number: str | None = None) -> list[PaymentApproval]:
        """The payment approvals given, oldest first; only those of `payment_number` when given."""
        sql, parameters = "select * from payment_approvals", []
        if payment_number is not None:
            sql, parameters = sql + " where payment_number = ?", [payment_number]
        with self._connection() as con:
            rows = con.execute(sql + " order by taken_at, rowid", parameters).fetchall()
        return [_payment_approval(row) for row in rows]

    def _record(
        self,
        exception_id: str,
        action: str,
        by: str,
        identity_source: str,
        note: str | None,
        *,
        assignee: str | None = None,
        until: datetime | None = None,
    ) -> ExceptionAction:
        if not exception_id:
            raise ActionRefused("choose an exception first")
        recorded = ExceptionAction(
            str(uuid.uuid4()),
            exception_id,
            action,
            assignee,
            until,
            _optional(note),
            _person(by),
            _identity(identity_source),
            self.clock(),
        )
        with self._connection() as con:
            con.execute(f"insert into exception_actions values ({_placeholders(ExceptionAction)})", _row(recorded))
        return recorded

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS)) as con, con:
            yield con


def _person(name: str) -> str:
    if not name or not name.strip():
        raise ActionRefused("say who you are before acting (your name is recorded with every action)")
    return name.strip()


def _identity(source: str) -> str:
    if source not in IDENTITY_SOURCES:
        raise ValueError(f"unknown identity source {source!r}: expected one of {', '.join(IDENTITY_SOURCES)}")
    return source


def _required(note: str | None, action: str) -> str:
    if not note or not note.strip():
        raise ActionRefused(f"a {action} needs a note saying why")
    return note.strip()


def _optional(note: str | None) -> str | None:
    return note.strip() if note and note.strip() else None


def _placeholders(record: type) -> str:
    return ", ".join("?" * len(fields(record)))


def _row(record: ExceptionAction | PaymentApproval) -> list[object]:
    # SQLite has no time type: times are stored as ISO 8601 text with their UTC offset.
    return [value.isoformat() if isinstance(value, datetime) else value for value in astuple(record)]


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _exception_action(row: tuple) -> ExceptionAction:
    *head, until, note, by, source, taken_at = row
    return ExceptionAction(*head, _time(until), note, by, source, _time(taken_at))


def _payment_approval(row: tuple) -> PaymentApproval:
    *head, taken_at = row
    return PaymentApproval(*head, _time(taken_at))


@dataclass
class ActionsLoaded:
    """What a run took from the dashboard's store."""

    exception_actions: int = 0
    approvals: dict[str, list[str]] = field(default_factory=dict)  # outcome → payment numbers

    def lines(self) -> list[str]:
        lines = [f"{self.exception_actions} exception action(s) loaded"]
        lines += [f"payment approval {outcome}: {', '.join(numbers)}" for outcome, numbers in self.approvals.items()]
        return lines


def load_actions(
    warehouse: Path, store: Path | None = None, *, run_id: str | None = None, clock: Callable[[], datetime] = utc_now
) -> ActionsLoaded:
    """Copy the store's rows the warehouse has not seen into ``audit``; apply the new payment approvals.

    A store that does not exist yet (nobody has acted) loads nothing. An approval is judged once: its outcome
    is recorded with it and it is never applied again.
    """
    store = store or actions_path(warehouse)
    loaded = ActionsLoaded()
    if not store.exists():
        return loaded
    actions = ActionStore(store, clock)
    with duckdb.connect(str(warehouse)) as con:
        ensure_audit_schema(con)
        known = {action_id for (action_id,) in con.execute("select action_id from audit.exception_actions").fetchall()}
        new_actions = [action for action in actions.exception_actions() if action.action_id not in known]
        loaded_at = clock()
        if new_actions:
            con.executemany(
                "insert into audit.exception_actions values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [[*astuple(action), loaded_at, run_id] for action in new_actions],
            )
        judged = {
            approval_id
            for (approval_id,) in con.execute("select approval_id from audit.dashboard_approvals").fetchall()
        }
    loaded.exception_actions = len(new_actions)
    for approval in actions.payment_approvals():
        if approval.approval_id not in judged:
            outcome, message = _apply(warehouse, approval, run_id, clock)
            _record_judgement(warehouse, approval, outcome, message, run_id, clock)
            loaded.approvals.setdefault(outcome, []).append(approval.payment_number)
    if new_actions or loaded.approvals:
        log.info("dashboard actions loaded from %s: %s", store, "; ".join(loaded.lines()))
    return loaded


def _apply(
    warehouse: Path, approval: PaymentApproval, run_id: str | None, clock: Callable[[], datetime]
) -> tuple[str, str | None]:
    """Approve the payment's plan as the CLI would, if it is still the plan the person saw."""
    try:
        approve(
            warehouse,
            approval.payment_number,
            by=approval.approved_by,
            note=approval.note,
            channel="dashboard",
            seen_plan_sha256=approval.plan_sha256,
            run_id=run_id,
            clock=lambda: approval.taken_at,
        )
    except PlanChanged as refused:
        return "plan_changed", str(refused)
    except ApprovalRefused as refused:
        return "refused", str(refused)
    return "approved", None


def _record_judgement(
    warehouse: Path,
    approval: PaymentApproval,
    outcome: str,
    message: str | None,
    run_id: str | None,
    clock: Callable[[], datetime],
) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "insert into audit.dashboard_approvals values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [*astuple(approval), clock(), run_id, outcome, message],
        )
