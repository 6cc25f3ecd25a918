"""Ingest the Amazon inbox: load it, then — only once the load has committed — file every document away
and acknowledge what Amazon sent (a 997 per X12 functional group, a CONTRL per EDIFACT interchange; SP-API
responses and remittance exports get none).

Files move out of the inbox so the next run sees only new ones: loaded, partially loaded and duplicate
files to `processed/<date>/`, quarantined files to `quarantine/` with a `.reason.txt` beside them naming the
position. A crash between the load and the move only means the file is seen again, as a duplicate.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipelines.amazon import source
from pipelines.amazon.inbox import PROCESSED_FOLDER, QUARANTINE_FOLDER, FileOutcome
from pipelines.edi.edifact import contrl_acks
from pipelines.edi.outbox import OutboundDocument, Outbox
from pipelines.edi.x12 import functional_acks
from pipelines.settings import BusinessConfig, Locations

log = logging.getLogger(__name__)


@dataclass
class IngestSummary:
    outcomes: list[FileOutcome] = field(default_factory=list)
    acknowledgements: list[OutboundDocument] = field(default_factory=list)
    unacknowledged: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """One line per file, as `avc2sage ingest` prints them."""
        rows = []
        for outcome in self.outcomes:
            detail = f" — {outcome.error} (at {outcome.position})" if outcome.error else ""
            sets = len(outcome.parsed.sets) if outcome.parsed else 0
            rows.append(
                f"{outcome.outcome:<17} {outcome.format or '?':<16} {sets:>4} sets  {outcome.file.name}{detail}"
            )
        return rows


def ingest(locations: Locations, config: BusinessConfig, pipelines_dir: Path) -> IngestSummary:
    summary = IngestSummary()
    locations.inbox.mkdir(parents=True, exist_ok=True)
    source.run(locations.inbox, config, locations.warehouse, pipelines_dir, summary.outcomes)
    outbox = Outbox(locations.outbox, locations.warehouse)
    for outcome in summary.outcomes:
        try:
            summary.acknowledgements += acknowledge(outcome, outbox)
        except Exception:  # one file's acknowledgement must not hold up the others; the log names it
            log.exception("no acknowledgement could be written for %s", outcome.file.name)
            summary.unacknowledged.append(outcome.file.name)
        file_away(outcome, locations.inbox)
    return summary


def acknowledge(outcome: FileOutcome, outbox: Outbox) -> list[OutboundDocument]:
    """Amazon expects a 997/CONTRL for every EDI interchange it sends, accepted or not. Nothing else is
    acknowledged: a remittance export is a download, and an SP-API response was fetched by us from an API that
    reports on our own submissions through its transaction status (`getTransaction`), not through a 997."""
    parsed = outcome.parsed
    if parsed is None or outcome.outcome == "duplicate" or outcome.format not in ("X12", "EDIFACT"):
        return []
    data = outcome.file.path.read_bytes()
    # Our identity is the one Amazon addressed the interchange to.
    our_id = parsed.receiver_id or ""
    if outcome.format == "X12":
        return functional_acks(data, parsed, outbox, our_id, file_name=outcome.file.name)
    return contrl_acks(data, parsed, outbox, our_id, inbound_name=outcome.file.name)


def file_away(outcome: FileOutcome, inbox: Path) -> Path:
    """Move the file out of the inbox; never overwrite an earlier file of the same name."""
    if outcome.outcome == "quarantined":
        folder = inbox / QUARANTINE_FOLDER
    else:
        folder = inbox / PROCESSED_FOLDER / datetime.now(UTC).date().isoformat()
    target = folder / outcome.file.name
    if target.exists():
        target = target.with_name(f"{target.stem}.{outcome.file.sha256[:12]}{target.suffix}")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(outcome.file.path, target)
    if outcome.outcome == "quarantined":
        target.with_name(target.name + ".reason.txt").write_text(
            f"{outcome.error}\nposition: {outcome.position}\nsha256: {outcome.file.sha256}\n"
        )
    log.info("%s: %s → %s", outcome.outcome, outcome.file.name, target)
    return target
