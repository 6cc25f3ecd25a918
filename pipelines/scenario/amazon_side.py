"""The Amazon side of the scenario: what Amazon sent the brand, as files in `out/inbox/<VENDOR CODE>/`.

The brand trades with Amazon UK under two vendor codes that both invoice Sage customer AMA001 in GBP: HAFIN
exchanges EDIFACT D.96A, HAFIX X12 4010. Amazon sends:

- a purchase order for every Amazon sales order in the Sage history (the Sage order's customer document
  number is the PO number), plus the POs of the last two days that are not in Sage yet; 1–5 POs per
  interchange, several interchanges a day;
- remittances for the invoices Sage posted, net about 60 days after the invoice date in weekly payment runs,
  with deductions (shortage claims, price claims, co-op, compliance chargebacks): HAFIN's as the Vendor
  Central export (CSV or XLSX), HAFIX's as an X12 820 and as the export. Only the runs dated after the last
  closed Sage period are in the inbox: the business dealt with the earlier ones by hand before avc2sage, and
  the sample's Sage history holds no customer receipt for them;
- the planted payments of `planted_remittances` (one of each remittance situation, their lines' expected
  outcomes in the manifest's `planted_remittances`, what the invoices they touch keep outstanding in its
  `expected_invoice_outstanding`), paying invoices no regular run pays.

Invoice numbers are the sandbox's: it numbers SOP invoices `f"{n:010d}"` in posting order from 1, and the
loader posts the history's invoice events in file order, so the n-th invoice event is invoice n.

Also planted: a PO re-sent with a changed delivery window and one re-sent unchanged (manifest `events`; the
changed one also an anomaly, as its Sage order exists already), a file truncated in transfer and an
interchange with one unreadable PO (manifest `anomalies`, in the exceptions contract's terms, as are the
planted payments' exceptions), and the planted POs of `planted` (one of each PO line situation, their outcomes
in the manifest's `expected_po_lines`). Every file's modification time is its arrival time, so the inbox reads
them in order.
"""

from __future__ import annotations

import calendar
import heapq
import math
import multiprocessing
import os
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipelines.scenario.amazon_documents import (
    EDIFACT,
    X12,
    AmazonPo,
    Party,
    Payment,
    PoInterchange,
    PoLine,
    RemittanceItem,
    render_820,
    render_export_csv,
    render_export_xlsx,
    render_po_interchange,
)
from pipelines.scenario.catalogue import CASES, STANDARD_VAT, Product
from pipelines.scenario.formats import to_money
from pipelines.scenario.identifiers import ean13, random_amazon_po_number
from pipelines.scenario.manifest import Anomaly
from pipelines.scenario.planted import (
    PLANTED_TIME_MINUTES,
    PO_CHANGED_AFTER_ORDER,
    PlantedPo,
    expected_lines,
    is_planted,
    line_anomalies,
    plant_purchase_orders,
)
from pipelines.scenario.planted_remittances import PlantedRemittances, plant_remittances
from pipelines.scenario.profile import VendorProfile
from pipelines.scenario.sage_invoices import InvoicedLine, SageInvoice, line_gross, shortage_value
from pipelines.scenario.sage_side import EACH, FULFILMENT_CENTRES, SEASONALITY, WEEKDAY_WEIGHT, DemandModel
from pipelines.scenario.scales import Scale

INBOX = Path("inbox")
AMAZON_GS1_PREFIX = "5450534"  # Amazon EU's GS1 prefix (its buyer GLN 5450534000024 carries it)
# Each fulfilment centre's GLN, for EDIFACT's NAD+DP (X12 names the FC by its code, N1*ST*...*92).
FC_GLNS = {fc["code"]: ean13(AMAZON_GS1_PREFIX, 101 + n) for n, fc in enumerate(FULFILMENT_CENTRES)}
VAT_RATES = {STANDARD_VAT: Decimal("20.00")}  # percent, as Sage's tax codes; other VAT kinds are 0
X12_SHARE = 0.15  # HAFIX, the smaller vendor code, gets about one PO in seven
NEW_PO_DAYS = 2  # the days before as_of whose POs are not in Sage yet
PAYMENT_WEEKDAYS = {EDIFACT: 3, X12: 1}  # Amazon's weekly payment run: HAFIN on Thursdays, HAFIX on Tuesdays
SHORTAGE_RATE, PRICE_CLAIM_RATE = 0.06, 0.03  # of paid invoices
COOP_RATE, CHARGEBACK_RATE = 0.2, 0.25  # of payments
COOP_SHARE = Decimal("0.03")  # of the payment's invoices
# Rendering PO files in worker processes pays off only past this many files (the workers must start first).
PARALLEL_FROM_FILES = 200


@dataclass(frozen=True)
class VendorChannel:
    code: str
    standard: str
    our_id: str  # whom Amazon addresses: our X12 interchange id, or our GLN for EDIFACT


@dataclass
class _OpenOrder:
    vendor_code: str
    lines: dict[int, tuple[str, Decimal]]  # line no → (sku, unit price)
    pending: dict[int, int] = field(default_factory=dict)  # line no → despatched, not yet invoiced


@dataclass
class _InboxFile:
    name: str  # relative to the inbox: <VENDOR CODE>/<file>
    data: bytes
    arrival: datetime  # becomes the file's modification time


@dataclass
class _Delivery:
    """A PO file arriving in the inbox; its data once its interchange is rendered, its name once it is final."""

    vendor_code: str
    arrival: datetime
    prefix: str
    interchange: PoInterchange
    data: bytes = b""
    name: str = ""

    def file_name(self) -> str:
        return (
            f"{self.vendor_code}/{self.prefix}_{self.arrival:%Y%m%d_%H%M%S}_{self.interchange.control_number:09d}.edi"
        )


@dataclass
class AmazonSummary:
    counts: dict[str, int]
    anomalies: list[Anomaly]
    events: list[dict[str, str]]
    expected_po_lines: list[dict[str, str | None]]
    planted_remittances: list[dict[str, Any]]
    expected_invoice_outstanding: dict[str, str]


@dataclass
class _NewOrders:
    """The POs of the last days that Sage has not seen: drawn like the history's, and the planted ones."""

    drawn: list[AmazonPo]
    planted: list[tuple[AmazonPo, PlantedPo]]
    eaches: Counter[str]  # catalogue stock their accepted lines take, by SKU


def channels(profile: VendorProfile) -> dict[str, VendorChannel]:
    return {
        profile.vendor_code: VendorChannel(profile.vendor_code, EDIFACT, ean13(profile.gs1_company_prefix, 0)),
        profile.x12_vendor_code: VendorChannel(profile.x12_vendor_code, X12, profile.x12_interchange_id),
    }


class AmazonSide:
    """Watches the Sage history go by (`observe`), then writes Amazon's files (`write`)."""

    def __init__(
        self,
        rngs: Callable[[str], random.Random],
        profile: VendorProfile,
        scale: Scale,
        catalogue: list[Product],
        demand: DemandModel,
        as_of: date,
        closed_through: date | None,
    ) -> None:
        self.rngs = rngs
        self.profile = profile
        self.scale = scale
        self.demand = demand
        self.as_of = as_of
        self.closed_through = closed_through  # the end of the last period closed in Sage
        self.channels = channels(profile)
        self.catalogue = catalogue
        self.by_sku = {p.sku: p for p in catalogue}
        self.split_rng = rngs("amazon-vendor-codes")
        self.po_rng = rngs("amazon-purchase-orders")
        self.pos: list[AmazonPo] = []
        self.orders: dict[str, _OpenOrder] = {}
        self.invoices: list[SageInvoice] = []
        self.invoices_posted = 0
        self._new_orders: _NewOrders | None = None

    # watching the history ------------------------------------------------------------------------
    def observe(self, events: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Pass the history's events through, keeping what Amazon's documents need."""
        for event in events:
            kind = event["event"]
            if kind == "sales_order" and event["customer"] == self.profile.amazon_customer_reference:
                self._sales_order(event)
            elif kind == "despatch" and event["customer_document_no"] in self.orders:
                pending = self.orders[event["customer_document_no"]].pending
                for line in event["lines"]:
                    pending[line["line_no"]] = pending.get(line["line_no"], 0) + int(line["quantity"])
            elif kind == "invoice":
                self.invoices_posted += 1  # trade invoices take numbers too
                if event["customer_document_no"] in self.orders:
                    self._invoice(event)
            yield event

    def _sales_order(self, event: dict[str, Any]) -> None:
        code = self.profile.x12_vendor_code if self.split_rng.random() < X12_SHARE else self.profile.vendor_code
        po_date = date.fromisoformat(event["date"])
        lines = tuple(
            self._po_line(line["line_no"], self.by_sku[line["sku"]], Decimal(line["quantity"]), line["unit"] != EACH)
            for line in event["lines"]
        )
        deliver_by = date.fromisoformat(event["requested_delivery_date"])
        self.pos.append(self._po(code, event["customer_document_no"], po_date, deliver_by, event["ship_to"], lines))
        self.orders[event["customer_document_no"]] = _OpenOrder(
            code, {line["line_no"]: (line["sku"], Decimal(line["unit_price"])) for line in event["lines"]}
        )

    def _po(
        self,
        code: str,
        number: str,
        po_date: date,
        deliver_by: date,
        fc: str,
        lines: tuple[PoLine, ...],
        backorder_allowed: bool | None = None,
    ) -> AmazonPo:
        """The PO; its backorder flag drawn unless given."""
        if backorder_allowed is None:
            backorder_allowed = self.po_rng.random() < 0.3
        # Sage's requested delivery date is the last day Amazon accepts delivery; the window opens a week before.
        return AmazonPo(
            po_number=number,
            vendor_code=code,
            po_date=po_date,
            window_start=max(po_date + timedelta(days=1), deliver_by - timedelta(days=6)),
            window_end=deliver_by,
            fulfilment_centre=fc,
            fulfilment_centre_gln=FC_GLNS[fc],
            backorder_allowed=backorder_allowed,
            lines=lines,
        )

    def _po_line(self, line_no: int, product: Product, quantity: Decimal, in_cases: bool) -> PoLine:
        rng = self.po_rng
        return PoLine(
            line_no=line_no,
            ean=product.ean,
            vendor_sku=product.sku if rng.random() < 0.3 else None,
            asin=product.asin if rng.random() < 0.3 else None,
            quantity=quantity,
            in_cases=in_cases,
            price_per_each=product.amazon_cost,
        )

    def _invoice(self, event: dict[str, Any]) -> None:
        """What the sandbox posts: each line's goods rounded, VAT rounded per line, for what was despatched."""
        order = self.orders[event["customer_document_no"]]
        lines = []
        for line_no, quantity in sorted(order.pending.items()):
            sku, unit_price = order.lines[line_no]
            lines.append(InvoicedLine(quantity, unit_price, VAT_RATES.get(self.by_sku[sku].vat, Decimal(0))))
        order.pending.clear()
        gross = sum((line_gross(line.quantity, line) for line in lines), Decimal("0.00"))
        number = f"{self.invoices_posted:010d}"
        day = date.fromisoformat(event["date"])
        self.invoices.append(
            SageInvoice(number, day, event["customer_document_no"], order.vendor_code, gross, tuple(lines))
        )

    # writing ---------------------------------------------------------------------------------------
    def write(self, out: Path) -> AmazonSummary:
        inbox = out / INBOX
        new = self.new_orders()
        new_pos = new.drawn + [po for po, _ in new.planted]
        planner = _PoPlanner(self.rngs("amazon-po-files"), self.channels, self.as_of)
        deliveries, anomalies, events = planner.plan(self.pos + new.drawn, [po for po, _ in new.planted])
        remittances = _Remittances(self.rngs("amazon-remittances"), self.scale, self.as_of, self.closed_through)
        payments = remittances.payments(self.invoices, self.channels)
        planted_payments = plant_remittances(
            self.rngs("amazon-planted-remittances"),
            self.invoices,
            payments,
            self.profile,
            self.closed_through,
            self.as_of,
        )
        remittance_files = self._remittance_files(payments, planted_payments)
        for delivery in [*deliveries, *remittance_files]:
            _write(inbox / delivery.name, delivery.data, delivery.arrival)
        in_sage = {po.po_number for po in self.pos}
        for event in events:
            if event["kind"] == "po_version_changed" and event["po_number"] in in_sage:
                detail = f"{event['detail']}, after its Sage order was entered"
                anomalies.append(Anomaly(PO_CHANGED_AFTER_ORDER, event["po_number"], detail))
        for po, planted in new.planted:
            anomalies += line_anomalies(po.po_number, planted)
        anomalies += planted_payments.anomalies()
        every_payment = payments + [planted.payment for planted in planted_payments.payments]
        by_standard = defaultdict(set)
        for po in self.pos + new_pos:
            by_standard[self.channels[po.vendor_code].standard].add(po.po_number)
        counts = {
            "amazon_inbox_files": len(deliveries) + len(remittance_files),
            "amazon_po_files": len(deliveries),
            "amazon_purchase_orders": len(self.pos) + len(new_pos),
            "amazon_purchase_orders_edifact": len(by_standard[EDIFACT]),
            "amazon_purchase_orders_x12": len(by_standard[X12]),
            "amazon_purchase_orders_not_in_sage": len(new_pos),
            "amazon_purchase_orders_planted": len(new.planted),
            "amazon_purchase_order_lines_planted": sum(len(po.lines) for po, _ in new.planted),
            # Every new PO becomes a Sage order but one whose every line is rejected.
            "amazon_purchase_orders_to_order_in_sage": len(new.drawn)
            + sum(planted.gets_sage_order for _, planted in new.planted),
            "amazon_remittance_files": len(remittance_files),
            "amazon_remittance_payments": len(every_payment),
            "amazon_remittance_invoice_lines": sum(
                item.kind == "invoice_payment" for payment in every_payment for item in payment.items
            ),
            "amazon_remittance_deduction_lines": sum(
                item.kind != "invoice_payment" for payment in every_payment for item in payment.items
            ),
            "amazon_remittance_payments_planted": len(planted_payments.payments),
            "amazon_remittance_lines_planted": planted_payments.line_count,
        }
        expected = [entry for po, planted in new.planted for entry in expected_lines(po.po_number, planted)]
        return AmazonSummary(
            counts,
            anomalies,
            events,
            expected,
            planted_payments.manifest_entries(),
            planted_payments.expected_outstanding(),
        )

    def new_orders(self) -> _NewOrders:
        """The POs Sage has not seen, once the history has been observed (their numbers avoid its POs')."""
        if self._new_orders is None:
            taken = {po.po_number for po in self.pos}
            eaches: Counter[str] = Counter()
            drawn = self._drawn_new_pos(taken, eaches)
            planted = self._planted_pos(taken, eaches)
            self._new_orders = _NewOrders(drawn, planted, eaches)
        return self._new_orders

    def _drawn_new_pos(self, taken: set[str], eaches: Counter[str]) -> list[AmazonPo]:
        """POs of the last days before as_of, drawn as the history's are: the order-to-cash flow's next work."""
        rng = self.rngs("amazon-new-orders")
        daily = self.scale.amazon_orders / self.scale.history_days
        active = self.demand.active
        pos = []
        for offset in range(NEW_PO_DAYS, 0, -1):
            day = self.as_of - timedelta(days=offset)
            weight = SEASONALITY[day.month - 1] * WEEKDAY_WEIGHT[day.weekday()]
            for _ in range(max(1, round(daily * weight * rng.uniform(0.7, 1.3)))):
                number = _unique_po_number(rng, taken)
                mean = self.scale.amazon_lines_per_order
                count = max(1, min(len(active), round(rng.gauss(mean, mean / 3))))
                # Popular products more likely, without replacement (as the Sage history picks them).
                keyed = heapq.nlargest(count, ((math.log(1.0 - rng.random()) / p.demand_weight, p.sku) for p in active))
                lines = []
                for line_no, (_, sku) in enumerate(sorted(keyed, key=lambda k: k[1]), start=1):
                    product = self.by_sku[sku]
                    quantity = 1 + int(rng.expovariate(1.0 / self.demand.amazon_mean_quantity(product)))
                    in_cases = product.amazon_unit == CASES
                    lines.append(self._po_line(line_no, product, Decimal(quantity), in_cases))
                    eaches[sku] += quantity * (product.case_pack if in_cases else 1)
                code = self.profile.x12_vendor_code if rng.random() < X12_SHARE else self.profile.vendor_code
                fc = rng.choice(FULFILMENT_CENTRES)["code"]
                pos.append(self._po(code, number, day, day + timedelta(days=rng.randint(7, 14)), fc, tuple(lines)))
        return pos

    def _planted_pos(self, taken: set[str], eaches: Counter[str]) -> list[tuple[AmazonPo, PlantedPo]]:
        """The planted POs, dated the last day before as_of (their own random stream: the rest stays as it was)."""
        rng = self.rngs("amazon-planted-orders")
        planted_products = [p for p in self.catalogue if is_planted(p)]
        regular = [p for p in self.catalogue if not is_planted(p)]
        day = self.as_of - timedelta(days=1)
        pos = []
        for planted in plant_purchase_orders(rng, self.profile, regular, planted_products):
            number = _unique_po_number(rng, taken)
            fc = rng.choice(FULFILMENT_CENTRES)["code"]
            lines = tuple(line.line for line in planted.lines)
            deliver_by = day + timedelta(days=rng.randint(7, 14))
            po = self._po(planted.vendor_code, number, day, deliver_by, fc, lines, planted.backorder_allowed)
            pos.append((po, planted))
            for line in planted.lines:
                sku = line.expected.sage_product_code
                if line.expected.eaches_taken and sku is not None and not is_planted(self.by_sku[sku]):
                    eaches[sku] += line.expected.eaches_taken
        return pos

    def stock_needed(self) -> dict[str, int]:
        """Eaches of each catalogue product that the new POs' accepted lines take, all told. The planted
        products are left out: the history never touches their stock, which is set for their planted outcome."""
        return dict(self.new_orders().eaches)

    def _remittance_files(self, payments: list[Payment], planted: PlantedRemittances) -> list[_InboxFile]:
        """Every payment's files, in payment date order. HAFIN's regular exports alternate CSV and XLSX; the
        planted payments' exports are CSV."""
        files = []
        payee = Party(self.profile.company_name.upper(), self.profile.x12_vendor_code)
        controls = {code: 500 + n * 400 for n, code in enumerate(self.channels)}
        exports: dict[str, int] = defaultdict(int)
        planted_numbers = {entry.payment.payment_number for entry in planted.payments}
        every_payment = payments + [entry.payment for entry in planted.payments]
        for payment in sorted(every_payment, key=lambda p: (p.payment_date, p.vendor_code, p.payment_number)):
            channel = self.channels[payment.vendor_code]
            paid_on = datetime.combine(payment.payment_date, time(6, 0))
            if channel.standard == X12:
                controls[channel.code] += 1
                control = controls[channel.code]
                data = render_820(payment, control, paid_on, channel.our_id, payee)
                files.append(_InboxFile(f"{channel.code}/820_{paid_on:%Y%m%d_%H%M%S}_{control:09d}.edi", data, paid_on))
            # The export is downloaded from Vendor Central later that morning; HAFIN's alternate CSV and XLSX.
            is_regular = payment.payment_number not in planted_numbers
            as_xlsx = is_regular and channel.standard == EDIFACT and exports[channel.code] % 2 == 1
            exports[channel.code] += is_regular
            extension = ".xlsx" if as_xlsx else ".csv"
            files.append(
                _InboxFile(
                    f"{channel.code}/REMITTANCE_{payment.payment_date:%Y%m%d}_{payment.payment_number}{extension}",
                    render_export_xlsx(payment) if as_xlsx else render_export_csv(payment),
                    paid_on + timedelta(hours=3),
                )
            )
        return files


def _unique_po_number(rng: random.Random, taken: set[str]) -> str:
    """A PO number no other PO has; `taken` gets it."""
    number = random_amazon_po_number(rng)
    while number in taken:
        number = random_amazon_po_number(rng)
    taken.add(number)
    return number


def _write(path: Path, data: bytes, arrival: datetime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    stamp = calendar.timegm(arrival.timetuple())  # arrival times are UTC
    os.utime(path, (stamp, stamp))


# --- PO files ------------------------------------------------------------------------------------------


class _PoPlanner:
    """Packs POs into interchanges, adds the re-sends and corruptions, and renders every file."""

    def __init__(self, rng: random.Random, vendor_channels: dict[str, VendorChannel], as_of: date) -> None:
        self.rng = rng
        self.channels = vendor_channels
        self.as_of = as_of
        self.deliveries: list[_Delivery] = []
        self.planted: list[_Delivery] = []

    def plan(
        self, pos: list[AmazonPo], planted: list[AmazonPo]
    ) -> tuple[list[_Delivery], list[Anomaly], list[dict[str, str]]]:
        """Files for `pos` and, after every other PO of their day, one for each of the `planted` POs."""
        self._pack(pos)
        for n, po in enumerate(planted):
            prepared = datetime.combine(po.po_date, time()) + timedelta(minutes=PLANTED_TIME_MINUTES + n)
            self.planted.append(self._deliver(po.vendor_code, prepared, (po,)))
        changed, resent, broken = self._pick_specials()
        resends = [
            (kind, po, self._resend(po, shift))
            for kind, po, shift in (("po_version_changed", changed, 3), ("po_resent_unchanged", resent, 0))
            if po is not None
        ]
        fixed, broken_index = None, 0
        if broken is not None:
            # The PO whose set is broken comes again, correct, two hours later: every PO arrives readable once.
            broken_index = self.rng.randrange(len(broken.interchange.orders))
            again = (broken.interchange.orders[broken_index],)
            fixed = self._deliver(broken.vendor_code, broken.arrival + timedelta(hours=2), again)
        self._number_and_render()
        cut, complete = self._truncate_one()
        bad_quantity = _break_quantity(broken, broken_index) if broken else ""
        for delivery in self.deliveries:
            delivery.name = delivery.file_name()
        anomalies = []
        if cut is not None:
            anomalies.append(
                Anomaly(
                    "inbound_file_quarantined",
                    cut.name,
                    f"interchange {cut.interchange.control_number} cut off in transfer (no IEA), so unreadable; "
                    f"re-delivered complete as {complete.name}",
                )
            )
        if broken is not None and fixed is not None:
            po = broken.interchange.orders[broken_index]
            reference = str(broken_index + 1)
            anomalies.append(
                Anomaly(
                    "inbound_set_quarantined",
                    f"{broken.name}#{reference}",
                    f"ORDERS {reference} (PO {po.po_number}) orders {bad_quantity!r} on its first line, not a "
                    f"number; the file's other {len(broken.interchange.orders) - 1} PO(s) load, and Amazon re-sent "
                    f"PO {po.po_number} correctly as {fixed.name}",
                )
            )
        events = [
            {
                "kind": kind,
                "vendor_code": po.vendor_code,
                "po_number": po.po_number,
                "file": delivery.name,
                "detail": _resend_detail(po, delivery.interchange.orders[0]),
            }
            for kind, po, delivery in resends
        ]
        return sorted(self.deliveries, key=lambda d: (d.arrival, d.name)), anomalies, events

    def _pack(self, pos: list[AmazonPo]) -> None:
        """Each vendor code's POs of a day in interchanges of 1–5, at times spread over the day."""
        by_day: dict[tuple[str, date], list[AmazonPo]] = defaultdict(list)
        for po in pos:
            by_day[po.vendor_code, po.po_date].append(po)
        for (code, day), todays in sorted(by_day.items()):
            chunks = []
            while todays:
                size = self.rng.randint(1, 5)
                chunks.append(tuple(todays[:size]))
                todays = todays[size:]
            minutes = sorted(self.rng.sample(range(5 * 60, 23 * 60), len(chunks)))
            for chunk, minute in zip(chunks, minutes, strict=True):
                self._deliver(code, datetime.combine(day, time()) + timedelta(minutes=minute), chunk)

    def _deliver(self, code: str, prepared_at: datetime, orders: tuple[AmazonPo, ...]) -> _Delivery:
        channel = self.channels[code]
        prefix = "850" if channel.standard == X12 else "ORDERS"
        interchange = PoInterchange(channel.standard, 0, prepared_at, channel.our_id, orders)
        # Files land a few minutes after Amazon prepares them.
        delivery = _Delivery(code, prepared_at + timedelta(minutes=5), prefix, interchange)
        self.deliveries.append(delivery)
        return delivery

    def _pick_specials(self) -> tuple[AmazonPo | None, AmazonPo | None, _Delivery | None]:
        """An EDIFACT PO to change, an X12 PO to re-send unchanged and an EDIFACT interchange of several POs
        to break: old enough that their re-sends arrive before as_of, and no interchange used twice."""
        latest = self.as_of - timedelta(days=3)
        old = [d for d in self.deliveries if d.arrival.date() <= latest]
        edifact = [d for d in old if d.interchange.standard == EDIFACT]
        x12 = [d for d in old if d.interchange.standard == X12]
        several = [d for d in edifact if len(d.interchange.orders) >= 2]
        broken = self.rng.choice(several) if several else None
        others = [d for d in edifact if d is not broken]
        changed = self.rng.choice(self.rng.choice(others).interchange.orders) if others else None
        resent = self.rng.choice(self.rng.choice(x12).interchange.orders) if x12 else None
        return changed, resent, broken

    def _resend(self, po: AmazonPo, window_shift: int) -> _Delivery:
        version = replace(
            po,
            window_start=po.window_start + timedelta(days=window_shift),
            window_end=po.window_end + timedelta(days=window_shift),
        )
        when = datetime.combine(po.po_date + timedelta(days=1), time()) + timedelta(minutes=self.rng.randint(300, 1300))
        return self._deliver(po.vendor_code, when, (version,))

    def _number_and_render(self) -> None:
        """Control numbers in order of preparation per vendor code, then every interchange rendered."""
        self.deliveries.sort(key=lambda d: (d.arrival, d.vendor_code))
        next_control = {code: 1000 + n * 50_000 for n, code in enumerate(self.channels)}
        for delivery in self.deliveries:
            delivery.interchange = replace(delivery.interchange, control_number=next_control[delivery.vendor_code])
            next_control[delivery.vendor_code] += 1
        rendered = _render_all([delivery.interchange for delivery in self.deliveries])
        for delivery, data in zip(self.deliveries, rendered, strict=True):
            delivery.data = data

    def _truncate_one(self) -> tuple[_Delivery | None, _Delivery | None]:
        """An X12 interchange cut short in transfer; the complete file is re-delivered 45 minutes later. Not a
        planted PO's: those arrive once, last of their day (a re-delivery lands by 23:49, before them)."""
        planted = {id(delivery) for delivery in self.planted}
        candidates = [d for d in self.deliveries if d.interchange.standard == X12 and id(d) not in planted]
        if not candidates:
            return None, None
        complete = self.rng.choice(candidates)
        cut = replace(complete, data=complete.data[: len(complete.data) * 3 // 5])
        complete.arrival += timedelta(minutes=45)
        self.deliveries.append(cut)
        return cut, complete


def _break_quantity(delivery: _Delivery, index: int) -> str:
    """Type a letter O for a zero into the first quantity of ORDERS `index`: that message is unreadable, its
    siblings are not. Returns the bad quantity."""
    data = delivery.data
    start = data.index(f"UNH+{index + 1}+".encode())
    at = data.index(b"QTY+21:", start) + len(b"QTY+21:")
    end = min(data.index(b":", at), data.index(b"'", at))
    bad = data[at:end].decode() + "O"
    delivery.data = data[:at] + bad.encode() + data[end:]
    return bad


def _resend_detail(original: AmazonPo, version: AmazonPo) -> str:
    if version == original:
        return f"PO {original.po_number} re-sent unchanged in a new envelope: its set is 'unchanged', no new version"
    return (
        f"PO {original.po_number} re-sent with its delivery window moved from {original.window_start}/"
        f"{original.window_end} to {version.window_start}/{version.window_end}: a second version"
    )


def _render_all(interchanges: list[PoInterchange]) -> list[bytes]:
    """Render in worker processes when there are many: validating X12 with pyx12 costs ~1 ms a segment."""
    workers = os.cpu_count() or 1
    if len(interchanges) < PARALLEL_FROM_FILES or workers == 1:
        return [render_po_interchange(interchange) for interchange in interchanges]
    # fork, not spawn or forkserver: those re-run the caller's __main__ in every worker, and a script calling
    # generate() without an `if __name__ == "__main__"` guard would then generate again, recursively.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(render_po_interchange, interchanges, chunksize=8))


# --- remittances -----------------------------------------------------------------------------------------


class _Remittances:
    """Amazon's weekly payments per vendor code, each with the deductions it takes: the runs dated after the
    last closed Sage period (`closed_through`) and by as_of. The earlier runs were dealt with by hand before
    avc2sage; Sage holds no receipt for them, and they are not in the inbox."""

    def __init__(self, rng: random.Random, scale: Scale, as_of: date, closed_through: date | None) -> None:
        self.rng = rng
        self.terms = scale.amazon_payment_terms_days
        self.as_of = as_of
        self.closed_through = closed_through

    def payments(self, invoices: list[SageInvoice], vendor_channels: dict[str, VendorChannel]) -> list[Payment]:
        payments = []
        for n, (code, channel) in enumerate(vendor_channels.items()):
            runs: dict[date, list[SageInvoice]] = defaultdict(list)
            for invoice in invoices:
                if invoice.vendor_code != code:
                    continue
                due = invoice.day + timedelta(days=self.terms)
                run = due + timedelta(days=(PAYMENT_WEEKDAYS[channel.standard] - due.weekday()) % 7)
                if run <= self.as_of and (self.closed_through is None or run > self.closed_through):
                    runs[run].append(invoice)
            number = self.rng.randint(4_100_000_000, 4_100_900_000) + n * 1_000_000
            payments += self._vendor_payments(code, sorted(runs.items()), number)
        return sorted(payments, key=lambda p: (p.payment_date, p.vendor_code))

    def _vendor_payments(self, code: str, runs: list[tuple[date, list[SageInvoice]]], number: int) -> list[Payment]:
        """Deductions drawn at their rates; each kind forced once when chance left a vendor code without it.

        So the regular payments hold a shortage claim, a price claim, a co-op and a chargeback whenever the
        open period has a run at all (a shortage claim needs an invoice with a line of two units or more); when
        it has none, the planted payments (`planted_remittances`) still hold every kind."""
        rng = self.rng
        if not runs:
            return []
        invoices = [invoice for _, run in runs for invoice in run]
        shortages = {i.number for i in invoices if rng.random() < SHORTAGE_RATE and i.shortable}
        price_claims = {i.number for i in invoices if rng.random() < PRICE_CLAIM_RATE}
        coops = {day for day, _ in runs if rng.random() < COOP_RATE}
        chargebacks = {day for day, _ in runs if rng.random() < CHARGEBACK_RATE}
        shortable = [i.number for i in invoices if i.shortable]
        if not shortages and shortable:
            shortages.add(rng.choice(shortable))
        price_claims = price_claims or {rng.choice(invoices).number}
        coops = coops or {rng.choice(runs)[0]}
        chargebacks = chargebacks or {rng.choice(runs)[0]}
        payments = []
        for day, run in runs:
            number += rng.randint(3, 40)
            items: list[RemittanceItem] = []
            for invoice in run:
                items.append(
                    RemittanceItem("invoice_payment", invoice.number, invoice.day, invoice.gross, invoice.po_number)
                )
                if invoice.number in price_claims:
                    share = Decimal(rng.choice((2, 3, 5))) / 100
                    amount = -max(Decimal("0.01"), to_money(invoice.gross * share))
                    claimed_on = self._claim_day(invoice, day)
                    items.append(
                        RemittanceItem(
                            "price_claim", invoice.number, claimed_on, amount, invoice.po_number, invoice.number
                        )
                    )
                if invoice.number in shortages:
                    items.append(self._shortage(invoice, day))
            invoiced = sum((invoice.gross for invoice in run), Decimal("0.00"))
            if day in coops:
                reference = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(4))
                reference += f"-{rng.randint(10_000_000, 99_999_999)}"
                amount = -max(Decimal("0.01"), to_money(invoiced * COOP_SHARE))
                items.append(
                    RemittanceItem("coop_agreement", reference, day - timedelta(days=rng.randint(5, 20)), amount)
                )
            if day in chargebacks:
                # Capped at a tenth of the run's invoices so no payment goes negative.
                amount = -min(Decimal(rng.randint(2500, 25000)) / 100, to_money(invoiced / 10))
                reference = f"{rng.randint(10_000, 9_999_999)}VCBSINV"
                items.append(RemittanceItem("chargeback", reference, day - timedelta(days=rng.randint(3, 14)), amount))
            payments.append(Payment(code, str(number), day, tuple(items)))
        return payments

    def _claim_day(self, invoice: SageInvoice, paid_on: date) -> date:
        return min(paid_on - timedelta(days=1), invoice.day + timedelta(days=self.rng.randint(10, 25)))

    def _shortage(self, invoice: SageInvoice, paid_on: date) -> RemittanceItem:
        """Amazon's receiving counted fewer units of one line than were invoiced."""
        value = shortage_value(self.rng, invoice)
        return RemittanceItem(
            "shortage_claim",
            f"{invoice.number}SC",
            self._claim_day(invoice, paid_on),
            -value,
            invoice.po_number,
            invoice.number,
        )
