"""Run the sign-up app on this machine against a local Cognito: `make run` calls this.

It starts ministack (the Cognito emulator), creates a user pool from the declaration and an app
client with a secret, then serves the app with gunicorn on 127.0.0.1. Ctrl-C stops everything.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app.declaration import load_declaration
from app.errors import ConfigError
from local import emulator
from local.procfile import web_command

ROOT = emulator.ROOT
LOGS = ROOT / ".local"


def main() -> int:
    config = os.environ.get("SIGNUP_CONFIG") or str(ROOT / "config" / "signup.toml")
    try:
        declaration = load_declaration(config)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 1
    app_port = int(os.environ.get("PORT", "8000"))
    demo_port = app_port + 1
    for port in (app_port, demo_port):
        if not _port_is_free(port):
            print(f"Port {port} is in use. Stop what uses it, or run: PORT=8080 make run", file=sys.stderr)
            return 1
    # Two different sites on one machine: the app on localhost, the demo page on 127.0.0.1.
    app_url = f"http://localhost:{app_port}"
    demo_url = f"http://127.0.0.1:{demo_port}"

    LOGS.mkdir(exist_ok=True)
    children: list[subprocess.Popen[bytes]] = []
    try:
        cognito_port = emulator.free_port()
        with open(LOGS / "ministack.log", "wb") as ministack_log:
            children.append(emulator.start(cognito_port, log=ministack_log))
        endpoint = f"http://127.0.0.1:{cognito_port}"
        pool = emulator.provision(endpoint, declaration)
        env = {
            **os.environ,
            **pool.environment(),
            # A new key each run: sessions from an earlier run are simply not recognised.
            "SECRET_KEY": secrets.token_urlsafe(32),
            "SIGNUP_CONFIG": config,
            "SIGNUP_BIND": f"127.0.0.1:{app_port}",
            "SIGNUP_WORKERS": os.environ.get("SIGNUP_WORKERS", "2"),
            "SIGNUP_FRAME_ANCESTORS": demo_url,
        }
        children.append(subprocess.Popen(web_command(), cwd=ROOT, env=env))
        emulator.wait_until_up(f"{app_url}/healthz", children[-1])
        demo = _serve_demo(demo_port, app_url, demo_url)
        print(
            f"\n  Sign-up form:      {app_url}/signup\n"
            f"  Embedded demo:     {demo_url}/ (another site that frames the form)\n"
            f"  Local Cognito:     {endpoint} (user pool {pool.pool_id})\n"
            f"  Confirmation code: {emulator.LOCAL_CODE} (the local Cognito sends this code every time;\n"
            f"                     its emails are at {endpoint}/_ministack/ses/messages)\n\n"
            "  Press Ctrl-C to stop.\n",
            flush=True,
        )
        children[-1].wait()
        demo.shutdown()
        return children[-1].returncode or 0
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(children)


def _serve_demo(port: int, app_url: str, demo_url: str) -> ThreadingHTTPServer:
    """Serve local/demo.html, a page of another site that embeds the form, in a thread."""
    html = (ROOT / "local" / "demo.html").read_text().replace("{app}", app_url).replace("{parent}", demo_url)

    class Demo(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Demo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    """Stop what this run started, gently first."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()


if __name__ == "__main__":
    sys.exit(main())
