"""A Sage 200 (UK) REST API client over httpx.

Works the same against a real Sage 200 tenant and against the project's sandbox: the base URL and the
bearer token are the only differences. Sage has no idempotency keys and no next links, so paging is
`$orderby=id` with `$top`/`$skip`, and callers keep their own keys in reference fields.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from pipelines.sage200.auth import StaticToken, TokenProvider

log = logging.getLogger(__name__)

SAGE_MAX_PAGE = 5000


class SageApiError(Exception):
    """Sage answered with a non-2xx status; `message` is Sage's own text."""

    def __init__(self, status: int, message: str, *, method: str = "", path: str = "") -> None:
        super().__init__(f"Sage {method} {path} answered {status}: {message}")
        self.status = status
        self.message = message
        self.method = method
        self.path = path


class SageBadRequest(SageApiError):
    """400: Sage refused the request; retrying the same request cannot help."""


class SageUnauthorized(SageApiError):
    """401 even after a token refresh."""


class SageNotFound(SageApiError):
    """404: no such entity or path."""


class SageUnavailable(SageApiError):
    """429, 5xx or timeouts kept happening after every retry."""


class OutcomeUnknown(Exception):
    """A write was sent but no answer came back: Sage may or may not have posted it.

    Never retried blindly: the caller must look the posting up by its own reference before trying again.
    """


def typed_error(status: int, message: str, method: str, path: str) -> SageApiError:
    kind = {400: SageBadRequest, 401: SageUnauthorized, 404: SageNotFound}.get(status)
    if kind is None:
        kind = SageUnavailable if status == 429 or status >= 500 else SageApiError
    return kind(status, message, method=method, path=path)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter; Retry-After wins when Sage sends one."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: str | None, rand: Callable[[], float]) -> float:
        if retry_after and retry_after.isdigit():
            return min(float(retry_after), self.max_delay)
        return rand() * min(self.max_delay, self.base_delay * 2**attempt)


RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def dumps(body: object) -> str:
    """JSON with every Decimal written as a JSON number carrying exactly its digits (never via float)."""
    return _DECIMAL_TOKEN.sub(r"\1", json.dumps(body, default=_decimal_token, separators=(",", ":")))


# json can only write a Decimal as a string: it goes out as a marked string whose marks and quotes are
# removed afterwards. The mark is a control character json always escapes; only a string that is exactly
# mark + number + mark would be mistaken for one, and no Sage field holds such a thing.
_DECIMAL_MARK = "\u0001"
_DECIMAL_TOKEN = re.compile(r'"\\u0001(-?[0-9]+(?:\.[0-9]+)?(?:E[-+]?[0-9]+)?)\\u0001"')


def _decimal_token(value: object) -> object:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        return f"{_DECIMAL_MARK}{value}{_DECIMAL_MARK}"
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def sage_date(day: date) -> str:
    """A business date as Sage's date-time fields take it: midnight, UTC."""
    return f"{day.isoformat()}T00:00:00Z"


def loads(text: str | bytes) -> Any:
    """Parse a Sage answer with money as Decimal."""
    return json.loads(text, parse_float=Decimal)


def error_message(response: httpx.Response) -> str:
    """Sage's message from an error answer (401s often have an empty body)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("message") or body.get("Message") or body)
    return str(body)


class SageClient:
    """Sage 200 API calls with the Bearer, X-Site and X-Company headers Sage requires.

    Reads are retried on 429, 5xx and timeouts. Writes are retried only when Sage certainly did not act
    on them (429, or a connection that failed before the request was sent); a write that timed out or
    failed after sending raises `OutcomeUnknown`.
    """

    def __init__(
        self,
        base_url: str,
        token: str | TokenProvider,
        *,
        site_id: str | None = None,
        company_id: int | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.site_id = site_id
        self.company_id = company_id
        self.tokens: TokenProvider = StaticToken(token) if isinstance(token, str) else token
        self.retry = retry
        self._sleep = sleep
        self._rand = rand
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            headers={"Accept": "application/json"},
            transport=transport,
        )

    def connect(self) -> SageClient:
        """Take X-Site and X-Company from the first site Sage lists (GET /sites)."""
        sites = self.get("sites")
        if not sites:
            raise SageApiError(200, "GET /sites returned no site: the API setup for this tenant is incomplete")
        self.site_id = sites[0]["site_id"]
        self.company_id = int(sites[0]["company_id"])
        return self

    def _headers(self, token: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token}"}
        if self.site_id is not None:
            headers["X-Site"] = self.site_id
        if self.company_id is not None:
            headers["X-Company"] = str(self.company_id)
        return headers

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        extra_headers = kwargs.pop("headers", {})
        token = self.tokens.access_token()
        refreshed = False
        for attempt in range(self.retry.attempts):
            try:
                response = self._http.request(method, path, headers=self._headers(token) | extra_headers, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached Sage: safe to try again, even for a write.
                failure: Exception = exc
                retry_after = None
            except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                if method != "GET":
                    raise OutcomeUnknown(
                        f"Sage {method} {path}: no answer ({type(exc).__name__}); it may have posted"
                    ) from exc
                failure, retry_after = exc, None
            else:
                if response.status_code == 401 and not refreshed:
                    token, refreshed = self.tokens.refresh(), True
                    continue
                if response.status_code < 400:
                    return loads(response.content) if response.content else None
                error = typed_error(response.status_code, error_message(response), method, path)
                # A write that failed with 5xx may have been applied before the failure: not ours to retry.
                retryable = response.status_code == 429 or (
                    method == "GET" and response.status_code in RETRYABLE_STATUSES
                )
                if not retryable:
                    raise error
                failure, retry_after = error, response.headers.get("Retry-After")
            if attempt + 1 < self.retry.attempts:
                wait = self.retry.delay(attempt, retry_after, self._rand)
                log.warning(
                    "Sage %s %s failed (%s); retry %s in %.1fs", method, path, describe(failure), attempt + 1, wait
                )
                self._sleep(wait)
        if isinstance(failure, SageApiError):
            raise SageUnavailable(failure.status, failure.message, method=method, path=path) from failure
        raise SageUnavailable(
            0, f"no answer after {self.retry.attempts} attempts ({describe(failure)})", method=method, path=path
        ) from failure

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._send("GET", path, params=params)

    def get_all(self, resource: str, params: dict[str, Any] | None = None, page_size: int = 500) -> Iterator[dict]:
        """Every entity of a list resource, paged by id (Sage lists have no next link)."""
        for page in self.pages(resource, params, page_size):
            yield from page

    def pages(self, resource: str, params: dict[str, Any] | None = None, page_size: int = 500) -> Iterator[list[dict]]:
        """Pages of a list resource in key order (default `id`).

        Keyset paging: each page asks for the rows after the last key seen (`$filter=… and id gt 41500`)
        rather than `$skip`, which makes Sage (and any SQL behind it) walk past every earlier row again; a
        year of order lines would cost quadratic time. Rows are ordered by the key, so none is skipped or
        read twice, even when rows are added while paging.
        """
        page_size = min(page_size, SAGE_MAX_PAGE)
        query = {"$orderby": "id", **(params or {}), "$top": page_size}
        keys = [field.strip() for field in query["$orderby"].split(",")]
        if any(" " in key for key in keys):
            raise ValueError("keyset paging needs ascending key fields in $orderby")
        base_filter = query.pop("$filter", None)
        last: dict | None = None
        while True:
            conditions = [f"({base_filter})"] if base_filter else []
            if last is not None:
                conditions.append(after_key(keys, last))
            page = self.get(resource, {**query, **({"$filter": " and ".join(conditions)} if conditions else {})})
            if page:
                yield page
                last = page[-1]
            if len(page) < page_size:
                return

    def changed_since(
        self, resource: str, since: str | None, params: dict[str, Any] | None = None, page_size: int = 500
    ) -> Iterator[list[dict]]:
        """Pages of entities updated after `since` (a Sage UTC date-time), or all when `since` is None."""
        changed = {"$filter": f"date_time_updated gt {since}"} if since else {}
        return self.pages(resource, {**(params or {}), **changed}, page_size)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._send("POST", path, content=dumps(body), headers={"Content-Type": "application/json"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SageClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def odata_literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def after_key(keys: list[str], row: dict) -> str:
    """OData condition for the rows after `row` in (k1, k2, …) order, written so an index on k1 can serve it:
    k1 ge v1 and (k1 gt v1 or (k2 … after v2))."""
    first, value = keys[0], odata_literal(row[keys[0]])
    if len(keys) == 1:
        return f"{first} gt {value}"
    return f"{first} ge {value} and ({first} gt {value} or ({after_key(keys[1:], row)}))"


def describe(failure: Exception) -> str:
    """A failure for a log line: its type and Sage's message, never a header or token."""
    if isinstance(failure, SageApiError):
        return f"{failure.status} {failure.message}"
    return type(failure).__name__
