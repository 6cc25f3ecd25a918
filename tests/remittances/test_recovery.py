"""Exactly once, whatever happens between a POST and its record: a process killed right after Sage answered any
step, or an answer lost after Sage committed it, and the next run leaves the ledger an uninterrupted run leaves.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from decimal import Decimal
from typing import Any

import pytest

from pipelines.settings import EXAMPLE_CONFIG
from tests.remittances.conftest import FULL_PAYMENT_DOCUMENTS, full_payment, ledger, post_invoices

CRASHING_RUN = textwrap.dedent(
    """
    import os, sys
    from datetime import UTC, datetime
    from pathlib import Path
    from pipelines.remittances.batch import run_remittance_batch
    from pipelines.sage200.client import SageClient
    from pipelines.sage200.postings import PostingLog
    from pipelines.settings import Locations, load_business_config

    api, warehouse, config, document_code = sys.argv[1:5]
    record = PostingLog.record

    def dies_before_recording(self, posting, **options):
        if posting.status == "posted" and posting.key.endswith(":" + document_code):
            os._exit(9)  # Sage has the document; the process dies before recording Sage's answer
        return record(self, posting, **options)

    PostingLog.record = dies_before_recording
    locations = Locations.resolve(warehouse=warehouse, sage_url=api, config=config)
    with SageClient(api, "sandbox").connect() as client:
        run_remittance_batch(
            locations, load_business_config(Path(config)), client, clock=lambda: datetime(2026, 3, 15, tzinfo=UTC)
        )
    """
)


def history(warehouse: Any, code: str) -> list[str]:
    rows = warehouse.query(
        "select status from audit.sage_postings where posting_key like ? order by sequence_number", [f"%:{code}"]
    )
    return [status for (status,) in rows]


@pytest.mark.parametrize("document_code", FULL_PAYMENT_DOCUMENTS)
def test_a_run_killed_after_any_step_is_completed_by_the_next(
    sandbox: Any, warehouse: Any, post: Any, uninterrupted_ledger: dict[str, Any], document_code: str
) -> None:
    warehouse.add(full_payment(post_invoices(sandbox)))
    arguments = [sandbox.api, str(warehouse.path), str(EXAMPLE_CONFIG), document_code]
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_RUN, *arguments], capture_output=True, text=True, check=False
    )
    assert crashed.returncode == 9, crashed.stderr
    assert history(warehouse, document_code) == ["attempting"]  # Sage has it; our record does not say so

    summary = post(sandbox.client)

    assert summary.documents["found"] == 1 and summary.posted == ["AMZPAY0001"], summary.lines()
    assert history(warehouse, document_code) == ["attempting", "found"]
    assert ledger(sandbox) == uninterrupted_ledger
    assert summary.clearing is not None and summary.clearing.agrees
    assert sum(post(sandbox.client).documents.values()) == 0


@pytest.mark.parametrize("document_code", FULL_PAYMENT_DOCUMENTS)
def test_an_answer_lost_after_sage_committed_any_step_is_found_not_repeated(
    sandbox: Any, warehouse: Any, post: Any, uninterrupted_ledger: dict[str, Any], document_code: str
) -> None:
    plan = warehouse.add(full_payment(post_invoices(sandbox)))
    impatient = sandbox.new_client(timeout=0.3)
    send = impatient.post

    def hangs_on_the_step(path: str, body: dict[str, Any]) -> Any:
        mine = body.get("second_reference") == f"{plan.payment_number}/{document_code}"
        if mine or (document_code == "AL" and path == "sales_allocations"):
            # Sage commits the document, then answers only after the client has given up.
            sandbox.backoffice.post("faults", {"hang_after_commit": {"count": 1, "seconds": 0.8}})
        return send(path, body)

    impatient.post = hangs_on_the_step
    with impatient:
        summary = post(impatient)

    assert summary.posted == [plan.payment_number], summary.lines()
    assert summary.documents == {"posted": len(FULL_PAYMENT_DOCUMENTS) - 1, "found": 1}
    assert history(warehouse, document_code) == ["attempting", "found"]
    assert ledger(sandbox) == uninterrupted_ledger


def test_an_allocation_made_by_hand_in_sage_is_never_allocated_over(sandbox: Any, warehouse: Any, post: Any) -> None:
    invoices = post_invoices(sandbox)
    plan = warehouse.add(full_payment(invoices))
    sandbox.backoffice.post("faults", {"fail": [{"status": 400, "count": 1, "path_prefix": "/sales_allocations"}]})
    first = post(sandbox.client)
    assert first.incomplete == {plan.payment_number: ["AL failed: An error has occurred."]}
    # Someone allocates part of our receipt to INV-A in Sage meanwhile.
    receipt = sandbox.one("sales_posted_transactions", f"second_reference eq '{plan.payment_number}/RC'")
    sandbox.allocate((invoices.a["id"], Decimal("50.00")), (receipt["id"], Decimal("-50.00")))

    second = post(sandbox.client)
    third = post(sandbox.client)

    [left] = second.incomplete[plan.payment_number]
    assert left.startswith("AL failed: allocated in Sage outside this posting: ")
    assert "RC 50.00 allocated of 312.00 planned" in left
    assert third.incomplete == second.incomplete
    assert history(warehouse, "AL") == ["attempting", "failed", "failed"]  # the conflict recorded once
    assert sandbox.posted(invoices.a["id"])["document_outstanding_value"] == Decimal(
        "70.00"
    )  # only the person's allocation
