"""`avc2sage bench`: time and peak memory per stage on a year of a large vendor, beside a floor.

Each stage runs in a fresh process so its peak memory is its own. The floor is measured in the same run
on the same machine: the same Sage JSON fetched over the same HTTP and written straight into DuckDB with
`read_json`, no dlt. The ratio is what dlt's merge, typing and state cost us.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import duckdb

from pipelines import app
from pipelines.amazon import source as amazon
from pipelines.sage200.client import SageClient
from pipelines.sage200.sandbox.backoffice import BackOffice
from pipelines.sage200.sandbox.server import api_url, run_in_thread
from pipelines.sage200.source import run as load_sage
from pipelines.sage200.source.helpers import list_params
from pipelines.sage200.source.settings import TABLES
from pipelines.scenario.generate import generate
from pipelines.scenario.load import load
from pipelines.settings import EXAMPLE_CONFIG, load_business_config
from pipelines.transform import run_dbt
from pipelines.warehouse.audit import ensure_audit_schema

BENCH_AS_OF = date(2026, 10, 31)
BENCH_SEED = 42


@dataclass(frozen=True)
class Measurement:
    stage: str
    seconds: float
    peak_rss_mib: float
    rows: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def measured(stage: str, work: Callable[..., int], *args: object) -> Measurement:
    """Run `work(*args)` in a fresh process; its return value is the row count."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        seconds, peak_kib, rows = pool.apply(_timed, (work, *args))
    return Measurement(stage, seconds, peak_kib / 1024, rows)


def _timed(work: Callable[..., int], *args: object) -> tuple[float, int, int]:
    started = time.perf_counter()
    rows = work(*args)
    return time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, rows


def prepared_sandbox(cache: Path, scale: str) -> Path:
    """The large sample loaded into a sandbox database, built once and kept in `cache`."""
    database = cache / f"sandbox-{scale}-{BENCH_SEED}-{BENCH_AS_OF}.sqlite3"
    if database.exists():
        return database
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as building:
        sample = Path(building) / "sample"
        generate(seed=BENCH_SEED, as_of=BENCH_AS_OF, scale=scale, out=sample)
        partial = Path(building) / "sandbox.sqlite3"
        with (
            run_in_thread(partial) as root,
            SageClient(api_url(root), "sandbox", timeout=300).connect() as client,
            BackOffice(root, timeout=300) as office,
        ):
            load(sample, client, office)
        shutil.move(partial, database)
    return database


def dlt_stage(sandbox_db: str, warehouse: str, pipelines_dir: str) -> int:
    with run_in_thread(Path(sandbox_db)) as root, SageClient(api_url(root), "sandbox", timeout=300).connect() as client:
        load_sage(client, destination=warehouse, pipelines_dir=pipelines_dir)
    return raw_row_count(warehouse, "raw_sage200")


def floor_stage(sandbox_db: str, warehouse: str, scratch: str) -> int:
    """The same pages over the same HTTP, each table's JSON written to a file and read by DuckDB."""
    with run_in_thread(Path(sandbox_db)) as root, SageClient(api_url(root), "sandbox", timeout=300).connect() as client:
        files = {}
        for table in TABLES:
            path = Path(scratch) / f"{table.name}.json"
            with path.open("w") as out:
                for page in client.pages(table.path, list_params(table), 500):
                    for row in page:
                        out.write(json.dumps(row, default=str) + "\n")
            files[table.name] = path
    with duckdb.connect(warehouse) as con:
        con.execute("create schema if not exists json_floor")
        for name, path in files.items():
            if path.stat().st_size:
                con.execute(
                    f"create or replace table json_floor.{name} as select * from read_json_auto(?)", [str(path)]
                )
    return raw_row_count(warehouse, "json_floor")


def dbt_stage(warehouse: str) -> int:
    """The configuration, an (empty) Amazon inbox and the audit schema, then `dbt build` over the raw tables."""
    path = Path(warehouse)
    config = load_business_config(EXAMPLE_CONFIG)
    app.run(config, EXAMPLE_CONFIG, path, path.parent / "app-dlt")
    empty_inbox = path.parent / "empty-inbox"
    empty_inbox.mkdir(exist_ok=True)
    amazon.run(empty_inbox, config, path, path.parent / "amazon-dlt")
    with duckdb.connect(warehouse) as con:
        ensure_audit_schema(con)
    run_dbt("build", path)
    return raw_row_count(warehouse, "raw_sage200")


def copy_floor_stage(warehouse: str) -> int:
    """What any transformation costs at least: every raw table copied once inside DuckDB."""
    with duckdb.connect(warehouse) as con:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw_sage200'"
        ).fetchall()
        con.execute("create schema if not exists copy_floor")
        for (name,) in tables:
            con.execute(f'create or replace table copy_floor."{name}" as select * from raw_sage200."{name}"')
    return raw_row_count(warehouse, "raw_sage200")


def raw_row_count(warehouse: str, schema: str) -> int:
    """Entities read from Sage: rows of the top-level tables (dlt's child tables hold nested lists)."""
    with duckdb.connect(warehouse, read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = ? "
            "and table_name not like '\\_dlt%' escape '\\' and table_name not like '%\\_\\_%' escape '\\'",
            [schema],
        ).fetchall()
        return sum(con.execute(f'select count(*) from {schema}."{name}"').fetchone()[0] for (name,) in tables)


def run_bench(cache: Path, scale: str = "large") -> list[Measurement]:
    """The Sage stages: load (floor, dlt) and transform (floor, dbt) on the cached sample sandbox."""
    sandbox_db = prepared_sandbox(cache, scale)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        return [
            measured(
                "sage load, floor (HTTP + DuckDB read_json)",
                floor_stage,
                str(sandbox_db),
                str(work / "floor.duckdb"),
                scratch,
            ),
            measured(
                "sage load, dlt (raw_sage200)", dlt_stage, str(sandbox_db), str(work / "dlt.duckdb"), str(work / "dlt")
            ),
            measured("transform floor (copy every raw table)", copy_floor_stage, str(work / "dlt.duckdb")),
            measured("dbt build (staging, exceptions, tests)", dbt_stage, str(work / "dlt.duckdb")),
        ]


def write_results(out: Path, scale: str, results: list[Measurement]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    stages = [asdict(result) | {"rows_per_second": result.rows_per_second} for result in results]
    document = {"scale": scale, "seed": BENCH_SEED, "as_of": str(BENCH_AS_OF), "stages": stages}
    out.write_text(json.dumps(document, indent=2))


def format_results(results: list[Measurement]) -> str:
    lines = [f"{'stage':<48}{'seconds':>10}{'rows':>12}{'rows/s':>12}{'peak MiB':>10}"]
    lines += [
        f"{r.stage:<48}{r.seconds:>10.1f}{r.rows:>12,}{r.rows_per_second:>12,.0f}{r.peak_rss_mib:>10.0f}"
        for r in results
    ]
    return "\n".join(lines)
