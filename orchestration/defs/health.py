"""Freshness policies: a flow that stops running turns amber, then red, in Dagster as it does in
marts.sync_health.

The windows are the ones finance and operations tune in seed sync_flows (`amber_after_minutes` warns,
`red_after_minutes` fails), read from the seed file when the definitions load, so Dagster and the
sync-health mart never disagree. Each asset that does a flow's work carries its flow's policy; Dagster
evaluates policies as time passes, so a flow whose schedule has stopped firing still turns red.
"""

import csv
from datetime import timedelta
from functools import cache

import dagster as dg

from pipelines.transform import DBT_PROJECT_DIR

SYNC_FLOWS_SEED = DBT_PROJECT_DIR / "seeds" / "sync_flows.csv"


@cache
def flow_windows() -> dict[str, tuple[int, int]]:
    """(amber_after_minutes, red_after_minutes) of every flow of seed sync_flows."""
    with SYNC_FLOWS_SEED.open(newline="") as seed:
        return {
            row["flow"]: (int(row["amber_after_minutes"]), int(row["red_after_minutes"]))
            for row in csv.DictReader(seed)
        }


def flow_freshness(*flows: str) -> dg.FreshnessPolicy:
    """The freshness policy of an asset doing the work of `flows`: the strictest of their windows."""
    windows = [flow_windows()[flow] for flow in flows]
    return dg.FreshnessPolicy.time_window(
        warn_window=timedelta(minutes=min(amber for amber, _ in windows)),
        fail_window=timedelta(minutes=min(red for _, red in windows)),
    )
