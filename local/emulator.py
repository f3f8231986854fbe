"""Start ministack, the local Cognito, and give it a user pool that matches a declaration.

ministack pins its own botocore, so it lives in its own virtual environment (.venv-ministack).
With AUTH=true it checks SecretHash and confirmation codes as Cognito does; its codes are
always 123456, and 654321 for a new password. Given a state directory, it keeps its pools and
users there between runs (ministack's PERSIST_STATE, saved when it stops).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import ssl
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from app.aws.pool import create_user_pool_client_request, create_user_pool_request
from app.config.declaration import Declaration

ROOT = Path(__file__).resolve().parent.parent
MINISTACK = ROOT / ".venv-ministack" / "bin" / "ministack"
REGION = "us-east-1"
LOCAL_CODE = "123456"
LOCAL_RESET_CODE = "654321"  # what its ForgotPassword sends


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


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A free loopback port below the kernel's ephemeral range, never the same one twice in a process.

    The kernel gives ports from that range to outgoing connections: a server stopped and started again on
    one (an outage being tested) could find it taken meanwhile by a connection of the app's own.
    """
    ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range")
    below = int(ephemeral.read_text().split()[0]) if ephemeral.exists() else 32768
    while True:
        port = 10000 + secrets.randbelow(max(below - 10000, 1))
        if port in _HANDED_OUT:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port


def start(port: int, log: Any = subprocess.DEVNULL, state: Path | None = None) -> subprocess.Popen[bytes]:
    """Start ministack on 127.0.0.1:port and wait until it answers; with `state`, keeping what it holds there."""
    if not MINISTACK.exists():
        raise SystemExit(f"{MINISTACK} is missing: run `make run` or `make test`, which install it.")
    env = {**os.environ, "AUTH": "true", "BIND_HOST": "127.0.0.1", "GATEWAY_PORT": str(port)}
    # Only Cognito is needed: no IoT broker and no SFTP server, whose fixed ports (8883, 2222) would
    # make a second emulator on the machine (another test run, a `make run`) exit at start.
    env |= {"IOT_MTLS_ENABLED": "0", "SFTP_ENABLED": "0"}
    if state is not None:
        env |= {"PERSIST_STATE": "1", "STATE_DIR": str(state)}
    process = subprocess.Popen([str(MINISTACK)], env=env, stdout=log, stderr=subprocess.STDOUT)
    wait_until_up(f"http://127.0.0.1:{port}", process)
    return process


def wait_until_up(
    url: str, process: subprocess.Popen[bytes] | None = None, timeout: float = 30, context: ssl.SSLContext | None = None
) -> None:
    """Poll `url` until it answers with any HTTP status; fail early if `process` died."""
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


def provisioned(endpoint: str, declaration: Declaration) -> LocalPool:
    """The pool for this declaration that an earlier run made, when ministack kept it, else a new one.

    The pool is named after the request that creates it, so a changed declaration gets a pool of
    its own, and going back to an earlier one finds that one's pool, users included.
    """
    shape = json.dumps(create_user_pool_request(declaration, "signup"), sort_keys=True, default=str)
    name = f"signup-{hashlib.sha256(shape.encode()).hexdigest()[:12]}"
    client = admin_client(endpoint)
    for pool in client.list_user_pools(MaxResults=60)["UserPools"]:
        if pool["Name"] != name:
            continue
        clients = client.list_user_pool_clients(UserPoolId=pool["Id"], MaxResults=60)["UserPoolClients"]
        web = [c["ClientId"] for c in clients if c["ClientName"] == f"{name}-web"]
        if web:
            described = client.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=web[0])["UserPoolClient"]
            return LocalPool(endpoint, REGION, pool["Id"], web[0], described["ClientSecret"])
    return provision(endpoint, declaration, name)


def reset(endpoint: str) -> None:
    """Empty every pool and user."""
    request = urllib.request.Request(f"{endpoint}/_ministack/reset", method="POST")
    with urllib.request.urlopen(request, timeout=5):
        pass
