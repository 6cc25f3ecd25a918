"""Who let each payment be posted, and why a payment was refused: the remittance gate's audit trail.

An approval is of one plan (its SHA-256), not of a payment: when dbt's plan for the payment changes (a new
version of the remittance, edited mapping data) the earlier approval no longer counts and the payment waits
again. A payment that needs no person (fully matched, no exception, within `approval.posting_threshold`,
`approval.auto_approve` on — dbt's `needs_approval` says so) is approved by avc2sage itself, channel
``auto``. A refusal (closed period, figures that do not add up) is recorded once per plan and reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.warehouse.audit import APPROVAL_CHANNELS, REFUSAL_REASONS, ensure_audit_schema

AUTO_APPROVER = "avc2sage"
CLOSED_PERIOD, FIGURES_DO_NOT_ADD_UP = REFUSAL_REASONS


class ApprovalRefused(ValueError):
    """The payment cannot be approved now; the message says why in words a person acts on."""


class PlanChanged(ApprovalRefused):
    """The plan a person approved (in the dashboard) is no longer the payment's plan."""


@dataclass(frozen=True)
class Approval:
    approval_id: str
    payment_number: str
    plan_sha256: str
    approved_by: str
    approved_at: datetime
    channel: str
    note: str | None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def approval_of(con: duckdb.DuckDBPyConnection, payment_number: str, plan_sha256: str) -> Approval | None:
    """The first approval of this very plan, if any."""
    row = con.execute(
        "select approval_id, payment_number, plan_sha256, approved_by, approved_at, channel, note"
        " from audit.remittance_approvals where payment_number = ? and plan_sha256 = ?"
        " order by sequence_number limit 1",
        [payment_number, plan_sha256],
    ).fetchone()
    return Approval(*row) if row else None


def record_approval(
    con: duckdb.DuckDBPyConnection,
    payment_number: str,
    plan_sha256: str,
    *,
    approved_by: str,
    channel: str,
    note: str | None = None,
    run_id: str | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> Approval:
    if channel not in APPROVAL_CHANNELS:
        raise ValueError(f"unknown approval channel {channel!r}: expected one of {', '.join(APPROVAL_CHANNELS)}")
    approval = Approval(str(uuid.uuid4()), payment_number, plan_sha256, approved_by, clock(), channel, note)
    con.execute(
        "insert into audit.remittance_approvals (approval_id, payment_number, plan_sha256, approved_by, approved_at,"
        " channel, note, run_id) values (?, ?, ?, ?, ?, ?, ?, ?)",
        [approval.approval_id, payment_number, plan_sha256, approved_by, approval.approved_at, channel, note, run_id],
    )
    return approval


def refusal_of(con: duckdb.DuckDBPyConnection, payment_number: str, plan_sha256: str) -> tuple[str, str] | None:
    """The (reason, message) of the latest refusal of this plan, if it was refused."""
    return con.execute(
        "select reason, message from audit.remittance_refusals where payment_number = ? and plan_sha256 = ?"
        " order by sequence_number desc limit 1",
        [payment_number, plan_sha256],
    ).fetchone()


def record_refusal(
    con: duckdb.DuckDBPyConnection,
    payment_number: str,
    plan_sha256: str,
    *,
    reason: str,
    message: str,
    run_id: str | None,
    clock: Callable[[], datetime],
) -> bool:
    """Record that this plan is refused for `reason`; False (nothing written) when it already was."""
    if reason not in REFUSAL_REASONS:
        raise ValueError(f"unknown refusal reason {reason!r}: expected one of {', '.join(REFUSAL_REASONS)}")
    (already,) = con.execute(
        "select count(*) from audit.remittance_refusals where payment_number = ? and plan_sha256 = ? and reason = ?",
        [payment_number, plan_sha256, reason],
    ).fetchone()
    if already:
        return False
    con.execute(
        "insert into audit.remittance_refusals (refusal_id, payment_number, plan_sha256, reason, message, refused_at,"
        " run_id) values (?, ?, ?, ?, ?, ?, ?)",
        [str(uuid.uuid4()), payment_number, plan_sha256, reason, message, clock(), run_id],
    )
    return True


PAYMENT_QUERY = """
select payment_number, plan_sha256, needs_approval, posting_status, refusal_reason
from marts.remittance_payments
where payment_number = ?
"""


def approve(
    warehouse: Path,
    payment_number: str,
    by: str,
    note: str | None = None,
    channel: str = "cli",
    *,
    seen_plan_sha256: str | None = None,
    run_id: str | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> Approval:
    """Approve the payment's current plan (`marts.remittance_payments.plan_sha256`) in the name of `by`.

    Raises ApprovalRefused when the payment is unknown, refused, already posted (or being posted), needs no
    approval, or this plan is approved already; PlanChanged when `seen_plan_sha256` (the plan the person was
    shown, when approving from the dashboard) is no longer the payment's plan.
    """
    if not by.strip():
        raise ApprovalRefused("say who approves the payment (--by NAME)")
    with duckdb.connect(str(warehouse)) as con:
        ensure_audit_schema(con)
        try:
            row = con.execute(PAYMENT_QUERY, [payment_number]).fetchone()
        except duckdb.CatalogException as missing:
            raise ApprovalRefused(
                "the warehouse has no remittance marts yet: run `avc2sage run` once Amazon's remittances arrived"
            ) from missing
        if row is None:
            raise ApprovalRefused(
                f"no payment {payment_number} in marts.remittance_payments: check the number, or run"
                " `avc2sage run` after its remittance arrived"
            )
        _, plan_sha256, needs_approval, posting_status, refusal_reason = row
        if seen_plan_sha256 is not None and seen_plan_sha256 != plan_sha256:
            raise PlanChanged(
                f"the plan of payment {payment_number} changed after it was approved (a new version of the"
                " remittance or edited mapping data): review the new plan and approve it again"
            )
        frozen = con.execute(
            "select frozen_at from audit.remittance_plans where payment_number = ?", [payment_number]
        ).fetchone()
        if frozen is not None or posting_status == "posted":
            since = f" (its posting started {frozen[0]:%Y-%m-%d %H:%M %Z})" if frozen else ""
            raise ApprovalRefused(f"payment {payment_number} is posted or being posted{since}: nothing to approve")
        refused = refusal_of(con, payment_number, plan_sha256)
        if posting_status == "refused" or refused is not None:
            why = refused[1] if refused else (refusal_reason or "refused by the remittance marts")
            raise ApprovalRefused(f"payment {payment_number} is refused and cannot be posted: {why}")
        if not needs_approval:
            raise ApprovalRefused(
                f"payment {payment_number} needs no approval: it is fully matched, has no exception and is within"
                " approval.posting_threshold, so it posts automatically"
            )
        earlier = approval_of(con, payment_number, plan_sha256)
        if earlier is not None:
            raise ApprovalRefused(
                f"payment {payment_number} is already approved by {earlier.approved_by}"
                f" ({earlier.approved_at:%Y-%m-%d %H:%M %Z}, {earlier.channel})"
            )
        return record_approval(
            con,
            payment_number,
            plan_sha256,
            approved_by=by.strip(),
            channel=channel,
            note=note,
            run_id=run_id,
            clock=clock,
        )
