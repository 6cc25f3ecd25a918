"""A Sage 200 (UK) REST API client over httpx.

Works the same against a real Sage 200 tenant and against the project's sandbox: the base URL and the
bearer token are the only differences. Sage has no idempotency keys and no next links, so paging is
`$orderby=id` with `$top`/`$skip`, and callers keep their own keys in reference fields.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx

log = logging.getLogger(__name__)

SAGE_MAX_PAGE = 5000


class SageApiError(Exception):
    """Sage answered with a non-2xx status; `message` is Sage's own text."""

    def __init__(self, status: int, message: str, *, method: str = "", path: str = "") -> None:
        super().__init__(f"Sage {method} {path} answered {status}: {message}")
        self.status = status
        self.message = message


def dumps(body: object) -> str:
    """JSON with every Decimal written as a JSON number carrying exactly its digits."""
    return json.dumps(body, default=_json_number, separators=(",", ":"))


def _json_number(value: object) -> object:
    # JSON has no decimal type. A money value (2 or 6 dp, under 10^13) converts to the float whose shortest
    # repr is the same digits, so the text on the wire is exact; anything else is refused, never rounded.
    if isinstance(value, Decimal):
        as_float = float(value)
        if Decimal(repr(as_float)) != value:
            raise ValueError(f"{value} cannot be written exactly as a JSON number")
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else as_float
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


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
    """Sage 200 API calls with the Bearer, X-Site and X-Company headers Sage requires."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        site_id: str | None = None,
        company_id: int | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.site_id = site_id
        self.company_id = company_id
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )

    def connect(self) -> SageClient:
        """Take X-Site and X-Company from the first site Sage lists (GET /sites)."""
        sites = self.get("sites")
        if not sites:
            raise SageApiError(200, "GET /sites returned no site: the API setup for this tenant is incomplete")
        self.site_id = sites[0]["site_id"]
        self.company_id = int(sites[0]["company_id"])
        return self

    def _headers(self) -> dict[str, str]:
        headers = {}
        if self.site_id is not None:
            headers["X-Site"] = self.site_id
        if self.company_id is not None:
            headers["X-Company"] = str(self.company_id)
        return headers

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self._headers(), **kwargs.pop("headers", {})}
        response = self._http.request(method, path, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise SageApiError(response.status_code, error_message(response), method=method, path=path)
        return loads(response.content) if response.content else None

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._send("GET", path, params=params)

    def get_all(self, resource: str, params: dict[str, Any] | None = None, page_size: int = 500) -> Iterator[dict]:
        """Every entity of a list resource, paged by id (Sage lists have no next link)."""
        page_size = min(page_size, SAGE_MAX_PAGE)
        query = {"$orderby": "id", **(params or {}), "$top": page_size}
        skip = 0
        while True:
            page = self.get(resource, {**query, "$skip": skip})
            yield from page
            if len(page) < page_size:
                return
            skip += page_size

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._send("POST", path, content=dumps(body), headers={"Content-Type": "application/json"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SageClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
