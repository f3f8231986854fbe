"""gunicorn settings, read from the environment so each deployment tunes them without a rebuild.

Sign-up requests spend nearly all their time waiting on Cognito, so each worker process runs many
threads (gthread): a few processes (one per CPU) use the cores, and the threads cover the waiting.
"""

import multiprocessing
import os

bind = os.environ.get("SIGNUP_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("SIGNUP_WORKERS") or multiprocessing.cpu_count())
worker_class = "gthread"
threads = int(os.environ.get("SIGNUP_THREADS") or 32)
# Build the app once in the master and fork it: a settings error stops start-up once, with one
# message, and workers share the memory of everything built at start-up.
preload_app = True
# Cognito's read timeout plus margin; a request never legitimately takes longer.
timeout = 30
graceful_timeout = 20
keepalive = 5
# Managed through signals (TERM for a graceful stop), as containers and process managers expect;
# no control socket in the home directory, which several instances on one host would share.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
