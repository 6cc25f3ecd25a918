"""What a generated scenario contains: its inputs, entity counts and the anomalies planted in it.

Anomalies use the exceptions contract's terms (kind + document reference), so a test can check that every
planted anomaly surfaces in `marts.exceptions` and nothing else does. Events are planted situations that are
not exceptions (a PO re-sent with a change, or unchanged): informational, each a small dict with a `kind`.
Expected PO lines say what order-to-cash must make of every line of the planted POs (see `planted`): the Sage
product and selling unit, the quantities accepted, backordered and rejected in the PO's unit (decimal
strings), Amazon's rejection reason and the unit cost per each as on the PO. Planted POs give each planted PO's
label (A to L, as `planted` names them), PO number and vendor code, in that order.

Planted remittances (`planted_remittances`) give each planted payment (PA to PF, as `planted_remittances`
names them): its number, vendor code, date, net amount and purpose, and every line as the readers number
it, with its amounts (decimal strings), line kind, and the match reconciliation must make (method, status,
the Sage invoice matched, and a deduction's root invoice). Expected invoice outstanding
(`expected_invoice_outstanding`) gives, for every invoice a planted payment touches, what Sage must show
outstanding on it once the payments are posted (a refused payment settles nothing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pipelines.scenario.formats import write_json

# Bump whenever the generated files change for the same inputs: outputs are compared across runs by hash.
GENERATOR_VERSION = "5"


@dataclass(frozen=True)
class Anomaly:
    kind: str
    document_reference: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "document_reference": self.document_reference, "detail": self.detail}


@dataclass
class Manifest:
    seed: int
    as_of: date
    scale: str
    counts: dict[str, int] = field(default_factory=dict)
    anomalies: list[Anomaly] = field(default_factory=list)
    events: list[dict[str, str]] = field(default_factory=list)
    expected_po_lines: list[dict[str, str | None]] = field(default_factory=list)
    planted_pos: list[dict[str, str]] = field(default_factory=list)
    planted_remittances: list[dict[str, Any]] = field(default_factory=list)
    expected_invoice_outstanding: dict[str, str] = field(default_factory=dict)
    generator_version: str = GENERATOR_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "as_of": self.as_of.isoformat(),
            "scale": self.scale,
            "generator_version": self.generator_version,
            "counts": dict(self.counts),
            "anomalies": [anomaly.to_json() for anomaly in self.anomalies],
            "events": [dict(event) for event in self.events],
            "expected_po_lines": [dict(line) for line in self.expected_po_lines],
            "planted_pos": [dict(po) for po in self.planted_pos],
            "planted_remittances": [dict(payment) for payment in self.planted_remittances],
            "expected_invoice_outstanding": dict(self.expected_invoice_outstanding),
        }

    def write(self, path: Path) -> None:
        write_json(path, self.to_json())

    @classmethod
    def read(cls, path: Path) -> Manifest:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            seed=data["seed"],
            as_of=date.fromisoformat(data["as_of"]),
            scale=data["scale"],
            counts=data["counts"],
            anomalies=[Anomaly(**anomaly) for anomaly in data["anomalies"]],
            events=data.get("events", []),  # manifests of generator version 1 have none
            expected_po_lines=data.get("expected_po_lines", []),  # nor those before version 3
            planted_pos=data.get("planted_pos", []),  # nor those before version 4
            planted_remittances=data.get("planted_remittances", []),  # nor those before version 5
            expected_invoice_outstanding=data.get("expected_invoice_outstanding", {}),
            generator_version=data["generator_version"],
        )
