"""Real processes for the tests: gunicorn instances, a page server, a recording proxy, nginx."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3

from app.aws.cognito import secret_hash
from local import emulator
from local.emulator import LocalPool, admin_client
from local.procfile import web_command

from .conftest import csrf_token, form_action

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Tls:
    """A self-signed certificate for the loopback names, so a test serves real https.

    Browsers treat http://localhost as secure, but only https is what production serves: Secure
    cookies, the CSRF check of the Referer and mixed content all behave as they do there.
    """

    certfile: Path
    keyfile: Path

    @classmethod
    def make(cls, directory: Path) -> Tls:
        directory.mkdir(parents=True, exist_ok=True)
        tls = cls(directory / "cert.pem", directory / "key.pem")
        request = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"]
        names = ["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
        subprocess.run(
            [*request, *names, "-keyout", str(tls.keyfile), "-out", str(tls.certfile)],
            check=True,
            capture_output=True,
        )
        return tls

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certfile, self.keyfile)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Trusts this certificate only, checking the name as a browser would."""
        return ssl.create_default_context(cafile=str(self.certfile))


# A page of another site that embeds the form: it keeps every message the frame posts (in
# window.received) and sizes the frame from the height messages, as the embed snippet does.
# Format it with the app's origin; with resize="false", the frame keeps its 600 px (a page that
# does not listen for the height, and a frame that fits WebKit's 1024x768 window under Xvfb).
PARENT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A site that embeds the form</title></head>
<body>
<h1>Parent site</h1>
<iframe id="signup" src="{app}/signup" title="Create your account" style="width:100%;border:0;height:600px"></iframe>
<script>
  window.received = [];
  window.addEventListener("message", function (event) {{
    window.received.push({{origin: event.origin, data: event.data}});
    if ({resize} && event.origin === "{app}" && event.data && event.data.type === "height") {{
      document.getElementById("signup").style.height = event.data.height + "px";
    }}
  }});
</script>
</body></html>
"""


@contextmanager
def gunicorn(env: dict[str, str], log: Path, host: str = "127.0.0.1", tls: Tls | None = None) -> Iterator[int]:
    """The app under gunicorn with its production configuration, on a free port; yields the port.

    With `tls`, gunicorn itself serves https with that certificate.
    """
    port = emulator.free_port()
    settings = {**os.environ, **env, "SIGNUP_BIND": f"{host}:{port}"}
    settings.setdefault("SIGNUP_WORKERS", "1")
    if tls:
        settings["GUNICORN_CMD_ARGS"] = f"--certfile={tls.certfile} --keyfile={tls.keyfile}"
    with open(log, "ab") as output:
        process = subprocess.Popen(web_command(), cwd=ROOT, env=settings, stdout=output, stderr=output)
    try:
        scheme = "https" if tls else "http"
        emulator.wait_until_up(
            f"{scheme}://{host}:{port}/healthz", process, context=tls.client_context() if tls else None
        )
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def serve(
    handler: Callable[[BaseHTTPRequestHandler], None], host: str = "127.0.0.1", port: int = 0, tls: Tls | None = None
) -> Iterator[int]:
    """A small threaded HTTP server whose every GET and POST is answered by `handler`; https with `tls`."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            handler(self)

        def do_POST(self) -> None:
            handler(self)

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def finish_request(self, request: Any, client_address: Any) -> None:
            if context is None:
                super().finish_request(request, client_address)
                return
            # The handshake happens in the request's own thread, so a stalled one holds up no other.
            request.settimeout(10)
            try:
                secure = context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # a client that gave up on the handshake: a browser refusing the certificate
            try:
                super().finish_request(secure, client_address)
            finally:
                secure.close()

    context = tls.server_context() if tls else None
    server = Server((host, port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def page(html: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def answer(request: BaseHTTPRequestHandler) -> None:
        body = html.encode()
        request.send_response(200)
        request.send_header("Content-Type", "text/html; charset=utf-8")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    return answer


class RecordingProxy:
    """Stands between the app and the emulator and keeps every Cognito request it forwards."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._http = urllib3.PoolManager()

    def __call__(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        target = request.headers.get("X-Amz-Target", "")
        if target and body:
            self.requests.append((target.rsplit(".", 1)[-1], json.loads(body)))
        status, headers, data = self.answer(request, target.rsplit(".", 1)[-1], body)
        request.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                request.send_header(name, value)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def answer(self, request: BaseHTTPRequestHandler, operation: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """The emulator's answer to the request, as it is (a subclass may stand in for it)."""
        return self.forward(request, body)

    def forward(self, request: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        answer = self._http.request(request.command, self.upstream + request.path, body=body, headers=headers)
        return answer.status, dict(answer.headers), answer.data

    def sent(self, operation: str) -> list[dict[str, Any]]:
        return [body for name, body in self.requests if name == operation]


class SessionCognito(RecordingProxy):
    """The emulator, plus what Cognito does that it does not: Sessions that chain SignUp to
    ConfirmSignUp to InitiateAuth with USER_AUTH, USER_AUTH with a password (PREFERRED_CHALLENGE
    PASSWORD), and SignUp without a password.

    Each Session is good once, for one user, for `lifetime` seconds, and only for the next step;
    InitiateAuth checks the SECRET_HASH too. Anything else is refused as Cognito refuses it
    (NotAuthorizedException). The tokens are the emulator's own, so a site verifies them with the
    pool's JWKS as it would Cognito's. `challenge` makes InitiateAuth ask for more instead.
    """

    def __init__(self, upstream: str, pool: LocalPool, lifetime: float = 180) -> None:
        super().__init__(upstream)
        self.pool = pool
        self.lifetime = lifetime
        self.challenge = False
        self._sessions: dict[str, tuple[str, str, float]] = {}  # session -> (step, username, expires)
        self._passwords: dict[str, str] = {}
        self._lock = threading.Lock()

    def answer(self, request: BaseHTTPRequestHandler, operation: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        data = json.loads(body) if body else {}
        username = data.get("Username") or data.get("AuthParameters", {}).get("USERNAME", "")
        if operation == "SignUp":
            if not data.get("Password"):  # the emulator needs one: a passwordless user gets a random one
                data["Password"] = "Pw-1" + secrets.token_urlsafe(12)
            self._passwords[username] = data["Password"]
            return self._then(request, data, "SignUp", username)
        if operation == "ConfirmSignUp" and "Session" in data:
            refused = self._use(data.pop("Session"), "SignUp", username)
            return refused or self._then(request, data, "ConfirmSignUp", username)
        if operation == "InitiateAuth" and data.get("AuthFlow") == "USER_AUTH":
            return self._sign_in(data, username)
        return self.forward(request, body)

    def _then(
        self, request: BaseHTTPRequestHandler, data: dict[str, Any], step: str, username: str
    ) -> tuple[int, dict[str, str], bytes]:
        """Forward the call; on success, add a Session for the next step."""
        status, headers, answer = self.forward(request, json.dumps(data).encode())
        if status != 200:
            return status, headers, answer
        session = secrets.token_urlsafe(48)
        with self._lock:
            self._sessions[session] = (step, username, time.monotonic() + self.lifetime)
        return status, headers, json.dumps({**json.loads(answer or b"{}"), "Session": session}).encode()

    def _use(self, session: str, step: str, username: str) -> tuple[int, dict[str, str], bytes] | None:
        """None when the Session is the one `step` gave this user, unused and unexpired; else Cognito's refusal."""
        with self._lock:
            found = self._sessions.pop(session, None)
        if found is None or found[:2] != (step, username):
            return _error("NotAuthorizedException", "Invalid session for the user.")
        if time.monotonic() > found[2]:
            return _error("NotAuthorizedException", "Invalid session for the user, session is expired.")
        return None

    def _sign_in(self, data: dict[str, Any], username: str) -> tuple[int, dict[str, str], bytes]:
        expected = secret_hash(self.pool.client_secret, username, self.pool.client_id)
        if data.get("AuthParameters", {}).get("SECRET_HASH") != expected:
            return _error("NotAuthorizedException", f"Unable to verify secret hash for client {self.pool.client_id}")
        password = data.get("AuthParameters", {}).get("PASSWORD")
        if password and data.get("AuthParameters", {}).get("PREFERRED_CHALLENGE") == "PASSWORD":
            self._passwords[username] = password  # the emulator checks it below
        else:
            refused = self._use(data.get("Session", ""), "ConfirmSignUp", username)
            if refused:
                return refused
        if self.challenge:
            answer: dict[str, Any] = {"ChallengeName": "SELECT_CHALLENGE", "Session": secrets.token_urlsafe(48)}
        else:
            admin = admin_client(self.pool.endpoint)
            try:
                signed_in = admin.admin_initiate_auth(
                    UserPoolId=self.pool.pool_id,
                    ClientId=self.pool.client_id,
                    AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                    AuthParameters={
                        "USERNAME": username,
                        "PASSWORD": self._passwords[username],
                        "SECRET_HASH": expected,
                    },
                )
            except admin.exceptions.NotAuthorizedException:
                return _error("NotAuthorizedException", "Incorrect username or password.")
            answer = {"AuthenticationResult": signed_in["AuthenticationResult"], "ChallengeParameters": {}}
        return 200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(answer).encode()


def _error(code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"__type": code, "message": message}).encode()
    return 400, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}, body


NGINX_CONF = """
{user}
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream signup {{
        {servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://signup;
            proxy_bind 127.0.0.2;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


def nginx_configure(workdir: Path, port: int, upstream_ports: list[int], down: tuple[int, ...] = ()) -> Path:
    """Write nginx's configuration; the instances in `down` get no new requests (a drain)."""
    servers = "\n        ".join(f"server 127.0.0.1:{p}{' down' if p in down else ''};" for p in upstream_ports)
    conf = workdir / "nginx.conf"
    # As root, nginx's workers would drop to "nobody", who cannot read the test's private directory.
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(NGINX_CONF.format(user=user, dir=workdir, servers=servers, port=port))
    return conf


def nginx_reload(workdir: Path, port: int, upstream_ports: list[int], down: tuple[int, ...] = ()) -> None:
    """Change which instances nginx sends requests to, as an operator drains one: new workers take
    the new configuration, the old ones finish what they hold."""
    nginx_configure(workdir, port, upstream_ports, down)
    os.kill(int((workdir / "nginx.pid").read_text()), signal.SIGHUP)
    time.sleep(0.5)  # the old workers' requests in flight finish meanwhile


def nginx_binary() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).exists():
        raise RuntimeError("nginx is not installed: run `make test`, which installs it")
    return found


@contextmanager
def nginx(upstream_ports: list[int], workdir: Path) -> Iterator[int]:
    """nginx on loopback, balancing round-robin over the given app instances; yields its port."""
    port = emulator.free_port()
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    conf = nginx_configure(workdir, port, upstream_ports)
    with open(workdir / "stderr.log", "wb") as stderr:
        process = subprocess.Popen([nginx_binary(), "-c", str(conf), "-p", str(workdir)], stderr=stderr)
    try:
        emulator.wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


class LoopbackClient:
    """A minimal HTTP client that connects from a chosen loopback address and keeps cookies.

    Connecting from 127.0.0.5 to a proxy that forwards from 127.0.0.2 makes the client's address,
    the proxy's address and anything spoofed in headers all different, so a test can tell them apart.
    """

    def __init__(self, base: str, source: str, timeout: float = 10) -> None:
        parts = base.removeprefix("http://").split(":")
        self.host, self.port, self.source, self.timeout = parts[0], int(parts[1]), source, timeout
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=self.timeout, source_address=(self.source, 0)
        )
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        connection.close()
        location = response.headers.get("Location", "")
        if response.status == 303 and "draft=" in location:
            # A refused form is sent back to its page (app.signup.drafts), which a browser then opens.
            return self.request("GET", urlsplit(location)._replace(scheme="", netloc="").geturl(), headers=headers)
        return response.status, dict(response.headers), text

    def submit(
        self, page: str, data: dict[str, str], *, resend: bool = False, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        """What a browser does: open the page, then post its form where the form says, with its token."""
        _, _, opened = self.request("GET", page, headers=headers)
        return self.request("POST", form_action(opened, resend), {"csrf_token": csrf_token(opened), **data}, headers)


@contextmanager
def redis_server(workdir: Path, port: int | None = None) -> Iterator[int]:
    """A private redis-server on loopback (a free port unless given), nothing saved to disk; yields the port."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        raise RuntimeError("redis-server is not installed: run `make test`, which installs it")
    port = port or emulator.free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
