"""Return addresses: where a person may be sent at the end of the flow.

A ?return_to= address is followed only when it falls under one of the operator's allowed URLs
(same scheme, host and port, and a path under the allowed path); anything else is ignored, so the
app can never be used to bounce people to a lookalike site, or to another page of the operator's.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

MAX_RETURN_URL_LENGTH = 2000
DEFAULT_PORTS = {"https": 443, "http": 80}
# Browsers read %2e as a dot in a path, and many servers decode %2f to a slash before routing.
_ENCODED_DOT_OR_SLASH = re.compile(r"%2[ef]", re.IGNORECASE)
# Refused outright: an encoded backslash (a slash to some servers) and anything encoded twice
# that would decode to a dot, a slash or a backslash on a server that decodes twice.
_REFUSED_IN_PATH = re.compile(r"%5c|%25(?:2e|2f|5c)", re.IGNORECASE)
# `..;x` is `..` to servers that strip path parameters (Tomcat, Spring).
_DOT_SEGMENT_WITH_PARAMETERS = re.compile(r"/\.\.?;")


def safe_return_url(url: str, allowed: tuple[str, ...]) -> str | None:
    """The address to send the person to, or None when `url` is not under an allowed URL.

    The path is resolved the way the browser and the shop's server would resolve it (dot segments,
    encoded dots and slashes too) before it is compared segment by segment, and the resolved
    address is what is returned: what is followed is exactly what was checked.
    """
    if len(url) > MAX_RETURN_URL_LENGTH or any(c in url for c in "\\\r\n\t ") or not url.isprintable():
        return None
    try:
        target = urlsplit(url)
    except ValueError:
        return None
    origin = _origin(target)
    if target.username or target.password or origin is None or _REFUSED_IN_PATH.search(target.path):
        return None
    path = _ENCODED_DOT_OR_SLASH.sub(lambda encoded: unquote(encoded.group()), target.path)
    if _DOT_SEGMENT_WITH_PARAMETERS.search(path):
        return None
    path = _resolve_dot_segments(path)
    for base_url in allowed:
        base = urlsplit(base_url)
        under = base.path.rstrip("/")
        if _origin(base) == origin and (path == under or path.startswith(under + "/")):
            return urlunsplit((target.scheme, _netloc(*origin), path, target.query, target.fragment))
    return None


def _origin(url: SplitResult) -> tuple[str, str, int] | None:
    """Scheme, host and port, with the scheme's default port filled in: https://h is https://h:443."""
    try:
        port = url.port
    except ValueError:  # not a number, or out of range
        return None
    if url.scheme not in DEFAULT_PORTS or not url.hostname or port == 0:
        return None
    return url.scheme, url.hostname, port or DEFAULT_PORTS[url.scheme]


def _netloc(scheme: str, host: str, port: int) -> str:
    host = f"[{host}]" if ":" in host else host
    return host if port == DEFAULT_PORTS[scheme] else f"{host}:{port}"


def _resolve_dot_segments(path: str) -> str:
    """RFC 3986's remove_dot_segments for an absolute path: /a/b/../c is /a/c, and /.. stays at /."""
    if not path:
        return path
    segments = path.split("/")[1:]
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    if segments[-1] in (".", ".."):
        kept.append("")  # /a/b/.. is the directory /a/, with its slash
    return "/" + "/".join(kept)
