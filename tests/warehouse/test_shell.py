"""Tests for pipelines.warehouse.shell: ``avc2sage sql`` on a published snapshot."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse.shell import CONTINUATION_PROMPT, PROMPT, format_table, interactive_shell, run_query
from pipelines.warehouse.snapshot import SnapshotMissing, publish_snapshot

# More digits than a float holds: printed through float it would come out as 1234567890123456.8.
BIG = Decimal("1234567890123456.78")


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    warehouse = tmp_path / "avc2sage.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.remittances (remittance_id integer, amount decimal(18, 2), note varchar)")
        con.execute("insert into marts.remittances values (1, ?, 'co-op'), (2, 0.10, null)", [BIG])
        con.execute("create view marts.remittance_totals as select sum(amount) as total from marts.remittances")
    return publish_snapshot(warehouse)


class Console:
    """A list-backed terminal: hands out `lines` one per prompt (then end of input) and keeps the output."""

    def __init__(self, *lines: str | type[BaseException]) -> None:
        self.lines = list(lines)
        self.prompts: list[str] = []
        self.printed: list[str] = []

    def input(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.lines:
            raise EOFError
        line = self.lines.pop(0)
        if isinstance(line, type):
            raise line()
        return line

    def output(self, text: str) -> None:
        self.printed.append(text)

    def run(self, snapshot: Path) -> list[str]:
        """Run the shell; what it printed after its greeting."""
        interactive_shell(snapshot, input_fn=self.input, output=self.output)
        return self.printed[1:]


def test_run_query_returns_columns_and_exact_decimals(snapshot: Path) -> None:
    columns, rows = run_query(snapshot, "select * from marts.remittances order by remittance_id")

    assert columns == ["remittance_id", "amount", "note"]
    assert rows == [(1, BIG, "co-op"), (2, Decimal("0.10"), None)]


def test_run_query_of_no_statement_has_no_result(snapshot: Path) -> None:
    assert run_query(snapshot, "-- nothing to run\n;") == ([], [])


def test_run_query_cannot_change_the_snapshot(snapshot: Path) -> None:
    with pytest.raises(duckdb.Error, match="read-only"):
        run_query(snapshot, "delete from marts.remittances")


def test_format_table_aligns_columns_and_prints_decimals_exactly() -> None:
    table = format_table(
        ["remittance_id", "amount", "note"],
        [(1, BIG, "co-op"), (2, Decimal("0.10"), None), (3, Decimal("0E-8"), "two\nlines")],
    )

    assert table.splitlines() == [
        "remittance_id | amount              | note",
        "--------------+---------------------+-----------",
        "            1 | 1234567890123456.78 | co-op",
        "            2 |                0.10 | NULL",
        "            3 |          0.00000000 | two\\nlines",
        "(3 rows)",
    ]


def test_format_table_shows_at_most_max_rows() -> None:
    table = format_table(["n"], [(n,) for n in range(5)], max_rows=2)

    assert table.splitlines() == ["n", "-", "0", "1", "(5 rows, first 2 shown)"]


def test_format_table_of_an_empty_result() -> None:
    assert format_table(["remittance_id"], []).splitlines() == ["remittance_id", "-------------", "(0 rows)"]


def test_shell_lists_the_tables(snapshot: Path) -> None:
    printed = Console(".tables", ".quit").run(snapshot)

    assert printed == ["marts.remittance_totals\nmarts.remittances"]


def test_shell_runs_a_statement_typed_over_several_lines(snapshot: Path) -> None:
    console = Console("select remittance_id,", "       amount", "from marts.remittances", "where remittance_id = 1;")

    printed = console.run(snapshot)

    assert printed == [format_table(["remittance_id", "amount"], [(1, BIG)])]
    assert console.prompts == [PROMPT, CONTINUATION_PROMPT, CONTINUATION_PROMPT, CONTINUATION_PROMPT, PROMPT]


def test_shell_reports_an_error_and_carries_on(snapshot: Path) -> None:
    printed = Console("select * from marts.nowhere;", "select total from marts.remittance_totals;").run(snapshot)

    assert len(printed) == 2
    assert printed[0].startswith("Error: ") and "nowhere" in printed[0]
    assert printed[1] == format_table(["total"], [(BIG + Decimal("0.10"),)])


@pytest.mark.parametrize("command", [".quit", ".exit"])
def test_shell_stops_at_quit_without_reading_further(snapshot: Path, command: str) -> None:
    console = Console(command, "select 1;")

    assert console.run(snapshot) == []
    assert console.lines == ["select 1;"]


def test_ctrl_c_drops_the_statement_being_typed(snapshot: Path) -> None:
    printed = Console("select * from", KeyboardInterrupt, "select 2 as n;").run(snapshot)

    assert printed == ["", format_table(["n"], [(2,)])]


def test_shell_ignores_blank_lines_and_empty_statements(snapshot: Path) -> None:
    printed = Console("", "   ", ";", "-- a comment;", "select 3 as n;").run(snapshot)

    assert printed == [format_table(["n"], [(3,)])]


def test_shell_explains_an_unknown_command(snapshot: Path) -> None:
    (printed,) = Console(".schema").run(snapshot)

    assert printed.startswith("unknown command .schema") and ".tables" in printed


def test_shell_needs_a_published_snapshot(tmp_path: Path) -> None:
    console = Console("select 1;")

    with pytest.raises(SnapshotMissing, match="avc2sage run"):
        console.run(tmp_path / "avc2sage.snapshot.duckdb")
    assert console.prompts == []
