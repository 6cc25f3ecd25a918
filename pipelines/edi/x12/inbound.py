"""Reading a whole inbound X12 file: envelope, then per set its map, its validation and its translation.

A set is judged alone: an unsupported type, a failed validation or a failed translation quarantines that
set (a `SetResult` without document, with the reason and the position), never its siblings. What the 997
needs to say about each set (`SetOutcome.rejection`) is kept alongside, so that `functional_acks` reports
exactly what happened here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pipelines.amazon.documents import Document, ParsedFile, SetResult
from pipelines.amazon.x12 import TRANSLATORS, TranslationError
from pipelines.edi.x12.reader import (
    SET_TRAILER_MISSING,
    FunctionalGroup,
    Interchange,
    TransactionSet,
    parse_interchange,
)
from pipelines.edi.x12.validator import SEGMENT_HAS_ELEMENT_ERRORS, Issue, MapRegistry, default_registry

log = logging.getLogger(__name__)

# 997 AK5 codes (data element 718) for a set we reject.
SET_NOT_SUPPORTED = "1"
SET_HAS_SEGMENT_ERRORS = "5"
# How many findings a quarantine reason quotes before "and N more".
QUOTED_ISSUES = 5


@dataclass(frozen=True)
class Rejection:
    """Why a set yields no document: the AK5 code, the issues behind it (AK3/AK4) and a reason."""

    code: str
    reason: str
    position: str
    issues: tuple[Issue, ...] = ()


@dataclass(frozen=True)
class SetOutcome:
    """One transaction set as read: its results (one per document, or one quarantine) and its rejection."""

    group: FunctionalGroup
    transaction_set: TransactionSet
    results: tuple[SetResult, ...]
    rejection: Rejection | None


def read_x12(data: bytes, file_name: str = "", *, validate: bool = True) -> ParsedFile:
    """Read one X12 file into a `ParsedFile`: one `SetResult` per document (an 824/997 answering several
    documents of ours gives one per document) or per quarantined set; trailer count/control mismatches in
    `envelope_errors`. Raises `FileRejected` (with position) when the envelope itself is unreadable.

    `validate=False` skips map validation (translation still checks what it reads): for measuring, or for
    re-reading files already validated once.
    """
    interchange = parse_interchange(data)
    outcomes = read_sets(interchange, validate=validate)
    parsed = ParsedFile(
        format="X12",
        sender_id=interchange.sender_id,
        receiver_id=interchange.receiver_id,
        interchange_control_number=interchange.control_number,
        syntax_version=interchange.version,
        sets=[result for outcome in outcomes for result in outcome.results],
        envelope_errors=list(interchange.errors),
        prepared_at=interchange.prepared_at,
    )
    quarantined = sum(1 for result in parsed.sets if result.document is None)
    log.info(
        "read %s: %d set results (%d quarantined), %d envelope errors",
        file_name or "X12 data",
        len(parsed.sets),
        quarantined,
        len(parsed.envelope_errors),
    )
    return parsed


def read_sets(
    interchange: Interchange, *, validate: bool = True, registry: MapRegistry | None = None
) -> list[SetOutcome]:
    """Every set of the interchange, in file order, each validated and translated on its own."""
    registry = registry or default_registry()
    return [
        _read_set(interchange, group, transaction_set, registry, validate)
        for group in interchange.groups
        for transaction_set in group.sets
    ]


def _read_set(
    interchange: Interchange,
    group: FunctionalGroup,
    transaction_set: TransactionSet,
    registry: MapRegistry,
    validate: bool,
) -> SetOutcome:
    rejection = _reject(interchange, group, transaction_set, registry, validate)
    documents: list[Document] = []
    if rejection is None:
        try:
            documents = TRANSLATORS[transaction_set.set_id](transaction_set, interchange)
        except TranslationError as error:
            set_position = error.segment.number - transaction_set.header.number + 1
            issue = Issue(
                error.segment, set_position, error.segment.tag, None, SEGMENT_HAS_ELEMENT_ERRORS, error.message
            )
            rejection = Rejection(SET_HAS_SEGMENT_ERRORS, error.message, error.position, (issue,))
    identity = {
        "control_number": transaction_set.control_number,
        "document_type": transaction_set.set_id,
        "group_control_number": group.control_number,
    }
    if rejection is not None:
        results = (SetResult(**identity, document=None, error=rejection.reason, position=rejection.position),)
    else:
        results = tuple(SetResult(**identity, document=document) for document in documents)
    return SetOutcome(group, transaction_set, results, rejection)


def _reject(
    interchange: Interchange,
    group: FunctionalGroup,
    transaction_set: TransactionSet,
    registry: MapRegistry,
    validate: bool,
) -> Rejection | None:
    """Why this set cannot be translated, if it cannot: no trailer, no map or translator, map errors."""
    header = transaction_set.header
    missing_trailer = next((e for e in transaction_set.errors if e.code == SET_TRAILER_MISSING), None)
    if missing_trailer is not None:
        # Without its SE the set may be cut short: a partial purchase order must not pass for a whole one.
        return Rejection(missing_trailer.code, "the transaction set has no SE trailer", header.at())
    set_id = transaction_set.set_id
    transaction_map = registry.find(group.version, set_id)
    if transaction_map is None or set_id not in TRANSLATORS:
        lacking = "map" if transaction_map is None else "translation"
        return Rejection(
            SET_NOT_SUPPORTED,
            f"unsupported document type {set_id or '(none)'} in a GS08 {group.version or '(none)'} group:"
            f" we have no {lacking} for it",
            header.at(1),
        )
    if not validate:
        return None
    issues = transaction_map.validate(transaction_set.segments, interchange.separators)
    if not issues:
        return None
    quoted = "; ".join(f"{issue.position}: {issue.message}" for issue in issues[:QUOTED_ISSUES])
    more = f"; and {len(issues) - QUOTED_ISSUES} more" if len(issues) > QUOTED_ISSUES else ""
    reason = f"{len(issues)} error(s) against our {set_id} {group.version} map: {quoted}{more}"
    return Rejection(SET_HAS_SEGMENT_ERRORS, reason, issues[0].position, tuple(issues))
