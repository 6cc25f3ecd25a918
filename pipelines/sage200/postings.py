"""Exactly-once writes to Sage 200.

Sage's API has no idempotency key, and a POST whose answer is lost (a timeout, a crash) may or may not have
posted. So every write has a deterministic key (e.g. ``sop_order:HAFIN:4KX7PL2Q``) whose business reference
is also stored in Sage (the order's customer document number), and :func:`post_once` goes:

1. our own record (``audit.sage_postings``): already posted or found → done, no call;
2. Sage itself, by the business reference: there after an unanswered POST of ours → ``found`` (this is
   what saves us after a crash between a POST and its record); there before we ever posted →
   ``found_existing`` (someone else made it: not ours to build on); either way no call;
3. record ``attempting`` (committed before the call), POST, record ``posted`` with Sage's id;
4. no answer (or a 5xx, which Sage may send after posting) → look in Sage again: there → ``found``; not
   there → ``unknown``, and the next run starts at 2.

A refused write (400) is ``failed`` with Sage's message. Rows are only ever appended: a key's latest row is
its state, the earlier ones are how it got there.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from pipelines.sage200.client import OutcomeUnknown, SageApiError, SageClient, SageUnavailable, dumps
from pipelines.warehouse.audit import ensure_audit_schema

log = logging.getLogger(__name__)

SETTLED = ("posted", "found", "found_existing")
UNANSWERED = ("attempting", "unknown")


@dataclass(frozen=True)
class Posting:
    key: str
    status: str  # attempting, posted, found, failed or unknown
    sage_id: int | None = None
    sage_reference: str | None = None
    message: str | None = None
    source_version: str | None = None

    @property
    def is_settled(self) -> bool:
        """Sage has the document (we posted it, or found it there)."""
        return self.status in SETTLED

    @property
    def is_ours(self) -> bool:
        """Sage has the document and it came from our own request (posted, or found after our POST)."""
        return self.status in ("posted", "found")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PostingLog:
    """``audit.sage_postings`` on an open warehouse connection; every row is committed as it is written."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        run_id: str | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.con = con
        self.run_id = run_id
        self.clock = clock
        ensure_audit_schema(con)

    def latest(self, key: str) -> Posting | None:
        row = self.con.execute(
            "select posting_key, status, sage_id, sage_reference, message, source_version"
            " from audit.sage_postings where posting_key = ?"
            " order by sequence_number desc limit 1",
            [key],
        ).fetchone()
        return Posting(*row) if row else None

    def was_ever_sent(self, key: str) -> bool:
        """Whether a POST for `key` ever went out unanswered: then a document found in Sage is ours."""
        placeholders = ", ".join("?" for _ in UNANSWERED)
        (count,) = self.con.execute(
            f"select count(*) from audit.sage_postings where posting_key = ? and status in ({placeholders})",
            [key, *UNANSWERED],
        ).fetchone()
        return count > 0

    def record(self, posting: Posting, *, resource: str, request_sha256: str) -> Posting:
        self.con.execute(
            "insert into audit.sage_postings (posting_id, posting_key, resource, source_version, request_sha256,"
            " status, sage_id, sage_reference, message, run_id, recorded_at)"
            " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                str(uuid.uuid4()),
                posting.key,
                resource,
                posting.source_version,
                request_sha256,
                posting.status,
                posting.sage_id,
                posting.sage_reference,
                posting.message,
                self.run_id,
                self.clock(),
            ],
        )
        return posting


def recover_unanswered(
    postings: PostingLog,
    *,
    key: str,
    resource: str,
    find_existing: Callable[[], dict[str, Any] | None],
    reference_of: Callable[[dict[str, Any]], str],
) -> Posting | None:
    """Settle an earlier unanswered POST for `key` by looking in Sage only (never posting): the document it
    made, recorded as ``found`` under the version that POST was made from; None when Sage does not have it
    (or cannot say), so the caller may go on to decide and post afresh."""
    known = postings.latest(key)
    if known is None or known.status not in UNANSWERED:
        return None
    try:
        existing = find_existing()
    except SageApiError:
        return None
    if existing is None:
        return None
    posting = Posting(
        key=key,
        status="found",
        sage_id=int(existing["id"]),
        sage_reference=reference_of(existing),
        message="found in Sage after an unanswered POST",
        source_version=known.source_version,
    )
    return postings.record(posting, resource=resource, request_sha256="")


def request_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(dumps(body).encode("utf-8")).hexdigest()


def post_once(
    client: SageClient,
    postings: PostingLog,
    *,
    key: str,
    resource: str,
    body: dict[str, Any],
    find_existing: Callable[[], dict[str, Any] | None],
    reference_of: Callable[[dict[str, Any]], str],
    source_version: str | None = None,
) -> Posting:
    """POST `body` to `resource` unless `key` is already posted or `find_existing` finds it in Sage.

    `find_existing` looks the document up in Sage by the business reference the body carries; `reference_of`
    says what to record as its reference (e.g. the order number Sage gave it). Never raises for Sage's
    answers: the returned posting's status says what happened (check `is_settled`).
    """
    digest = request_hash(body)

    def record(status: str, entity: dict[str, Any] | None = None, message: str | None = None) -> Posting:
        posting = Posting(
            key=key,
            status=status,
            sage_id=int(entity["id"]) if entity else None,
            sage_reference=reference_of(entity) if entity else None,
            message=message,
            source_version=source_version,
        )
        return postings.record(posting, resource=resource, request_sha256=digest)

    known = postings.latest(key)
    if known is not None and known.is_settled:
        return known
    lost = postings.was_ever_sent(key)
    try:
        existing = find_existing()
    except SageApiError as error:
        # After an unanswered POST the document may exist: still unknown, not failed.
        status = "unknown" if lost else "failed"
        return record(status, message=f"could not look for an existing document in Sage: {error.message}")
    if existing is not None:
        if lost:
            return record("found", existing, "found in Sage after an unanswered POST")
        return record("found_existing", existing, "already in Sage before any POST of ours")
    record("attempting")
    try:
        created = client.post(resource, body)
    except (OutcomeUnknown, SageUnavailable) as error:
        # No answer, or a 5xx that Sage may have sent after posting: only Sage itself can say.
        log.warning("%s: %s; looking for it in Sage", key, error)
        try:
            existing = find_existing()
        except SageApiError:
            existing = None
        if existing is not None:
            return record("found", existing, "found in Sage after an unanswered POST")
        return record("unknown", message=f"{error}; not found in Sage yet, the next run looks again")
    except SageApiError as error:
        return record("failed", message=error.message)
    return record("posted", created)
