"""dbt over the warehouse: the one place that knows how to call it.

dbt runs as a subprocess (as dagster-dbt's DbtCliResource runs it), so its DuckDB connection is gone when
it returns and the warehouse is free for the next writer. Each warehouse gets its own dbt target folder,
so two warehouses (two tests, two tenants) never write to each other's artefacts.

dbt parses the whole project again (~15 s) whenever the profile's connection details change, and the
warehouse path is one of them. So dbt runs in the warehouse's folder with the path given relative to it:
every warehouse with the same file name has the same profile, and a new one starts from the partial-parse
state another left behind (dbt still re-parses any project file that changed since).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
# One partial-parse state per warehouse file name; dbt's own target folder is ignored by git.
SHARED_PARSE_STATE_DIR = DBT_PROJECT_DIR / "target" / "partial_parse"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


class DbtFailed(RuntimeError):
    """dbt exited non-zero; the message names the failing nodes."""


@dataclass(frozen=True)
class DbtResult:
    command: str
    nodes: int
    failures: tuple[str, ...]
    log_tail: str


def dbt_target_path(warehouse: Path) -> Path:
    return warehouse.parent / f"{warehouse.stem}.dbt_target"


def dbt_args(command: str, target: Path, select: str | None = None, exclude: str | None = None) -> list[str]:
    """The dbt CLI arguments for a command writing its artefacts to `target` (pure: unit-tested)."""
    args = [
        command,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
        # dbt's file log at debug level writes every query of every node (~3 MB a build, more than a tenth of
        # its time here); failures and warnings still go to the file, and the run's summary to stdout.
        "--log-level-file",
        "warn",
    ]
    if select:
        args += ["--select", select]
    if exclude:
        args += ["--exclude", exclude]
    return args


def dbt_executable() -> str:
    return str(Path(sys.executable).with_name("dbt"))


def run_dbt(
    command: str,
    warehouse: Path,
    select: str | None = None,
    target: Path | None = None,
    now: datetime | None = None,
    exclude: str | None = None,
) -> DbtResult:
    """Run `dbt <command>` on the warehouse; raise DbtFailed with the failing nodes if it fails.

    Artefacts go to the warehouse's own target folder unless `target` names another (Dagster's manifest).
    `now` pins the time deadline logic sees (macro `as_of_time`); by default it is when dbt starts.
    """
    warehouse = warehouse.resolve()
    target = target or dbt_target_path(warehouse)
    # A failed start must not be summarised from the previous run's results.
    (target / "run_results.json").unlink(missing_ok=True)
    start_from_shared_parse_state(target, warehouse.name)
    environment = {**os.environ, "AVC2SAGE_WAREHOUSE": warehouse.name, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    environment.pop("AVC2SAGE_NOW", None)
    if now is not None:
        if now.tzinfo is None:
            raise ValueError("dbt's pinned time must be timezone-aware")
        environment["AVC2SAGE_NOW"] = now.isoformat()
    # dbt runs beside the warehouse file; a fresh checkout has no data/warehouse folder yet.
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        [dbt_executable(), *dbt_args(command, target, select, exclude)],
        env=environment,
        cwd=warehouse.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    share_parse_state(target, warehouse.name)
    result = read_run_results(command, target, completed.stdout)
    if completed.returncode != 0:
        failed = ", ".join(result.failures) or "see the log"
        raise DbtFailed(f"dbt {command} failed ({failed}):\n{result.log_tail}\n{completed.stderr[-2000:]}")
    log.info("dbt %s: %s nodes", command, result.nodes)
    return result


def start_from_shared_parse_state(target: Path, warehouse_name: str) -> None:
    shared = SHARED_PARSE_STATE_DIR / f"{warehouse_name}.msgpack"
    if shared.exists() and not (target / PARTIAL_PARSE_FILE).exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared, target / PARTIAL_PARSE_FILE)


def share_parse_state(target: Path, warehouse_name: str) -> None:
    """Publish this run's parse state; written then renamed, as parallel runs share the folder."""
    state = target / PARTIAL_PARSE_FILE
    if not state.exists():
        return
    SHARED_PARSE_STATE_DIR.mkdir(parents=True, exist_ok=True)
    unpublished = SHARED_PARSE_STATE_DIR / f"{warehouse_name}.{os.getpid()}.tmp"
    shutil.copyfile(state, unpublished)
    unpublished.replace(SHARED_PARSE_STATE_DIR / f"{warehouse_name}.msgpack")


def read_run_results(command: str, target: Path, stdout: str) -> DbtResult:
    """Summarise dbt's run_results.json (written even when the run fails)."""
    results_file = target / "run_results.json"
    results = json.loads(results_file.read_text())["results"] if results_file.exists() else []
    failures = tuple(
        result["unique_id"] for result in results if result["status"] in {"error", "fail", "runtime error"}
    )
    return DbtResult(
        command=command, nodes=len(results), failures=failures, log_tail="\n".join(stdout.splitlines()[-25:])
    )
