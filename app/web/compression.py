"""Compressing what leaves the app, as the browser accepts: brotli or gzip.

Pages are compressed per request, since each holds a form token of its own, at light levels. The
sign-up page as most visitors first see it is kept (app.web.pages.kept_signup_page), and so is its
gzip: compressed once, at the best level, around the slot the token goes in, so a visit costs a CRC
and a join, not a compression. Static files are compressed once, at start-up (app.web.assets).
docs/performance.md has the figures.
"""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache

import brotli
from flask import request
from werkzeug.http import parse_accept_header
from werkzeug.wrappers import Response

BROTLI_QUALITY = 1  # the 11 KB code page: 4.3 KB in 55 us; quality 4 saves 470 bytes more for 180 us
GZIP_LEVEL = 6
# Below this a body goes in one packet with its headers (about 700 bytes) either way: compressing
# it costs time and saves nothing a person notices. The done page (900 bytes) is above it.
MIN_COMPRESS_BYTES = 512
COMPRESSED_TYPES = frozenset({"text/html", "text/css", "text/javascript", "application/json", "image/svg+xml"})
# gzip's member header: deflate, no name, no time, best compression (RFC 1952).
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"


def compress(response: Response) -> None:
    """Compress a text body of MIN_COMPRESS_BYTES or more, with brotli or gzip, as the browser accepts."""
    if (
        response.mimetype not in COMPRESSED_TYPES
        or 300 <= response.status_code < 400  # a redirect's body is never shown
        or response.direct_passthrough  # a file, streamed: not the pages this is for
        or response.is_streamed
        or "Content-Encoding" in response.headers
        or (response.content_length or 0) < MIN_COMPRESS_BYTES
    ):
        return
    # The body's encoding depends on the request's Accept-Encoding from here on, whatever it is.
    response.vary.add("Accept-Encoding")
    encoding = chosen_encoding(request.headers.get("Accept-Encoding", ""))
    if encoding is None:
        return
    body = response.get_data()
    if encoding == "br":
        response.set_data(brotli.compress(body, quality=BROTLI_QUALITY))
    else:
        response.set_data(zlib.compress(body, GZIP_LEVEL, wbits=31))  # 31: with gzip's header
    response.headers["Content-Encoding"] = encoding


@lru_cache(maxsize=64)
def _qualities(accept_encoding: str) -> dict[str, float]:
    """How much the client wants br and gzip (0: not at all). Browsers send few distinct values."""
    accepted = parse_accept_header(accept_encoding)
    return {coding: accepted[coding] for coding in ("br", "gzip")}


def chosen_encoding(accept_encoding: str) -> str | None:
    """br or gzip, whichever the client prefers (br on a tie), or None."""
    qualities = _qualities(accept_encoding)
    best = max(qualities, key=qualities.__getitem__)
    return best if qualities[best] > 0 else None


class KeptPage:
    """A page kept for every visitor but for one slot, filled per visit (the form token).

    Its gzip is made once: the part before the slot and the part after it are deflated apart, at
    level 9, and a visit's filling goes between them as a stored (uncompressed) deflate block, which
    any gzip reader takes; only the CRC is computed per visit. It is about 3% larger than the whole
    page deflated at once (10% larger than brotli 4's), and costs about 2 us where brotli costs 50 or more.
    """

    def __init__(self, page: str, slot: str) -> None:
        before, found, after = page.encode().partition(slot.encode())
        if not found:
            raise ValueError("the slot is not in the page")
        self._before, self._after = before, after
        self._before_crc = zlib.crc32(before)
        self._deflated_before = _deflate(before, last=False)
        self._deflated_after = _deflate(after, last=True)

    def filled(self, filling: str) -> tuple[bytes, int, dict[str, str]]:
        """The page with `filling` in its slot, in gzip when the browser takes it (else as it is,
        for `compress` to choose)."""
        value = filling.encode()
        if not _qualities(request.headers.get("Accept-Encoding", ""))["gzip"]:
            return self._before + value + self._after, 200, {}
        stored = b"\x00" + struct.pack("<HH", len(value), len(value) ^ 0xFFFF)  # BFINAL 0, BTYPE 00
        crc = zlib.crc32(self._after, zlib.crc32(value, self._before_crc))
        size = len(self._before) + len(value) + len(self._after)
        trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
        body = b"".join((_GZIP_HEADER, self._deflated_before, stored, value, self._deflated_after, trailer))
        return body, 200, {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}


def _deflate(data: bytes, *, last: bool) -> bytes:
    """Raw deflate of `data`, ending on a byte boundary: with the final block, or open for more."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    return deflater.compress(data) + deflater.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)
