"""Parse and render raw HTTP/1.1 requests, for partners debugging a signature by hand.

A partner captures the exact request their system sent (curl -v, a proxy log) into a file and
asks `pointsnet signature verify` what is wrong with it. Files edited by people often lose their
CRs, so bare LF line endings are accepted; obsolete line folding is unfolded to one space
(RFC 9421 section 2.1); chunked bodies are decoded so Content-Digest can be checked.
"""

from __future__ import annotations

import re

from .message import HttpRequest, MessageError

_REQUEST_LINE = re.compile(r"^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP/(\d\.\d)$")
_FIELD_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def _split_head(raw: bytes) -> tuple[list[str], bytes]:
    found = [(raw.find(sep), sep) for sep in (b"\r\n\r\n", b"\n\n", b"\n\r\n")]
    found = [(index, sep) for index, sep in found if index >= 0]
    if found:
        index, separator = min(found)
        head, body = raw[:index], raw[index + len(separator) :]
    else:
        head, body = raw.rstrip(b"\r\n"), b""
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError as exc:  # pragma: no cover - latin-1 decodes every byte
        raise MessageError("request head is not text") from exc
    return text.replace("\r\n", "\n").split("\n"), body


def _parse_fields(lines: list[str]) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            if not fields:
                raise MessageError("continuation line before any field")
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon or not _FIELD_NAME.match(name):
            raise MessageError(f"bad header line: {line!r}")
        fields.append((name, value.strip(" \t")))
    return fields


def _decode_chunked(body: bytes) -> bytes:
    out = bytearray()
    rest = body
    while True:
        size_line, newline, rest = rest.partition(b"\n")
        if not newline:
            raise MessageError("truncated chunked body")
        try:
            size = int(size_line.split(b";")[0].strip(), 16)
        except ValueError as exc:
            raise MessageError(f"bad chunk size {size_line!r}") from exc
        if size == 0:
            return bytes(out)
        if len(rest) < size:
            raise MessageError("truncated chunk")
        out += rest[:size]
        rest = rest[size:].removeprefix(b"\r").removeprefix(b"\n")


def _body(fields: list[tuple[str, str]], body: bytes) -> bytes:
    lowered = {name.lower(): value for name, value in fields}
    if "chunked" in lowered.get("transfer-encoding", "").lower():
        return _decode_chunked(body)
    if "content-length" in lowered:
        try:
            length = int(lowered["content-length"])
        except ValueError as exc:
            raise MessageError("Content-Length is not a number") from exc
        if len(body) < length:
            raise MessageError(f"body has {len(body)} bytes, Content-Length says {length}")
        return body[:length]
    return body


def parse_raw_request(raw: bytes, *, scheme: str = "https") -> HttpRequest:
    """Read one request; origin-form targets are made absolute with `scheme` and the Host field."""
    lines, body = _split_head(raw.lstrip(b"\r\n"))
    match = _REQUEST_LINE.match(lines[0])
    if match is None:
        raise MessageError(f"bad request line: {lines[0]!r}")
    method, target, _version = match.groups()
    fields = _parse_fields(lines[1:])
    if target.startswith("/"):
        hosts = [value for name, value in fields if name.lower() == "host"]
        if len(hosts) != 1:
            raise MessageError("an origin-form request needs exactly one Host field")
        target = f"{scheme}://{hosts[0]}{target}"
    elif "://" not in target:
        raise MessageError(f"unsupported request target {target!r}")
    return HttpRequest(method, target, fields, _body(fields, body))


def render_raw_request(request: HttpRequest) -> bytes:
    """The request in origin form, as `pointsnet signature sign` prints it for curl users."""
    target = request.path + (f"?{request.query}" if request.query else "")
    head = [f"{request.method} {target} HTTP/1.1"]
    if request.header("host") is None:
        head.append(f"Host: {request.authority}")
    head += [f"{name}: {value}" for name, value in request.headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + request.body
