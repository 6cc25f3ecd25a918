"""Tests for pipelines.warehouse.snapshot: publishing and opening the read snapshot, on real DuckDB files.

Readers run in separate processes where it matters: DuckDB's file locks only keep *other* processes out,
and the dashboard and analysts are other processes.
"""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse.snapshot import (
    SnapshotMissing,
    open_snapshot,
    publish_snapshot,
    snapshot_path,
    wal_path,
)

SUBPROCESS_TIMEOUT = 60

# Prints the first column of the first row of argv[2] run on the file argv[1], opened read-only.
READ_ONE = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute(sys.argv[2]).fetchone()[0])
"""

# Opens the snapshot and proves it by reading only the catalog, waits for a line on stdin, then reads
# the table's data for the first time on the same connection, so those blocks come from the file it
# opened and not from DuckDB's buffer cache.
HOLDING_READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("select count(*) from duckdb_tables()").fetchone()[0], flush=True)
sys.stdin.readline()
print(con.execute("select count(*), sum(amount) from marts.orders").fetchone(), flush=True)
"""


def add_orders(warehouse: Path, *amounts: str) -> None:
    """Append orders to marts.orders, creating the table on first use."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create table if not exists marts.orders (order_id integer, amount decimal(18, 2))")
        con.executemany(
            "insert into marts.orders select coalesce(max(order_id), 0) + 1, ? from marts.orders",
            [[Decimal(amount)] for amount in amounts],
        )


def orders(database: Path) -> list[tuple]:
    with open_snapshot(database) as con:
        return con.execute("select * from marts.orders order by order_id").fetchall()


def read_in_other_process(database: Path, sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", READ_ONE, str(database), sql],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "avc2sage.duckdb"
    add_orders(path, "10.00", "20.50")
    return path


def test_snapshot_path_sits_beside_the_warehouse() -> None:
    assert snapshot_path(Path("/data/warehouse/avc2sage.duckdb")) == Path("/data/warehouse/avc2sage.snapshot.duckdb")


def test_publish_copies_every_table_and_row(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw_sage200")
        con.execute("create table raw_sage200.customers as select 'AMA001' as reference")

    published = publish_snapshot(warehouse)

    assert published == snapshot_path(warehouse)
    assert orders(published) == [(1, Decimal("10.00")), (2, Decimal("20.50"))]
    tables = "select table_schema, table_name from information_schema.tables order by all"
    with duckdb.connect(str(warehouse), read_only=True) as source, open_snapshot(published) as copy:
        assert copy.execute(tables).fetchall() == source.execute(tables).fetchall()
    assert sorted(path.name for path in warehouse.parent.iterdir()) == [warehouse.name, published.name]


def test_publish_to_an_explicit_path_makes_a_file_that_refuses_writes(warehouse: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.duckdb"

    assert publish_snapshot(warehouse, target) == target
    assert stat.S_IMODE(target.stat().st_mode) & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) == 0
    assert orders(target) == orders(warehouse)


def test_publish_folds_uncheckpointed_changes_into_the_copy(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as con:
        # Leave the insert only in the write-ahead log, as a writer that was killed would.
        con.execute("pragma disable_checkpoint_on_shutdown")
        con.execute("insert into marts.orders values (3, 5.25)")
    assert wal_path(warehouse).exists()

    published = publish_snapshot(warehouse)

    assert orders(published)[-1] == (3, Decimal("5.25"))
    assert not wal_path(warehouse).exists()


def test_snapshot_is_readable_by_another_process_while_a_writer_holds_the_warehouse(warehouse: Path) -> None:
    published = publish_snapshot(warehouse)

    with duckdb.connect(str(warehouse)) as writer:
        writer.execute("insert into marts.orders values (3, 1.00)")
        # The reason snapshots exist: no other process may open the warehouse while it has a writer...
        blocked = read_in_other_process(warehouse, "select count(*) from marts.orders")
        assert blocked.returncode != 0
        assert "lock" in blocked.stderr.lower()
        # ...while the snapshot reads fine, with the data as published.
        reader = read_in_other_process(published, "select sum(amount) from marts.orders")
        assert reader.returncode == 0, reader.stderr
        assert reader.stdout.strip() == "30.50"


def test_a_reader_keeps_its_snapshot_through_a_publish_and_the_next_reader_sees_the_new_one(
    warehouse: Path, tmp_path: Path
) -> None:
    published = publish_snapshot(warehouse)
    reader = subprocess.Popen(
        [sys.executable, "-c", HOLDING_READER, str(published)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdin is not None
        assert reader.stdout.readline().strip() == "1"  # connected, catalog read, data not yet touched

        # Publish a warehouse rebuilt from scratch: a DuckDB file keeps freed blocks' old bytes, so only a
        # fresh file guarantees that an old reader still seeing its data is reading the old inode.
        rebuilt = tmp_path / "rebuilt.duckdb"
        with duckdb.connect(str(rebuilt)) as con:
            con.execute("create schema marts")
            con.execute("create table marts.orders as select range + 1 as order_id, 1.00 as amount from range(50000)")
        publish_snapshot(rebuilt, published)
        reader.stdin.write("go\n")
        reader.stdin.flush()
        held, errors = reader.communicate(timeout=SUBPROCESS_TIMEOUT)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()

    assert reader.returncode == 0, errors
    assert held.strip() == "(2, Decimal('30.50'))"
    with open_snapshot(published) as fresh:
        assert fresh.execute("select count(*), sum(amount) from marts.orders").fetchone() == (
            50000,
            Decimal("50000.00"),
        )


def test_a_failed_copy_leaves_no_temp_file_and_the_old_snapshot_in_place(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = publish_snapshot(warehouse)
    add_orders(warehouse, "100.00")

    def disk_full(source: Path, target: Path) -> None:
        Path(target).write_bytes(b"half a database")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", disk_full)
    with pytest.raises(OSError, match="No space left"):
        publish_snapshot(warehouse)

    assert sorted(path.name for path in warehouse.parent.iterdir()) == [warehouse.name, published.name]
    assert len(orders(published)) == 2


def test_a_stale_log_beside_the_snapshot_cannot_break_the_new_one(warehouse: Path) -> None:
    published = publish_snapshot(warehouse)
    wal_path(published).write_bytes(b"a log from someone who opened the snapshot for writing")

    publish_snapshot(warehouse)

    assert not wal_path(published).exists()
    assert len(orders(published)) == 2


def test_publish_needs_a_warehouse_and_a_separate_snapshot_file(tmp_path: Path, warehouse: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no warehouse"):
        publish_snapshot(tmp_path / "missing.duckdb")
    with pytest.raises(ValueError, match="different file"):
        publish_snapshot(warehouse, warehouse)


def test_opening_a_snapshot_that_was_never_published_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(SnapshotMissing, match=r"no snapshot yet.*run `avc2sage run` first"):
        open_snapshot(tmp_path / "avc2sage.snapshot.duckdb")


def test_the_snapshot_connection_is_read_only(warehouse: Path) -> None:
    with open_snapshot(publish_snapshot(warehouse)) as con, pytest.raises(duckdb.Error, match="read-only"):
        con.execute("insert into marts.orders values (9, 1.00)")
