"""Return addresses: where a person may be sent at the end of the flow.

A ?return_to= address is followed only when it falls under one of the operator's allowed URLs
(same scheme, host and port, and a path under the allowed path); anything else is ignored, so the
app can never be used to bounce people to a lookalike site.
"""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_RETURN_URL_LENGTH = 2000


def is_allowed_return_url(url: str, allowed: tuple[str, ...]) -> bool:
    if len(url) > MAX_RETURN_URL_LENGTH or any(c in url for c in "\\\r\n\t ") or not url.isprintable():
        return False
    try:
        target = urlsplit(url)
        port = target.port
    except ValueError:
        return False
    if target.scheme not in ("https", "http") or target.username or target.password or not target.hostname:
        return False
    for prefix in allowed:
        base = urlsplit(prefix)
        if (target.scheme, target.hostname, port) == (base.scheme, base.hostname, base.port) and (
            target.path or "/"
        ).startswith(base.path or "/"):
            return True
    return False
