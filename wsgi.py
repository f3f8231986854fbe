"""The WSGI entry point for gunicorn: `gunicorn wsgi:app` (settings in gunicorn.conf.py)."""

import gc
import sys

from app import create_app
from app.errors import ConfigError
from app.web.health import check_at_start

try:
    app = create_app()
except ConfigError as err:
    # One readable message that lists every problem, not a traceback.
    sys.exit(str(err))

# Before the first person arrives: a wrong client id or secret is an ERROR in the log now, and
# /readyz says so, instead of the first sign-up finding it out.
check_at_start(app)

# What the app built at start-up (botocore's models, Babel's data, the templates) lives as long as
# the process: the garbage collector need not look through it again on every full collection
# (about 70 ms each, then about 10), and forked workers share those pages with the master.
gc.freeze()
