"""The `sage200` dlt source: Sage 200 ledgers, stock and sales orders into DuckDB's `raw_sage200`.

Each table in `settings.TABLES` is one resource, merged on its key. Tables with `date_time_updated` are
read incrementally; the rest are read whole. Column types come from Sage's own schema: every `decimal Ndp`
field is DECIMAL(18, N) and every date-time a timestamp, so a whole-number amount (Sage sends 0, not 0.00)
cannot make a column an integer. Reconciliation-critical tables freeze their types.

Without Dagster:

    from pipelines.sage200.client import SageClient
    from pipelines.sage200.source import run

    client = SageClient(base_url, token).connect()
    run(client, destination="data/warehouse/avc2sage.duckdb")
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from typing import Any

import dlt
from dlt.common.destination import Destination
from dlt.common.pipeline import LoadInfo
from dlt.extract.resource import DltResource

from pipelines.sage200.client import SageClient
from pipelines.sage200.source.helpers import EntityShape, read_pages
from pipelines.sage200.source.settings import (
    CURSOR,
    CURSOR_LAG_SECONDS,
    DATASET_NAME,
    MAX_TABLE_NESTING,
    TABLES,
    SageTable,
)
from pipelines.sage200.spec import SageSpec
from pipelines.settings import Locations

__all__ = ["run", "sage200_source"]

log = logging.getLogger(__name__)


@dlt.source(name="sage200", max_table_nesting=MAX_TABLE_NESTING)
def sage200_source(
    client: SageClient | None = None,
    base_url: str | None = dlt.config.value,
    token: str | None = dlt.secrets.value,
) -> Iterator[DltResource]:
    """One resource per Sage 200 table in `settings.TABLES`.

    Args:
        client: A connected `SageClient` (its retries and token refresh are used as they are). When None,
            one is built from `base_url` (config `sources.sage200.base_url`, else `AVC2SAGE_SAGE_URL`) and
            `token` (secret `sources.sage200.token`) and connected to the first site Sage lists.
        base_url: The Sage 200 API's base URL; ignored when `client` is given.
        token: A Sage 200 bearer token; ignored when `client` is given.
    """
    if client is None:
        if not token:
            raise ValueError("sage200 source: give a SageClient or set the secret sources.sage200.token")
        client = SageClient(base_url or Locations.resolve().sage_url, token).connect()
    spec = SageSpec.load()
    for table in TABLES:
        yield table_resource(client, table, EntityShape.of_table(spec, table))


def table_resource(client: SageClient, table: SageTable, shape: EntityShape) -> DltResource:
    """The resource loading `table`: merged on its key, incremental on date_time_updated where it can be."""
    if table.incremental:

        def changed_rows(
            updated: dlt.sources.incremental[str] = dlt.sources.incremental(CURSOR, lag=CURSOR_LAG_SECONDS),  # noqa: B008
        ) -> Iterator[list[dict[str, Any]]]:
            # With lag, dlt hands back the last committed value less the lag, and keeps no dedup state:
            # the overlap is re-read and merged on the key.
            yield from read_pages(client, table, shape, updated.last_value)

        data = changed_rows
    else:

        def all_rows() -> Iterator[list[dict[str, Any]]]:
            yield from read_pages(client, table, shape)

        data = all_rows
    return dlt.resource(
        data,
        name=table.name,
        primary_key=list(table.primary_key),
        # delete-insert: staged rows are deduplicated on the key, and each table is replaced with its child
        # tables in one transaction, so a re-read row (or one seen twice while paging) is stored once.
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        columns=shape.columns,
        nested_hints=shape.nested_hints(),
        schema_contract={"data_type": "freeze"} if table.frozen else None,
    )


def run(
    client: SageClient,
    pipeline_name: str = "sage200",
    destination: str | os.PathLike[str] | Destination | None = None,
    pipelines_dir: str | os.PathLike[str] | None = None,
    resources: Sequence[str] | None = None,
) -> LoadInfo:
    """Load Sage 200 into `raw_sage200` and return dlt's load info; any failure raises.

    Args:
        client: A connected `SageClient`.
        pipeline_name: dlt pipeline name; its state (the incremental cursors) lives under `pipelines_dir`.
        destination: A DuckDB file path or any dlt destination; None means the warehouse
            (`AVC2SAGE_WAREHOUSE`).
        pipelines_dir: Where dlt keeps pipeline state and load packages; None for dlt's default.
        resources: Names of the tables to load (all when None).
    """
    pipeline = dlt.pipeline(
        pipeline_name=pipeline_name,
        destination=_destination(destination),
        dataset_name=DATASET_NAME,
        pipelines_dir=os.fspath(pipelines_dir) if pipelines_dir is not None else None,
    )
    source = sage200_source(client=client)
    if resources is not None:
        source = source.with_resources(*resources)
    if pipeline.has_pending_data:
        # An earlier run failed after extracting: its package holds rows the cursors have already moved past.
        # dlt would load it and skip this run's extract, so it is finished first and this run still extracts.
        log.warning("Pipeline %s: loading the package an earlier failed run left behind", pipeline_name)
        pipeline.run().raise_on_failed_jobs()
    info = pipeline.run(source)
    # dlt raises on failed jobs by default; asking again keeps that true whatever the config says.
    info.raise_on_failed_jobs()
    return info


def _destination(destination: str | os.PathLike[str] | Destination | None) -> Destination:
    if isinstance(destination, Destination):
        return destination
    path = destination if destination is not None else Locations.resolve().warehouse
    return dlt.destinations.duckdb(os.fspath(path))
