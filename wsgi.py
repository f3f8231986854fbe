"""The WSGI entry point for gunicorn: `gunicorn wsgi:app` (settings in gunicorn.conf.py)."""

import gc
import sys

from app import create_app
from app.errors import ConfigError

try:
    app = create_app()
except ConfigError as err:
    # One readable message that lists every problem, not a traceback.
    sys.exit(str(err))

# What the app built at start-up (botocore's models, Babel's data, the templates) lives as long as
# the process: the garbage collector need not look through it again on every full collection
# (about 70 ms each, then about 10), and forked workers share those pages with the master.
gc.freeze()
