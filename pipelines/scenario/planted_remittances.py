"""Planted remittances: one Amazon payment for each situation remittance reconciliation must handle, with the
outcome expected of every line, so a test can hold the matching, the deductions and the postings to them.

Sage holds no receipt for any Amazon payment: the business posted them by hand before avc2sage, and the
regular weekly payments in the inbox are only those dated after the last closed period (`amazon_side`). The
planted payments pay Sage invoices that no regular payment pays, oldest first: those whose payment runs fell in
the closed periods. Invoices are numbered i1 to i4 below; HAFIN's payments take HAFIN's invoices and HAFIX's
take HAFIX's while there are any (both vendor codes invoice the one Sage customer, so either would match):

    PA (HAFIN, export)  i1 paid in full, and a shortage claim `<i1>SC` against it · i2 paid 90%, the rest left
                        outstanding (short-paid) · i3 paid 75% · i4 paid less a 2% terms discount, and a price
                        claim (`Price variance`) on it
    PB (HAFIX, 820 and export)  the rest of i3 · `<i1>SCR` giving PA's shortage claim back and `<i1>SCRSC`
                        claiming part of it again · a chargeback `<n>VCBSINV` naming i4's PO · co-op
                        `QZPK-20260301` (its VAT invoice is in the seed amazon_vat_invoices.csv) and
                        `HFMK-20260302` (no VAT invoice) · a price protection `IPAPUS<7 digits>` · a provision
                        `<n>-PROVISION FOR RECEIVABLES` and its smaller reversal `...R` · ordinary invoices
    PC (HAFIN, export)  invoice `9999999999`, which Sage does not hold · an invoice written without its leading
                        zeros · an invoice under a reference that names nothing (`AMZ-REMIT-ADJ`) but with its
                        PO and exact amount · an unknown deduction code `ZZ-7781`
    PD (HAFIN, export)  i1 again (paid twice) · an ordinary invoice
    PE (HAFIX, 820 and export)  an ordinary invoice, dated on the last weekday of the last closed period: refused
    PF (HAFIN, export)  a small invoice and a larger chargeback: the net is negative

PA, PB, PC, PD and PF fall on weekdays spread over the open period (after the last close, before as_of), in
that order; their payment numbers rise in the same order, so a payment on the same day as another still comes
after it. The manifest lists every line with its expected classification and match (`manifest_entries`), the
exceptions they raise (`anomalies`) and what each invoice they touch has outstanding in Sage afterwards
(`expected_outstanding`). Nothing is planted when the scenario has no closed period, no open day before as_of
or too few unpaid invoices (a scale of a few days).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pipelines.scenario.amazon_documents import Payment, RemittanceItem
from pipelines.scenario.formats import iso, money, to_money
from pipelines.scenario.manifest import Anomaly
from pipelines.scenario.profile import VendorProfile
from pipelines.scenario.sage_invoices import SageInvoice, shortage_value

SHORT_PAID = "remittance_invoice_short_paid"
LINE_UNMATCHED = "remittance_line_unmatched"
UNKNOWN_DEDUCTION = "remittance_unknown_deduction"
PAID_TWICE = "remittance_invoice_paid_twice"
IN_CLOSED_PERIOD = "remittance_payment_in_closed_period"
NEGATIVE_NET = "remittance_negative_net"

COOP_WITH_VAT_INVOICE = "QZPK-20260301"  # dbt_project/seeds/amazon_vat_invoices.csv holds its VAT invoice
COOP_WITHOUT_VAT_INVOICE = "HFMK-20260302"
UNKNOWN_INVOICE = "9999999999"
UNREADABLE_REFERENCE = "AMZ-REMIT-ADJ"
UNKNOWN_CODE = "ZZ-7781"
UNKNOWN_CODE_DESCRIPTION = "Miscellaneous adjustment"
SHORT_PAID_SHARE = Decimal("0.90")  # of i2; the rest stays outstanding
PART_PAID_SHARE = Decimal("0.75")  # of i3 in PA; PB pays the rest
TERMS_DISCOUNT_SHARE = Decimal("0.02")
PRICE_CLAIM_SHARE = Decimal("0.03")
# PB's adjustments as shares of the invoices it pays, so its net stays positive whatever the invoices.
PB_SHARES = {
    "chargeback": Decimal("0.04"),
    "coop_with_vat_invoice": Decimal("0.03"),
    "coop_without_vat_invoice": Decimal("0.02"),
    "price_protection": Decimal("0.02"),
    "provision": Decimal("0.04"),
    "provision_reversal": Decimal("0.02"),
}
PAYMENT_NUMBERS = (4_200_000_000, 4_200_900_000)  # apart from the regular runs' 4_100_000_000 onwards


@dataclass(frozen=True)
class Expected:
    """What reconciliation must make of one line (the remittance contract's terms)."""

    line_kind: str
    match_method: str | None = None  # exact | normalised | po_amount, for a matched invoice payment
    match_status: str = "not_applicable"  # matched | partially_matched | unmatched for invoice payments
    invoice: str | None = None  # the Sage invoice an invoice payment matches
    root_invoice: str | None = None  # the Sage invoice a deduction is taken against
    anomaly: tuple[str, str] | None = None  # (exception kind, detail) the line raises


@dataclass(frozen=True)
class PlantedLine:
    item: RemittanceItem
    expected: Expected


@dataclass
class PlantedPayment:
    label: str  # PA to PF, as the module docstring names them
    purpose: str
    payment: Payment
    lines: list[PlantedLine]
    anomaly: tuple[str, str] | None = None  # (exception kind, detail) the payment as a whole raises
    refused: bool = False  # posts nothing, so settles no invoice in Sage

    def numbered(self) -> list[tuple[int, PlantedLine]]:
        """The lines with their numbers: their 1-based place in the order both renderings list them."""
        by_item = {id(line.item): line for line in self.lines}
        return [(n, by_item[id(item)]) for n, item in enumerate(self.payment.ordered_items, start=1)]


@dataclass
class PlantedRemittances:
    payments: list[PlantedPayment] = field(default_factory=list)
    invoices: dict[str, SageInvoice] = field(default_factory=dict)  # every invoice they pay or claim against

    def manifest_entries(self) -> list[dict[str, Any]]:
        return [
            {
                "label": planted.label,
                "payment_number": planted.payment.payment_number,
                "vendor_code": planted.payment.vendor_code,
                "payment_date": iso(planted.payment.payment_date),
                "amount": money(planted.payment.amount),
                "purpose": planted.purpose,
                "lines": [_line_entry(number, line) for number, line in planted.numbered()],
            }
            for planted in self.payments
        ]

    def anomalies(self) -> list[Anomaly]:
        anomalies = []
        for planted in self.payments:
            number = planted.payment.payment_number
            for line_number, line in planted.numbered():
                if line.expected.anomaly is not None:
                    kind, detail = line.expected.anomaly
                    # A short-pay is the invoice's exception; the others are the line's.
                    reference = line.expected.invoice if kind == SHORT_PAID else f"{number}#{line_number}"
                    anomalies.append(Anomaly(kind, reference or "", detail))
            if planted.anomaly is not None:
                anomalies.append(Anomaly(planted.anomaly[0], number, planted.anomaly[1]))
        return anomalies

    def expected_outstanding(self) -> dict[str, str]:
        """What each invoice the planted payments touch has outstanding in Sage once they are posted: its gross
        less what the invoice lines matched to it settle (paid + terms discount), in payment order, never below
        zero (a second payment's cash stays on account). A refused payment settles nothing. The regular payments
        pay none of these invoices, so they change nothing here."""
        outstanding = {number: invoice.gross for number, invoice in self.invoices.items()}
        lines = [
            (planted.payment.payment_date, planted.payment.payment_number, line_number, line)
            for planted in self.payments
            if not planted.refused
            for line_number, line in planted.numbered()
        ]
        for *_, line in sorted(lines, key=lambda entry: entry[:3]):
            invoice = line.expected.invoice
            if invoice is not None:
                settled = line.item.amount + line.item.discount
                outstanding[invoice] -= max(Decimal(0), min(settled, outstanding[invoice]))
        return {number: money(value) for number, value in sorted(outstanding.items())}

    @property
    def line_count(self) -> int:
        return sum(len(planted.lines) for planted in self.payments)


def _line_entry(number: int, line: PlantedLine) -> dict[str, Any]:
    item, expected = line.item, line.expected
    return {
        "line_number": number,
        "invoice_number": item.reference,
        "description": item.text,
        "po_number": item.po_number,
        "amount": money(item.amount),
        "discount_amount": money(item.discount),
        "line_kind": expected.line_kind,
        "expected_match_method": expected.match_method,
        "expected_match_status": expected.match_status,
        "expected_invoice_reference": expected.invoice,
        "root_invoice_number": expected.root_invoice,
    }


class _TooFewInvoices(Exception):
    """The scenario has not enough unpaid invoices dated early enough for every planted payment."""


def plant_remittances(
    rng: random.Random,
    invoices: list[SageInvoice],
    regular: list[Payment],
    profile: VendorProfile,
    closed_through: date | None,
    as_of: date,
) -> PlantedRemittances:
    """The planted payments, paying invoices of `invoices` that no `regular` payment pays."""
    if closed_through is None or not (open_days := _open_days(closed_through, as_of)):
        return PlantedRemittances()
    paid = {item.reference for payment in regular for item in payment.items if item.kind == "invoice_payment"}
    pool = sorted((invoice for invoice in invoices if invoice.number not in paid), key=lambda i: i.number)
    once = {po for po, count in Counter(invoice.po_number for invoice in invoices).items() if count == 1}
    # The payments fall on the open days, the first on the first one, and pay invoices dated before them. When
    # the regular payments have paid every invoice that old (a sample dated late in a month), the planted ones
    # start a day later, and so on.
    for first in range(len(open_days)):
        try:
            planter = _Planter(rng, list(pool), once, profile)
            return planter.plant(open_days[first:], _last_weekday(closed_through), closed_through)
        except _TooFewInvoices:
            continue
    return PlantedRemittances()


def _open_days(closed_through: date, as_of: date) -> list[date]:
    """The days after the last closed period and before as_of: its weekdays, or every day when it has none."""
    days = [closed_through + timedelta(days=n) for n in range(1, (as_of - closed_through).days)]
    return [day for day in days if day.weekday() < 5] or days


def _last_weekday(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _share(amount: Decimal, share: Decimal) -> Decimal:
    return max(Decimal("0.01"), to_money(amount * share))


def _paid(invoice: SageInvoice, reference: str | None = None, **amounts: Decimal) -> RemittanceItem:
    """The invoice paid, under its own number unless `reference` is given: in full unless `amounts` (amount,
    gross, discount, remaining) say otherwise."""
    amounts = {"amount": invoice.gross} | amounts
    return RemittanceItem(
        "invoice_payment", reference or invoice.number, invoice.day, po_number=invoice.po_number, **amounts
    )


def _matched(invoice: SageInvoice, method: str = "exact", status: str = "matched", **options: Any) -> Expected:
    return Expected("invoice_payment", method, status, invoice.number, **options)


@dataclass(frozen=True)
class _FirstPayment:
    """PA, and what the later payments take up of it."""

    planted: PlantedPayment
    claimed: SageInvoice  # i1: paid in full, a shortage claim against it
    part_paid: SageInvoice  # i3: the rest is PB's
    part_paid_amount: Decimal
    discounted: SageInvoice  # i4: its PO is named by PB's chargeback
    shortage: Decimal


class _Planter:
    def __init__(self, rng: random.Random, pool: list[SageInvoice], once: set[str], profile: VendorProfile) -> None:
        self.rng = rng
        self.pool = pool
        self.once = once  # POs with a single invoice: a PO + amount match then has one candidate
        self.hafin = profile.vendor_code
        self.hafix = profile.x12_vendor_code
        self.used: dict[str, SageInvoice] = {}
        self.number = rng.randint(*PAYMENT_NUMBERS)

    def take(
        self,
        vendor_code: str,
        before: date,
        where: Callable[[SageInvoice], bool] = lambda _: True,
        *,
        smallest: bool = False,
    ) -> SageInvoice:
        """The oldest (or `smallest`) unused invoice dated before `before` that `where` accepts, of
        `vendor_code` if it has one."""
        fits = [invoice for invoice in self.pool if invoice.day < before and where(invoice)]
        ours = [invoice for invoice in fits if invoice.vendor_code == vendor_code] or fits
        if not ours:
            raise _TooFewInvoices
        invoice = min(ours, key=lambda i: (i.gross, i.number)) if smallest else ours[0]
        self.pool.remove(invoice)
        self.used[invoice.number] = invoice
        return invoice

    def payment(self, label: str, code: str, day: date, lines: list[PlantedLine], purpose: str) -> PlantedPayment:
        self.number += self.rng.randint(3, 40)
        items = tuple(line.item for line in lines)
        return PlantedPayment(label, purpose, Payment(code, str(self.number), day, items), lines)

    def claim_day(self, invoice: SageInvoice, paid_on: date) -> date:
        return min(paid_on - timedelta(days=1), invoice.day + timedelta(days=self.rng.randint(10, 25)))

    def notice_day(self, paid_on: date) -> date:
        """When Amazon raised an adjustment the payment takes: a few days before it."""
        return paid_on - timedelta(days=self.rng.randint(3, 14))

    def chargeback_reference(self) -> str:
        return f"{self.rng.randint(10_000, 9_999_999)}VCBSINV"

    def plant(self, open_days: list[date], closed_day: date, closed_through: date) -> PlantedRemittances:
        pa_day, pb_day, pc_day, pd_day, pf_day = (open_days[round(k * (len(open_days) - 1) / 4)] for k in range(5))
        first = self.pa(pa_day)
        payments = [first.planted, self.pb(pb_day, first), self.pc(pc_day), self.pd(pd_day, first)]
        # A payment dated in the closed period pays an invoice dated before it; when Sage holds none that old (the
        # sample's invoices all fall after the last closed period), there is no such payment to plant.
        if any(invoice.day < closed_day for invoice in self.pool):
            payments.append(self.pe(closed_day, closed_through))
        payments.append(self.pf(pf_day))
        return PlantedRemittances(payments, dict(sorted(self.used.items())))

    # the payments -------------------------------------------------------------------------------------------
    def pa(self, day: date) -> _FirstPayment:
        i1 = self.take(self.hafin, day, lambda invoice: invoice.shortable)
        i2, i3, i4 = (self.take(self.hafin, day) for _ in range(3))
        shortage = shortage_value(self.rng, i1)
        short_paid = to_money(i2.gross * SHORT_PAID_SHARE)
        part_paid = to_money(i3.gross * PART_PAID_SHARE)
        discount = to_money(i4.gross * TERMS_DISCOUNT_SHARE)
        left = i2.gross - short_paid
        short_pay = (SHORT_PAID, f"PA paid {money(short_paid)} of invoice {i2.number}'s {money(i2.gross)}; no later "
                     f"payment pays the {money(left)} left")  # fmt: skip
        lines = [
            PlantedLine(_paid(i1), _matched(i1)),
            PlantedLine(
                RemittanceItem(
                    "shortage_claim", f"{i1.number}SC", self.claim_day(i1, day), -shortage, i1.po_number, i1.number
                ),
                Expected("shortage_claim", root_invoice=i1.number),
            ),
            PlantedLine(
                _paid(i2, amount=short_paid, gross=i2.gross, remaining=left),
                _matched(i2, status="partially_matched", anomaly=short_pay),
            ),
            PlantedLine(
                _paid(i3, amount=part_paid, gross=i3.gross, remaining=i3.gross - part_paid),
                _matched(i3, status="partially_matched"),
            ),
            PlantedLine(_paid(i4, amount=i4.gross - discount, discount=discount), _matched(i4)),
            PlantedLine(
                RemittanceItem(
                    "price_claim",
                    i4.number,
                    self.claim_day(i4, day),
                    -_share(i4.gross, PRICE_CLAIM_SHARE),
                    i4.po_number,
                    i4.number,
                ),
                Expected("price_claim", root_invoice=i4.number),
            ),
        ]
        purpose = (
            f"invoice {i1.number} in full with a shortage claim; {i2.number} short-paid, the rest left outstanding; "
            f"{i3.number} part-paid, PB pays the rest; {i4.number} less a 2% terms discount, with a price claim"
        )
        planted = self.payment("PA", self.hafin, day, lines, purpose)
        return _FirstPayment(planted, i1, i3, part_paid, i4, shortage)

    def pb(self, day: date, first: _FirstPayment) -> PlantedPayment:
        i1, i3, i4 = first.claimed, first.part_paid, first.discounted
        rest = i3.gross - first.part_paid_amount
        invoices = [self.take(self.hafix, day), self.take(self.hafix, day)]
        # Invoices enough for the revised claim and the price protection (credit notes) to be allocated in full.
        while rest + sum(invoice.gross for invoice in invoices) < 2 * first.shortage:
            invoices.append(self.take(self.hafix, day))
        base = rest + sum(invoice.gross for invoice in invoices)
        provision = f"{self.rng.randint(1_000_000, 9_999_999)}-PROVISION FOR RECEIVABLES"
        claimed_on = max(first.planted.payment.payment_date, day - timedelta(days=1))

        def claim(kind: str, suffix: str, amount: Decimal) -> PlantedLine:
            item = RemittanceItem(kind, f"{i1.number}{suffix}", claimed_on, amount, i1.po_number, i1.number)
            return PlantedLine(item, Expected(kind, root_invoice=i1.number))

        def adjustment(kind: str, reference: str, share: str, po_number: str | None = None) -> PlantedLine:
            amount = _share(base, PB_SHARES[share]) * (1 if kind == "provision_reversal" else -1)
            return PlantedLine(RemittanceItem(kind, reference, self.notice_day(day), amount, po_number), Expected(kind))

        lines = [
            PlantedLine(_paid(i3, amount=rest, gross=i3.gross), _matched(i3)),
            claim("claim_reversal", "SCR", first.shortage),
            claim("revised_claim", "SCRSC", -_share(first.shortage, Decimal("0.5"))),
            adjustment("chargeback", self.chargeback_reference(), "chargeback", i4.po_number),
            adjustment("coop_agreement", COOP_WITH_VAT_INVOICE, "coop_with_vat_invoice"),
            adjustment("coop_agreement", COOP_WITHOUT_VAT_INVOICE, "coop_without_vat_invoice"),
            adjustment("price_protection", f"IPAPUS{self.rng.randint(0, 9_999_999):07d}", "price_protection"),
            adjustment("provision", provision, "provision"),
            adjustment("provision_reversal", f"{provision}R", "provision_reversal"),
            *(PlantedLine(_paid(invoice), _matched(invoice)) for invoice in invoices),
        ]
        purpose = (
            f"the rest of invoice {i3.number}; shortage claim {i1.number}SC reversed and revised; a chargeback for "
            f"PO {i4.po_number} (invoice {i4.number}, paid by PA); co-op with and without Amazon's VAT invoice; "
            "price protection; a provision and its reversal; ordinary invoices"
        )
        return self.payment("PB", self.hafix, day, lines, purpose)

    def pc(self, day: date) -> PlantedPayment:
        unpadded = self.take(self.hafin, day)
        by_po = self.take(self.hafin, day, lambda invoice: invoice.po_number in self.once)
        unknown = Decimal(self.rng.randint(5_000, 40_000)) / 100
        deducted = -Decimal(self.rng.randint(500, 5_000)) / 100
        on_account = (LINE_UNMATCHED, f"PC pays invoice {UNKNOWN_INVOICE}, which Sage does not hold: "
                      f"{money(unknown)} on account")  # fmt: skip
        to_suspense = (UNKNOWN_DEDUCTION, f"PC deducts {money(-deducted)} as {UNKNOWN_CODE} "
                       f"({UNKNOWN_CODE_DESCRIPTION}), which no deduction pattern knows: to suspense")  # fmt: skip
        lines = [
            PlantedLine(
                RemittanceItem("invoice_payment", UNKNOWN_INVOICE, self.notice_day(day), unknown),
                Expected("invoice_payment", match_status="unmatched", anomaly=on_account),
            ),
            PlantedLine(_paid(unpadded, str(int(unpadded.number))), _matched(unpadded, "normalised")),
            PlantedLine(_paid(by_po, UNREADABLE_REFERENCE), _matched(by_po, "po_amount")),
            PlantedLine(
                RemittanceItem(
                    "other", UNKNOWN_CODE, self.notice_day(day), deducted, description=UNKNOWN_CODE_DESCRIPTION
                ),
                Expected("other", anomaly=to_suspense),
            ),
        ]
        purpose = (
            f"an unknown invoice; invoice {unpadded.number} written {int(unpadded.number)}; invoice {by_po.number} "
            f"under {UNREADABLE_REFERENCE} with its PO {by_po.po_number} and exact amount; an unknown deduction code"
        )
        return self.payment("PC", self.hafin, day, lines, purpose)

    def pd(self, day: date, first: _FirstPayment) -> PlantedPayment:
        i1 = first.claimed
        ordinary = self.take(self.hafin, day)
        twice = (PAID_TWICE, f"PD pays invoice {i1.number} ({money(i1.gross)}) again, which PA "
                 f"({first.planted.payment.payment_number}) settled in full: the cash stays on account")  # fmt: skip
        lines = [
            PlantedLine(_paid(i1), _matched(i1, status="partially_matched", anomaly=twice)),
            PlantedLine(_paid(ordinary), _matched(ordinary)),
        ]
        purpose = f"a duplicate payment: invoice {i1.number} again (PA paid it), and invoice {ordinary.number}"
        return self.payment("PD", self.hafin, day, lines, purpose)

    def pe(self, day: date, closed_through: date) -> PlantedPayment:
        invoice = self.take(self.hafix, day)
        purpose = f"invoice {invoice.number}, in a payment dated in the closed period"
        planted = self.payment("PE", self.hafix, day, [PlantedLine(_paid(invoice), _matched(invoice))], purpose)
        planted.refused = True
        planted.anomaly = (
            IN_CLOSED_PERIOD,
            f"PE is dated {iso(day)}, in the periods Sage closed up to {iso(closed_through)}: refused, nothing "
            f"posted, invoice {invoice.number} stays outstanding",
        )
        return planted

    def pf(self, day: date) -> PlantedPayment:
        invoice = self.take(self.hafin, day, smallest=True)
        charged = -(invoice.gross + Decimal(self.rng.randint(2_500, 10_000)) / 100)
        chargeback = RemittanceItem("chargeback", self.chargeback_reference(), self.notice_day(day), charged)
        lines = [PlantedLine(_paid(invoice), _matched(invoice)), PlantedLine(chargeback, Expected("chargeback"))]
        planted = self.payment("PF", self.hafin, day, lines, f"invoice {invoice.number} and a larger chargeback")
        planted.anomaly = (
            NEGATIVE_NET,
            f"PF pays invoice {invoice.number} ({money(invoice.gross)}) and deducts a {money(-charged)} chargeback: "
            f"net {money(planted.payment.amount)}",
        )
        return planted
