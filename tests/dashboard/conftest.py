"""The dashboard's fixtures: the real sample vendor after its first pass, published once for the session.

The pass is the pipeline's own stages, as `full_pass` runs them, except that dbt's data tests are left out of
the first build (the pipeline's other tests run them on the same models): load (configuration, Amazon's inbox,
Sage), build, then order to cash (orders and acknowledgements, ship notices, invoices, remittance posting) and
the rebuild of what their audit rows feed, then publish. Every test gets its own warehouse location (so the
action store it writes is its own), where the snapshot is a link to the session's until the test changes it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from pipelines.passes import (
    DATA_TESTS,
    EXCEPTIONS_MART,
    PassSummary,
    build_models,
    load_stages,
    order_stages,
)
from pipelines.sage200.sandbox.server import api_url, run_in_thread
from pipelines.settings import EXAMPLE_CONFIG, Locations, load_business_config
from pipelines.warehouse.actions import ActionStore, actions_path
from pipelines.warehouse.audit import record_run
from pipelines.warehouse.snapshot import publish_snapshot, snapshot_path

APP = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"
# The dashboard's now (AVC2SAGE_NOW): three hours after the pass's pinned now. Exceptions are stamped with the
# wall-clock start of the dbt build that detected them (`run_started_at`), not the pinned now: tests about them
# pin the dashboard three hours after that instead.
DASHBOARD_DELAY = timedelta(hours=3)


@dataclass(frozen=True)
class Published:
    """The sample vendor's warehouse after its first pass, and its published snapshot."""

    warehouse: Path
    snapshot: Path
    pass_at: datetime


@pytest.fixture(scope="session")
def published(sample_vendor_db: tuple[Path, Any, Path], tmp_path_factory: pytest.TempPathFactory) -> Published:
    db_path, manifest, sample = sample_vendor_db
    work = tmp_path_factory.mktemp("dashboard_pass")
    pass_at = datetime.combine(manifest.as_of, time(9), tzinfo=UTC)  # as tests/orders' now_for
    # The session's sandbox file is closed and checkpointed (its server stopped): a plain copy is complete.
    with run_in_thread(shutil.copyfile(db_path, work / db_path.name)) as root:
        locations = Locations.resolve(
            warehouse=str(work / "warehouse" / "avc2sage.duckdb"),
            sage_url=api_url(root),
            config=str(EXAMPLE_CONFIG),
            inbox=str(work / "inbox"),
            outbox=str(work / "outbox"),
        )
        shutil.copytree(sample / "inbox", locations.inbox)
        locations.warehouse.parent.mkdir(parents=True)
        config = load_business_config(EXAMPLE_CONFIG)
        summary = PassSummary("", locations.warehouse)
        with record_run(locations.warehouse, "run", "test"):
            assert load_stages(locations, config, "sandbox", "test", summary, lambda _: None) is None
            with record_run(locations.warehouse, "dbt_build", "test"):
                # The exceptions (and what reads them) are built after the batches, as in the pipeline.
                build_models(locations, now=pass_at, exclude=f"{DATA_TESTS} {EXCEPTIONS_MART}")
            errors = order_stages(locations, config, "sandbox", "test", summary, lambda _: None, lambda: pass_at)
            assert errors == {}
    return Published(locations.warehouse, publish_snapshot(locations.warehouse), pass_at)


@dataclass
class Dashboard:
    """One test's dashboard: its own warehouse location (only the snapshot exists), store and pinned now."""

    warehouse: Path
    now: datetime
    monkeypatch: pytest.MonkeyPatch

    @property
    def snapshot(self) -> Path:
        return snapshot_path(self.warehouse)

    @property
    def store(self) -> ActionStore:
        return ActionStore(actions_path(self.warehouse))

    def app(self) -> AppTest:
        """The dashboard app, not run yet (AppTest runs it in this process, with this test's environment)."""
        return AppTest.from_file(str(APP), default_timeout=60)

    def pin(self, now: datetime) -> datetime:
        """Make `now` the dashboard's (and its action store's) now."""
        self.now = now
        self.monkeypatch.setenv("AVC2SAGE_NOW", now.isoformat())
        return now

    def query(self, sql: str, parameters: list[Any] | None = None) -> list[tuple]:
        """SQL on this test's snapshot (by the file's own name, so it shares an instance held open)."""
        with duckdb.connect(str(self.snapshot.resolve()), read_only=True) as con:
            return con.execute(sql, parameters or []).fetchall()

    def scalar(self, sql: str, parameters: list[Any] | None = None) -> Any:
        return self.query(sql, parameters)[0][0]

    def own_snapshot(self) -> Path:
        """Make this test's snapshot a copy of its own (it starts as a link to the session's, read-only)."""
        if self.snapshot.is_symlink():
            published = self.snapshot.resolve()
            self.snapshot.unlink()
            shutil.copyfile(published, self.snapshot)
        return self.snapshot

    def edit(self, sql: str, parameters: list[Any] | None = None) -> None:
        """Change this test's own copy of the snapshot (a state a later run would publish)."""
        with duckdb.connect(str(self.own_snapshot())) as con:
            con.execute(sql, parameters or [])

    @contextmanager
    def held_open(self) -> Iterator[None]:
        """This test's own snapshot held open while the block runs, as `warm_snapshot` holds the session's."""
        with duckdb.connect(str(self.snapshot.resolve()), read_only=True):
            yield


@pytest.fixture(scope="session")
def warm_snapshot(published: Published) -> Iterator[None]:
    """The session's snapshot held open read-only while the tests run. Within a process DuckDB shares one database
    instance between the connections to a file while one is open, so the dashboard's open-query-close then costs
    microseconds instead of starting an instance (tens of milliseconds) every query; what it reads is the same."""
    with duckdb.connect(str(published.snapshot.resolve()), read_only=True):
        yield


@pytest.fixture
def dashboard(published: Published, warm_snapshot: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Dashboard:
    warehouse = tmp_path / "avc2sage.duckdb"
    # A link: tests that only read share the session's snapshot, and the dashboard's cache of its answers.
    snapshot_path(warehouse).symlink_to(published.snapshot)
    monkeypatch.setenv("AVC2SAGE_WAREHOUSE", str(warehouse))
    board = Dashboard(warehouse, published.pass_at, monkeypatch)
    board.pin(published.pass_at + DASHBOARD_DELAY)
    return board
