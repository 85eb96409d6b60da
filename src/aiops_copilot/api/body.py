"""Request bodies with limits: size (before and after decompression), encoding, media type.

The size limit is enforced while the body streams in (an ASGI middleware counting what
``receive`` hands over), so a 2 GB upload is refused after the first 10 MB rather than
buffered; a ``Content-Length`` over the limit is refused before a byte is read. Compressed
bodies are inflated in slices and stopped at the same limit, so a gzip bomb costs nothing.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aiops_copilot.api.errors import ApiError, error_response

_SLICE = 64 * 1024


class BodyTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over the {_size(limit)} limit")


def _size(limit: int) -> str:
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit:,} bytes"


class BodyLimit:
    """ASGI middleware: bodies over ``limit_for(path)`` bytes get 413, early."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = self.limit_for(path)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            response = error_response(path, 413, BodyTooLarge(limit).message)
            await response(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def inflate(data: bytes, encoding: str | None, limit: int, *, what: str = "body") -> bytes:
    """Undo ``Content-Encoding`` (gzip, deflate or none) without exceeding ``limit`` bytes."""
    name = (encoding or "identity").strip().lower()
    if name in ("", "identity"):
        return data
    if name in ("gzip", "x-gzip"):
        wbits = 16 + zlib.MAX_WBITS
    elif name == "deflate":
        wbits = zlib.MAX_WBITS  # zlib-wrapped, as HTTP says; raw deflate retried below
    elif name == "snappy":
        return snappy_raw(data, limit, what=what)
    else:
        raise ApiError(
            415, f"unsupported Content-Encoding {encoding!r}; use gzip, deflate, snappy or none"
        )
    try:
        return _inflate(data, wbits, limit)
    except zlib.error:
        if name == "deflate":
            try:
                return _inflate(data, -zlib.MAX_WBITS, limit)
            except zlib.error:
                pass
        raise ApiError(400, f"{what} is not valid {name} data") from None


def snappy_raw(data: bytes, limit: int, *, what: str = "body") -> bytes:
    """Undo snappy's block format (Loki's and Prometheus's), never more than ``limit`` bytes:
    the block starts with its uncompressed length, checked before anything is allocated."""
    try:
        import cramjam
    except ImportError:  # pragma: no cover - cramjam comes with the serve extra
        raise ApiError(
            415, "snappy needs the cramjam package: pip install 'aiops-copilot[serve]'"
        ) from None
    from aiops_copilot.api.decode.protowire import WireError, read_varint

    try:
        size, _ = read_varint(data, 0)
    except WireError:
        raise ApiError(400, f"{what} is not valid snappy data") from None
    if size > limit:
        raise BodyTooLarge(limit)
    try:
        return bytes(cramjam.snappy.decompress_raw(data))
    except Exception:  # cramjam.DecompressionError: corrupt or truncated
        raise ApiError(400, f"{what} is not valid snappy data") from None


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    """Every member of a (possibly multi-member) stream, never more than ``limit`` bytes."""
    parts: list[bytes] = []
    total = 0
    pending = data
    while pending:
        inflater = zlib.decompressobj(wbits)
        view = memoryview(pending)
        fed = 0
        for start in range(0, len(pending), _SLICE):
            fed = start + _SLICE
            chunk = inflater.decompress(view[start:fed], limit - total + 1)
            while True:
                total += len(chunk)
                if total > limit:
                    raise BodyTooLarge(limit)
                parts.append(chunk)
                if not inflater.unconsumed_tail:
                    break
                chunk = inflater.decompress(inflater.unconsumed_tail, limit - total + 1)
            if inflater.eof:
                break
        if not inflater.eof:
            raise zlib.error("truncated stream")
        # The next gzip member, if the sender wrote several: what this one left unread of
        # the last slice it was fed, then the slices it was never fed.
        pending = inflater.unused_data + bytes(view[fed:])
    return b"".join(parts)


def media_type(content_type: str | None) -> str:
    """``application/json; charset=utf-8`` -> ``application/json`` (lower case)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_protobuf(kind: str) -> bool:
    return kind in (
        "application/x-protobuf",
        "application/protobuf",
        "application/vnd.google.protobuf",
    )


def json_only(kind: str, accepted: tuple[str, ...], hint: str) -> None:
    """415 for anything but the JSON media types ``accepted`` (empty means "assume JSON")."""
    if kind and kind not in accepted:
        detail = "protobuf is not supported" if is_protobuf(kind) else f"{kind!r} is not supported"
        raise ApiError(415, f"Content-Type {detail}: send JSON ({hint})")


def scalar(value: Any) -> str | None:
    """A label or attribute value as text, when it is a plain scalar."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    return None
