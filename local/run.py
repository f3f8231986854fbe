"""Run the sign-up app on this machine against a local Cognito: `make run` calls this.

It starts ministack (the Cognito emulator), finds or creates the user pool of the declaration and
an app client with a secret, then serves the app with gunicorn on 127.0.0.1. What the local
Cognito holds (pools, users) and the app's SECRET_KEY are kept in .local/ (or SIGNUP_LOCAL_DIR)
between runs; `--fresh` (`make run FRESH=1`) starts from nothing. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from app.config.declaration import load_declaration
from app.errors import ConfigError
from local import emulator
from local.procfile import web_command

ROOT = emulator.ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.run", description=__doc__.split("\n")[0])
    parser.add_argument("--fresh", action="store_true", help="forget the local pools, users and key first")
    args = parser.parse_args(argv)
    config = os.environ.get("SIGNUP_CONFIG") or str(ROOT / "config" / "signup.toml")
    try:
        declaration = load_declaration(config)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 1
    app_port = int(os.environ.get("PORT", "8000"))
    # The app, the demo page and the local Cognito on three ports in a row, the same each run, so
    # that the addresses printed below (the export block) stay right from one run to the next.
    demo_port, cognito_port = app_port + 1, app_port + 2
    for port in (app_port, demo_port, cognito_port):
        if not _port_is_free(port):
            print(f"Port {port} is in use. Stop what uses it, or run: PORT=8080 make run", file=sys.stderr)
            return 1
    # Two different sites on one machine: the app on localhost, the demo page on 127.0.0.1.
    app_url = f"http://localhost:{app_port}"
    demo_url = f"http://127.0.0.1:{demo_port}"

    state = Path(os.environ.get("SIGNUP_LOCAL_DIR") or ROOT / ".local")
    if args.fresh:
        shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True, exist_ok=True)
    children: list[subprocess.Popen[bytes]] = []
    try:
        with open(state / "ministack.log", "wb") as ministack_log:
            children.append(emulator.start(cognito_port, log=ministack_log, state=state / "cognito"))
        endpoint = f"http://127.0.0.1:{cognito_port}"
        pool = emulator.provisioned(endpoint, declaration)
        settings = {
            **pool.environment(),
            # Kept with the pool: invitation links and open code pages survive a restart.
            "SECRET_KEY": _kept_key(state / "secret-key"),
            "SIGNUP_CONFIG": config,
        }
        env = {
            **os.environ,
            **settings,
            "SIGNUP_BIND": f"127.0.0.1:{app_port}",
            "SIGNUP_WORKERS": os.environ.get("SIGNUP_WORKERS", "2"),
            "SIGNUP_FRAME_ANCESTORS": demo_url,
        }
        children.append(subprocess.Popen(web_command(), cwd=ROOT, env=env))
        emulator.wait_until_up(f"{app_url}/healthz", children[-1])
        demo = _serve_demo(demo_port, app_url, demo_url)
        print(_banner(app_url, demo_url, pool, {**settings, "SIGNUP_PUBLIC_URL": app_url}), flush=True)
        children[-1].wait()
        demo.shutdown()
        return children[-1].returncode or 0
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(children)


def _banner(app_url: str, demo_url: str, pool: emulator.LocalPool, settings: dict[str, str]) -> str:
    """The addresses, the code, and the settings that point the tools (pool check, invitations) here."""
    exports = {
        **settings,
        # ministack's fixed key for its admin calls, which the pool check makes (not a secret).
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }
    block = "\n".join(f"export {name}={shlex.quote(value)}" for name, value in exports.items())
    return (
        f"\n  Sign-up form:      {app_url}/signup\n"
        f"  Embedded demo:     {demo_url}/ (another site that frames the form)\n"
        f"  Local Cognito:     {pool.endpoint} (user pool {pool.pool_id})\n"
        f"  App client:        {pool.client_id}, with a secret (below)\n"
        f"  Confirmation code: {emulator.LOCAL_CODE} (the local Cognito sends this code every time, and\n"
        f"                     {emulator.LOCAL_RESET_CODE} for a new password; "
        f"its emails are at\n                     {pool.endpoint}/_ministack/ses/messages)\n\n"
        "  The pool and its users are kept for the next run; `make run FRESH=1` starts from an empty one.\n"
        "  To use `python -m app.poolcheck` or `python -m app.invite` with this pool, paste into a shell:\n\n"
        f"{block}\n\n"
        "  Press Ctrl-C to stop.\n"
    )


def _kept_key(path: Path) -> str:
    """The app's SECRET_KEY for local runs: made once, readable by this user only."""
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


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
