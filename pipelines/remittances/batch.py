"""The remittance batch: every Amazon payment dbt planned, gated, then posted to Sage one payment at a time.

Per payment, oldest first:

1. **Already started** (its plan frozen): post whatever documents are not settled yet, from the frozen plan.
2. Otherwise **the gate**: refused by the marts (figures), or its plan fails the balance checks here, or Sage
   says its date is in a closed period (`POST transaction_date_validation`) → a refusal is recorded, nothing
   is posted; needs approval and this plan is not approved → it waits (`avc2sage approve`); needs none →
   avc2sage approves it (channel ``auto``). Then the plan is frozen and posting starts.
3. **The documents, in order**: credit notes, the receipt into the clearing bank, the allocation, the bank
   payment and bank receipt, the transfer of the net. Each through `post_once` under its own key. A document
   Sage refuses is recorded with Sage's message and the payment's other documents still post; the allocation
   waits until every document it applies is in Sage. The next run retries what is left.

Then the clearing bank is read back from Sage and checked (`reconciliation`). One payment failing never
stops another.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.remittances.approval import (
    AUTO_APPROVER,
    CLOSED_PERIOD,
    FIGURES_DO_NOT_ADD_UP,
    approval_of,
    record_approval,
    record_refusal,
    refusal_of,
)
from pipelines.remittances.plan import ALLOCATION, Payment, freeze, plan_problems, plan_table, read_payments
from pipelines.remittances.posting import (
    RESOURCES,
    PlanNotPostable,
    SageAccounts,
    allocation_state,
    date_refusal,
    latest_postings,
    post_document,
)
from pipelines.remittances.reconciliation import ClearingBankCheck, check_clearing_bank
from pipelines.sage200.client import SageClient
from pipelines.sage200.postings import Posting, PostingLog
from pipelines.settings import BusinessConfig, Locations
from pipelines.warehouse.audit import REFUSAL_REASONS, ensure_audit_schema

log = logging.getLogger(__name__)

# What a payment is, as the dry run and the batch say it.
POSTED = "posted"
POSTING = "posting"  # frozen, some documents still to post
REFUSED = "refused"
AWAITING_APPROVAL = "awaiting_approval"
APPROVED = "approved"
AUTO_APPROVABLE = "auto_approvable"


@dataclass
class RemittanceSummary:
    """What one run did to the payments, and what the clearing bank showed afterwards."""

    posted: list[str] = field(default_factory=list)  # payments completed in this run
    already_posted: int = 0
    incomplete: dict[str, list[str]] = field(default_factory=dict)  # payment → each document left, and why
    awaiting_approval: dict[str, str] = field(default_factory=dict)  # payment → why it needs a person
    refused: dict[str, str] = field(default_factory=dict)  # payment → why
    not_done: dict[str, str] = field(default_factory=dict)  # payment → the error that stopped it
    documents: Counter[str] = field(default_factory=Counter)  # posting status → documents, this run
    clearing: ClearingBankCheck | None = None

    def lines(self) -> list[str]:
        found = self.documents["found"] + self.documents["found_existing"]
        lines = [
            f"{len(self.posted)} payment(s) posted in full to Sage ({self.documents['posted']} document(s) posted"
            + (f", {found} found already there" if found else "")
            + f"); {self.already_posted} posted before"
        ]
        for number, why in sorted(self.awaiting_approval.items()):
            lines.append(f"payment {number} awaiting approval: {why}")
        lines += [f"payment {number} refused: {why}" for number, why in sorted(self.refused.items())]
        lines += [f"payment {number} incomplete: {'; '.join(left)}" for number, left in sorted(self.incomplete.items())]
        lines += [f"payment {number} not done: {why}" for number, why in sorted(self.not_done.items())]
        if self.clearing is not None:
            lines += self.clearing.lines()
        return lines


def _utc_now() -> datetime:
    return datetime.now(UTC)


def run_remittance_batch(
    locations: Locations,
    config: BusinessConfig,
    client: SageClient,
    *,
    clock: Callable[[], datetime] = _utc_now,
    run_id: str | None = None,
) -> RemittanceSummary:
    """Post every payment that may be posted (after a dbt build), then check the clearing bank."""
    summary = RemittanceSummary()
    clearing_bank = config.banks.clearing
    with duckdb.connect(str(locations.warehouse)) as con:
        ensure_audit_schema(con)
        payments = read_payments(con)
        postings = PostingLog(con, run_id=run_id, clock=clock)
        posted_before = latest_postings(con)
        accounts = SageAccounts(client)
        started = []
        for payment in payments:
            try:
                if not payment.frozen:
                    if not _passes_gate(con, client, payment, clearing_bank, summary, run_id, clock):
                        continue
                    freeze(con, payment, run_id=run_id, clock=clock)
                    payment = replace(payment, frozen=True)
                started.append(payment)
                _post_payment(client, postings, posted_before, payment, accounts, clearing_bank, summary)
            except Exception as error:  # one payment failing never stops the others; the next run retries it
                log.exception("payment %s failed", payment.payment_number)
                summary.not_done[payment.payment_number] = f"{type(error).__name__}: {error}"
        summary.clearing = check_clearing_bank(
            con, client, clearing_bank, started, latest_postings(con), run_id=run_id, clock=clock
        )
    return summary


def _passes_gate(
    con: duckdb.DuckDBPyConnection,
    client: SageClient,
    payment: Payment,
    clearing_bank: str,
    summary: RemittanceSummary,
    run_id: str | None,
    clock: Callable[[], datetime],
) -> bool:
    """Whether the payment may start posting now; when not, why is recorded (refusal) or reported (waiting)."""
    number = payment.payment_number

    def refuse(reason: str, message: str) -> bool:
        record_refusal(con, number, payment.plan_sha256, reason=reason, message=message, run_id=run_id, clock=clock)
        summary.refused[number] = message
        return False

    if payment.posting_status == REFUSED:
        return refuse(*_marts_refusal(payment))
    problems = plan_problems(payment, clearing_bank)
    if problems:
        return refuse(FIGURES_DO_NOT_ADD_UP, "the plan does not add up: " + "; ".join(problems))
    # Before approval, so nobody is asked to approve a payment Sage would refuse.
    closed = date_refusal(client, payment)
    if closed is not None:
        return refuse(CLOSED_PERIOD, closed)
    if approval_of(con, number, payment.plan_sha256) is not None:
        return True
    if payment.needs_approval:
        summary.awaiting_approval[number] = payment.approval_reasons or "needs a person's approval"
        return False
    record_approval(
        con, number, payment.plan_sha256, approved_by=AUTO_APPROVER, channel="auto", run_id=run_id, clock=clock
    )
    return True


def _marts_refusal(payment: Payment) -> tuple[str, str]:
    """The refusal the marts decided: its reason as the audit trail names reasons, and the figures behind it."""
    reason = payment.refusal_reason if payment.refusal_reason in REFUSAL_REASONS else FIGURES_DO_NOT_ADD_UP
    return reason, (
        f"refused by the remittance marts ({payment.refusal_reason or 'no reason given'}): net paid"
        f" {payment.net_paid}, invoices {payment.invoices_gross}, deductions {payment.deductions_total}"
    )


def _post_payment(
    client: SageClient,
    postings: PostingLog,
    posted_before: dict[str, Posting],
    payment: Payment,
    accounts: SageAccounts,
    clearing_bank: str,
    summary: RemittanceSummary,
) -> None:
    """Post the payment's documents not yet in Sage, in plan order; Sage is called only for those."""
    posted_ids: dict[str, int] = {}
    left: list[str] = []
    posted_now = False
    for document in payment.documents():
        known = posted_before.get(payment.posting_key(document.code))
        if known is not None and known.is_settled:
            posted_ids[document.code] = known.sage_id
            continue
        if document.step == ALLOCATION:
            waiting = [code for code in document.applied_codes if code not in posted_ids]
            if waiting:
                left.append(f"{document.code} waits for {', '.join(waiting)}")
                continue
            conflict = allocation_state(client, document, posted_ids).conflict
            if conflict is not None:
                _record_failure(postings, payment, document.code, RESOURCES[document.step], conflict)
                left.append(f"{document.code} failed: {conflict}")
                continue
        try:
            posting = post_document(client, postings, payment, document, accounts, posted_ids, clearing_bank)
        except PlanNotPostable as error:
            _record_failure(postings, payment, document.code, RESOURCES[document.step], str(error))
            left.append(f"{document.code} failed: {error}")
            continue
        summary.documents[posting.status] += 1
        if posting.is_settled:
            posted_ids[document.code] = posting.sage_id
            posted_now = True
        else:
            left.append(f"{document.code} {posting.status}: {posting.message}")
    if left:
        summary.incomplete[payment.payment_number] = left
    elif posted_now:
        summary.posted.append(payment.payment_number)
    else:
        summary.already_posted += 1


def _record_failure(postings: PostingLog, payment: Payment, code: str, resource: str, message: str) -> None:
    """A document that could not even be sent, recorded once per distinct message (runs retry it)."""
    key = payment.posting_key(code)
    latest = postings.latest(key)
    if latest is not None and latest.status == "failed" and latest.message == message:
        return
    failure = Posting(key=key, status="failed", message=message, source_version=payment.plan_sha256)
    postings.record(failure, resource=resource, request_sha256="")


# --- the dry run ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedPayment:
    """A payment as the dry run shows it: where it stands, and why."""

    payment: Payment
    status: str  # posted, posting, refused, awaiting_approval, approved, auto_approvable
    why: str | None

    def lines(self) -> list[str]:
        payment = self.payment
        head = (
            f"payment {payment.payment_number} ({payment.vendor_code}, {payment.payment_date}, net"
            f" {payment.net_paid:,.2f} {payment.currency}): {self.status.replace('_', ' ')}"
        )
        return [head + (f" — {self.why}" if self.why else ""), *(f"    {line}" for line in plan_table(payment.rows))]


def planned_payments(warehouse: Path, clearing_bank: str) -> list[PlannedPayment]:
    """Every payment with its plan and where it stands, from the warehouse alone (no Sage call, nothing written).

    A payment's date is checked with Sage only when it is posted, so a payment in a closed period shows here
    as it would stand otherwise until a posting run refuses it.
    """
    with duckdb.connect(str(warehouse), read_only=True) as con:
        payments = read_payments(con)
        posted = latest_postings(con)
        return [_planned(con, posted, payment, clearing_bank) for payment in payments]


def _planned(
    con: duckdb.DuckDBPyConnection, posted: dict[str, Posting], payment: Payment, clearing_bank: str
) -> PlannedPayment:
    number, sha = payment.payment_number, payment.plan_sha256
    if payment.frozen:
        left = []
        for document in payment.documents():
            posting = posted.get(payment.posting_key(document.code))
            if posting is None or not posting.is_settled:
                left.append(f"{document.code} {posting.status if posting else 'not posted yet'}")
        if left:
            return PlannedPayment(payment, POSTING, "left: " + ", ".join(left))
        return PlannedPayment(payment, POSTED, None)
    if payment.posting_status == REFUSED:
        return PlannedPayment(payment, REFUSED, _marts_refusal(payment)[1])
    refused = refusal_of(con, number, sha)
    if refused is not None:
        return PlannedPayment(payment, REFUSED, refused[1])
    problems = plan_problems(payment, clearing_bank)
    if problems:
        return PlannedPayment(payment, REFUSED, "the plan does not add up: " + "; ".join(problems))
    approval = approval_of(con, number, sha)
    if approval is not None:
        return PlannedPayment(payment, APPROVED, f"by {approval.approved_by} ({approval.channel})")
    if payment.needs_approval:
        return PlannedPayment(payment, AWAITING_APPROVAL, payment.approval_reasons or "needs a person's approval")
    return PlannedPayment(payment, AUTO_APPROVABLE, "fully matched, no exception, within the threshold")
