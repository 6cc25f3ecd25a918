"""The outbox every outbound Amazon document goes through: control numbers, atomic files, the registry.

Amazon rejects an interchange whose control number it has seen before, so :class:`ControlNumbers` keeps
each series in a small SQLite file next to the documents: every :meth:`ControlNumbers.next` is one
``BEGIN IMMEDIATE`` transaction, which makes it safe across threads, processes and restarts, and a
series that reaches its maximum raises instead of wrapping round.

:meth:`Outbox.write` makes a document appear under its final name complete or not at all (a temp file in
the same folder, fsynced, then renamed), because the folder is picked up by a transfer agent that may
send whatever it sees. Every document written is then recorded in ``audit.outbound_documents``, which is
append-only: a row is inserted once and never updated or deleted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

CONTROL_NUMBERS_FILE = ".control_numbers.sqlite3"
# Seconds a caller waits for another process's increment before giving up; an increment takes milliseconds.
LOCK_TIMEOUT_SECONDS = 30.0
# Control elements that identify the interchange, in the order they are looked for to name the file.
INTERCHANGE_KEYS = ("ISA13", "UNB")

CONTROL_NUMBERS_DDL = """
create table if not exists control_numbers (
    series text primary key,
    last_value integer not null
)
"""

OUTBOUND_DOCUMENTS_DDL = """
create schema if not exists audit;
create table if not exists audit.outbound_documents (
    document_id varchar primary key,
    file_name varchar not null unique,
    document_type varchar not null,
    standard varchar not null,
    partner varchar not null,
    control_numbers json not null,
    sha256 varchar not null,
    size_bytes bigint not null,
    written_at timestamptz not null,
    related_inbound varchar
);
"""

_COLUMNS = (
    "document_id, file_name, document_type, standard, partner, control_numbers,"
    " sha256, size_bytes, written_at, related_inbound"
)


class ControlNumberExhausted(RuntimeError):
    """A control number series reached its maximum; wrapping round would reuse numbers Amazon has seen."""


class ControlNumbers:
    """Interchange/group/set control numbers that never repeat, across restarts and processes."""

    def __init__(self, path: Path) -> None:
        """Use the SQLite file at `path` (in WAL mode), creating it and its folder if missing."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            # WAL lets readers go on while one process increments; the mode is stored in the file itself.
            con.execute("pragma journal_mode=wal")
            con.execute(CONTROL_NUMBERS_DDL)

    def next(self, series: str, *, maximum: int = 999_999_999) -> int:
        """Atomically increment the series (e.g. ``"x12:ISA13:AMAZON"``) and return its new value.

        A new series starts at 1. Raises :class:`ControlNumberExhausted` when the next value would exceed
        `maximum` (the series is left as it was), because Amazon requires control numbers never repeat.
        """
        return self.reserve(series, 1, maximum=maximum)

    def reserve(self, series: str, count: int, *, maximum: int = 999_999_999) -> int:
        """Atomically take the next `count` values of the series at once and return the first of them.

        For numbers handed out by the hundred (SSCCs, one per carton): one transaction instead of one each.
        Values reserved and not used are simply never used; nothing requires a series to have no gaps.
        """
        if not series:
            raise ValueError("a control number series needs a name")
        if maximum < 1:
            raise ValueError(f"maximum for series {series!r} must be at least 1, not {maximum}")
        if count < 1:
            raise ValueError(f"reserve at least one value of series {series!r}, not {count}")
        with self._connect() as con:
            # IMMEDIATE takes the write lock before reading, so two processes cannot read the same last value.
            con.execute("begin immediate")
            try:
                (value,) = con.execute(
                    "insert into control_numbers (series, last_value) values (?, ?)"
                    " on conflict (series) do update set last_value = last_value + excluded.last_value"
                    " returning last_value",
                    [series, count],
                ).fetchone()
                if value > maximum:
                    raise ControlNumberExhausted(
                        f"control number series {series!r} in {self.path} has reached its maximum {maximum}:"
                        " Amazon requires unique control numbers, so it will not wrap round; agree a new"
                        " series (e.g. a new sender id) with Amazon before sending more documents"
                    )
            except BaseException:
                con.execute("rollback")
                raise
            con.execute("commit")
        return value - count + 1

    def _connect(self) -> _ClosingConnection:
        # isolation_level=None: transactions are explicit, so sqlite3 never opens one behind our back.
        con = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT_SECONDS, isolation_level=None)
        # FULL: an increment is on disk before its number is used, so a power cut cannot hand it out again.
        con.execute("pragma synchronous=full")
        return _ClosingConnection(con)


class _ClosingConnection:
    """A sqlite3 connection closed at the end of a ``with`` block (sqlite3's own only ends a transaction)."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self._con = con

    def __enter__(self) -> sqlite3.Connection:
        return self._con

    def __exit__(self, *exc_info: object) -> None:
        self._con.close()


@dataclass(frozen=True)
class OutboundDocument:
    """One document written to the outbox, as recorded in ``audit.outbound_documents``."""

    document_id: str
    file_name: str
    path: Path
    document_type: str
    standard: str
    partner: str
    control_numbers: dict[str, str]
    sha256: str
    size_bytes: int
    written_at: datetime
    related_inbound: str | None


def ensure_outbound_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ``audit`` schema and ``audit.outbound_documents`` if they do not exist yet."""
    con.execute(OUTBOUND_DOCUMENTS_DDL)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Outbox:
    """The outbox folder (``AVC2SAGE_OUTBOX``) and, when a warehouse is given, its registry."""

    def __init__(
        self,
        folder: Path,
        warehouse: Path | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        """Use `folder` (created if missing) with its control numbers in ``folder/.control_numbers.sqlite3``."""
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.warehouse = Path(warehouse) if warehouse is not None else None
        self.clock = clock
        self.control_numbers = ControlNumbers(self.folder / CONTROL_NUMBERS_FILE)

    def write(
        self,
        *,
        document_type: str,
        standard: str,
        partner: str,
        content: str | bytes,
        control_numbers: dict[str, str],
        related_inbound: str | None = None,
        extension: str = "edi",
    ) -> OutboundDocument:
        """Write a validated document atomically under a new name, register it and return its record.

        Text is written as UTF-8 bytes exactly as given (no newline translation); pass bytes for another
        character set. Raises ValueError for empty content and FileExistsError if the name is taken.
        """
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        if not data.strip():
            raise ValueError(f"refusing to write an empty {standard} {document_type} for {partner}")
        written_at = self.clock()
        if written_at.tzinfo is None:
            raise ValueError("the outbox clock must return timezone-aware datetimes")
        written_at = written_at.astimezone(UTC)
        document_id = str(uuid.uuid4())
        file_name = _file_name(standard, document_type, partner, control_numbers, written_at, extension, document_id)
        path = self.folder / file_name
        write_file_atomically(path, data)
        document = OutboundDocument(
            document_id=document_id,
            file_name=file_name,
            path=path,
            document_type=document_type,
            standard=standard,
            partner=partner,
            control_numbers=dict(control_numbers),
            sha256=hashlib.sha256(data).hexdigest(),
            size_bytes=len(data),
            written_at=written_at,
            related_inbound=related_inbound,
        )
        if self.warehouse is not None:
            try:
                self._register(document)
            except Exception:
                # The file may already be on its way to Amazon, so it stays; someone must record it by hand.
                log.exception("%s was written but could not be registered in %s", path, self.warehouse)
                raise
        log.info("wrote %s (%d bytes, %s)", file_name, document.size_bytes, document.sha256)
        return document

    def documents(self) -> list[OutboundDocument]:
        """Every registered document, oldest first, read back from ``audit.outbound_documents``."""
        if self.warehouse is None:
            raise ValueError("the outbox has no warehouse to read its registry from")
        if not self.warehouse.exists():
            return []
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            (has_table,) = con.execute(
                "select count(*) from information_schema.tables"
                " where table_catalog = current_database()"
                " and table_schema = 'audit' and table_name = 'outbound_documents'"
            ).fetchone()
            if not has_table:
                return []
            rows = con.execute(
                f"select {_COLUMNS} from audit.outbound_documents order by written_at, file_name"
            ).fetchall()
        return [self._from_row(row) for row in rows]

    def _register(self, document: OutboundDocument) -> None:
        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(self.warehouse)) as con:
            ensure_outbound_schema(con)
            con.execute(
                f"insert into audit.outbound_documents ({_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    document.document_id,
                    document.file_name,
                    document.document_type,
                    document.standard,
                    document.partner,
                    json.dumps(document.control_numbers, sort_keys=True),
                    document.sha256,
                    document.size_bytes,
                    document.written_at,
                    document.related_inbound,
                ],
            )

    def _from_row(self, row: tuple) -> OutboundDocument:
        (document_id, file_name, document_type, standard, partner, numbers, sha256, size, written_at, related) = row
        return OutboundDocument(
            document_id=document_id,
            file_name=file_name,
            path=self.folder / file_name,
            document_type=document_type,
            standard=standard,
            partner=partner,
            control_numbers=json.loads(numbers),
            sha256=sha256,
            size_bytes=size,
            written_at=written_at.astimezone(UTC),
            related_inbound=related,
        )


def _file_name(
    standard: str,
    document_type: str,
    partner: str,
    control_numbers: dict[str, str],
    written_at: datetime,
    extension: str,
    document_id: str,
) -> str:
    """``{standard}_{document_type}_{partner}_{interchange control}_{yyyymmddHHMMSS}.{ext}``, safe on any disk.

    The interchange control is ISA13 or UNB when present, else the first control number given, else (an
    SP-API acknowledgement carries none) the start of the document id, so the name stays unique.
    """
    interchange = next((control_numbers[key] for key in INTERCHANGE_KEYS if control_numbers.get(key)), None)
    if interchange is None:
        interchange = next(iter(control_numbers.values()), None) or document_id.replace("-", "")[:12]
    parts = (standard, document_type, partner_part(partner), interchange, written_at.strftime("%Y%m%d%H%M%S"))
    suffix = re.sub(r"[^A-Za-z0-9]", "", extension)
    if not suffix:
        raise ValueError(f"file extension {extension!r} has no letters or digits")
    return "_".join(_sanitise(str(part)) for part in parts) + f".{suffix}"


def partner_part(partner: str) -> str:
    """The partner as a file-name part. Control numbers are counted per raw partner id, so two ids that
    sanitise alike (AMAZON.EU, AMAZON-EU) would collide: such a name carries a short hash of the raw id."""
    if _sanitise(partner) == partner:
        return partner
    return f"{_sanitise(partner)}-{hashlib.sha256(partner.encode()).hexdigest()[:6]}"


def _sanitise(part: str) -> str:
    # "_" separates the parts and "." starts the extension, so neither may appear inside one.
    return re.sub(r"[^A-Za-z0-9-]+", "-", part).strip("-") or "x"


def write_file_atomically(path: Path, data: bytes, *, replace: bool = False) -> None:
    """Write `data` to `path` through a fsynced temp file and a rename; an existing file is replaced only when
    `replace` says so (never for a document: control numbers make names unique, so an existing one is a bug)."""
    if path.exists() and not replace:
        raise FileExistsError(f"{path} already exists: refusing to overwrite an outbound document")
    # A dot-prefixed .tmp name in the same folder: transfer agents skip it, and the rename stays on one disk.
    descriptor, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(temp_name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(folder: Path) -> None:
    # The rename is only durable once the directory entry is on disk; Windows has no directory fsync.
    if not hasattr(os, "O_DIRECTORY"):
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
