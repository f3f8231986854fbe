"""A stand-in for Cognito's user-pool API: SignUp, ConfirmSignUp and ResendConfirmationCode.

The bench measures the app, so the upstream must answer fast and cost little CPU on a machine
it shares with the app and the load generator: plain asyncio, one process, keep-alive, no
framework. It still behaves like Cognito where the app could get it wrong: JSON 1.1 dispatched
on X-Amz-Target, HTTPS, the SecretHash checked, duplicate usernames refused. A fixed latency
per call stands in for the network and Cognito's own work; the harness changes it between
measurements through POST /_bench/latency?ms=N, and reads counters from GET /_bench/stats.

Run as `python -m bench.upstream --port P --cert C --key K --client-id I --client-secret S`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import ssl
import subprocess
import sys
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from local import emulator

ROOT = Path(__file__).resolve().parent.parent
TARGET_PREFIX = "AWSCognitoIdentityProviderService."
LOCAL_CODE = "123456"  # the only confirmation code the stand-in accepts
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found"}


def secret_hash(client_secret: str, username: str, client_id: str) -> str:
    """Cognito's SecretHash, computed independently of app/aws/cognito.py so a bug there shows up."""
    digest = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def masked(address: str) -> str:
    """Where the code 'went', masked the way Cognito shows it: a***@e***."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain[:1]}***"


def _error(kind: str, message: str) -> tuple[int, dict[str, Any]]:
    return 400, {"__type": kind, "message": message}


class CognitoStandIn:
    """The three operations' behaviour, free of any I/O so it stays obvious."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.latency = 0.0
        self.users: set[str] = set()
        self.calls: Counter[str] = Counter()  # "SignUp", "SignUp:NotAuthorizedException", ...

    def answer(self, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
        operation = target.removeprefix(TARGET_PREFIX)
        status, payload = self._answer(operation, body)
        self.calls[operation if status == 200 else f"{operation}:{payload['__type']}"] += 1
        return status, payload

    def _answer(self, operation: str, body: bytes) -> tuple[int, dict[str, Any]]:
        if operation not in ("SignUp", "ConfirmSignUp", "ResendConfirmationCode"):
            return _error("UnknownOperationException", "")
        try:
            params = json.loads(body)
        except ValueError:
            return _error("SerializationException", "Start of structure or map found where not expected.")
        if params.get("ClientId") != self.client_id:
            return _error("ResourceNotFoundException", f"User pool client {params.get('ClientId')} does not exist.")
        username = params.get("Username")
        if not isinstance(username, str) or not username:
            return _error("InvalidParameterException", "1 validation error detected: Value at 'username' failed")
        expected = secret_hash(self.client_secret, username, self.client_id)
        if not hmac.compare_digest(str(params.get("SecretHash", "")), expected):
            return _error("NotAuthorizedException", f"Unable to verify secret hash for client {self.client_id}")
        delivery = {"Destination": masked(username), "DeliveryMedium": "EMAIL", "AttributeName": "email"}
        if operation == "SignUp":
            if username in self.users:
                return _error("UsernameExistsException", "User already exists")
            self.users.add(username)
            return 200, {"UserConfirmed": False, "UserSub": str(uuid.uuid4()), "CodeDeliveryDetails": delivery}
        if username not in self.users:
            return _error("UserNotFoundException", "Username/client id combination not found.")
        if operation == "ConfirmSignUp":
            if params.get("ConfirmationCode") != LOCAL_CODE:
                return _error("CodeMismatchException", "Invalid verification code provided, please try again.")
            return 200, {}
        return 200, {"CodeDeliveryDetails": delivery}

    def control(self, method: str, path: str) -> tuple[int, dict[str, Any]]:
        """The harness's own endpoints; anything else gets Cognito's answer to a bare GET."""
        url = urlsplit(path)
        if method == "POST" and url.path == "/_bench/latency":
            self.latency = float(parse_qs(url.query).get("ms", ["0"])[0]) / 1000
            return 200, {"latency_ms": self.latency * 1000}
        if url.path == "/_bench/stats":
            return 200, {"latency_ms": self.latency * 1000, "users": len(self.users), "calls": dict(self.calls)}
        return _error("UnknownOperationException", "")


class HttpServer:
    """HTTP/1.1 with keep-alive over asyncio streams: just what botocore's urllib3 sends."""

    def __init__(self, stand_in: CognitoStandIn) -> None:
        self.stand_in = stand_in

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._exchange(reader, writer):
                pass
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ssl.SSLError):
            pass  # the client went away; nothing to answer
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection should close."""
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, path, version = request_line.split(" ", 2)
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        length = int(headers.get("content-length") or 0)
        body = await reader.readexactly(length) if length else b""

        target = headers.get("x-amz-target")
        if target:
            if self.stand_in.latency:
                await asyncio.sleep(self.stand_in.latency)
            status, payload = self.stand_in.answer(target, body)
        else:
            status, payload = self.stand_in.control(method, path)

        keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        data = json.dumps(payload).encode()
        writer.write(
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
            "Content-Type: application/x-amz-json-1.1\r\n"
            f"Content-Length: {len(data)}\r\n"
            f"x-amzn-RequestId: {uuid.uuid4()}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n".encode()
            + data
        )
        await writer.drain()
        return keep_alive


async def serve(port: int, cert: str, key: str, client_id: str, client_secret: str) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = HttpServer(CognitoStandIn(client_id, client_secret))
    listener = await asyncio.start_server(server.connection, "127.0.0.1", port, ssl=context, backlog=1024)
    async with listener:
        await listener.serve_forever()


class Handle:
    """The harness's side of a running stand-in: start it, change its latency, read its counters."""

    def __init__(self, *, port: int, cert: str, key: str, client_id: str, client_secret: str, log: str) -> None:
        self.url = f"https://127.0.0.1:{port}"
        self._context = ssl.create_default_context(cafile=cert)
        with open(log, "wb") as output:
            # Its own session, so a Ctrl-C reaches only the harness, which then stops this in order.
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench.upstream",
                    f"--port={port}",
                    f"--cert={cert}",
                    f"--key={key}",
                    f"--client-id={client_id}",
                    f"--client-secret={client_secret}",
                ],
                cwd=ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _call(self, method: str, path: str) -> dict[str, Any]:
        request = urllib.request.Request(self.url + path, method=method)
        with urllib.request.urlopen(request, timeout=5, context=self._context) as answer:
            return dict(json.load(answer))

    def wait_until_up(self) -> None:
        """Wait for the stand-in over HTTPS with the generated certificate, as the app will reach it."""
        emulator.wait_until_up(self.url + "/_bench/stats", self.process, timeout=20, context=self._context)

    def set_latency(self, ms: float) -> None:
        self._call("POST", f"/_bench/latency?ms={ms:g}")

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/_bench/stats")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.cert, args.key, args.client_id, args.client_secret))


if __name__ == "__main__":
    main()
