"""Write a scenario to disk: `out/sage/masters.json`, `out/sage/history.json`, Amazon's files in `out/inbox/`
and `out/manifest.json`.

The same seed, as-of date and scale always give byte-identical files: every random draw comes from a
`random.Random` seeded from the seed (one stream per part, so adding a part later leaves the others
unchanged), nothing reads the clock, keys are sorted and money is written as decimal strings.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pipelines.scenario.amazon_side import NEW_PO_DAYS, AmazonSide
from pipelines.scenario.catalogue import build_catalogue
from pipelines.scenario.formats import iso, write_event_stream, write_json
from pipelines.scenario.manifest import Manifest
from pipelines.scenario.planted import planted_policies, planted_products
from pipelines.scenario.profile import HARTLEY_AND_FINCH, VendorProfile
from pipelines.scenario.sage_side import DemandModel, SageHistory, build_masters, last_closed_period_end
from pipelines.scenario.scales import Scale, resolve_scale

MASTERS_FILE = Path("sage/masters.json")
HISTORY_FILE = Path("sage/history.json")
MANIFEST_FILE = Path("manifest.json")
HISTORY_COUNTS = (
    "sales_orders",
    "sales_order_lines",
    "amazon_orders",
    "trade_orders",
    "despatches",
    "partial_despatches",
    "invoices",
    "stock_receipts",
    "period_closes",
)


def stream_rng(seed: int, part: str) -> random.Random:
    """An independent random stream per part of the scenario (string seeds hash stably across runs)."""
    return random.Random(f"avc2sage/{seed}/{part}")


def generate(
    seed: int, as_of: date, scale: str | Scale, out: Path, *, profile: VendorProfile = HARTLEY_AND_FINCH
) -> Manifest:
    """Generate the sample vendor for the `scale` days of history before `as_of` into `out`."""
    size = resolve_scale(scale)
    start = as_of - timedelta(days=size.history_days)
    catalogue = build_catalogue(stream_rng(seed, "catalogue"), profile, size.products)
    demand = DemandModel(size, catalogue)
    # The planted products (fixed, whatever the seed) have no demand: only the planted POs order them.
    products = catalogue + planted_products(profile, catalogue)
    policies = {p.sku: demand.policy(p) for p in catalogue if p.active} | planted_policies(profile)

    masters = build_masters(stream_rng(seed, "sage-masters"), profile, products, policies, start, as_of)
    write_json(out / MASTERS_FILE, masters)

    counts: Counter[str] = Counter({**_master_counts(masters), **dict.fromkeys(HISTORY_COUNTS, 0)})
    history = SageHistory(stream_rng(seed, "sage-history"), profile, size, catalogue, policies, demand, start, as_of)
    closed_through = last_closed_period_end(start, as_of)
    amazon = AmazonSide(lambda part: stream_rng(seed, part), profile, size, products, demand, as_of, closed_through)
    header = {"as_of": iso(as_of), "days": size.history_days}
    events = _stocked_for_new_orders(amazon.observe(history.events()), history, amazon, start, as_of)
    write_event_stream(out / HISTORY_FILE, header, _counted(events, counts, profile))
    inbox = amazon.write(out)
    counts.update(inbox.counts)

    manifest = Manifest(
        seed=seed,
        as_of=as_of,
        scale=size.name,
        counts=dict(sorted(counts.items())),
        anomalies=inbox.anomalies,
        events=inbox.events,
        expected_po_lines=inbox.expected_po_lines,
        planted_pos=[
            {"label": planted.label, "po_number": po.po_number, "vendor_code": po.vendor_code}
            for po, planted in amazon.new_orders().planted
        ],
        planted_remittances=inbox.planted_remittances,
        expected_invoice_outstanding=inbox.expected_invoice_outstanding,
    )
    manifest.write(out / MANIFEST_FILE)
    return manifest


def _master_counts(masters: dict[str, Any]) -> dict[str, int]:
    return {
        "customers": len(masters["customers"]),
        "products": len(masters["products"]),
        "active_products": sum(1 for p in masters["products"] if p["active"]),
        "zero_rated_products": sum(1 for p in masters["products"] if p["vat"] == "zero"),
        "warehouses": len(masters["warehouses"]),
        "warehouse_holdings": len(masters["holdings"]),
        "price_bands": len(masters["price_bands"]),
        "product_prices": len(masters["product_prices"]),
        "nominal_codes": len(masters["nominal_codes"]),
        "banks": len(masters["banks"]),
    }


def _stocked_for_new_orders(
    events: Iterable[dict[str, Any]], history: SageHistory, amazon: AmazonSide, start: date, as_of: date
) -> Iterator[dict[str, Any]]:
    """Pass the history through, holding back its last NEW_PO_DAYS days. Once it is over, the new POs are
    known: stock received on the last weekday before those days covers whatever their accepted lines would
    find short (the history's own replenishment does not plan for POs Sage has not seen), then the days held
    back follow. So every ordinary line of the new POs is coverable from stock, in any order of arrival."""
    first_new_day = iso(as_of - timedelta(days=NEW_PO_DAYS))
    held = []
    for event in events:
        if event["date"] >= first_new_day:
            held.append(event)
        else:
            yield event
    receipt_day = as_of - timedelta(days=NEW_PO_DAYS + 1)
    while receipt_day.weekday() >= 5:
        receipt_day -= timedelta(days=1)
    yield from history.receipts_for(amazon.stock_needed(), max(start, receipt_day))
    yield from held


def _counted(events: Iterable[dict[str, Any]], counts: Counter[str], profile: VendorProfile) -> Iterator[dict]:
    """Pass the events through, counting what the manifest reports."""
    for event in events:
        kind = event["event"]
        if kind == "sales_order":
            counts["sales_orders"] += 1
            counts["sales_order_lines"] += len(event["lines"])
            is_amazon = event["customer"] == profile.amazon_customer_reference
            counts["amazon_orders" if is_amazon else "trade_orders"] += 1
        elif kind == "despatch":
            counts["despatches"] += 1
            counts["partial_despatches"] += not event["order_complete"]
        elif kind == "invoice":
            counts["invoices"] += 1
        elif kind == "stock_adjustment":
            counts["stock_receipts"] += 1
        elif kind == "period_close":
            counts["period_closes"] += 1
        yield event
