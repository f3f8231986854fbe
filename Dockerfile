# The sign-up app: gunicorn on port 8000 as a non-root user. Settings come from the environment
# (docs/configuration.md); mount your own declaration over /app/config/signup.toml.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY wsgi.py gunicorn.conf.py ./
COPY app/ app/
COPY templates/ templates/
COPY static/ static/
COPY config/ config/

# One number for the user and its group, so a runtime that sets only the user (USER 10001,
# runAsUser) and one that sets both (--user 10001:10001, runAsGroup) run the app alike.
RUN groupadd --system --gid 10001 signup \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin signup
USER 10001

ENV PORT=8000 \
    SIGNUP_CONFIG=/app/config/signup.toml \
    PROMETHEUS_MULTIPROC_DIR=/tmp/signup-metrics
EXPOSE 8000

# Liveness only: /healthz never calls Cognito (see docs/deploy.md for readiness).
HEALTHCHECK --interval=15s --timeout=3s --start-period=15s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2)"

# gunicorn stops on SIGTERM: it stops accepting, lets requests in flight finish (20 s), then exits.
# The command is the Procfile's.
STOPSIGNAL SIGTERM
CMD ["gunicorn", "wsgi:app"]
