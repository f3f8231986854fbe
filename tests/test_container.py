"""The Dockerfile, read as far as this machine can (it has no Docker engine to build it)."""

from __future__ import annotations

import json
import re
import shlex

from .conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_every_copied_path_exists() -> None:
    for sources in re.findall(r"^COPY (.+) \S+$", DOCKERFILE, re.M):
        for source in sources.split():
            assert (ROOT / source).exists(), source


def test_it_runs_gunicorn_as_a_non_root_user_with_a_health_check() -> None:
    assert re.search(r"^USER 10001$", DOCKERFILE, re.M)
    command = json.loads(re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.M).group(1))
    assert command == shlex.split((ROOT / "Procfile").read_text().removeprefix("web:"))  # as the Procfile
    assert DOCKERFILE.index("USER 10001") < DOCKERFILE.index("CMD [")
    assert "/healthz" in DOCKERFILE.split("HEALTHCHECK", 1)[1]
    assert re.search(r"^FROM python:3\.11-slim", DOCKERFILE, re.M)


def test_the_image_leaves_out_development_files_and_secrets() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "tests", "node_modules", ".env", "*.pem", "*.key"} <= ignored
