"""gunicorn settings, read from the environment so each deployment tunes them without a rebuild.

Sign-up requests spend most of their time waiting on Cognito, so each worker process runs many
threads (gthread): a few processes (one per CPU) use the cores, and the threads cover the waiting.
The hooks below make the app fit the server gunicorn really runs, whatever its command line,
GUNICORN_CMD_ARGS or this file said: each worker sizes the app for its real thread count, and
stops once, without deadlocking, whatever mix of stop signals reaches it.
"""

import logging
import multiprocessing
import os
import shutil
import signal
import tempfile

from gunicorn.glogging import Logger
from gunicorn.workers.base import Worker

# Metrics: every worker writes its counts to files in one directory, which Prometheus' client adds
# up (multiprocess mode). It must be set before the app (and prometheus_client) is imported.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="signup-metrics-")
_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]
os.makedirs(_metrics_dir, exist_ok=True)
for _name in os.listdir(_metrics_dir):  # counts of an earlier run would be added in
    os.remove(os.path.join(_metrics_dir, _name))

from app.config.settings import DEFAULT_THREADS, switch  # noqa: E402 - after the metrics directory is set

bind = os.environ.get("SIGNUP_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("SIGNUP_WORKERS") or multiprocessing.cpu_count())
worker_class = "gthread"
threads = int(os.environ.get("SIGNUP_THREADS") or DEFAULT_THREADS)
# Build the app once in the master and fork it: a settings error stops start-up once, with one
# message, and workers share the memory of everything built at start-up.
preload_app = True
# Cognito's read timeout plus margin; a request never legitimately takes longer.
timeout = 30
graceful_timeout = 20
# Keep idle client connections this long; behind a load balancer make it longer than the
# balancer's own idle timeout (an AWS ALB's is 60 s), or it may reuse a closed connection (502).
keepalive = int(os.environ.get("SIGNUP_KEEPALIVE") or 5)
# Managed through signals (TERM for a graceful stop), as containers and process managers expect;
# no control socket in the home directory, which several instances on one host would share.
control_socket_disable = True

# Forwarded headers are trusted exactly as SIGNUP_TRUSTED_PROXIES says, by gunicorn as by the app
# (whose ProxyFix counts the hops). With none, gunicorn believes no peer, loopback included (its
# default trusts 127.0.0.1, so `X-Forwarded-Proto: https` from any local process made a plain-http
# request look secure). With proxies, only they can reach gunicorn (docs/load-balancing.md), and
# gunicorn reads the one header the app reads; nothing else a client sent through them counts.
_proxies = os.environ.get("SIGNUP_TRUSTED_PROXIES", "").strip()
if _proxies.isdigit() and int(_proxies) > 0:  # any other value: create_app refuses it, naming it
    forwarded_allow_ips = "*"
    secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
else:
    forwarded_allow_ips = ""
    secure_scheme_headers = {}
forwarder_headers = ""

# Logs: one JSON object a line on standard output, gunicorn's own included. The app writes a line
# per request itself (app.ops.logs), with the route, the request id and the duration, so gunicorn's
# access log would only repeat it (and cost as much again).


class _NoAccessLog(Logger):
    def access(self, resp, req, environ, request_time):
        """The app logs each request itself."""


logger_class = _NoAccessLog
accesslog = None
_level = os.environ.get("SIGNUP_LOG_LEVEL", "INFO").upper()
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "app.ops.logs.JsonFormatter"}},
    "handlers": {
        "stdout": {"class": "app.ops.logs.BackgroundStreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
    },
    "root": {"level": _level, "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"level": _level, "handlers": ["stdout"], "propagate": False},
    },
}


def on_starting(server):
    """Warn when rate limits are counted in memory by several workers: each counts on its own.

    A client's requests are spread over the workers, so with N workers every limit lets through N
    times what is set (4 workers: 18 of 30 sign-ups passed 5/minute).
    """
    storage = os.environ.get("SIGNUP_RATELIMIT_STORAGE_URI", "").strip() or "memory://"
    enabled = switch(os.environ.get("SIGNUP_RATELIMIT_ENABLED", ""), default=True)
    if enabled and storage.startswith("memory:") and server.cfg.workers > 1:
        server.log.warning(
            "SIGNUP_RATELIMIT_STORAGE_URI is %s, so each of the %d workers counts rate limits on its own and "
            "every limit lets through up to %d times what is set: set SIGNUP_RATELIMIT_STORAGE_URI to a Redis they "
            "all share (redis://host:6379/0), or run one worker (SIGNUP_WORKERS=1)",
            storage,
            server.cfg.workers,
            server.cfg.workers,
        )


def when_ready(server):
    """SIGNUP_METRICS_BIND (host:port): serve the metrics there, from the master, apart from the app."""
    address = os.environ.get("SIGNUP_METRICS_BIND")
    if address:
        from prometheus_client import CollectorRegistry, start_http_server
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        host, _, port = address.rpartition(":")
        start_http_server(int(port), addr=host, registry=registry)
        server.log.info("Metrics served at http://%s/metrics", address)


def post_fork(server, worker):
    """Give the new worker stop handlers that any mix of SIGINT, SIGQUIT and SIGTERM leaves working.

    gunicorn's own SIGINT/SIGQUIT handler (a quick stop) first shuts the thread pool down, which
    takes the pool's lock. Ctrl-C reaches a worker twice, from the terminal (SIGINT, to the whole
    process group) and from its master (SIGQUIT); a supervisor that signals the whole group does
    the same. When the second signal arrived while the first handler was inside that shutdown (or a
    single one while the worker was adding a thread to the pool, which holds the same lock), the
    handler ran again in the same thread and waited forever for the lock it held itself: the master
    killed the worker after the graceful timeout, or, gone itself, left it holding the port.

    The handlers here take no lock. The first quick-stop signal stops the worker as gunicorn's does
    (worker_int, then SystemExit) without touching the pool: the process ends in worker_exit, and
    its threads with it. Later ones, and SIGTERM after it, change nothing. They are set as the
    worker's own attributes, which gunicorn installs when the worker initialises its signals, and
    at once, for a signal that comes while the worker is still starting; one that came even earlier
    went to the master's handler, which only queues it, and is taken from that queue here.
    """
    stopping = False

    def quick_stop(sig, frame):
        nonlocal stopping
        if stopping:
            return  # the first one is under way; running it again is what deadlocked
        stopping = True
        Worker.handle_quit(worker, sig, frame)

    def stop_after_current_requests(sig, frame):
        # Until the worker installs its own SIGTERM handler: its loop has not started, so a false
        # `alive` is all it needs to stop as soon as it would start.
        worker.alive = False

    worker.handle_quit = quick_stop
    handlers = {signal.SIGINT: quick_stop, signal.SIGQUIT: quick_stop, signal.SIGTERM: stop_after_current_requests}
    for sig, handler in handlers.items():
        signal.signal(sig, handler)
    missed = []
    while not server.SIG_QUEUE.empty():
        missed.append(server.SIG_QUEUE.get_nowait())
    for sig in missed:
        if sig in handlers:
            handlers[sig](sig, None)


def post_worker_init(worker):
    """Fit the app to the threads this worker really runs (app.components.fit_to_threads), before its first request."""
    from app.components import fit_to_threads

    fit_to_threads(worker.wsgi, worker.cfg.threads)


def child_exit(server, worker):
    """A worker that is gone stops counting towards live values (prometheus_client's rule)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _metrics_dir.startswith(tempfile.gettempdir()) and "signup-metrics-" in _metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)


def worker_exit(server, worker):
    """A worker that has finished its requests ends at once, without tearing down the interpreter.

    That teardown (freeing botocore's models, Babel's data and the rest, object by object) costs
    about a second of CPU and serves nobody, and on a busy machine it took several: the instance
    lingered after its last request, and a deploy waited for it. Logs are flushed first. A worker
    that never booted keeps gunicorn's own exit, whose status tells the master it failed.
    """
    if worker.booted:
        logging.shutdown()
        os._exit(0)
