"""Tests for pipelines.warehouse.audit: ``audit.runs`` on a real DuckDB file, row counts, the code version."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.warehouse import audit
from pipelines.warehouse.audit import code_version, ensure_audit_schema, record_run, table_row_counts

SUBPROCESS_TIMEOUT = 60

# Opens argv[1] for writing from another process: fails with a lock error if anyone holds the file.
WRITE_FROM_OTHER_PROCESS = """
import sys, duckdb
with duckdb.connect(sys.argv[1]) as con:
    con.execute("create table if not exists loaded (n integer)")
    con.execute("insert into loaded values (1)")
"""


def runs(warehouse: Path) -> list[dict[str, Any]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute("select * from audit.runs order by started_at")
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def load_marts(warehouse: Path) -> dict[str, int]:
    """Stand-in for dlt and dbt: write some tables, return their row counts."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create or replace table marts.orders as select range as order_id from range(3)")
        return table_row_counts(con)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "avc2sage.duckdb"


def test_a_successful_run_is_recorded(warehouse: Path) -> None:
    with record_run(warehouse, "ingest_and_transform", "test") as run:
        run.rows_per_table = load_marts(warehouse)

    (row,) = runs(warehouse)
    assert row["run_id"] == run.run_id
    assert (row["job"], row["trigger"], row["status"], row["error"]) == (
        "ingest_and_transform",
        "test",
        "succeeded",
        None,
    )
    assert row["code_version"] == run.code_version != ""
    assert json.loads(row["rows_per_table"]) == {"marts.orders": 3}
    assert row["started_at"].utcoffset() == timedelta(0)
    assert row["ended_at"] >= row["started_at"]
    assert (run.status, run.ended_at) == ("succeeded", row["ended_at"])


def test_a_running_run_is_visible_and_holds_no_connection(warehouse: Path) -> None:
    with record_run(warehouse, "ingest", "cli"):
        (row,) = runs(warehouse)
        assert (row["status"], row["ended_at"], row["rows_per_table"]) == ("running", None, None)
        # dlt and dbt run in their own processes and need the file to themselves meanwhile.
        writer = subprocess.run(
            [sys.executable, "-c", WRITE_FROM_OTHER_PROCESS, str(warehouse)],
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT,
        )
        assert writer.returncode == 0, writer.stderr


def test_a_failed_run_is_recorded_and_its_error_still_raised(warehouse: Path) -> None:
    with (
        pytest.raises(RuntimeError, match="Sage 200 unavailable"),
        record_run(warehouse, "writeback", "schedule") as run,
    ):
        run.rows_per_table = {"raw_sage200.customers": 4}
        raise RuntimeError("Sage 200 unavailable after 5 retries")

    (row,) = runs(warehouse)
    assert row["status"] == "failed"
    assert row["error"] == "RuntimeError: Sage 200 unavailable after 5 retries"
    assert json.loads(row["rows_per_table"]) == {"raw_sage200.customers": 4}
    assert row["ended_at"] >= row["started_at"]
    assert (run.status, run.error) == ("failed", row["error"])


def test_history_is_append_only(warehouse: Path) -> None:
    with record_run(warehouse, "ingest", "schedule") as first:
        first.rows_per_table = {"marts.orders": 1}
    before = runs(warehouse)
    with pytest.raises(ValueError), record_run(warehouse, "ingest", "sensor"):
        raise ValueError("bad EDI file")

    after = runs(warehouse)
    assert len(after) == 2
    assert after[0] == before[0]
    assert [row["status"] for row in after] == ["succeeded", "failed"]
    assert after[0]["run_id"] != after[1]["run_id"]


def test_an_unknown_trigger_is_refused_before_anything_is_written(warehouse: Path) -> None:
    with pytest.raises(ValueError, match="unknown trigger 'cron'"), record_run(warehouse, "ingest", "cron"):
        pass
    assert not warehouse.exists()


def test_the_runs_table_only_takes_known_statuses() -> None:
    with duckdb.connect() as con:
        ensure_audit_schema(con)
        ensure_audit_schema(con)  # idempotent: every run calls it
        with pytest.raises(duckdb.ConstraintException):
            con.execute(
                "insert into audit.runs (run_id, job, trigger, code_version, started_at, status)"
                " values ('r1', 'ingest', 'cli', 'abc1234', now(), 'done')"
            )


def test_table_row_counts_covers_tables_and_views_of_the_chosen_schemas() -> None:
    with duckdb.connect() as con:
        con.execute("create schema raw_sage200; create schema staging; create schema marts; create schema scratch")
        con.execute("create table raw_sage200.customers as select * from range(4)")
        con.execute("create view staging.stg_sage200__customers as select * from raw_sage200.customers")
        con.execute('create table marts."order sync" as select * from range(2)')
        con.execute("create table scratch.notes as select * from range(7)")

        assert table_row_counts(con) == {
            "marts.order sync": 2,
            "raw_sage200.customers": 4,
            "staging.stg_sage200__customers": 4,
        }
        assert table_row_counts(con, schemas=("scratch",)) == {"scratch.notes": 7}


def test_code_version_names_the_code() -> None:
    assert code_version()


def test_code_version_outside_a_checkout_is_the_package_version(tmp_path: Path) -> None:
    assert code_version(tmp_path) == importlib.metadata.version("avc2sage")


@pytest.mark.parametrize(("changes", "expected"), [("", "abc1234"), (" M pipelines/settings.py", "abc1234-dirty")])
def test_code_version_in_a_checkout_is_the_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, changes: str, expected: str
) -> None:
    (tmp_path / ".git").mkdir()
    answers = {"rev-parse": "abc1234", "status": changes}
    monkeypatch.setattr(audit, "_git", lambda repo, command, *args: answers[command])

    assert code_version(tmp_path) == expected


def test_code_version_falls_back_when_git_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()

    def git_missing(repo: Path, *args: str) -> str:
        raise FileNotFoundError("git")

    monkeypatch.setattr(audit, "_git", git_missing)

    assert code_version(tmp_path) == importlib.metadata.version("avc2sage")
