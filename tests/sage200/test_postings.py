"""Exactly-once writes: whatever happens between a POST and its record, Sage ends up with one document.

Real HTTP against the sandbox, a real DuckDB audit table, and for the crash a real process killed right
after Sage answered and before the answer was recorded.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.sage200.client import SageClient, dumps
from pipelines.sage200.postings import PostingLog, post_once

D = Decimal


def order_body(sandbox: Any, po_number: str, **overrides: Any) -> dict[str, Any]:
    line = sandbox.order_line(0, D("1"), D("60.00"), case=True)
    return {
        "customer_id": sandbox.ids.customer,
        "document_no": "",
        "customer_document_no": po_number,
        "lines": [line],
        **overrides,
    }


def orders_for(sandbox: Any, po_number: str) -> list[dict[str, Any]]:
    return sandbox.client.get("sop_orders", {"$filter": f"customer_document_no eq '{po_number}'"})


def post_order(client: SageClient, postings: PostingLog, sandbox: Any, po_number: str, **overrides: Any):
    def find() -> dict[str, Any] | None:
        found = client.get("sop_orders", {"$filter": f"customer_document_no eq '{po_number}'", "$top": 1})
        return found[0] if found else None

    return post_once(
        client,
        postings,
        key=f"sop_order:TEST:{po_number}",
        resource="sop_orders",
        body=order_body(sandbox, po_number, **overrides),
        find_existing=find,
        reference_of=lambda order: order["document_no"],
        source_version="v1",
    )


def history(con: duckdb.DuckDBPyConnection, key: str) -> list[str]:
    rows = con.execute(
        "select status from audit.sage_postings where posting_key = ? order by sequence_number", [key]
    ).fetchall()
    return [status for (status,) in rows]


@pytest.fixture
def postings(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        yield PostingLog(con, run_id="test-run")


def test_posts_once_then_answers_from_its_own_record(sandbox: Any, postings: PostingLog) -> None:
    first = post_order(sandbox.client, postings, sandbox, "PO-ONCE-1")
    second = post_order(sandbox.client, postings, sandbox, "PO-ONCE-1")
    assert first.status == "posted" and first.is_settled
    assert second == first  # read back from audit.sage_postings, no call made
    [order] = orders_for(sandbox, "PO-ONCE-1")
    assert (first.sage_id, first.sage_reference) == (order["id"], order["document_no"])
    assert history(postings.con, "sop_order:TEST:PO-ONCE-1") == ["attempting", "posted"]


def test_a_document_already_in_sage_is_found_not_posted(sandbox: Any, postings: PostingLog) -> None:
    sandbox.client.post("sop_orders", order_body(sandbox, "PO-KEYED-BY-HAND"))
    posting = post_order(sandbox.client, postings, sandbox, "PO-KEYED-BY-HAND")
    assert posting.status == "found_existing" and posting.message == "already in Sage before any POST of ours"
    assert posting.is_settled and not posting.is_ours
    assert len(orders_for(sandbox, "PO-KEYED-BY-HAND")) == 1


def test_timeout_after_commit_is_found_not_posted_twice(sandbox: Any, postings: PostingLog) -> None:
    sandbox.backoffice.post("faults", {"hang_after_commit": {"count": 1, "seconds": 1.5}})
    with sandbox.new_client(timeout=0.5) as impatient:
        posting = post_order(impatient, postings, sandbox, "PO-HANG-1")
        again = post_order(impatient, postings, sandbox, "PO-HANG-1")
    assert posting.status == "found" and posting.message == "found in Sage after an unanswered POST"
    assert again == posting
    assert len(orders_for(sandbox, "PO-HANG-1")) == 1
    assert history(postings.con, "sop_order:TEST:PO-HANG-1") == ["attempting", "found"]


def test_a_500_on_the_post_is_looked_up_and_tried_again_next_time(sandbox: Any, postings: PostingLog) -> None:
    sandbox.backoffice.post("faults", {"fail": [{"status": 500, "count": 1, "method": "POST"}]})
    first = post_order(sandbox.client, postings, sandbox, "PO-500-1")
    assert first.status == "unknown" and not first.is_settled
    assert orders_for(sandbox, "PO-500-1") == []
    second = post_order(sandbox.client, postings, sandbox, "PO-500-1")
    assert second.status == "posted"
    assert len(orders_for(sandbox, "PO-500-1")) == 1
    assert history(postings.con, "sop_order:TEST:PO-500-1") == ["attempting", "unknown", "attempting", "posted"]


def test_a_refused_post_records_sages_message(sandbox: Any, postings: PostingLog) -> None:
    posting = post_order(sandbox.client, postings, sandbox, "PO-BAD-1", customer_id=999_999)
    assert posting.status == "failed"
    assert posting.message == "The field 'customer_id' refers to customer 999999, which does not exist."
    assert history(postings.con, "sop_order:TEST:PO-BAD-1") == ["attempting", "failed"]
    assert orders_for(sandbox, "PO-BAD-1") == []


CRASH_AFTER_POST = textwrap.dedent(
    """
    import os, sys, duckdb
    from decimal import Decimal
    from pipelines.sage200.client import SageClient, loads
    from pipelines.sage200.postings import PostingLog, post_once

    api, site, company, warehouse, body = sys.argv[1:6]

    class DiesAfterPost(SageClient):
        def post(self, path, body):
            super().post(path, body)
            os._exit(9)  # Sage has the order; the process dies before recording Sage's answer

    with duckdb.connect(warehouse) as con, DiesAfterPost(api, "sandbox", site_id=site, company_id=int(company)) as c:
        post_once(
            c, PostingLog(con), key="sop_order:TEST:PO-CRASH-1", resource="sop_orders", body=loads(body),
            find_existing=lambda: None, reference_of=lambda order: order["document_no"],
        )
    """
)


def test_a_process_killed_between_post_and_record_leaves_one_order(sandbox: Any, tmp_path: Path) -> None:
    warehouse = tmp_path / "crash.duckdb"
    arguments = [sandbox.api, sandbox.client.site_id, str(sandbox.client.company_id), str(warehouse)]
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_AFTER_POST, *arguments, dumps(order_body(sandbox, "PO-CRASH-1"))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert crashed.returncode == 9, crashed.stderr
    assert len(orders_for(sandbox, "PO-CRASH-1")) == 1
    with duckdb.connect(str(warehouse)) as con:
        postings = PostingLog(con)
        assert history(con, "sop_order:TEST:PO-CRASH-1") == ["attempting"]  # the answer was never recorded
        rerun = post_order(sandbox.client, postings, sandbox, "PO-CRASH-1")
        assert rerun.status == "found" and rerun.message == "found in Sage after an unanswered POST"
        assert history(con, "sop_order:TEST:PO-CRASH-1") == ["attempting", "found"]
    assert len(orders_for(sandbox, "PO-CRASH-1")) == 1
