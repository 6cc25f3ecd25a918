"""The warehouse and the order desk between two runs: what people do in Sage to the planted despatch POs E to L
once `avc2sage run` has entered their Sage orders.

`play_warehouse(directory, client, backoffice, day=...)` finds each despatch PO's Sage order (the PO number is its
customer document number) and, in label order, despatches and invoices it through the sandbox's back office as a
warehouse and an order desk do in Sage. Each of G to L breaks one of Amazon's ship notice (ASN) or invoice rules,
so the next run must hold that document back; E and F are clean. Every despatch goes by DPD:

    E, F  everything, with a consignment number; invoiced
    G     everything, the despatch note giving an SSCC of our GS1 prefix with a wrong check digit (sscc_valid);
          line 1's price then goes up 5% and the invoice follows (unit_cost_matches_acknowledged)
    H     everything, under E's despatch number (shipment_id_unique); not invoiced
    I     all but one case of line 1, with no consignment number: a UK prepaid carrier needs a tracking number
          (carrier_requirements); invoiced for the full ordered quantities (invoiced_within_shipped)
    J     line 1 amended up one case, then everything (shipped_within_acknowledged); not invoiced
    K     1.5 cases of line 1 and line 2 in full (whole_cases); invoiced five days ahead (invoice_date_not_future)
    L     everything, dated nine days back (shipped_date_window); invoiced under E's invoice number
          (invoice_number_unique)

Despatches and invoices are dated `day` unless said otherwise. What was done is written to
`<directory>/warehouse.json`: the day, every despatch and invoice with the rule it is expected to break (null when
clean), and the anomalies in the exceptions contract's terms, as the manifest lists the generator's:
`asn_failed_validation` referenced "<po_number>/<despatch_number>", `invoice_failed_validation` referenced
"<po_number>/<invoice_number>".

Playing twice never despatches twice: when warehouse.json records the same day and Sage has its despatches, it is
returned as it is; any other record, or a despatch PO's order already despatched without one, is refused.
"""

from __future__ import annotations

import json
import logging
import zlib
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.sage200.client import SageClient, odata_literal
from pipelines.scenario.formats import write_json
from pipelines.scenario.generate import MANIFEST_FILE, MASTERS_FILE
from pipelines.scenario.identifiers import gs1_check_digit
from pipelines.scenario.manifest import Anomaly, Manifest
from pipelines.scenario.planted import DESPATCH_LABELS

if TYPE_CHECKING:
    from pipelines.sage200.sandbox.backoffice import BackOffice

log = logging.getLogger(__name__)

WAREHOUSE_FILE = Path("warehouse.json")
COURIER = "DPD"
ASN_FAILED = "asn_failed_validation"
INVOICE_FAILED = "invoice_failed_validation"
SSCC_EXTENSION_DIGIT = "0"
SSCC_DATA_LENGTH = 17  # extension digit, GS1 company prefix and serial reference; the check digit follows
PRICE_RISE = Decimal("1.05")  # G's line 1 after the order desk's amendment
STALE_DESPATCH_DAYS = 9  # L ships this long before `day`: Amazon takes a shipped date at most 7 days back
FUTURE_INVOICE_DAYS = 5  # K's invoice is dated this far ahead of `day`
PENNY = Decimal("0.01")


class WarehouseNotReady(Exception):
    """A despatch PO has no Sage order yet (or the scenario predates the despatch POs)."""


class WarehousePlayedAlready(Exception):
    """The warehouse has acted on these orders already, and not as the record on disk says."""


@dataclass(frozen=True)
class DespatchRecord:
    label: str
    po_number: str
    sales_order_number: str
    despatch_number: str
    expected_rule: str | None  # the ASN rule the despatch breaks; None when its ASN is clean


@dataclass(frozen=True)
class InvoiceRecord:
    label: str
    po_number: str
    invoice_number: str
    expected_rule: str | None  # the invoice rule it breaks; None when clean


@dataclass
class WarehouseActivity:
    """What the warehouse and the order desk did on `day`, and what the next run must make of it."""

    day: date
    despatches: list[DespatchRecord] = field(default_factory=list)
    invoices: list[InvoiceRecord] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "despatches": [asdict(despatch) for despatch in self.despatches],
            "invoices": [asdict(invoice) for invoice in self.invoices],
            "anomalies": [anomaly.to_json() for anomaly in self.anomalies],
        }

    @classmethod
    def read(cls, path: Path) -> WarehouseActivity:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            day=date.fromisoformat(data["day"]),
            despatches=[DespatchRecord(**despatch) for despatch in data["despatches"]],
            invoices=[InvoiceRecord(**invoice) for invoice in data["invoices"]],
            anomalies=[Anomaly(**anomaly) for anomaly in data["anomalies"]],
        )


@dataclass(frozen=True)
class _OrderLine:
    id: int
    code: str
    quantity: Decimal  # in the selling unit: cases
    price: Decimal  # per selling unit


@dataclass(frozen=True)
class _Order:
    label: str
    po_number: str
    id: int
    number: str
    lines: tuple[_OrderLine, _OrderLine]  # PO lines 1 and 2


def play_warehouse(directory: Path, client: SageClient, backoffice: BackOffice, *, day: date) -> WarehouseActivity:
    """Despatch and invoice the despatch POs of the scenario in `directory` on `day`; see the module docstring."""
    record = directory / WAREHOUSE_FILE
    if record.exists():
        return _played_already(record, client, day)
    manifest = Manifest.read(directory / MANIFEST_FILE)
    masters = json.loads((directory / MASTERS_FILE).read_text(encoding="utf-8"))
    orders = _despatch_po_orders(client, manifest, masters["company"]["amazon_customer"])
    for order in orders.values():
        if client.get("sop_order_despatch_views", {"$filter": f"sop_order_id eq {order.id}", "$top": 1}):
            raise WarehousePlayedAlready(
                f"sales order {order.number} (PO {order.label}, {order.po_number}) is despatched already but "
                f"{record} is missing: the warehouse has played on this Sage company before; nothing done"
            )
    desk = _Desk(backoffice, day, orders, masters["company"]["gs1_company_prefix"])
    desk.play()
    activity = desk.activity
    write_json(record, activity.to_json())
    log.info("warehouse on %s: %d despatches, %d invoices", day, len(activity.despatches), len(activity.invoices))
    return activity


def _played_already(record: Path, client: SageClient, day: date) -> WarehouseActivity:
    """The recorded activity, when it is this day's and Sage holds its despatches; else a refusal."""
    played = WarehouseActivity.read(record)
    if played.day != day:
        raise WarehousePlayedAlready(
            f"{record} records the warehouse's activity of {played.day}, not {day}: it plays once; nothing done"
        )
    for despatch in played.despatches:
        condition = (
            f"sop_order_document_no eq {odata_literal(despatch.sales_order_number)} and "
            f"sop_despatch_document_no eq {odata_literal(despatch.despatch_number)}"
        )
        if not client.get("sop_order_despatch_views", {"$filter": condition, "$top": 1}):
            raise WarehousePlayedAlready(
                f"{record} records despatch {despatch.despatch_number} of sales order {despatch.sales_order_number} "
                f"(PO {despatch.label}), which this Sage company does not hold: the record is another company's; "
                "nothing done"
            )
    return played


def _despatch_po_orders(client: SageClient, manifest: Manifest, amazon_customer: str) -> dict[str, _Order]:
    """The Sage order of every despatch PO, by label, its lines in PO line order."""
    numbers = {po["label"]: po["po_number"] for po in manifest.planted_pos}
    if not set(DESPATCH_LABELS) <= set(numbers):
        raise WarehouseNotReady(
            f"the scenario (generator version {manifest.generator_version}) has no despatch POs: generate it again"
        )
    [customer] = client.get("customers", {"$filter": f"reference eq {odata_literal(amazon_customer)}"})
    products = {
        (entry["po_number"], entry["line_id"]): entry["sage_product_code"] for entry in manifest.expected_po_lines
    }
    orders = {}
    for label in DESPATCH_LABELS:
        po_number = numbers[label]
        condition = f"customer_document_no eq {odata_literal(po_number)} and customer_id eq {customer['id']}"
        found = client.get("sop_orders", {"$filter": condition, "$expand": "lines", "$orderby": "id", "$top": 1})
        if not found:
            raise WarehouseNotReady(
                f"PO {label} ({po_number}) has no Sage sales order yet: run `avc2sage run` first, then the warehouse"
            )
        by_code = {line["code"]: line for line in found[0]["lines"]}
        lines = tuple(
            _OrderLine(
                int(line["id"]), line["code"], Decimal(line["line_quantity"]), Decimal(line["selling_unit_price"])
            )
            for line in (by_code[products[po_number, line_id]] for line_id in ("1", "2"))
        )
        orders[label] = _Order(label, po_number, int(found[0]["id"]), found[0]["document_no"], lines)
    return orders


class _Desk:
    """The warehouse and the order desk at work on the despatch POs' orders, recording what they do."""

    def __init__(self, backoffice: BackOffice, day: date, orders: dict[str, _Order], gs1_prefix: str) -> None:
        self.backoffice = backoffice
        self.day = day
        self.orders = orders
        self.gs1_prefix = gs1_prefix
        self.activity = WarehouseActivity(day)
        self.despatches: dict[str, str] = {}  # label → despatch number
        self.invoices: dict[str, str] = {}  # label → invoice number

    def play(self) -> None:
        for label in ("E", "F"):
            self.despatch(label)
            self.invoice(label)
        self.play_g()
        e = self.orders["E"]
        self.despatch(
            "H",
            despatch_no=self.despatches["E"],
            rule=("shipment_id_unique", f"despatched under despatch number {self.despatches['E']}, PO E's"),
        )
        self.play_i()
        self.play_j()
        self.play_k()
        self.despatch(
            "L",
            on=self.day - timedelta(days=STALE_DESPATCH_DAYS),
            rule=("shipped_date_window", f"shipped {STALE_DESPATCH_DAYS} days before {self.day}"),
        )
        self.invoice(
            "L",
            invoice_no=self.invoices["E"],
            rule=("invoice_number_unique", f"invoiced as {self.invoices['E']}, PO E's invoice ({e.po_number})"),
        )

    def play_g(self) -> None:
        order = self.orders["G"]
        sscc = self.sscc_with_wrong_check_digit(order.po_number)
        expected = gs1_check_digit(sscc[:SSCC_DATA_LENGTH])
        self.despatch(
            "G",
            notes=f"SSCC: {sscc}",
            rule=("sscc_valid", f"the despatch note gives SSCC {sscc}, whose check digit should be {expected}"),
        )
        first = order.lines[0]
        price = (first.price * PRICE_RISE).quantize(PENNY, rounding=ROUND_HALF_UP)
        self.backoffice.post(f"sop_orders/{order.id}/lines/{first.id}", {"selling_unit_price": price})
        self.invoice(
            "G",
            rule=(
                "unit_cost_matches_acknowledged",
                f"line 1 ({first.code}) invoiced at {price} a case, 5% over the acknowledged {first.price}",
            ),
        )

    def play_i(self) -> None:
        first, second = self.orders["I"].lines
        self.despatch(
            "I",
            lines=[(first, first.quantity - 1), (second, second.quantity)],
            consignment=False,
            rule=("carrier_requirements", f"shipped by {COURIER} with no consignment (tracking) number"),
        )
        self.invoice(
            "I",
            lines=[(first, first.quantity), (second, second.quantity)],
            rule=(
                "invoiced_within_shipped",
                f"line 1 ({first.code}) invoiced for {first.quantity} cases, {first.quantity - 1} shipped",
            ),
        )

    def play_j(self) -> None:
        order = self.orders["J"]
        first = order.lines[0]
        amended = first.quantity + 1
        self.backoffice.post(f"sop_orders/{order.id}/lines/{first.id}", {"line_quantity": amended})
        self.despatch(
            "J",
            rule=(
                "shipped_within_acknowledged",
                f"line 1 ({first.code}) amended to {amended} cases and shipped: {first.quantity} acknowledged",
            ),
        )

    def play_k(self) -> None:
        first, second = self.orders["K"].lines
        part = Decimal("1.5")
        self.despatch(
            "K",
            lines=[(first, part), (second, second.quantity)],
            rule=("whole_cases", f"line 1 ({first.code}) shipped as {part} cases: not whole cases"),
        )
        invoice_day = self.day + timedelta(days=FUTURE_INVOICE_DAYS)
        ahead = f"invoice dated {invoice_day}, {FUTURE_INVOICE_DAYS} days ahead of {self.day}"
        self.invoice(
            "K",
            on=invoice_day,
            rule=("invoice_date_not_future", ahead),
        )

    # the two things the warehouse and the desk do ------------------------------------------------------
    def despatch(
        self,
        label: str,
        *,
        lines: list[tuple[_OrderLine, Decimal]] | None = None,
        on: date | None = None,
        despatch_no: str | None = None,
        consignment: bool = True,
        notes: str = "",
        rule: tuple[str, str] | None = None,
    ) -> None:
        """Despatch the order (everything outstanding, unless `lines` says how much of which line)."""
        order = self.orders[label]
        body: dict[str, Any] = {
            "date": (on or self.day).isoformat(),
            "courier_name": COURIER,
            "consignment_no": consignment_number(order.po_number) if consignment else "",
            "notes": notes,
        }
        if lines is not None:
            body["lines"] = [{"sop_order_line_id": line.id, "quantity": quantity} for line, quantity in lines]
        if despatch_no is not None:
            body["despatch_no"] = despatch_no
        number = self.backoffice.post(f"sop_orders/{order.id}/despatch", body)["despatch_no"]
        self.despatches[label] = number
        self.activity.despatches.append(
            DespatchRecord(label, order.po_number, order.number, number, rule[0] if rule else None)
        )
        if rule is not None:
            reference = f"{order.po_number}/{number}"
            self.activity.anomalies.append(Anomaly(ASN_FAILED, reference, f"PO {label}: {rule[1]} ({rule[0]})"))
        log.info("PO %s (%s): sales order %s despatched as %s", label, order.po_number, order.number, number)

    def invoice(
        self,
        label: str,
        *,
        lines: list[tuple[_OrderLine, Decimal]] | None = None,
        on: date | None = None,
        invoice_no: str | None = None,
        rule: tuple[str, str] | None = None,
    ) -> None:
        """Invoice the order (what is despatched and not invoiced, unless `lines` says how much of which line)."""
        order = self.orders[label]
        body: dict[str, Any] = {"date": (on or self.day).isoformat()}
        if lines is not None:
            body["lines"] = [{"sop_order_line_id": line.id, "quantity": quantity} for line, quantity in lines]
        if invoice_no is not None:
            body["invoice_no"] = invoice_no
        number = self.backoffice.post(f"sop_orders/{order.id}/invoice", body)["invoice_document_no"]
        self.invoices[label] = number
        self.activity.invoices.append(InvoiceRecord(label, order.po_number, number, rule[0] if rule else None))
        if rule is not None:
            reference = f"{order.po_number}/{number}"
            self.activity.anomalies.append(Anomaly(INVOICE_FAILED, reference, f"PO {label}: {rule[1]} ({rule[0]})"))
        log.info("PO %s (%s): sales order %s invoiced as %s", label, order.po_number, order.number, number)

    def sscc_with_wrong_check_digit(self, po_number: str) -> str:
        """An 18-digit SSCC of our GS1 prefix, serial derived from the PO, whose check digit is one off."""
        serial_length = SSCC_DATA_LENGTH - len(SSCC_EXTENSION_DIGIT) - len(self.gs1_prefix)
        serial = zlib.crc32(po_number.encode()) % 10**serial_length
        data = f"{SSCC_EXTENSION_DIGIT}{self.gs1_prefix}{serial:0{serial_length}d}"
        return data + str((gs1_check_digit(data) + 1) % 10)


def consignment_number(po_number: str) -> str:
    """DPD's consignment number for a PO's parcels: derived from the PO, so the same PO always gets the same."""
    return f"{COURIER}{zlib.crc32(po_number.encode()):010d}"
