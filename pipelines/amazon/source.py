"""dlt source `amazon`: the inbox into `raw_amazon`, every file registered with its outcome.

One pass classifies the inbox (`inbox.classify`); transformers turn the outcomes into the tables. The
hashes of files already processed, and the content keys of documents already stored, live in the source's
dlt state, which dlt commits with the data: a re-delivered file is `duplicate` and loads no rows, and a
PO re-sent with identical content in a new envelope adds no version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo

from pipelines.amazon.documents import (
    InboundAcknowledgement,
    PurchaseOrder,
    RemittancePayment,
    SetResult,
)
from pipelines.amazon.inbox import FileOutcome, classify, scan
from pipelines.settings import BusinessConfig

DATASET_NAME = "raw_amazon"


def content_key(document: PurchaseOrder | RemittancePayment) -> str:
    """A document's identity by content, whatever envelope carried it."""
    canonical = json.dumps(asdict(document), default=str, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def plain(value: Any) -> Any:
    """Values as dlt stores them: Decimal stays Decimal (DECIMAL columns), tuples of identifiers dropped."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, date | Decimal | str | int | float | bool) or value is None:
        return value
    raise TypeError(type(value))


def file_row(outcome: FileOutcome) -> dict[str, Any]:
    parsed = outcome.parsed
    sets = parsed.sets if parsed else []
    return {
        "file_name": outcome.file.name,
        "sha256": outcome.file.sha256,
        "size_bytes": outcome.file.size_bytes,
        "received_at": outcome.file.received_at,
        "vendor_code": outcome.file.vendor_code,
        "format": outcome.format,
        "outcome": outcome.outcome,
        "error_message": outcome.error,
        "error_position": outcome.position,
        "sets_total": len(sets),
        "sets_quarantined": sum(1 for result in sets if result.document is None),
        "envelope_errors": "; ".join(parsed.envelope_errors) if parsed else None,
        "sender_id": parsed.sender_id if parsed else None,
        # The id Amazon addressed the file to (ISA08, UNB S003, the API order's selling party): the outbound
        # acknowledgement answers from it.
        "receiver_id": parsed.receiver_id if parsed else None,
        "interchange_control_number": parsed.interchange_control_number if parsed else None,
        "processed_at": datetime.now(UTC),
    }


def set_row(outcome: FileOutcome, result: SetResult, set_outcome: str) -> dict[str, Any]:
    return {
        "file_sha256": outcome.file.sha256,
        "file_name": outcome.file.name,
        "control_number": result.control_number,
        "group_control_number": result.group_control_number,
        "document_type": result.document_type,
        "outcome": set_outcome,
        "error_message": result.error,
        "error_position": result.position,
    }


def purchase_order_rows(
    outcome: FileOutcome, order: PurchaseOrder, key: str
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    header = {name: plain(value) for name, value in asdict(order).items() if name != "lines"} | {
        "content_sha256": key,
        "source_format": outcome.format,
        "source_file": outcome.file.name,
        "received_at": outcome.file.received_at,
        "vendor_code": outcome.file.vendor_code,
        "line_count": len(order.lines),
    }
    lines, identifiers = [], []
    # Lines are keyed by their position: Amazon's line ids are usually unique, but nothing stops a PO from
    # repeating one, and a repeated key would silently merge two lines into one.
    for line_number, line in enumerate(order.lines, start=1):
        lines.append(
            {name: plain(value) for name, value in asdict(line).items() if name != "identifiers"}
            | {"po_number": order.po_number, "content_sha256": key, "line_number": line_number}
        )
        identifiers += [
            {"po_number": order.po_number, "content_sha256": key, "line_number": line_number,
             "line_id": line.line_id, "position": n, "qualifier": identifier.qualifier, "value": identifier.value}
            for n, identifier in enumerate(line.identifiers)
        ]  # fmt: skip
    return header, lines, identifiers


def remittance_rows(
    outcome: FileOutcome, payment: RemittancePayment, key: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    header = {name: plain(value) for name, value in asdict(payment).items() if name != "lines"} | {
        "content_sha256": key,
        "source_format": outcome.format,
        "source_file": outcome.file.name,
        "received_at": outcome.file.received_at,
        "vendor_code": outcome.file.vendor_code,
        "line_count": len(payment.lines),
    }
    lines = [
        {name: plain(value) for name, value in asdict(line).items()}
        | {"payment_number": payment.payment_number, "content_sha256": key, "line_number": n + 1}
        for n, line in enumerate(payment.lines)
    ]
    return header, lines


def acknowledgement_row(
    outcome: FileOutcome, result: SetResult, ack: InboundAcknowledgement, index: int
) -> dict[str, Any]:
    return {
        "file_sha256": outcome.file.sha256,
        "ack_index": index,
        "control_number": result.control_number,
        "kind": ack.kind,
        "acknowledged_control_number": ack.acknowledged_control_number,
        "acknowledged_document_type": ack.acknowledged_document_type,
        "status": ack.status,
        "errors": "; ".join(ack.errors),
        "received_at": outcome.file.received_at,
    }


def rows_of(outcome: FileOutcome, known_documents: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table, row) pairs for one file; `known_documents` holds content keys already stored."""
    yield "inbound_files", file_row(outcome)
    if outcome.parsed is None:
        return
    # One 997/824 answers several of our documents: each answer is its own row, numbered within the file.
    for index, result in enumerate(outcome.parsed.sets):
        document = result.document
        if document is None:
            yield "inbound_sets", set_row(outcome, result, "quarantined")
        elif isinstance(document, InboundAcknowledgement):
            yield "inbound_sets", set_row(outcome, result, "loaded")
            yield "inbound_acknowledgements", acknowledgement_row(outcome, result, document, index)
        else:
            key = content_key(document)
            if key in known_documents:
                yield "inbound_sets", set_row(outcome, result, "unchanged")
                continue
            known_documents.add(key)
            yield "inbound_sets", set_row(outcome, result, "loaded")
            if isinstance(document, PurchaseOrder):
                header, lines, identifiers = purchase_order_rows(outcome, document, key)
                yield "purchase_orders", header
                yield from (("purchase_order_lines", line) for line in lines)
                yield from (("purchase_order_line_identifiers", row) for row in identifiers)
            else:
                header, lines = remittance_rows(outcome, document, key)
                yield "remittance_payments", header
                yield from (("remittance_lines", line) for line in lines)


# Every table's columns, declared so each exists (typed) from the first run even with an empty inbox: dbt's
# staging always finds its sources, and a value of another type fails the load instead of adding a variant.
TEXT, DATE, TIMESTAMP, BIGINT, BOOL = "text", "date", "timestamp", "bigint", "bool"
MONEY = "money"
TABLES: dict[str, dict[str, str]] = {
    "inbound_files": {
        "file_name": TEXT, "sha256": TEXT, "size_bytes": BIGINT, "received_at": TIMESTAMP, "vendor_code": TEXT,
        "format": TEXT, "outcome": TEXT, "error_message": TEXT, "error_position": TEXT, "sets_total": BIGINT,
        "sets_quarantined": BIGINT, "envelope_errors": TEXT, "sender_id": TEXT, "receiver_id": TEXT,
        "interchange_control_number": TEXT, "processed_at": TIMESTAMP,
    },
    "inbound_sets": {
        "file_sha256": TEXT, "file_name": TEXT, "control_number": TEXT, "group_control_number": TEXT,
        "document_type": TEXT, "outcome": TEXT, "error_message": TEXT, "error_position": TEXT,
    },
    "purchase_orders": {
        "po_number": TEXT, "content_sha256": TEXT, "po_type": TEXT, "purpose": TEXT, "po_date": DATE, "currency": TEXT,
        "ship_to_qualifier": TEXT, "ship_to_id": TEXT, "buyer_id": TEXT, "supplier_id": TEXT, "window_start": DATE,
        "window_end": DATE, "backorder_allowed": BOOL, "customer_reference": TEXT, "deal_number": TEXT, "is_test": BOOL,
        "source_format": TEXT, "source_file": TEXT, "received_at": TIMESTAMP, "vendor_code": TEXT, "line_count": BIGINT,
    },
    "purchase_order_lines": {
        "po_number": TEXT, "content_sha256": TEXT, "line_number": BIGINT, "line_id": TEXT, "quantity": "quantity",
        "unit_of_measure": TEXT,
        "unit_size": "quantity", "unit_price": MONEY, "price_basis": TEXT,
    },
    "purchase_order_line_identifiers": {
        "po_number": TEXT, "content_sha256": TEXT, "line_number": BIGINT, "line_id": TEXT, "position": BIGINT,
        "qualifier": TEXT, "value": TEXT,
    },
    "remittance_payments": {
        "payment_number": TEXT, "content_sha256": TEXT, "payment_date": DATE, "currency": TEXT, "amount": MONEY,
        "payer_id": TEXT, "payee_id": TEXT, "source_format": TEXT, "source_file": TEXT, "received_at": TIMESTAMP,
        "vendor_code": TEXT, "line_count": BIGINT,
    },
    "remittance_lines": {
        "payment_number": TEXT, "content_sha256": TEXT, "line_number": BIGINT, "invoice_number": TEXT,
        "invoice_date": DATE, "description": TEXT, "gross_amount": MONEY, "discount_amount": MONEY,
        "paid_amount": MONEY, "remaining_amount": MONEY, "currency": TEXT, "po_number": TEXT, "transaction_type": TEXT,
        "original_invoice_number": TEXT,
    },
    "inbound_acknowledgements": {
        "file_sha256": TEXT, "ack_index": BIGINT, "control_number": TEXT, "kind": TEXT,
        "acknowledged_control_number": TEXT,
        "acknowledged_document_type": TEXT, "status": TEXT, "errors": TEXT, "received_at": TIMESTAMP,
    },
}  # fmt: skip
# Each table's key: merge on it, so a replayed load package never duplicates a row.
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "inbound_files": ("sha256", "file_name", "processed_at"),
    "inbound_sets": ("file_sha256", "control_number", "document_type"),
    "purchase_orders": ("po_number", "content_sha256"),
    "purchase_order_lines": ("po_number", "content_sha256", "line_number"),
    "purchase_order_line_identifiers": ("po_number", "content_sha256", "line_number", "position"),
    "remittance_payments": ("payment_number", "content_sha256"),
    "remittance_lines": ("payment_number", "content_sha256", "line_number"),
    "inbound_acknowledgements": ("file_sha256", "ack_index"),
}


def column_hints(table: str) -> dict[str, dict[str, Any]]:
    hints: dict[str, dict[str, Any]] = {}
    for name, kind in TABLES[table].items():
        if kind == MONEY:
            hints[name] = {"data_type": "decimal", "precision": 18, "scale": 2}
        elif kind == "quantity":
            hints[name] = {"data_type": "decimal", "precision": 18, "scale": 5}
        else:
            hints[name] = {"data_type": kind}
        hints[name]["nullable"] = name not in TABLE_KEYS[table]
    return hints


@dlt.source(name="amazon")
def amazon_source(inbox: str, config: BusinessConfig, outcomes: list[FileOutcome] | None = None) -> Any:
    """Everything in the Amazon inbox, classified and parsed. `outcomes`, when given, receives each file's
    outcome so the caller can move files and send acknowledgements once the load has committed."""
    classified: list[tuple[str, dict[str, Any]]] = []
    done = False

    def rows_by_table() -> list[tuple[str, dict[str, Any]]]:
        # The inbox is classified once per run, by whichever table's resource asks first.
        nonlocal done
        if not done:
            state = dlt.current.source_state()
            seen: set[str] = set(state.get("processed_file_hashes", []))
            known: set[str] = set(state.get("document_content_keys", []))
            vendor_codes = {vendor.code for vendor in config.vendor_codes}
            for outcome in classify(scan(Path(inbox), vendor_codes), seen, config):
                if outcomes is not None:
                    outcomes.append(outcome)
                classified.extend(rows_of(outcome, known))
            state["processed_file_hashes"] = sorted(seen)
            state["document_content_keys"] = sorted(known)
            done = True
        return classified

    def table(name: str) -> Any:
        @dlt.resource(
            name=name,
            primary_key=list(TABLE_KEYS[name]),
            write_disposition="merge",
            columns=column_hints(name),
            schema_contract={"columns": "freeze", "data_type": "freeze"},
        )
        def rows() -> Iterator[Any]:
            yield dlt.mark.materialize_table_schema()
            yield from (row for table_name, row in rows_by_table() if table_name == name)

        return rows

    return [table(name) for name in TABLES]


def run(
    inbox: Path,
    config: BusinessConfig,
    warehouse: Path,
    pipelines_dir: Path | None = None,
    outcomes: list[FileOutcome] | None = None,
) -> LoadInfo:
    """Load the inbox into `raw_amazon` without Dagster."""
    pipeline = dlt.pipeline(
        pipeline_name="amazon",
        destination=dlt.destinations.duckdb(str(warehouse)),
        dataset_name=DATASET_NAME,
        pipelines_dir=str(pipelines_dir) if pipelines_dir else None,
    )
    # The stored schema (and the source's state) come back from the warehouse when the pipelines folder is new.
    pipeline.sync_destination()
    declare_new_columns(pipeline)
    info = pipeline.run(amazon_source(str(inbox), config, outcomes))
    info.raise_on_failed_jobs()
    return info


def declare_new_columns(pipeline: dlt.Pipeline) -> None:
    """Columns added to `TABLES` after a warehouse's first load join its stored schema before the next load.

    The frozen column contract refuses any column the stored schema lacks, the ones this module declares
    included: without this, adding a column (such as `inbound_files.receiver_id`) would stop every existing
    installation. Declared here, the column is added to the table by dlt's schema migration.
    """
    if not pipeline.default_schema_name:
        return  # the first run: dlt creates every table with all its columns
    schema = pipeline.default_schema
    for name in TABLES:
        if name not in schema.tables:
            continue
        stored = schema.tables[name]["columns"]
        hints = column_hints(name)
        missing = {column: {"name": column, **hint} for column, hint in hints.items() if column not in stored}
        if missing:
            # A partial table: only its new columns, so the table's other hints (merge, keys) stay as they are.
            schema.update_table({"name": name, "columns": missing})
