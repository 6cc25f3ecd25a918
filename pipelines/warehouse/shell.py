"""``avc2sage sql``: ad-hoc SQL on the read snapshot, one statement or an interactive shell.

Every statement opens the snapshot read-only and closes it again, so the shell never holds a file the
pipeline needs and each statement sees the latest published snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

import duckdb

from pipelines.warehouse.snapshot import open_snapshot

log = logging.getLogger(__name__)

PROMPT = "avc2sage> "
CONTINUATION_PROMPT = "      ...> "
NULL = "NULL"
HELP = (
    "End each SQL statement with ';' (it may span several lines).\n"
    ".tables  list the tables and views\n"
    ".quit    leave (or end of input)"
)

TABLES_SQL = """
select table_schema || '.' || table_name
from information_schema.tables
where table_catalog = current_database()
order by table_schema, table_name
"""


def run_query(snapshot: Path, sql: str) -> tuple[list[str], list[tuple]]:
    """Run `sql` on the snapshot; the column names and rows of its (last statement's) result."""
    with open_snapshot(snapshot) as con:
        result = con.execute(sql)
        if result is None:  # the text held no statement, only ';' or comments
            return [], []
        return [column[0] for column in result.description], result.fetchall()


def format_table(columns: Sequence[str], rows: Sequence[Sequence[object]], max_rows: int = 50) -> str:
    """`rows` as an aligned plain-text table, numbers right-aligned, at most `max_rows` of them shown.

    Decimals print exactly as stored (``12.50``, never ``12.5`` or ``1.25E+1``); NULL prints as ``NULL``.
    """
    shown = rows[:max_rows]
    cells = [[_cell(value) for value in row] for row in shown]
    widths = [max([len(name), *(len(row[i]) for row in cells)]) for i, name in enumerate(columns)]
    numeric = [_is_numeric_column([row[i] for row in shown]) for i in range(len(columns))]
    lines = [
        " | ".join(name.ljust(width) for name, width in zip(columns, widths, strict=True)),
        "-+-".join("-" * width for width in widths),
    ]
    for row in cells:
        lines.append(
            " | ".join(
                text.rjust(width) if is_number else text.ljust(width)
                for text, width, is_number in zip(row, widths, numeric, strict=True)
            )
        )
    lines = [line.rstrip() for line in lines]
    noun = "row" if len(rows) == 1 else "rows"
    footer = f"({len(rows)} {noun}, first {max_rows} shown)" if len(rows) > max_rows else f"({len(rows)} {noun})"
    return "\n".join([*lines, footer])


def interactive_shell(
    snapshot: Path,
    input_fn: Callable[[str], str] = input,
    output: Callable[[str], object] = print,
) -> None:
    """A small SQL shell on the read-only snapshot, reading lines from `input_fn` and writing to `output`.

    Statements end with ``;`` and may span lines. ``.tables`` lists the tables, ``.quit`` or end of input
    leaves, Ctrl-C drops the statement being typed. An error is shown and the shell carries on.
    """
    open_snapshot(snapshot).close()  # fail at once, with the clear message, if nothing is published yet
    output(f"avc2sage SQL on {snapshot} (read-only). {HELP}")
    buffer: list[str] = []
    while True:
        try:
            line = input_fn(CONTINUATION_PROMPT if buffer else PROMPT)
        except EOFError:
            return
        except KeyboardInterrupt:
            buffer.clear()
            output("")
            continue
        if not buffer and line.strip().startswith("."):
            if not _dot_command(snapshot, line.strip(), output):
                return
            continue
        if buffer or line.strip():
            buffer.append(line)
        statement = "\n".join(buffer).strip()
        if statement.endswith(";"):
            buffer.clear()
            _run_and_show(snapshot, statement, output)


def _dot_command(snapshot: Path, command: str, output: Callable[[str], object]) -> bool:
    """Carry out a shell command; False when the shell should end."""
    if command in (".quit", ".exit"):
        return False
    if command == ".tables":
        _, rows = run_query(snapshot, TABLES_SQL)
        output("\n".join(name for (name,) in rows) or "(no tables)")
    else:
        output(f"unknown command {command}\n{HELP}")
    return True


def _run_and_show(snapshot: Path, statement: str, output: Callable[[str], object]) -> None:
    try:
        columns, rows = run_query(snapshot, statement)
    except duckdb.Error as exc:
        log.debug("statement failed: %s", statement, exc_info=True)
        output(f"Error: {exc}")
        return
    if columns:
        output(format_table(columns, rows))


def _cell(value: object) -> str:
    if value is None:
        return NULL
    if isinstance(value, Decimal):
        return format(value, "f")  # fixed-point: str() would switch to exponent form for some values
    # One table row per result row, whatever the text holds.
    return str(value).replace("\n", "\\n")


def _is_numeric_column(values: Sequence[object]) -> bool:
    present = [value for value in values if value is not None]
    return bool(present) and all(
        isinstance(value, int | float | Decimal) and not isinstance(value, bool) for value in present
    )
