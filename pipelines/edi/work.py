"""What the ship notice and invoice batches share: dbt's work rows grouped per document, the outbox registry
lookup that makes a document written just before a crash count as sent, and the rule that a failed check is
recorded again only when it has something new to say.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import duckdb

API = "API"
SENT = "sent"
FAILED_VALIDATION = "failed_validation"
# Not one of Amazon's rules: a Sage line that maps to no line of the acknowledged PO cannot go to Amazon.
ITEM_ON_PURCHASE_ORDER = "item_on_purchase_order"
# A renderer refusing the document (its map, definition or Amazon's schema): it is not sent either.
DOCUMENT_RENDERS = "document_renders"
# The check itself failed (a defect, or data no rule foresaw): recorded, so the document shows as held.
NOT_CHECKED = "not_checked"


class Failure(Protocol):
    rule: str
    message: str


@dataclass
class BatchSummary:
    """What one batch did: documents sent, and documents stopped counted once under each rule they broke."""

    documents: str  # "ship notices", "invoices": how a person reads the lines
    sent: int = 0
    failed: Counter[str] = field(default_factory=Counter)

    def stopped(self, failures: Sequence[Failure]) -> None:
        for rule in sorted({failure.rule for failure in failures}):
            self.failed[rule] += 1

    @property
    def lines(self) -> list[str]:
        """What a person reads at the end of a run."""
        lines = [f"{self.documents} sent: {self.sent}"]
        lines += [f"{self.documents} stopped by {rule}: {count}" for rule, count in sorted(self.failed.items())]
        return lines


@dataclass
class DocumentWork:
    """One document to build (a despatch's notice, an invoice), with its lines as dbt prepared them."""

    rows: list[dict[str, Any]]

    def __getattr__(self, name: str) -> Any:
        # Header columns are the same on every line of the document.
        try:
            return self.rows[0][name]
        except KeyError:
            raise AttributeError(name) from None


def read_work(con: duckdb.DuckDBPyConnection, query: str, key: str) -> list[DocumentWork]:
    """The rows of `query` grouped by `key` into documents, in the query's order."""
    cursor = con.execute(query)
    names = [column[0] for column in cursor.description]
    documents: dict[Any, DocumentWork] = {}
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        documents.setdefault(row[key], DocumentWork([])).rows.append(row)
    return list(documents.values())


def po_version(row: dict[str, Any]) -> str:
    """The acknowledged PO version a row belongs to, as staging names it (``<PO>:<content hash>``)."""
    return f"{row['po_number']}:{row['content_sha256']}"


def written_document(
    con: duckdb.DuckDBPyConnection, related: str, document_types: Sequence[str]
) -> tuple[str, str] | None:
    """The document id and file of a document already in the outbox for `related`, newest first."""
    return con.execute(
        "select document_id, file_name from audit.outbound_documents"
        " where related_inbound = ? and document_type in (select unnest(?)) order by written_at desc limit 1",
        [related, list(document_types)],
    ).fetchone()


def says_nothing_new(last_check: tuple[str, list[list[str]] | None] | None, failures: Sequence[Failure]) -> bool:
    """The last check (status, its [rule, message] pairs) failed in just the way `failures` do."""
    if last_check is None or last_check[0] != FAILED_VALIDATION:
        return False
    return sorted(map(tuple, last_check[1] or ())) == sorted({(f.rule, f.message) for f in failures})
