"""A stand-in for Sage ID (Sage's OAuth 2.0 server) so the login and token rotation can be exercised.

It follows the authorization-code grant as Sage ID runs it: `/authorize` redirects back with a one-time
code (consent is assumed), `/oauth/token` exchanges a code or a refresh token for an access token and a
NEW refresh token, and the refresh token just used stops working at once. Access tokens it issues are
accepted by the sandbox's API until they expire.
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from pipelines.sage200.sandbox.errors import BadRequest, SandboxError
from pipelines.sage200.sandbox.store import Store

SANDBOX_CLIENT_ID = "avc2sage-sandbox"
# Public, fixed values of the local stand-in: not a credential for any real Sage ID tenant.
SANDBOX_CLIENT_SECRET = "sandbox"
DEFAULT_LIFETIME_SECONDS = 3600


class OAuthError(SandboxError):
    """An OAuth error answer: `{"error": ..., "error_description": ...}` with status 400/401."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.status = status


class SageId:
    def __init__(self, store: Store, clock: Any = time.time) -> None:
        self.store = store
        self.clock = clock

    def _state(self) -> dict[str, Any]:
        return self.store.setting("sageid", {"codes": {}, "refresh_tokens": {}, "access_tokens": {}})

    def authorize(self, query: dict[str, str]) -> str:
        """The redirect location carrying a fresh one-time code."""
        for name in ("client_id", "redirect_uri", "response_type", "state"):
            if not query.get(name):
                raise BadRequest(f"The authorize request needs '{name}'.")
        if query["client_id"] != SANDBOX_CLIENT_ID:
            raise OAuthError("unauthorized_client", "Unknown client_id.")
        state = self._state()
        code = secrets.token_urlsafe(16)
        state["codes"][code] = query["redirect_uri"]
        self.store.set_setting("sageid", state)
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def token(self, raw_form: bytes) -> dict[str, Any]:
        form = dict(parse_qsl(raw_form.decode("utf-8")))
        if form.get("client_id") != SANDBOX_CLIENT_ID or form.get("client_secret") != SANDBOX_CLIENT_SECRET:
            raise OAuthError("invalid_client", "Client authentication failed.", 401)
        state = self._state()
        grant = form.get("grant_type")
        if grant == "authorization_code":
            if state["codes"].pop(form.get("code", ""), None) != form.get("redirect_uri"):
                raise OAuthError("invalid_grant", "Invalid authorization code.")
        elif grant == "refresh_token":
            # Rotation: the refresh token presented is spent whether or not the caller keeps the new one.
            if state["refresh_tokens"].pop(form.get("refresh_token", ""), None) is None:
                raise OAuthError("invalid_grant", "Unknown or already used refresh token.")
        else:
            raise OAuthError("unsupported_grant_type", f"Grant type '{grant}' is not supported.")
        lifetime = int(self.store.setting("token_lifetime_seconds", DEFAULT_LIFETIME_SECONDS))
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        state["access_tokens"] = {
            token: expiry for token, expiry in state["access_tokens"].items() if expiry > self.clock()
        } | {access: self.clock() + lifetime}
        state["refresh_tokens"][refresh] = True
        self.store.set_setting("sageid", state)
        return {"access_token": access, "refresh_token": refresh, "expires_in": lifetime, "token_type": "Bearer"}

    def accepts(self, access_token: str) -> bool:
        return self._state()["access_tokens"].get(access_token, 0) > self.clock()
