"""Request bodies before parsing: media type, content encoding, and bounded decompression.

The size limit applies to the decompressed body, and decompression stops as soon as the limit is
passed, so a small gzip bomb never costs more memory than the limit itself.
"""

from __future__ import annotations

import zlib
from enum import Enum

from tokentrail_collector.otlp._errors import OtlpError

PROTOBUF_MEDIA_TYPE = "application/x-protobuf"
JSON_MEDIA_TYPE = "application/json"

_GZIP_MAGIC = b"\x1f\x8b"


class Encoding(Enum):
    """How an OTLP payload is serialised (the request's Content-Type)."""

    PROTOBUF = PROTOBUF_MEDIA_TYPE
    JSON = JSON_MEDIA_TYPE


def _media_type(content_type: str | None) -> str:
    if content_type is None:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def parse_content_type(content_type: str | None) -> Encoding:
    """The payload encoding a Content-Type header names; parameters (`; charset=utf-8`) are ignored."""
    media_type = _media_type(content_type)
    if media_type == PROTOBUF_MEDIA_TYPE:
        return Encoding.PROTOBUF
    if media_type == JSON_MEDIA_TYPE:
        return Encoding.JSON
    if not media_type:
        raise OtlpError(415, f"missing Content-Type: send {PROTOBUF_MEDIA_TYPE} or {JSON_MEDIA_TYPE}")
    raise OtlpError(
        415,
        f"unsupported Content-Type {content_type!r}: OTLP/HTTP accepts "
        f"{PROTOBUF_MEDIA_TYPE} or {JSON_MEDIA_TYPE}",
    )


def response_encoding(content_type: str | None) -> Encoding:
    """The encoding of the reply to a request sent with `content_type`.

    The OTLP/HTTP specification answers in the request's encoding. A request whose type is missing
    or unsupported gets JSON, the encoding a person debugging with curl can read.
    """
    if _media_type(content_type) == PROTOBUF_MEDIA_TYPE:
        return Encoding.PROTOBUF
    return Encoding.JSON


def decompress(body: bytes, content_encoding: str | None, *, max_body_bytes: int) -> bytes:
    """The body as sent before compression, or OtlpError: 415 unknown encoding, 413 over the limit, 400 corrupt."""
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("", "identity"):
        _check_size(len(body), max_body_bytes)
        return body
    if encoding in ("gzip", "x-gzip"):
        return _inflate_gzip(body, max_body_bytes)
    if encoding == "deflate":
        return _inflate_deflate(body, max_body_bytes)
    raise OtlpError(
        415,
        f"unsupported Content-Encoding {content_encoding!r}: send the body uncompressed, gzip or deflate",
    )


def _check_size(size: int, max_body_bytes: int) -> None:
    if size > max_body_bytes:
        raise OtlpError(
            413,
            f"request body is larger than the limit of {max_body_bytes} bytes after "
            "decompression: send smaller batches",
        )


def _inflate_gzip(body: bytes, max_body_bytes: int) -> bytes:
    # A gzip body may hold several members back to back (what `cat a.gz b.gz` makes); gzip.decompress
    # accepts that, so we do too.
    chunks: list[bytes] = []
    size = 0
    data = body
    while True:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        size = _inflate_into(inflater, data, chunks, size, max_body_bytes, "gzip")
        data = inflater.unused_data
        if not data:
            return b"".join(chunks)
        if not data.startswith(_GZIP_MAGIC):
            raise OtlpError(400, "invalid gzip body: unexpected bytes after the end of the gzip data")


def _inflate_deflate(body: bytes, max_body_bytes: int) -> bytes:
    # HTTP's "deflate" is the zlib format (RFC 9110), but some clients send a raw deflate stream.
    wbits = zlib.MAX_WBITS if _looks_like_zlib(body) else -zlib.MAX_WBITS
    chunks: list[bytes] = []
    inflater = zlib.decompressobj(wbits=wbits)
    _inflate_into(inflater, body, chunks, 0, max_body_bytes, "deflate")
    if inflater.unused_data:
        raise OtlpError(400, "invalid deflate body: unexpected bytes after the end of the compressed data")
    return b"".join(chunks)


def _looks_like_zlib(body: bytes) -> bool:
    return len(body) >= 2 and (body[0] & 0x0F) == 8 and ((body[0] << 8) | body[1]) % 31 == 0


def _inflate_into(
    inflater: zlib._Decompress,
    data: bytes,
    chunks: list[bytes],
    size: int,
    max_body_bytes: int,
    name: str,
) -> int:
    """Inflate one compressed stream into `chunks`, never holding more than the limit plus one byte."""
    try:
        while True:
            # max_length 0 would mean "no limit"; the check below keeps the room at 1 or more.
            chunk = inflater.decompress(data, max_body_bytes + 1 - size)
            size += len(chunk)
            _check_size(size, max_body_bytes)
            chunks.append(chunk)
            if inflater.eof:
                return size
            data = inflater.unconsumed_tail
            if not data and not chunk:
                raise OtlpError(400, f"invalid {name} body: the compressed data is truncated")
    except zlib.error as exc:
        raise OtlpError(400, f"invalid {name} body: {exc}") from None
