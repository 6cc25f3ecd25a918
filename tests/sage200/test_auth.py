"""Sage ID login and token rotation, end to end against the sandbox's Sage ID stand-in."""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pipelines.sage200.auth import AuthError, OAuthApp, RotatingTokens
from pipelines.sage200.client import SageClient
from pipelines.sage200.sandbox.sageid import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sandbox_app(root: str) -> OAuthApp:
    return OAuthApp(
        SANDBOX_CLIENT_ID,
        SANDBOX_CLIENT_SECRET,
        token_url=root + "sageid/oauth/token",
        authorize_url=root + "sageid/authorize",
    )


def login(root: str, token_file: Path) -> None:
    """`avc2sage sage-login` as a person runs it: follow the printed address, wait for it to finish."""
    port = free_port()
    command = [
        sys.executable, "-m", "orchestration.cli", "sage-login", "--port", str(port), "--token-file", str(token_file),
        "--authorize-url", root + "sageid/authorize", "--token-url", root + "sageid/oauth/token",
    ]  # fmt: skip
    environment = {
        **os.environ,
        "AVC2SAGE_SAGE_CLIENT_ID": SANDBOX_CLIENT_ID,
        "AVC2SAGE_SAGE_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
    }
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
    address = next(line.strip() for line in process.stdout if line.strip().startswith("http"))
    for _ in range(50):  # the CLI starts listening just after printing the address
        try:
            answer = httpx.get(address, follow_redirects=True, timeout=5)
            break
        except httpx.ConnectError:
            time.sleep(0.1)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert answer.status_code == 200
    assert "Connected" in out


def test_login_then_the_client_reads_sage_with_the_tokens(sample_sandbox, tmp_path: Path) -> None:
    token_file = tmp_path / "tokens.json"
    login(sample_sandbox.root, token_file)
    stored = json.loads(token_file.read_text())
    assert set(stored) == {"access_token", "refresh_token", "expires_at"}
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    tokens = RotatingTokens(sandbox_app(sample_sandbox.root), token_file)
    with SageClient(sample_sandbox.api_url, tokens).connect() as client:
        assert client.get("customers", {"$filter": "reference eq 'AMA001'"})[0]["reference"] == "AMA001"


def test_refresh_rotates_and_persists_the_new_refresh_token(sample_sandbox, tmp_path: Path) -> None:
    token_file = tmp_path / "tokens.json"
    login(sample_sandbox.root, token_file)
    first = json.loads(token_file.read_text())
    tokens = RotatingTokens(sandbox_app(sample_sandbox.root), token_file)
    tokens.refresh()
    second = json.loads(token_file.read_text())
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert [path.name for path in tmp_path.glob("*token*")] == ["tokens.json"], "no temporary file left behind"
    # The refresh token just used is spent: a process still holding the old file would be locked out.
    token_file.write_text(json.dumps(first))
    with pytest.raises(AuthError, match="invalid_grant"):
        tokens.refresh()


def test_an_expired_access_token_is_refreshed_before_use(sample_sandbox, tmp_path: Path) -> None:
    token_file = tmp_path / "tokens.json"
    login(sample_sandbox.root, token_file)
    before = json.loads(token_file.read_text())
    later = RotatingTokens(sandbox_app(sample_sandbox.root), token_file, clock=lambda: before["expires_at"] + 1)
    with SageClient(sample_sandbox.api_url, later).connect() as client:
        assert client.get("tax_codes")
    assert json.loads(token_file.read_text())["refresh_token"] != before["refresh_token"]


def test_a_401_triggers_one_refresh_and_the_call_goes_through(sample_sandbox, tmp_path: Path) -> None:
    token_file = tmp_path / "tokens.json"
    login(sample_sandbox.root, token_file)
    stored = json.loads(token_file.read_text())
    stored["access_token"] = "revoked-by-sage"  # still "valid" by its expiry time, refused by the API
    token_file.write_text(json.dumps(stored))
    tokens = RotatingTokens(sandbox_app(sample_sandbox.root), token_file)
    with SageClient(sample_sandbox.api_url, tokens).connect() as client:
        assert client.get("banks")
    assert json.loads(token_file.read_text())["access_token"] != "revoked-by-sage"


def test_no_token_reaches_a_log_line(sample_sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token_file = tmp_path / "tokens.json"
    login(sample_sandbox.root, token_file)
    tokens = RotatingTokens(sandbox_app(sample_sandbox.root), token_file)
    tokens.refresh()
    with SageClient(sample_sandbox.api_url, tokens).connect() as client:
        client.get("customers")
    secrets = json.loads(token_file.read_text())
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records, "the flow should have logged something"
    assert secrets["access_token"] not in text
    assert secrets["refresh_token"] not in text
    assert "bearer" not in text.lower()
