"""The warehouse around the pipeline: read snapshots, the run audit trail and the SQL shell.

The DuckDB warehouse has one writer at a time (the pipeline). Everyone else reads the snapshot published
after each successful run (:mod:`pipelines.warehouse.snapshot`); :mod:`pipelines.warehouse.audit` records
every run in ``audit.runs``; :mod:`pipelines.warehouse.shell` backs ``avc2sage sql``.
"""

from pipelines.warehouse.audit import RunRecord, code_version, ensure_audit_schema, record_run, table_row_counts
from pipelines.warehouse.shell import format_table, interactive_shell, run_query
from pipelines.warehouse.snapshot import SnapshotMissing, open_snapshot, publish_snapshot, snapshot_path

__all__ = [
    "RunRecord",
    "SnapshotMissing",
    "code_version",
    "ensure_audit_schema",
    "format_table",
    "interactive_shell",
    "open_snapshot",
    "publish_snapshot",
    "record_run",
    "run_query",
    "snapshot_path",
    "table_row_counts",
]
