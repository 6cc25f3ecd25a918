"""Sage ID (OAuth 2.0) tokens for the Sage 200 API: one-time login, refresh, rotation kept on disk.

Sage ID rotates the refresh token on every refresh: the old one stops working the moment a new one is
issued. The new pair is written to disk atomically (temp file + rename, mode 0600) before the access
token is used, so a crash can never leave the integration holding only a dead refresh token.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

log = logging.getLogger(__name__)

SAGE_ID_AUTHORIZE_URL = "https://id.sage.com/authorize"
SAGE_ID_TOKEN_URL = "https://id.sage.com/oauth/token"
SAGE_200_AUDIENCE = "s200ukipd/sage200"
SAGE_ID_SCOPES = "openid profile email offline_access"
# Refresh this long before the access token expires, so a request never starts with a token about to lapse.
EXPIRY_MARGIN_SECONDS = 60


class AuthError(Exception):
    """Sage ID refused a login or refresh; the message never contains a token."""


class TokenProvider(Protocol):
    def access_token(self) -> str: ...

    def refresh(self) -> str: ...


@dataclass(frozen=True)
class StaticToken:
    """A fixed bearer token (the sandbox, or a token minted elsewhere)."""

    token: str

    def access_token(self) -> str:
        return self.token

    def refresh(self) -> str:
        raise AuthError("The static bearer token was refused; it cannot be refreshed.")


@dataclass(frozen=True)
class OAuthApp:
    """The Sage Developer app registration (client id/secret come from the environment or secrets)."""

    client_id: str
    client_secret: str
    token_url: str = SAGE_ID_TOKEN_URL
    authorize_url: str = SAGE_ID_AUTHORIZE_URL


def write_tokens_atomically(path: Path, tokens: dict[str, Any]) -> None:
    """Replace the token file in one step: readers see the old pair or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".tokens-", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as file:
            json.dump(tokens, file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class RotatingTokens:
    """Access tokens from a persisted refresh token; refreshes when the access token is (nearly) expired."""

    def __init__(
        self,
        app: OAuthApp,
        store: Path,
        *,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.store = store
        self._http = http or httpx.Client(timeout=httpx.Timeout(30.0))
        self._clock = clock
        self._lock = threading.Lock()

    def _load(self) -> dict[str, Any]:
        try:
            return json.loads(self.store.read_text())
        except FileNotFoundError:
            raise AuthError(f"No Sage tokens at {self.store}: run `avc2sage sage-login` once.") from None

    def access_token(self) -> str:
        with self._lock:
            tokens = self._load()
            if tokens.get("expires_at", 0) - EXPIRY_MARGIN_SECONDS > self._clock():
                return tokens["access_token"]
            return self._refresh(tokens)

    def refresh(self) -> str:
        with self._lock:
            return self._refresh(self._load())

    def _refresh(self, tokens: dict[str, Any]) -> str:
        log.info("refreshing the Sage access token")
        answer = self._token_request(
            {
                "grant_type": "refresh_token",
                "client_id": self.app.client_id,
                "client_secret": self.app.client_secret,
                "refresh_token": tokens["refresh_token"],
            }
        )
        write_tokens_atomically(self.store, self._stored(answer, tokens))
        return answer["access_token"]

    def _stored(self, answer: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "access_token": answer["access_token"],
            # Sage ID rotates; keep the old one only if an identity provider chose not to send a new one.
            "refresh_token": answer.get("refresh_token") or (previous or {}).get("refresh_token"),
            "expires_at": self._clock() + int(answer.get("expires_in", 3600)),
        }

    def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        try:
            response = self._http.post(self.app.token_url, data=form)
        except httpx.HTTPError as exc:
            raise AuthError(f"Sage ID could not be reached at {self.app.token_url}: {type(exc).__name__}") from None
        if response.status_code != 200:
            # Only the error code and description: the form and the answer may carry tokens.
            try:
                detail = response.json()
                reason = f"{detail.get('error', '')} {detail.get('error_description', '')}".strip()
            except ValueError:
                reason = response.reason_phrase
            raise AuthError(f"Sage ID refused the {form['grant_type']} grant ({response.status_code}): {reason}")
        return response.json()

    def exchange_code(self, code: str, redirect_uri: str) -> None:
        """Finish the authorization-code flow: store the first token pair."""
        answer = self._token_request(
            {
                "grant_type": "authorization_code",
                "client_id": self.app.client_id,
                "client_secret": self.app.client_secret,
                "code": code,
                "redirect_uri": redirect_uri,
            }
        )
        write_tokens_atomically(self.store, self._stored(answer))


def authorize_url(app: OAuthApp, redirect_uri: str, state: str) -> str:
    query = {
        "audience": SAGE_200_AUDIENCE,
        "client_id": app.client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": SAGE_ID_SCOPES,
        "state": state,
    }
    return f"{app.authorize_url}?{urlencode(query)}"


def receive_authorization_code(port: int, expected_state: str, timeout: float = 300.0) -> str:
    """Listen once on localhost for Sage ID's redirect and return the code it carries."""
    received: dict[str, str] = {}

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            received.update({key: values[0] for key, values in query.items()})
            ok = received.get("state") == expected_state and "code" in received
            self.send_response(200 if ok else 400)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.end_headers()
            message = "avc2sage is connected to Sage 200. You can close this tab." if ok else "Login failed."
            self.wfile.write(message.encode())

        def log_message(self, *_args: Any) -> None:
            return

    server = HTTPServer(("127.0.0.1", port), Redirect)
    server.timeout = timeout
    server.handle_request()
    server.server_close()
    if received.get("state") != expected_state:
        raise AuthError("The login answer did not carry the state we sent; start `avc2sage sage-login` again.")
    if "code" not in received:
        raise AuthError(f"Sage ID did not return a code: {received.get('error_description', 'no reason given')}")
    return received["code"]


def new_state() -> str:
    return secrets.token_urlsafe(24)


CLIENT_ID_ENV = "AVC2SAGE_SAGE_CLIENT_ID"
CLIENT_SECRET_ENV = "AVC2SAGE_SAGE_CLIENT_SECRET"
TOKEN_ENV = "AVC2SAGE_SAGE_TOKEN"
TOKEN_FILE_ENV = "AVC2SAGE_SAGE_TOKEN_FILE"
DEFAULT_TOKEN_FILE = ".sage_token.json"
SANDBOX_TOKEN = "sandbox"


def tokens_from_environment(environ: dict[str, str] | None = None) -> TokenProvider:
    """Sage ID tokens when an app registration is configured, else a static bearer (the sandbox's)."""
    environ = dict(os.environ if environ is None else environ)
    if environ.get(CLIENT_ID_ENV):
        app = OAuthApp(
            client_id=environ[CLIENT_ID_ENV],
            client_secret=environ.get(CLIENT_SECRET_ENV, ""),
            token_url=environ.get("AVC2SAGE_SAGE_TOKEN_URL", SAGE_ID_TOKEN_URL),
        )
        return RotatingTokens(app, Path(environ.get(TOKEN_FILE_ENV, DEFAULT_TOKEN_FILE)))
    return StaticToken(environ.get(TOKEN_ENV, SANDBOX_TOKEN))
