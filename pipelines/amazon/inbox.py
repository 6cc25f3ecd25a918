"""The Amazon inbox: every file Amazon sent, recognised by its content, parsed, and given an outcome.

A file is `loaded`, `partially_loaded` (some of its sets quarantined), `duplicate` (the same bytes were
processed before, under any name) or `quarantined` (unreadable as a whole). Nothing is silently dropped:
every file gets a row in `raw_amazon.inbound_files`, every set a row in `raw_amazon.inbound_sets`.

Files in `inbox/<VENDOR CODE>/` belong to that vendor code (the remittance export does not say which
vendor code it pays, and its date order depends on the marketplace); files at the top of the inbox belong
to the only vendor code, or to all vendor codes when they agree on what matters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pipelines.amazon.documents import FileRejected, Format, ParsedFile
from pipelines.amazon.remittance_export import date_order_for, read_remittance_export
from pipelines.amazon.spapi_orders import read_spapi_orders
from pipelines.edi.edifact import read_edifact
from pipelines.edi.x12 import read_x12
from pipelines.settings import BusinessConfig

Outcome = Literal["loaded", "partially_loaded", "duplicate", "quarantined"]

PROCESSED_FOLDER = "processed"
QUARANTINE_FOLDER = "quarantine"
# Read whole files up to this size; past it a file is quarantined unread (Amazon's documents are far smaller,
# and a runaway file must not take the pipeline's memory with it).
MAX_FILE_BYTES = 64 * 1024 * 1024
HASH_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class InboundFile:
    path: Path
    name: str  # relative to the inbox, e.g. "HAFIN/remittance-2026-03.xlsx"
    sha256: str
    size_bytes: int
    received_at: datetime
    vendor_code: str | None


@dataclass
class FileOutcome:
    file: InboundFile
    outcome: Outcome
    format: Format | None = None
    error: str | None = None
    position: str | None = None
    parsed: ParsedFile | None = None
    duplicate_of: str | None = None
    sets_outcomes: list[str] = field(default_factory=list)


def scan(inbox: Path, vendor_codes: set[str]) -> list[InboundFile]:
    """Files waiting in the inbox (not in processed/ or quarantine/), oldest first."""
    files = []
    for path in sorted(inbox.rglob("*")):
        relative = path.relative_to(inbox)
        if not path.is_file() or relative.parts[0] in {PROCESSED_FOLDER, QUARANTINE_FOLDER}:
            continue
        if relative.name.startswith("."):
            continue  # editors' and transfer tools' temporary files: not Amazon's
        vendor = relative.parts[0] if len(relative.parts) > 1 and relative.parts[0] in vendor_codes else None
        stat = path.stat()
        files.append(
            InboundFile(
                path=path,
                name=relative.as_posix(),
                sha256=file_sha256(path),
                size_bytes=stat.st_size,
                received_at=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                vendor_code=vendor,
            )
        )
    return sorted(files, key=lambda file: (file.received_at, file.name))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def detect_format(head: bytes) -> Format | None:
    """What a file is, from its first bytes (never its extension)."""
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"ISA"):
        return "X12"
    if text.startswith((b"UNA", b"UNB")):
        return "EDIFACT"
    # A JSON object: a saved SP-API response. No remittance export starts with "{", and deciding here rather
    # than after a full parse means a damaged response is quarantined as JSON, with its line and column.
    if text.startswith(b"{"):
        return "SPAPI_JSON"
    if head.startswith(b"PK\x03\x04"):
        return "REMITTANCE_XLSX"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or looks_like_text(head):
        return "REMITTANCE_CSV"
    return None


def looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text; anything else is cp1252 or binary.
        if error.start < len(head) - 3:
            return all(byte >= 0x20 or byte in b"\t\r\n" for byte in head[:512])
    return True


def date_order_of(file: InboundFile, config: BusinessConfig) -> Literal["MDY", "DMY"]:
    """The remittance export's date order, from the vendor code's marketplace: never guessed from values."""
    vendors = [config.vendor(file.vendor_code)] if file.vendor_code else list(config.vendor_codes)
    orders = {date_order_for(vendor.marketplace) for vendor in vendors}
    if len(orders) != 1:
        raise FileRejected(
            "the vendor codes' marketplaces write dates differently: put the export in the inbox folder named "
            "after its vendor code",
            "file",
        )
    return orders.pop()


def parse(file: InboundFile, data: bytes, config: BusinessConfig) -> tuple[Format, ParsedFile]:
    """Parse a file by its detected format; FileRejected when it cannot be read at all."""
    found = detect_format(data[:4096])
    if found is None:
        raise FileRejected(
            "not an Amazon document: neither X12, EDIFACT, an SP-API response nor a remittance export", "byte 0"
        )
    if found == "X12":
        return found, read_x12(data, file.name)
    if found == "EDIFACT":
        return found, read_edifact(data, file.name)
    if found == "SPAPI_JSON":
        return found, read_spapi_orders(data, file.name, vendor_code=file.vendor_code)
    parsed = read_remittance_export(data, file.name, date_order=date_order_of(file, config))
    return parsed.format, parsed


def classify(files: list[InboundFile], seen: set[str], config: BusinessConfig) -> Iterator[FileOutcome]:
    """Each file's outcome; `seen` (hashes already processed) grows as files are classified."""
    for file in files:
        if file.sha256 in seen:
            yield FileOutcome(file, "duplicate", duplicate_of=file.sha256)
            continue
        outcome = classify_one(file, config)
        # A quarantined file is not "processed": the same bytes put back (e.g. into their vendor code's
        # folder, as the quarantine reason asks) are read again rather than dismissed as a duplicate.
        if outcome.outcome != "quarantined":
            seen.add(file.sha256)
        yield outcome


def classify_one(file: InboundFile, config: BusinessConfig) -> FileOutcome:
    if file.size_bytes > MAX_FILE_BYTES:
        return FileOutcome(file, "quarantined", error=f"larger than {MAX_FILE_BYTES:,} bytes", position="file")
    try:
        file_format, parsed = parse(file, file.path.read_bytes(), config)
    except FileRejected as rejected:
        return FileOutcome(file, "quarantined", error=rejected.reason, position=rejected.position)
    return outcome_of(file, file_format, parsed)


def outcome_of(file: InboundFile, file_format: Format, parsed: ParsedFile) -> FileOutcome:
    quarantined = [result for result in parsed.sets if result.document is None]
    if not parsed.sets:
        first_problem = parsed.envelope_errors[0] if parsed.envelope_errors else "the file holds no document"
        return FileOutcome(file, "quarantined", file_format, error=first_problem, position="file", parsed=parsed)
    if len(quarantined) == len(parsed.sets):
        first = quarantined[0]
        return FileOutcome(file, "quarantined", file_format, error=first.error, position=first.position, parsed=parsed)
    if quarantined:
        first = quarantined[0]
        message = f"{len(quarantined)} of {len(parsed.sets)} sets quarantined; first: {first.error}"
        return FileOutcome(file, "partially_loaded", file_format, error=message, position=first.position, parsed=parsed)
    return FileOutcome(file, "loaded", file_format, parsed=parsed)
