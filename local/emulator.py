"""Start ministack, the local Cognito, and give it a user pool that matches a declaration.

ministack pins its own botocore, so it lives in its own virtual environment (.venv-ministack).
With AUTH=true it checks SecretHash and confirmation codes as Cognito does; its codes are
always 123456.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from app.declaration import Declaration
from app.pool import create_user_pool_client_request, create_user_pool_request

ROOT = Path(__file__).resolve().parent.parent
MINISTACK = ROOT / ".venv-ministack" / "bin" / "ministack"
REGION = "us-east-1"
LOCAL_CODE = "123456"


@dataclass(frozen=True)
class LocalPool:
    endpoint: str
    region: str
    pool_id: str
    client_id: str
    client_secret: str

    def environment(self) -> dict[str, str]:
        """The app's Cognito settings for this pool."""
        return {
            "COGNITO_REGION": self.region,
            "COGNITO_USER_POOL_ID": self.pool_id,
            "COGNITO_CLIENT_ID": self.client_id,
            "COGNITO_CLIENT_SECRET": self.client_secret,
            "COGNITO_ENDPOINT_URL": self.endpoint,
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(port: int, log: Any = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """Start ministack on 127.0.0.1:port and wait until it answers."""
    if not MINISTACK.exists():
        raise SystemExit(f"{MINISTACK} is missing: run `make run` or `make test`, which install it.")
    env = {**os.environ, "AUTH": "true", "BIND_HOST": "127.0.0.1", "GATEWAY_PORT": str(port)}
    process = subprocess.Popen([str(MINISTACK)], env=env, stdout=log, stderr=subprocess.STDOUT)
    wait_until_up(f"http://127.0.0.1:{port}", process)
    return process


def wait_until_up(
    url: str, process: subprocess.Popen[bytes] | None = None, timeout: float = 30, context: ssl.SSLContext | None = None
) -> None:
    """Wait until the URL answers; `context` is for https with a certificate of the test's own."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url} exited with status {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=1, context=context):
                return
        except urllib.error.HTTPError:
            return  # it answers, even if with an error status
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def admin_client(endpoint: str, region: str = REGION) -> Any:
    """A client for ministack's admin calls, which must be signed with the key test/test."""
    return boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 - ministack's fixed local key, not a secret
    )


def provision(endpoint: str, declaration: Declaration, name: str = "signup") -> LocalPool:
    """Create a user pool shaped by the declaration and an app client with a secret."""
    client = admin_client(endpoint)
    pool_id = client.create_user_pool(**create_user_pool_request(declaration, name))["UserPool"]["Id"]
    app_client = client.create_user_pool_client(**create_user_pool_client_request(pool_id, f"{name}-web"))
    return LocalPool(
        endpoint=endpoint,
        region=REGION,
        pool_id=pool_id,
        client_id=app_client["UserPoolClient"]["ClientId"],
        client_secret=app_client["UserPoolClient"]["ClientSecret"],
    )


def reset(endpoint: str) -> None:
    """Empty every pool and user."""
    request = urllib.request.Request(f"{endpoint}/_ministack/reset", method="POST")
    with urllib.request.urlopen(request, timeout=5):
        pass
