"""Static files under names that carry a hash of their content, so browsers keep them for a year.

WhiteNoise serves them, in front of Flask: conditional requests, HEAD, byte ranges and the
choice among precompressed variants are its well-tested code, not ours. At start-up each file of
static/ is copied under its hashed name (app.0123456789ab.css) into a directory of this process,
minified (rjsmin, rcssmin: the readable source stays in static/) and compressed there once, as hard
as brotli and gzip go, so no request compresses a static file.

- `/static/<name>.<hash>.<ext>`, the names the pages link to: `Cache-Control: public,
  max-age=31536000, immutable`. A new version has new names, so a browser never needs to ask again.
- `/static/<name>.<ext>`, the plain names: the same files with `no-cache`, for any page or cache
  that still links to them.
- A hashed name of another version (a rolling deploy: a page from one instance, its files asked of
  an instance of the other version): this version's file, with `no-cache`, so neither the browser
  nor a cache between keeps it under that name; the script and styles only enhance a page that
  works without them, and the next page gets its own files. docs/performance.md says more.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import rcssmin
import rjsmin
from flask import Flask, request
from markupsafe import Markup
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

PREFIX = "/static/"
STYLES = "app.css"  # written into every page (serve_static)
IMMUTABLE = "public, max-age=31536000, immutable"
# Comments and indentation are a third of the script and styles, even brotli'd: a first visit is
# 1.5 KB lighter without them (docs/performance.md).
_MINIFIERS = {"js": rjsmin.jsmin, "css": rcssmin.cssmin}
_HASHED = re.compile(r"/static/(?P<stem>[^/]+)\.[0-9a-f]{12}(?P<suffix>\.[A-Za-z0-9]+)")


@dataclass(frozen=True)
class Built:
    """The hashed copies and their compressed variants, in a directory this process made."""

    directory: Path
    names: dict[str, str]  # plain name -> hashed name
    digests: dict[str, str]  # plain name -> the hash in its name


def serve_static(app: Flask, source: Path, favicon_url: str | None) -> str:
    """Put the static files in front of `app`, and give templates `asset(name)`, `favicon()` and
    `styles()`; returns the Content-Security-Policy source that allows those styles (their hash).

    The styles (1.5 KB compressed) and the neutral icon (200-odd bytes) go in the pages themselves:
    a first visit makes one request before its first paint, not two, over a new connection each on
    HTTP/1.1 (docs/performance.md). The files stay served, for pages of another version.
    """
    built = build(tuple(sorted((path.name, path.read_bytes()) for path in source.iterdir() if path.is_file())))
    app.wsgi_app = StaticFiles(app.wsgi_app, built)  # type: ignore[method-assign]
    icon = favicon_url or "data:image/svg+xml," + quote((source / "favicon.svg").read_text().strip(), safe="/:=.")
    styles = Markup((built.directory / built.names[STYLES]).read_text())  # noqa: S704 - the app's own file

    def asset(name: str) -> str:
        """The address of a static file under its hashed name, below the app's own root."""
        return f"{request.script_root}{PREFIX}{built.names[name]}"

    app.add_template_global(asset)
    app.add_template_global(lambda: icon, "favicon")
    app.add_template_global(lambda: styles, "styles")
    return f"'sha256-{base64.b64encode(hashlib.sha256(styles.encode()).digest()).decode()}'"


@cache
def build(files: tuple[tuple[str, bytes], ...]) -> Built:
    """Write hashed copies and their .br and .gz variants; once per process for the same files."""
    directory = Path(tempfile.mkdtemp(prefix="signup-static-"))
    atexit.register(_remove, directory, os.getpid())
    names, digests = {}, {}
    compressor = Compressor(quiet=True)
    for name, source in files:
        content = minified(name, source)
        digests[name] = hashlib.sha256(content).hexdigest()[:12]
        stem, _, extension = name.rpartition(".")
        names[name] = f"{stem}.{digests[name]}.{extension}"
        path = directory / names[name]
        path.write_bytes(content)
        if compressor.should_compress(name):
            compressor.compress(str(path))
    return Built(directory, names, digests)


def minified(name: str, content: bytes) -> bytes:
    """The file as it is served: a script or style sheet without comments and spaces, anything else as it is."""
    minify = _MINIFIERS.get(name.rpartition(".")[2])
    return minify(content.decode()).encode() if minify else content


def _remove(directory: Path, owner: int) -> None:
    """Only the process that made the directory removes it: gunicorn's workers share their master's."""
    if os.getpid() == owner:
        shutil.rmtree(directory, ignore_errors=True)


class StaticFiles(WhiteNoise):  # type: ignore[misc]
    """WhiteNoise with the hashed names, the plain names, and other versions' names answered."""

    def __init__(self, application: Any, built: Built) -> None:
        self.immutable = {PREFIX + hashed for hashed in built.names.values()}
        self.plain = {PREFIX + name for name in built.names}
        # The content's hash, the same on every instance of every version with this file: a
        # revalidated plain name gets 304 from any of them (WhiteNoise's own ETag is the file's time).
        self.etags = {PREFIX + n: f'"{built.digests[name]}"' for name in built.names for n in (name, built.names[name])}
        super().__init__(
            application,
            root=built.directory,
            prefix=PREFIX,
            max_age=None,  # each file's Cache-Control comes from _headers
            allow_all_origins=False,  # only the app's own pages use them
            add_headers_function=self._headers,
        )
        for name, hashed in built.names.items():
            self.add_file_to_dictionary(PREFIX + name, str(built.directory / hashed))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX) and path not in self.files and (other := _HASHED.fullmatch(path)):
            plain = f"{PREFIX}{other['stem']}{other['suffix']}"
            if plain in self.plain:
                environ = {**environ, "PATH_INFO": plain}
        return super().__call__(environ, start_response)

    def _headers(self, headers: Any, path: str, url: str) -> None:
        headers["Cache-Control"] = IMMUTABLE if url in self.immutable else "no-cache"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["ETag"] = self.etags[url]
