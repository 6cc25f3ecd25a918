"""Dagster resources, bound by key in one place: "warehouse", "sage", "dlt", "dbt"."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from dagster_dlt import DagsterDltResource

from pipelines.sage200.auth import tokens_from_environment
from pipelines.sage200.client import SageClient
from pipelines.settings import BusinessConfig, Locations, load_business_config
from pipelines.transform import DBT_PROJECT_DIR, dbt_executable, run_dbt

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def manifest_is_stale(project: DbtProject) -> bool:
    """True when dbt's manifest is missing or older than any model, macro, seed or the project file."""
    if not project.manifest_path.exists():
        return True
    built = project.manifest_path.stat().st_mtime
    sources = [project.project_dir / "dbt_project.yml"]
    for folder in ("models", "macros", "seeds", "tests"):
        sources += (project.project_dir / folder).rglob("*")
    return any(path.stat().st_mtime > built for path in sources if path.is_file())


def refresh_manifest(project: DbtProject) -> None:
    """Parse the project into a folder of its own, then swap its manifest in: several processes may load the
    definitions at once (test workers, `dagster dev` and a job), and two parses writing one manifest.json
    leave a file neither wrote whole."""
    target = project.manifest_path.parent
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target, prefix=".parse-") as own:
        run_dbt("parse", Locations.resolve().warehouse, target=Path(own))
        os.replace(Path(own) / project.manifest_path.name, project.manifest_path)


# dbt_assets reads the manifest when the definitions load, so it must describe the models as they are now.
if manifest_is_stale(dbt_project):
    refresh_manifest(dbt_project)


class WarehouseResource(dg.ConfigurableResource):
    """Where the warehouse, the configuration, the inbox and the outbox are (AVC2SAGE_* by default)."""

    path: str
    config_file: str
    inbox: str
    outbox: str

    @property
    def warehouse(self) -> Path:
        return Path(self.path)

    def locations(self) -> Locations:
        return Locations.resolve(warehouse=self.path, config=self.config_file, inbox=self.inbox, outbox=self.outbox)

    def business_config(self) -> BusinessConfig:
        return load_business_config(Path(self.config_file))


class SageResource(dg.ConfigurableResource):
    """The Sage 200 API; tokens from the environment (Sage ID app registration, or a static bearer)."""

    base_url: str

    def client(self) -> SageClient:
        return SageClient(self.base_url, tokens_from_environment()).connect()


def default_resources(locations: Locations | None = None) -> dict[str, object]:
    locations = locations or Locations.resolve()
    return {
        "warehouse": WarehouseResource(
            path=str(locations.warehouse),
            config_file=str(locations.config),
            inbox=str(locations.inbox),
            outbox=str(locations.outbox),
        ),
        "sage": SageResource(base_url=locations.sage_url),
        "dlt": DagsterDltResource(),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }
