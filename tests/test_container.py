"""The Dockerfile: read as text, then built with podman and run from the image's own files.

No container registry is reachable here and `podman run` fails (cgroups), so scripts/build-image
builds on a stand-in for python:3.11-slim-bookworm, and the image's command runs in a chroot of
the image, read-only but for a fresh /tmp (as ECS's readonlyRootFilesystem and Kubernetes'
readOnlyRootFilesystem run it, docs/deploy.md), with the image's user, directory and environment.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.emulator import free_port, wait_until_up

from .conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()
TAG = "localhost/cognito-signup:test"
BASE = "localhost/python:3.11-slim-bookworm"  # scripts/build-image gives its stand-in this name
SIGTERM_STOP_SECONDS = 5  # no request is in flight, so gunicorn has nothing to wait for


COPIED = [source for sources in re.findall(r"^COPY (.+) \S+$", DOCKERFILE, re.M) for source in sources.split()]


def test_every_copied_path_exists() -> None:
    for source in COPIED:
        assert (ROOT / source).exists(), source


def test_it_runs_gunicorn_as_a_non_root_user_with_a_health_check() -> None:
    assert re.search(r"^USER 10001$", DOCKERFILE, re.M)
    command = json.loads(re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.M).group(1))
    assert command == shlex.split((ROOT / "Procfile").read_text().removeprefix("web:"))  # as the Procfile
    assert DOCKERFILE.index("USER 10001") < DOCKERFILE.index("CMD [")
    assert "/healthz" in DOCKERFILE.split("HEALTHCHECK", 1)[1]
    assert re.search(r"^FROM python:3\.11-slim-bookworm$", DOCKERFILE, re.M)  # the stand-in's name


def test_the_build_context_leaves_out_development_files_and_secrets() -> None:
    """docker build sends the context to the engine: what is ignored never reaches it."""
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "tests", "node_modules", "**/.env", "**/*.pem", "**/*.key"} <= ignored


@dataclass(frozen=True)
class Image:
    """A built image: its files (mounted read-only), its configuration and what it adds to its base."""

    root: Path
    config: dict[str, Any]
    healthcheck: list[str]
    added: list[str]

    def user(self) -> tuple[int, int]:
        """The user and group a container runtime gives `USER`: a number's group is in /etc/passwd."""
        uid = int(self.config["User"])
        for line in (self.root / "etc" / "passwd").read_text().splitlines():
            fields = line.split(":")
            if int(fields[2]) == uid:
                return uid, int(fields[3])
        raise AssertionError(f"user {uid} is not in the image's /etc/passwd")

    def command(self, argv: list[str], settings: dict[str, str]) -> list[str]:
        """`argv` as the image runs it: its user, directory and environment plus `settings`.

        unshare gives the process a mount namespace of its own, so its /tmp goes away with it.
        chroot and env exec in turn, so the process started is the command itself.
        """
        uid, gid = self.user()
        environment = dict(entry.split("=", 1) for entry in self.config["Env"]) | settings
        mount_tmp = 'mount -t tmpfs -o mode=1777,size=64m tmpfs "$0/tmp" && exec "$@"'
        return [
            *["unshare", "--mount", "--propagation", "private", "sh", "-c", mount_tmp, str(self.root)],
            *["chroot", f"--userspec={uid}:{gid}", str(self.root)],
            *["/usr/bin/env", "-i", "-C", self.config["WorkingDir"]],
            *[f"{name}={value}" for name, value in environment.items()],
            *argv,
        ]


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Image]:
    """The image, built by scripts/build-image in a podman storage of its own, deleted afterwards."""
    missing = [tool for tool in ("podman", "mmdebstrap") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"building the image needs {' and '.join(missing)} (scripts/install-test-packages installs them)")
    if os.geteuid() != 0:
        pytest.skip("building and running the image needs root: podman's storage, mount and chroot")
    directory = tmp_path_factory.mktemp("image")
    store, log = directory / "store", directory / "build.log"
    podman = ["podman", "--root", str(store / "root"), "--runroot", str(store / "run")]
    try:
        with open(log, "wb") as output:
            build = [str(ROOT / "scripts" / "build-image"), str(store), TAG]
            built = subprocess.run(build, check=False, stdout=output, stderr=subprocess.STDOUT, timeout=900)
        assert built.returncode == 0, "the image did not build:\n" + log.read_text()[-5000:]
        inspected = json.loads(subprocess.check_output([*podman, "image", "inspect", TAG]))[0]
        diff = subprocess.check_output([*podman, "image", "diff", TAG, BASE], text=True)
        root = Path(subprocess.check_output([*podman, "image", "mount", TAG], text=True).strip())
        added = [line[2:] for line in diff.splitlines()]  # "A /app", "C /etc/passwd", ...
        yield Image(root, inspected["Config"], inspected["Healthcheck"]["Test"], added)
    finally:
        # Unmounted first: podman also mounts its storage over itself, and a mount cannot be deleted.
        # (Not `podman system reset`: it would remove the machine's podman networks as well.)
        subprocess.run([*podman, "image", "umount", "--all"], check=False, capture_output=True)
        if store.exists():
            shutil.rmtree(store)


@pytest.mark.servers
@pytest.mark.image
def test_the_image_adds_only_the_app_its_packages_and_its_user(image: Image) -> None:
    """/app holds what git tracks of the copied paths, so no tests, .git, .venv or local secret."""
    tracked = set(subprocess.check_output(["git", "ls-files", "--", *COPIED], cwd=ROOT, text=True).splitlines())
    app = image.root / "app"
    in_image = {str(path.relative_to(app)) for path in app.rglob("*") if not path.is_dir()}
    assert in_image == tracked, f"only in the image: {in_image - tracked}; not in it: {tracked - in_image}"
    development_or_secret = re.compile(r"(^|/)(tests|\.git|\.venv|node_modules)(/|$)|(^|/)\.env|\.(pem|key)$")
    assert not [path for path in in_image if development_or_secret.search(path)]
    assert all(path.stat().st_uid == 0 and not path.stat().st_mode & 0o002 for path in app.rglob("*"))  # root's

    user_files = re.compile(r"/etc/(passwd|group|shadow|gshadow)-?")
    elsewhere = [
        path
        for path in image.added
        if path not in ("/etc", "/usr", "/usr/local", "/app")
        and not path.startswith(("/app/", "/usr/local/"))
        and not user_files.fullmatch(path)
    ]
    assert not elsewhere, f"the image adds more than the app, its packages and its user: {elsewhere}"
    assert image.user() == (10001, 10001)


def _ids(pid: int) -> tuple[int, int]:
    """The real user and group of a running process."""
    status = Path(f"/proc/{pid}/status").read_text()
    uid = re.search(r"^Uid:\s+(\d+)", status, re.M).group(1)
    gid = re.search(r"^Gid:\s+(\d+)", status, re.M).group(1)
    return int(uid), int(gid)


def _children(pid: int) -> list[int]:
    children = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if re.search(rf"^PPid:\s+{pid}$", status.read_text(), re.M):
                children.append(int(status.parent.name))
        except OSError:
            pass  # a process that has gone
    return children


@contextmanager
def _served(image: Image, settings: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The image's command (gunicorn) on the port in `settings`; stopped with SIGKILL if a test fails."""
    with open(log, "wb") as output:
        process = subprocess.Popen(image.command(image.config["Cmd"], settings), stdout=output, stderr=output)
    try:
        wait_until_up(f"http://127.0.0.1:{settings['PORT']}/healthz", process)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.servers
@pytest.mark.image
def test_the_image_serves_as_user_10001_and_stops_at_once_on_sigterm(image: Image, tmp_path: Path) -> None:
    port = free_port()
    settings = {
        "COGNITO_REGION": "us-east-1",
        "COGNITO_USER_POOL_ID": "us-east-1_Test1",
        "COGNITO_CLIENT_ID": "testclientid123",
        "COGNITO_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens: Cognito is down
        "SECRET_KEY": secrets.token_urlsafe(32),
        "PORT": str(port),  # for the HEALTHCHECK
        "SIGNUP_BIND": f"127.0.0.1:{port}",  # loopback only
    }
    log = tmp_path / "gunicorn.log"
    with _served(image, settings, log) as gunicorn:
        statuses = {}
        for path in ("/healthz", "/signup", "/readyz"):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path)
            statuses[path] = connection.getresponse().status
            connection.close()
        assert statuses == {"/healthz": 200, "/signup": 200, "/readyz": 503}
        kind, *check = image.healthcheck  # as Docker runs a HEALTHCHECK: CMD-SHELL through sh -c
        check = ["/bin/sh", "-c", *check] if kind == "CMD-SHELL" else check
        assert subprocess.run(image.command(check, settings), check=False, timeout=10).returncode == 0

        workers = _children(gunicorn.pid)
        assert workers
        assert {_ids(pid) for pid in [gunicorn.pid, *workers]} == {(10001, 10001)}

        idle = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # a browser's kept-alive connection
        idle.request("GET", "/healthz")
        idle.getresponse().read()
        started = time.monotonic()
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)
        stopped_in = time.monotonic() - started
        idle.close()

    output = log.read_text()
    assert gunicorn.returncode == 0, output
    assert stopped_in < SIGTERM_STOP_SECONDS, output
    assert "SIGKILL" not in output  # gunicorn's "Worker (pid:...) was sent SIGKILL!"
