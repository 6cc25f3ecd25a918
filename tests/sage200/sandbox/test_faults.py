"""The sandbox's fault switches (latency, injected statuses, a hang after a committed write) and what the
project's client makes of them, over real HTTP."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from pipelines.sage200.client import OutcomeUnknown, SageApiError, SageClient, dumps

if TYPE_CHECKING:
    from conftest import SandboxCompany

D = Decimal
NO_FAULTS = {"latency_ms": 0, "fail": [], "hang_after_commit": {"count": 0, "seconds": 0}}


def set_faults(sandbox: SandboxCompany, **faults: Any) -> dict[str, Any]:
    return sandbox.backoffice.post("faults", faults)


def timed(action: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def recording_client(sandbox: SandboxCompany, waits: list[float], **options: Any) -> SageClient:
    """A client whose back-off waits are recorded instead of slept."""
    return sandbox.new_client(sleep=waits.append, rand=lambda: 1.0, **options)


def receipts_with_reference(sandbox: SandboxCompany, reference: str) -> list[dict[str, Any]]:
    return sandbox.client.get("sales_posted_transactions", {"$filter": f"reference eq '{reference}'"})


def test_latency_delays_every_api_call(sandbox: SandboxCompany) -> None:
    assert set_faults(sandbox, latency_ms=400)["latency_ms"] == 400
    response, elapsed = timed(lambda: sandbox.raw("GET", "customers"))
    assert response.status_code == 200 and elapsed >= 0.4
    response, elapsed = timed(lambda: sandbox.raw("POST", "sales_receipts", body=sandbox.receipt_body("LATE", D(1))))
    assert response.status_code == 200 and elapsed >= 0.4
    assert len(receipts_with_reference(sandbox, "LATE")) == 1  # slow, not failed
    _, elapsed = timed(lambda: sandbox.backoffice.get("trial_balance"))
    assert elapsed < 0.3  # the back office is not the API
    sandbox.backoffice.delete("faults")
    _, elapsed = timed(lambda: sandbox.raw("GET", "customers"))
    assert elapsed < 0.3


def test_429_carries_retry_after_then_the_call_succeeds(sandbox: SandboxCompany) -> None:
    set_faults(sandbox, fail=[{"status": 429, "count": 1}])
    throttled = sandbox.raw("GET", "customers")
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "1")
    assert throttled.json() == {"message": "Too many requests."}
    assert sandbox.raw("GET", "customers").status_code == 200


def test_client_waits_as_retry_after_says_even_for_a_write(sandbox: SandboxCompany) -> None:
    set_faults(sandbox, fail=[{"status": 429, "count": 2}])
    waits: list[float] = []
    with recording_client(sandbox, waits) as client:
        client.post("sales_receipts", sandbox.receipt_body("PAY-429", D("10.00")))
    assert waits == [1.0, 1.0]  # Retry-After: 1, twice; a 429 means Sage did nothing, so the write is retried
    assert len(receipts_with_reference(sandbox, "PAY-429")) == 1
    assert sandbox.customer_balance() == D("161.00")


def test_500s_for_a_count_then_success(sandbox: SandboxCompany) -> None:
    set_faults(sandbox, fail=[{"status": 500, "count": 2}])
    statuses = [sandbox.raw("GET", "customers").status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    set_faults(sandbox, fail=[{"status": 500, "count": 2}])
    waits: list[float] = []
    with recording_client(sandbox, waits) as client:
        assert [row["reference"] for row in client.get("customers")] == ["AMA001"]
    assert len(waits) == 2


def test_write_that_got_a_500_is_neither_retried_nor_posted(sandbox: SandboxCompany) -> None:
    set_faults(sandbox, fail=[{"status": 500, "count": 1, "method": "POST"}])
    waits: list[float] = []
    with recording_client(sandbox, waits) as client, pytest.raises(SageApiError) as failed:
        client.post("sales_receipts", sandbox.receipt_body("PAY-500", D("10.00")))
    assert failed.value.status == 500
    assert waits == []
    assert sandbox.backoffice.get("faults")["fail"] == []  # the one injected failure was used once
    assert receipts_with_reference(sandbox, "PAY-500") == []  # injected before the handler ran
    assert sandbox.customer_balance() == D("171.00")


def test_rules_target_a_method_and_a_path_prefix(sandbox: SandboxCompany) -> None:
    set_faults(sandbox, fail=[{"status": 503, "count": 1, "method": "POST", "path_prefix": "/sales_receipts"}])
    assert sandbox.raw("GET", "customers").status_code == 200
    assert sandbox.raw("POST", "customers", body={"reference": "OTHER", "name": "Not targeted"}).status_code == 200
    assert sandbox.raw("POST", "sales_invoices", body=sandbox.invoice_body("INV-9", D(10), D(2))).status_code == 200
    [rule] = sandbox.backoffice.get("faults")["fail"]
    assert (rule["status"], rule["count"], rule["method"], rule["path_prefix"]) == (503, 1, "POST", "/sales_receipts")
    assert sandbox.raw("POST", "sales_receipts", body=sandbox.receipt_body("PAY-1", D(5))).status_code == 503
    assert receipts_with_reference(sandbox, "PAY-1") == []
    assert sandbox.raw("POST", "sales_receipts", body=sandbox.receipt_body("PAY-1", D(5))).status_code == 200
    assert len(receipts_with_reference(sandbox, "PAY-1")) == 1
    assert sandbox.backoffice.get("faults")["fail"] == []


def test_path_prefix_matches_every_path_under_it(sandbox: SandboxCompany) -> None:
    set_faults(sandbox, fail=[{"status": 502, "count": 2, "path_prefix": "/sales_"}])
    assert sandbox.raw("GET", "sales_posted_transactions").status_code == 502
    assert sandbox.raw("POST", "sales_receipts", body=sandbox.receipt_body("PAY-2", D(5))).status_code == 502
    assert sandbox.raw("GET", "sales_posted_transactions").status_code == 200


def test_hang_after_commit_posts_although_the_client_times_out(sandbox: SandboxCompany) -> None:
    """The exactly-once scenario: the answer is lost, the posting is not; look it up before any retry."""
    set_faults(sandbox, hang_after_commit={"count": 2, "seconds": 1.5})
    with pytest.raises(httpx.ReadTimeout):
        sandbox.http.post(
            sandbox.api + "sales_receipts",
            content=dumps(sandbox.receipt_body("PAY-HANG-1", D("20.00"))),
            headers=sandbox.headers() | {"Content-Type": "application/json"},
            timeout=0.5,
        )
    with sandbox.new_client(timeout=0.5) as impatient, pytest.raises(OutcomeUnknown) as unknown:
        impatient.post("sales_receipts", sandbox.receipt_body("PAY-HANG-2", D("30.00")))
    assert isinstance(unknown.value.__cause__, httpx.ReadTimeout)
    for reference, value in (("PAY-HANG-1", D("-20.00")), ("PAY-HANG-2", D("-30.00"))):
        [posted] = receipts_with_reference(sandbox, reference)  # there: no retry needed
        assert posted["document_gross_value"] == value
    assert sandbox.customer_balance() == D("121.00")
    assert sandbox.bank_balances()["AMZCLR"] == D("50.00")
    assert sandbox.backoffice.get("faults")["hang_after_commit"]["count"] == 0
    _, elapsed = timed(lambda: sandbox.client.post("sales_receipts", sandbox.receipt_body("PAY-3", D(1))))
    assert elapsed < 1.0  # the hangs are used up
    sandbox.assert_ledger_sound()


def test_hang_is_only_after_a_write(sandbox: SandboxCompany) -> None:
    set_faults(sandbox, hang_after_commit={"count": 1, "seconds": 1.5})
    _, elapsed = timed(lambda: sandbox.client.get("customers"))
    assert elapsed < 1.0
    assert sandbox.backoffice.get("faults")["hang_after_commit"]["count"] == 1


def test_closed_period_is_a_400_the_client_does_not_retry(sandbox: SandboxCompany) -> None:
    sandbox.backoffice.post("periods/close", {"up_to": "2026-02-28"})
    waits: list[float] = []
    with recording_client(sandbox, waits) as client, pytest.raises(SageApiError) as refused:
        client.post("sales_receipts", sandbox.receipt_body("PAY-FEB", D("10.00"), date="2026-02-20T00:00:00Z"))
    assert refused.value.status == 400
    assert "closed" in refused.value.message
    assert waits == []
    assert receipts_with_reference(sandbox, "PAY-FEB") == []
    sandbox.client.post("sales_receipts", sandbox.receipt_body("PAY-MAR", D("10.00")))
    assert len(receipts_with_reference(sandbox, "PAY-MAR")) == 1


def test_delete_clears_every_fault(sandbox: SandboxCompany) -> None:
    configured = set_faults(
        sandbox,
        latency_ms=400,
        fail=[{"status": 500, "count": 5}],
        hang_after_commit={"count": 3, "seconds": 2},
    )
    assert configured["latency_ms"] == 400 and len(configured["fail"]) == 1
    assert configured["hang_after_commit"] == {"count": 3, "seconds": 2}
    assert sandbox.backoffice.delete("faults") == NO_FAULTS
    assert sandbox.backoffice.get("faults") == NO_FAULTS
    response, elapsed = timed(lambda: sandbox.raw("POST", "sales_receipts", body=sandbox.receipt_body("OK", D(1))))
    assert response.status_code == 200 and elapsed < 0.3


def test_configuring_replaces_the_previous_faults(sandbox: SandboxCompany) -> None:
    set_faults(sandbox, latency_ms=200, fail=[{"status": 500, "count": 5}])
    assert set_faults(sandbox, fail=[{"status": 503}]) == NO_FAULTS | {
        "fail": [{"status": 503, "count": 1, "method": "", "path_prefix": ""}]
    }
