"""The Sage 200 sandbox HTTP server: Sage's API under its real path, the back office beside it.

`avc2sage sage-sandbox --port P --db FILE` runs it; tests use `run_in_thread`. Requests are checked the
way Sage checks them (Bearer token, X-Site/X-Company, the OpenAPI request schema, OData options) and
answered with Sage's shapes: bare JSON arrays for lists, 400/401/404 with a message, never a traceback.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pipelines.sage200.client import dumps
from pipelines.sage200.sandbox import backoffice, conventions, resources
from pipelines.sage200.sandbox.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    SandboxError,
    Unauthorized,
)
from pipelines.sage200.sandbox.odata import ODataError, parse_query, project
from pipelines.sage200.sandbox.sageid import OAuthError, SageId
from pipelines.sage200.sandbox.store import Store, loads
from pipelines.sage200.spec import Operation, RequestInvalid, SageSpec, validate_request

log = logging.getLogger(__name__)

API_PREFIX = "/uk/sage200extra/accounts/v1"
BACKOFFICE_PREFIX = "/backoffice"
SAGE_ID_PREFIX = "/sageid"
DEFAULT_TOKEN = "sandbox"
SITE_NAMESPACE = uuid.UUID("8b0d5f3e-3c57-4c55-9a55-0d3f3c2a9e11")


@dataclass
class FaultRule:
    """Answer the next `count` matching requests with `status` instead of handling them."""

    status: int
    count: int
    method: str = ""
    path_prefix: str = ""

    def matches(self, method: str, path: str) -> bool:
        return (
            self.count > 0 and (not self.method or self.method.upper() == method) and path.startswith(self.path_prefix)
        )


@dataclass
class Faults:
    """Switchable faults for tests: latency, error statuses, and a hang after a committed write."""

    latency_ms: int = 0
    rules: list[FaultRule] = field(default_factory=list)
    hang_after_commit_count: int = 0
    hang_after_commit_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.latency_ms = int(body.get("latency_ms", 0))
            self.rules = [
                FaultRule(
                    int(rule["status"]),
                    int(rule.get("count", 1)),
                    rule.get("method", ""),
                    rule.get("path_prefix", ""),
                )
                for rule in body.get("fail", [])
            ]
            hang = body.get("hang_after_commit") or {}
            self.hang_after_commit_count = int(hang.get("count", 0))
            self.hang_after_commit_seconds = float(hang.get("seconds", 0))
        return self.describe()

    def describe(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "fail": [vars(rule) for rule in self.rules if rule.count > 0],
            "hang_after_commit": {
                "count": self.hang_after_commit_count,
                "seconds": self.hang_after_commit_seconds,
            },
        }

    def injected_status(self, method: str, path: str) -> int | None:
        with self.lock:
            for rule in self.rules:
                if rule.matches(method, path):
                    rule.count -= 1
                    return rule.status
        return None

    def take_hang(self) -> float:
        with self.lock:
            if self.hang_after_commit_count > 0:
                self.hang_after_commit_count -= 1
                return self.hang_after_commit_seconds
        return 0.0


class Sandbox:
    """One company's Sage 200: its store, its site identity, its clock and its fault switches."""

    def __init__(self, db_path: Path, *, token: str = DEFAULT_TOKEN, company_name: str = "Sandbox Company") -> None:
        self.store = Store(db_path)
        self.spec = SageSpec.load()
        self.faults = Faults()
        with self.store.transaction():
            if self.store.setting("site") is None:
                self.store.set_setting(
                    "site",
                    {
                        "site_id": str(uuid.uuid5(SITE_NAMESPACE, company_name)),
                        "site_name": company_name,
                        "site_short_name": company_name[:50],
                        "company_id": 1,
                        "company_name": company_name,
                    },
                )
            self.store.set_setting("token", token)
        self.site = self.store.setting("site")
        self.token = token

    @property
    def today(self) -> date:
        fixed = self.store.setting("today")
        # Sage books by the company's calendar day: a UK company's day is London's.
        return date.fromisoformat(fixed) if fixed else datetime.now(conventions.COMPANY_TIMEZONE).date()

    # API --------------------------------------------------------------------------------------------
    def handle_api(self, method: str, path: str, query: dict[str, str], headers: Any, raw_body: bytes) -> Any:
        if not self._authorised(headers.get("Authorization", "")):
            raise Unauthorized("")
        try:
            operation, params = self.spec.match(method.lower(), path or "/")
        except KeyError:
            if any(self._path_exists(other, path) for other in ("get", "post", "put", "delete")):
                raise MethodNotAllowed(f"The requested resource does not support http method '{method}'.") from None
            raise NotFound(f"No HTTP resource was found that matches the request URI '{path}'.") from None
        if operation.path == "/sites":
            return [self.site]
        site_ok = headers.get("X-Site") == self.site["site_id"]
        if site_ok and headers.get("X-Company") != str(self.site["company_id"]):
            raise BadRequest("The X-Company header does not name a company on this site.")
        if not site_ok:
            # Real Sage answers list reads with nothing when X-Site is missing or wrong (not an error).
            if method == "GET" and (operation.response_schema or {}).get("type") == "array":
                return []
            if method == "GET":
                raise NotFound("No entity was found for this site.")
            raise BadRequest("The X-Site header is missing or does not name this site.")
        body = self._body(operation, raw_body) if method in {"POST", "PUT"} else None
        request = resources.Request(
            store=self.store,
            today=self.today,
            params=params,
            options=query,
            body=body,
            expand={name.strip() for name in query.get("$expand", "").split(",") if name.strip()},
        )
        with self.store.transaction():
            return self._dispatch(method.lower(), operation, request)

    def _authorised(self, authorization: str) -> bool:
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or not token:
            return False
        if token == self.token:
            return True
        with self.store.transaction():
            return SageId(self.store).accepts(token)

    def _path_exists(self, method: str, path: str) -> bool:
        try:
            self.spec.match(method, path)
        except KeyError:
            return False
        return True

    def _body(self, operation: Operation, raw_body: bytes) -> Any:
        try:
            body = loads(raw_body.decode("utf-8")) if raw_body else None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequest(f"The request body is not valid JSON: {exc}.") from None
        if operation.request_schema is None:
            return body
        try:
            validate_request(operation.request_schema, body)
        except RequestInvalid as exc:
            raise BadRequest(str(exc)) from None
        return without_read_only(operation.request_schema, body)

    def _dispatch(self, method: str, operation: Operation, request: resources.Request) -> Any:
        handler = resources.HANDLERS.get((method, operation.path))
        schema_props = self.spec.entity_properties(operation.entity_name) if operation.entity_name else {}
        if handler is not None:
            answer = handler(request)
            if isinstance(answer, list):
                query = self._query(request, schema_props, operation)
                count, page = Store.query_documents(answer, query)
                if query.count:
                    return count
                return [self._shape(loads(text), schema_props, query.select, "") for text in page]
            # What a write returns is shown whole (Sage echoes a created order with its lines).
            return self._shape(answer, schema_props, None, "") if schema_props else answer
        if method == "get" and operation.path in resources.LISTS:
            resource, scope_params = resources.LISTS[operation.path]
            scope = {column: resources.path_id(request, name) for name, column in scope_params.items()}
            query = self._query(request, schema_props, operation)
            if query.count:
                return request.store.count(resource, query, scope)
            return [
                self._shape(loads(text), schema_props, query.select, resource, request.expand)
                for text in request.store.query(resource, query, scope)
            ]
        if method == "get" and operation.path in resources.ITEMS:
            resource = resources.ITEMS[operation.path]
            entity = request.store.get(resource, resources.path_id(request))
            if entity is None:
                raise NotFound(f"No {operation.entity_name} with id {request.params['Id']} was found.")
            return self._shape(entity, schema_props, None, resource, request.expand)
        raise NotFound(f"The sandbox does not implement {method.upper()} {operation.path}.")

    def _query(self, request: resources.Request, properties: dict, operation: Operation) -> Any:
        try:
            return parse_query(request.options, properties, entity_name=operation.entity_name or "entity")
        except ODataError as exc:
            raise BadRequest(str(exc)) from None

    @staticmethod
    def _shape(
        entity: dict[str, Any],
        properties: dict,
        select: tuple[str, ...] | None,
        resource: str,
        expand: set[str] | None = None,
    ) -> dict[str, Any]:
        """Only the fields Sage's schema names, nested collections only when $expand asks for them."""
        hidden = resources.EXPANDABLE.get(resource, set()) - (expand or set())
        visible = {key: value for key, value in entity.items() if key in properties and key not in hidden}
        return project(visible, select)

    # back office ------------------------------------------------------------------------------------
    def handle_backoffice(self, method: str, path: str, raw_body: bytes) -> Any:
        if path == "faults":
            if method == "GET":
                return self.faults.describe()
            if method == "DELETE":
                return self.faults.configure({})
            return self.faults.configure(self._json(raw_body))
        for (route_method, pattern), operation in backoffice.ROUTES.items():
            params = match_pattern(pattern, path)
            if route_method.upper() == method and params is not None:
                body = self._json(raw_body) if method == "POST" else {}
                with self.store.transaction():
                    return operation(backoffice.BackOfficeOperations(self.store, self.today), body, params)
        raise NotFound(f"No back office operation {method} {path}.")

    @staticmethod
    def _json(raw_body: bytes) -> dict[str, Any]:
        try:
            body = loads(raw_body.decode("utf-8")) if raw_body else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequest(f"The request body is not valid JSON: {exc}.") from None
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.")
        return body


def without_read_only(schema: dict[str, Any], body: Any) -> Any:
    """The body less the fields Sage's schema marks read-only: Sage ignores them, so must we.

    A few fields are marked both read-only and required (cost_centre.code): a required field is kept,
    since Sage cannot create the entity without it.
    """
    if isinstance(body, list):
        return [without_read_only(schema.get("items", {}), item) for item in body]
    if not isinstance(body, dict):
        return body
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    return {
        key: without_read_only(properties.get(key, {}), value)
        for key, value in body.items()
        if key in required or not properties.get(key, {}).get("readOnly")
    }


def match_pattern(pattern: str, path: str) -> dict[str, str] | None:
    pattern_parts, path_parts = pattern.split("/"), path.split("/")
    if len(pattern_parts) != len(path_parts):
        return None
    params = {}
    for expected, actual in zip(pattern_parts, path_parts, strict=True):
        if expected.startswith("{"):
            if not actual.isdigit():
                return None
            params[expected[1:-1]] = actual
        elif expected != actual:
            return None
    return params


class SandboxHandler(BaseHTTPRequestHandler):
    """HTTP plumbing: route, apply faults, turn every outcome into a Sage-shaped answer."""

    server: SandboxServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this Nagle's algorithm adds ~40 ms per answer.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_OPTIONS(self) -> None:
        self._handle("OPTIONS")

    def _handle(self, method: str) -> None:
        sandbox = self.server.sandbox
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        try:
            if url.path.startswith(API_PREFIX + "/") or url.path == API_PREFIX:
                path = url.path[len(API_PREFIX) :].rstrip("/") or "/"
                self._api(sandbox, method, path, dict(parse_qsl(url.query, keep_blank_values=True)), raw_body)
            elif url.path.startswith(SAGE_ID_PREFIX + "/"):
                self._sage_id(sandbox, method, url.path[len(SAGE_ID_PREFIX) :], url.query, raw_body)
            elif url.path.startswith(BACKOFFICE_PREFIX + "/"):
                answer = sandbox.handle_backoffice(method, url.path[len(BACKOFFICE_PREFIX) + 1 :].rstrip("/"), raw_body)
                self._send(HTTPStatus.OK, answer)
            else:
                raise NotFound(f"No HTTP resource was found that matches the request URI '{url.path}'.")
        except OAuthError as exc:
            self._send(exc.status, {"error": exc.error, "error_description": str(exc)})
        except SandboxError as exc:
            self._send(exc.status, {"message": str(exc)} if str(exc) else None)
        except Exception:
            log.exception("sandbox failed on %s %s", method, url.path)
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "An error has occurred."})

    def _api(self, sandbox: Sandbox, method: str, path: str, query: dict[str, str], raw_body: bytes) -> None:
        faults = sandbox.faults
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        injected = faults.injected_status(method, path)
        if injected is not None:
            message = "Too many requests." if injected == 429 else "An error has occurred."
            self._send(injected, {"message": message}, retry_after=injected == 429)
            return
        answer = sandbox.handle_api(method, path, query, self.headers, raw_body)
        if method != "GET":
            hang = faults.take_hang()
            if hang:
                # The write is committed; the client hears nothing until its own timeout.
                time.sleep(hang)
        self._send(HTTPStatus.OK, answer)

    def _sage_id(self, sandbox: Sandbox, method: str, path: str, query: str, raw_body: bytes) -> None:
        with sandbox.store.transaction():
            sage_id = SageId(sandbox.store)
            if method == "GET" and path == "/authorize":
                location = sage_id.authorize(dict(parse_qsl(query)))
                self.send_response(HTTPStatus.FOUND)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if method == "POST" and path == "/oauth/token":
                answer = sage_id.token(raw_body)
            else:
                raise NotFound(f"No Sage ID endpoint {method} {path}.")
        self._send(HTTPStatus.OK, answer)

    def _send(self, status: int, answer: Any, *, retry_after: bool = False) -> None:
        payload = b"" if answer is None else dumps(answer).encode("utf-8")
        try:
            self.send_response(status)
            if payload:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            if retry_after:
                self.send_header("Retry-After", "1")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":  # a HEAD answer carries the headers only
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            log.info("client went away before the answer to %s", self.path)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        super().__init__(address, SandboxHandler)
        self.sandbox = sandbox


def serve(db_path: Path, port: int, *, host: str = "127.0.0.1", token: str = DEFAULT_TOKEN) -> None:
    """Run the sandbox in the foreground until interrupted."""
    server = SandboxServer((host, port), Sandbox(db_path, token=token))
    log.info("Sage 200 sandbox on http://%s:%s%s/ (database %s)", host, server.server_port, API_PREFIX, db_path)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        server.sandbox.store.close()


@contextmanager
def run_in_thread(db_path: Path, *, port: int = 0, token: str = DEFAULT_TOKEN) -> Iterator[str]:
    """A sandbox on a free local port for the duration of the block; yields its root URL."""
    server = SandboxServer(("127.0.0.1", port), Sandbox(db_path, token=token))
    # A short poll interval: shutdown() waits up to one interval, and tests start and stop many sandboxes.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), name="sage-sandbox", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        server.sandbox.store.close()


def api_url(root_url: str) -> str:
    """The Sage API base URL of a sandbox root URL."""
    return root_url.rstrip("/") + API_PREFIX + "/"
