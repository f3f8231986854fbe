"""The WSGI entry point for gunicorn: `gunicorn wsgi:app` (settings in gunicorn.conf.py)."""

import sys

from app import create_app
from app.errors import ConfigError

try:
    app = create_app()
except ConfigError as err:
    # One readable message that lists every problem, not a traceback.
    sys.exit(str(err))
