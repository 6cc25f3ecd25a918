"""The close pack: a period's marts as Parquet and CSV, the HTML report, and a manifest of SHA-256 hashes.

A pack is written into a folder of its own first and moved to `close/<period>/v<version>/` only once its
manifest is whole, so a pack folder is always complete. The manifest's own SHA-256 goes into
`audit.month_end_runs`; :func:`verify_pack` recomputes every hash against both, so neither a changed file nor
a changed manifest goes unnoticed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

MANIFEST = "manifest.json"
REPORT = "report.html"
DATA_FOLDER = "data"
CHUNK_BYTES = 1 << 20

# What a period's pack holds: (file stem, the query giving its rows; `?` is the period as YYYY-MM). Payments,
# their lines, deductions and journals are the month's by payment date; exceptions are those open at the close.
PERIOD_MARTS: tuple[tuple[str, str], ...] = (
    ("month_end_periods", "select * from marts.month_end_periods where period = $period"),
    (
        "month_end_deductions_by_type",
        "select * from marts.month_end_deductions_by_type where period = $period order by deduction_type",
    ),
    ("month_end_integrity_checks", "select * from marts.month_end_integrity_checks order by check_name"),
    (
        "invoices",
        "select * from marts.month_end_invoices where period = $period order by invoice_date, invoice_number",
    ),
    (
        "remittance_payments",
        "select * from marts.remittance_payments where strftime(payment_date, '%Y-%m') = $period"
        " order by payment_number",
    ),
    (
        "remittance_lines",
        "select * from marts.remittance_lines where strftime(payment_date, '%Y-%m') = $period"
        " order by payment_number, line_number",
    ),
    (
        "remittance_postings",
        "select postings.* from marts.remittance_postings as postings"
        " join marts.remittance_payments as payments using (payment_number)"
        " where strftime(payments.payment_date, '%Y-%m') = $period"
        " order by postings.payment_number, postings.step_sequence, postings.document_code, postings.account_type,"
        " postings.account_code, postings.line_number",
    ),
    (
        "deductions",
        "select * from marts.deductions where strftime(payment_date, '%Y-%m') = $period order by deduction_id",
    ),
    (
        "exceptions_open",
        "select * from marts.exceptions where status = 'open' order by due_at, kind, document_reference",
    ),
    (
        "audit_trail",
        "select * from marts.audit_trail where period = $period or strftime(event_at, '%Y-%m') = $period"
        " order by event_at, event_type, event_id, remittance_line_number",
    ),
)


@dataclass(frozen=True)
class PackFile:
    path: str  # relative to the pack folder, with forward slashes
    sha256: str
    size_bytes: int


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def export_marts(con: duckdb.DuckDBPyConnection, period: str, folder: Path) -> dict[str, int]:
    """Each of the period's marts as `data/<name>.parquet` and `data/<name>.csv`; rows written per mart."""
    data = folder / DATA_FOLDER
    data.mkdir(parents=True)
    rows: dict[str, int] = {}
    for name, query in PERIOD_MARTS:
        # Taken once into a table, so the Parquet and the CSV hold the very same rows.
        con.execute(f"create or replace temp table pack_rows as {query}", {"period": period} if "$" in query else None)
        [(rows[name],)] = con.execute("select count(*) from pack_rows").fetchall()
        for suffix, options in (("parquet", "format parquet"), ("csv", "format csv, header true")):
            target = str(data / f"{name}.{suffix}").replace("'", "''")
            con.execute(f"copy pack_rows to '{target}' ({options})")
    con.execute("drop table pack_rows")
    return rows


def write_manifest(folder: Path, header: dict[str, object]) -> str:
    """List every file in `folder` with its SHA-256 and size in `manifest.json`; return the manifest's SHA-256."""
    files = [
        PackFile(path.relative_to(folder).as_posix(), file_sha256(path), path.stat().st_size)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    ]
    manifest = {**header, "files": [file.__dict__ for file in files]}
    body = (json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n").encode()
    (folder / MANIFEST).write_bytes(body)
    return hashlib.sha256(body).hexdigest()


def verify_pack(folder: Path, manifest_sha256: str) -> list[str]:
    """What no longer matches in the pack at `folder`, in words: a manifest whose hash is not the recorded one,
    a file missing, changed or added. Empty when the pack is exactly as closed."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return [f"{manifest_path} is missing"]
    body = manifest_path.read_bytes()
    problems = []
    if hashlib.sha256(body).hexdigest() != manifest_sha256:
        problems.append(f"{MANIFEST} does not have the SHA-256 recorded in audit.month_end_runs ({manifest_sha256})")
    listed = {entry["path"]: entry for entry in json.loads(body)["files"]}
    for relative, entry in sorted(listed.items()):
        path = folder / relative
        if not path.is_file():
            problems.append(f"{relative} is missing")
        elif path.stat().st_size != entry["size_bytes"] or file_sha256(path) != entry["sha256"]:
            problems.append(f"{relative} has changed (SHA-256 {file_sha256(path)}, manifest {entry['sha256']})")
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST}
    problems += [f"{relative} is not in the manifest" for relative in sorted(present - listed.keys())]
    return problems
