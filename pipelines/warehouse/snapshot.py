"""The read snapshot: a read-only copy of the warehouse for the dashboard and analysts.

DuckDB lets no other process open a database file while a writer holds it, so nothing but the pipeline
ever opens the warehouse itself. After every successful run the pipeline calls :func:`publish_snapshot`,
which copies the warehouse beside it and swaps the copy in with an atomic rename. A reader that has the
old snapshot open keeps reading the old file (POSIX keeps an unlinked inode alive while it is open); the
next reader opens the new one. No reader can block the pipeline, and a publish never breaks a reader.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

SNAPSHOT_SUFFIX = ".snapshot.duckdb"

_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


class SnapshotMissing(FileNotFoundError):
    """No snapshot has been published at the path yet."""


def snapshot_path(warehouse: Path) -> Path:
    """Where the snapshot of `warehouse` lives by default: ``<stem>.snapshot.duckdb`` beside it."""
    return warehouse.with_name(warehouse.stem + SNAPSHOT_SUFFIX)


def wal_path(database: Path) -> Path:
    """DuckDB's write-ahead log for `database` (uncheckpointed changes live there, not in the file)."""
    return database.with_name(database.name + ".wal")


def publish_snapshot(warehouse: Path, snapshot: Path | None = None) -> Path:
    """Copy `warehouse` to `snapshot` (default :func:`snapshot_path`) and swap it in atomically.

    The caller must have closed its own connections to the warehouse and must run this in the writer's
    slot (Dagster's ``duckdb`` pool): DuckDB guards the file with a POSIX record lock, and POSIX drops
    every lock a process holds on a file as soon as that process closes *any* descriptor of it, so copying
    the file while this process still had it open would silently unlock it for other writers.

    Returns the snapshot path. On any failure the previous snapshot stays in place and no temp file is left.
    """
    warehouse = Path(warehouse)
    target = Path(snapshot) if snapshot is not None else snapshot_path(warehouse)
    if not warehouse.is_file():
        raise FileNotFoundError(f"no warehouse at {warehouse}: nothing to publish")
    if target.resolve() == warehouse.resolve():
        raise ValueError(f"the snapshot must be a different file from the warehouse ({warehouse})")
    _checkpoint(warehouse)
    # The temp file sits in the target's directory so os.replace is a rename within one filesystem,
    # which is what makes the swap atomic.
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    temp = Path(temp_name)
    try:
        shutil.copyfile(warehouse, temp)
        _fsync(temp)
        # Readers only ever open the snapshot read-only; a read-write open would take DuckDB's exclusive
        # lock and lock every other reader out, so the file itself refuses writes.
        os.chmod(temp, stat.S_IMODE(warehouse.stat().st_mode) & ~_WRITE_BITS)
        _remove_stale_wal(target)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    log.info("published snapshot %s (%d bytes) from %s", target, target.stat().st_size, warehouse)
    return target


def open_snapshot(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the snapshot at `path`; close it when done.

    Within one process DuckDB shares a database instance between connections to the same path, so a
    connection opened while another one in this process is still open sees the snapshot that one saw.
    Open, query and close (as the dashboard does) to always read the latest published snapshot.
    """
    path = Path(path)
    if not path.is_file():
        raise SnapshotMissing(f"no snapshot yet at {path}: run `avc2sage run` first")
    return duckdb.connect(str(path), read_only=True)


def _checkpoint(warehouse: Path) -> None:
    """Fold the warehouse's write-ahead log into the file so the copy holds every committed change.

    A log left behind also means a writer may still be at work; opening read-write then fails with
    DuckDB's lock error rather than letting us copy a file mid-write.
    """
    if not wal_path(warehouse).exists():
        return
    log.debug("checkpointing %s before copying it", warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CHECKPOINT")


def _fsync(path: Path) -> None:
    """Flush `path` to disk, so a crash after the rename cannot leave a snapshot with missing blocks."""
    with path.open("rb") as file:
        os.fsync(file.fileno())


def _remove_stale_wal(snapshot: Path) -> None:
    """Delete a write-ahead log left beside the snapshot by someone who opened it read-write.

    DuckDB replays ``<file>.wal`` on open and refuses a log that belongs to another file, so a stale log
    would make the new snapshot unreadable.
    """
    stale = wal_path(snapshot)
    if stale.exists():
        log.warning("removing %s: the snapshot was opened for writing, and its log would break the new one", stale)
        stale.unlink()
