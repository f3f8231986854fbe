"""One real gunicorn gthread worker in this process, and a second stop signal at the worst moment.

`python -m tests.gthread_worker HANDLERS FIRST SECOND [early]` runs gunicorn's ThreadWorker on a
loopback port, with the stop handlers gunicorn.conf.py gives it (HANDLERS `ours`) or gunicorn's own
(`gunicorns`), sends it FIRST (a signal name), and SECOND the moment the worker is inside its
thread pool's shutdown, or, when a stop never shuts the pool down, inside the stop's worker_int
hook: the second signal of a Ctrl-C (the terminal's, then the master's), or of a supervisor that
signals the whole process group, always landing while the first is being handled. A race in real
life, certain here. With `early`, FIRST came before the worker had handlers of its own, so the
master's handler (inherited by the fork) only queued it. Prints the seconds from FIRST to the
stop; exit status 0 once the worker stopped, 3 when it still runs after 3 s.
"""

from __future__ import annotations

import os
import queue
import runpy
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from gunicorn.config import Config
from gunicorn.glogging import Logger
from gunicorn.sock import create_sockets
from gunicorn.workers.gthread import ThreadWorker

ROOT = Path(__file__).resolve().parent.parent
DEADLOCKED = 3


def main(handlers: str, first: signal.Signals, second: signal.Signals, early: bool = False) -> None:
    sent = threading.Event()

    def send_second(worker: Any = None) -> None:
        if not sent.is_set():
            sent.set()
            os.kill(os.getpid(), second)

    class Pool(ThreadPoolExecutor):
        def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
            # Inside the real shutdown, holding its lock, right after it wakes the idle threads.
            class WakeThenSignal(queue.SimpleQueue):  # type: ignore[type-arg]
                def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
                    super().put(item, block, timeout)
                    send_second()

            waiting = self._work_queue
            self._work_queue = WakeThenSignal()
            while not waiting.empty():
                self._work_queue.put_nowait(waiting.get_nowait())
            super().shutdown(wait, cancel_futures=cancel_futures)

    class Worker(ThreadWorker):
        def get_thread_pool(self) -> ThreadPoolExecutor:
            return Pool(max_workers=self.cfg.threads)

    class App:
        def wsgi(self) -> Any:
            return lambda environ, start_response: start_response("200 OK", []) or [b"ok\n"]

    cfg = Config()
    cfg.set("bind", "127.0.0.1:0")
    cfg.set("threads", 4)
    cfg.set("worker_int", send_second)
    log = Logger(cfg)
    worker = Worker(1, os.getppid(), create_sockets(cfg, log), App(), 30, cfg, log)
    server = type("Master", (), {"SIG_QUEUE": queue.SimpleQueue()})()
    if early:
        server.SIG_QUEUE.put(first)
    post_fork = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["post_fork"] if handlers == "ours" else None
    if not early:
        threading.Timer(0.5, os.kill, (os.getpid(), first)).start()
    threading.Timer(3.5, os._exit, (DEADLOCKED,)).start()
    started = time.monotonic() + (0 if early else 0.5)
    try:
        if post_fork:
            post_fork(server, worker)
        worker.init_process()
    except SystemExit:
        pass
    print(f"{time.monotonic() - started:.3f}", flush=True)
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1], signal.Signals[sys.argv[2]], signal.Signals[sys.argv[3]], sys.argv[4:] == ["early"])
