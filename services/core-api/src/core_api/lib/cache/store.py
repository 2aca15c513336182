"""Stored responses: what a cache hit sends, prepared once when the entry is stored.

An entry is one Redis string: a meta line (format, generation it was computed under, the time it
stops being fresh, ETag), the response headers exactly as a hit sends them (ETag, Cache-Control and
Content-Length included), a blank line, the body. A hit parses a few short lines and sends; nothing
is hashed or serialised per hit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time

FORMAT = b"r1"
#: headers the stored response does not keep from the route's answer (set by the cache itself)
_OWN_HEADERS = {b"etag", b"cache-control", b"content-length"}
#: headers a 304 leaves out (RFC 9110 15.4.5: no content)
_NOT_IN_304 = {b"content-length", b"content-type"}
PRIVATE_REVALIDATE = b"private, no-cache"


def etag_of(body: bytes) -> bytes:
    """A weak validator of the body (computed once per stored entry, not per hit)."""
    return b'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'


@dataclasses.dataclass(slots=True)
class CachedResponse:
    generation: int
    #: wall-clock seconds (shared by every worker and replica) after which a refresh is due
    fresh_until: float
    etag: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes

    @classmethod
    def build(
        cls,
        generation: int,
        ttl: float,
        route_headers: list[tuple[bytes, bytes]],
        body: bytes,
        cache_control: bytes = PRIVATE_REVALIDATE,
    ) -> CachedResponse:
        etag = etag_of(body)
        headers = [(k, v) for k, v in route_headers if k.lower() not in _OWN_HEADERS]
        headers += [
            (b"content-length", str(len(body)).encode()),
            (b"etag", etag),
            (b"cache-control", cache_control),
        ]
        return cls(generation, time.time() + ttl, etag, headers, body)

    @property
    def is_fresh(self) -> bool:
        return time.time() < self.fresh_until

    def encode(self) -> bytes:
        meta = b"%s %d %.3f %s\n" % (FORMAT, self.generation, self.fresh_until, self.etag)
        head = b"".join(k + b": " + v + b"\n" for k, v in self.headers)
        return meta + head + b"\n" + self.body

    @classmethod
    def decode(cls, raw: bytes | None) -> CachedResponse | None:
        """The entry, or None for anything not in this format (a miss, never an error)."""
        if not raw:
            return None
        head, sep, body = raw.partition(b"\n\n")
        if not sep:
            return None
        lines = head.split(b"\n")
        meta = lines[0].split(b" ")
        if len(meta) != 4 or meta[0] != FORMAT:
            return None
        try:
            generation, fresh_until = int(meta[1]), float(meta[2])
        except ValueError:
            return None
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(b": ")
            headers.append((name, value))
        return cls(generation, fresh_until, meta[3], headers, body)

    def matches(self, if_none_match: bytes) -> bool:
        """True when the client's If-None-Match names this entry (weak comparison, or `*`)."""
        tags = [t.strip() for t in if_none_match.split(b",")]
        return b"*" in tags or self.etag in tags or self.etag[2:] in tags

    def not_modified_headers(self) -> list[tuple[bytes, bytes]]:
        return [(k, v) for k, v in self.headers if k not in _NOT_IN_304]
