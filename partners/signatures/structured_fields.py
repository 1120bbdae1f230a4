"""RFC 8941 Structured Field Values: the subset HTTP Message Signatures needs.

Signature-Input, Signature and Content-Digest are all Dictionaries; a covered component is an
Item (a String) with Parameters. We parse and serialize Dictionaries, Lists, Inner Lists and Items
exactly as RFC 8941 sections 4.1 and 4.2 describe, because a signature base is built from the
*serialized* form and one byte of difference breaks every signature.
"""

from __future__ import annotations

import base64
import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal


class StructuredFieldError(ValueError):
    """The field value is not valid RFC 8941 syntax."""


@dataclass(frozen=True)
class Token:
    """A Token is distinct from a String on the wire (`abc` versus `"abc"`)."""

    value: str


BareItem = int | Decimal | str | bytes | bool | Token


@dataclass
class Item:
    value: BareItem
    params: dict[str, BareItem] = field(default_factory=dict)


@dataclass
class InnerList:
    items: list[Item]
    params: dict[str, BareItem] = field(default_factory=dict)


Member = Item | InnerList

_KEY_START = re.compile(r"[a-z*]")
_KEY_CHARS = re.compile(r"[a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_BASE64 = re.compile(r"[A-Za-z0-9+/=]*")
_PRINTABLE = re.compile(r"[\x20-\x7e]*")
_STRING_RUN = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")  # printable, but not '"' or '\'


class _Parser:
    """A cursor over one field value; each method consumes what it parses."""

    def __init__(self, text: str) -> None:
        if not text.isascii():
            raise StructuredFieldError("structured field values are ASCII only")
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> StructuredFieldError:
        return StructuredFieldError(f"{what} at position {self.pos} in {self.text!r}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_sp(self) -> None:
        while self.peek() == " ":
            self.pos += 1

    def skip_ows(self) -> None:
        while self.peek() in (" ", "\t") and not self.at_end():
            self.pos += 1

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def key(self) -> str:
        if not _KEY_START.match(self.peek()):
            raise self.fail("expected a key")
        match = _KEY_CHARS.match(self.text, self.pos + 1)
        assert match is not None
        start, self.pos = self.pos, match.end()
        return self.text[start : self.pos]

    def bare_item(self) -> BareItem:
        char = self.peek()
        if char == "-" or char.isdigit():
            return self.number()
        if char == '"':
            return self.string()
        if char == ":":
            return self.byte_sequence()
        if char == "?":
            return self.boolean()
        if char and (char.isalpha() or char == "*"):
            match = _TOKEN.match(self.text, self.pos)
            assert match is not None
            self.pos = match.end()
            return Token(match.group())
        raise self.fail("expected an item")

    def number(self) -> int | Decimal:
        match = _NUMBER.match(self.text, self.pos)
        if match is None:
            raise self.fail("bad number")
        text = match.group()
        digits = text.lstrip("-")
        if match.group(1):
            whole, frac = digits.split(".")
            if len(whole) > 12 or len(frac) > 3:
                raise self.fail("decimal out of range")
            self.pos = match.end()
            return Decimal(text)
        if len(digits) > 15:
            raise self.fail("integer out of range")
        self.pos = match.end()
        return int(text)

    def string(self) -> str:
        self.pos += 1
        out: list[str] = []
        while True:
            # Characters that stand for themselves go in one regex match, not one by one: a
            # Signature-Input is mostly strings, and this loop ran per character.
            run = _STRING_RUN.match(self.text, self.pos)
            assert run is not None  # the pattern matches the empty string too
            out.append(run.group())
            self.pos = run.end()
            char = self.peek()
            self.pos += 1
            if char == '"':
                return "".join(out)
            if char == "\\":
                nxt = self.peek()
                if nxt not in ('"', "\\"):
                    raise self.fail("bad escape in string")
                out.append(nxt)
                self.pos += 1
            elif char:
                raise self.fail("control character in string")
            else:
                raise self.fail("unterminated string")

    def byte_sequence(self) -> bytes:
        end = self.text.find(":", self.pos + 1)
        if end < 0:
            raise self.fail("unterminated byte sequence")
        encoded = self.text[self.pos + 1 : end]
        if not _BASE64.fullmatch(encoded):
            raise self.fail("bad base64 in byte sequence")
        self.pos = end + 1
        try:
            return base64.b64decode(encoded + "=" * (-len(encoded) % 4))
        except ValueError as exc:
            raise self.fail("bad base64 in byte sequence") from exc

    def boolean(self) -> bool:
        value = self.text[self.pos + 1 : self.pos + 2]
        if value not in ("0", "1"):
            raise self.fail("bad boolean")
        self.pos += 2
        return value == "1"

    def params(self) -> dict[str, BareItem]:
        params: dict[str, BareItem] = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip_sp()
            name = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            params[name] = value
        return params

    def item(self) -> Item:
        value = self.bare_item()
        return Item(value, self.params())

    def inner_list(self) -> InnerList:
        self.pos += 1
        items: list[Item] = []
        while not self.at_end():
            self.skip_sp()
            if self.peek() == ")":
                self.pos += 1
                return InnerList(items, self.params())
            items.append(self.item())
            if self.peek() not in (" ", ")"):
                raise self.fail("expected space or ')' in inner list")
        raise self.fail("unterminated inner list")

    def member(self) -> Member:
        return self.inner_list() if self.peek() == "(" else self.item()

    def dictionary(self) -> dict[str, Member]:
        members: dict[str, Member] = {}
        while not self.at_end():
            name = self.key()
            if self.peek() == "=":
                self.pos += 1
                members[name] = self.member()
            else:
                members[name] = Item(True, self.params())
            self.skip_ows()
            if self.at_end():
                return members
            if self.peek() != ",":
                raise self.fail("expected ',' between dictionary members")
            self.pos += 1
            self.skip_ows()
            if self.at_end():
                raise self.fail("trailing comma")
        return members

    def list(self) -> list[Member]:
        members: list[Member] = []
        while not self.at_end():
            members.append(self.member())
            self.skip_ows()
            if self.at_end():
                return members
            if self.peek() != ",":
                raise self.fail("expected ',' between list members")
            self.pos += 1
            self.skip_ows()
            if self.at_end():
                raise self.fail("trailing comma")
        return members


def _parse(text: str, kind: str) -> object:
    parser = _Parser(text)
    parser.skip_sp()
    result = getattr(parser, kind)()
    parser.skip_sp()
    if not parser.at_end():
        raise parser.fail("unexpected trailing characters")
    return result


def parse_dictionary(text: str) -> dict[str, Member]:
    return _parse(text, "dictionary")  # type: ignore[return-value]


def parse_list(text: str) -> list[Member]:
    return _parse(text, "list")  # type: ignore[return-value]


def parse_item(text: str) -> Item:
    return _parse(text, "item")  # type: ignore[return-value]


@functools.lru_cache(maxsize=512)
def _serialize_string(value: str) -> str:
    """Memoized: a signature base serializes the same component names (`"@method"`,
    `"content-digest"`...) twice per request, and the key id once."""
    if not _PRINTABLE.fullmatch(value):
        raise StructuredFieldError("strings must be printable ASCII")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serialize_bare_item(value: BareItem) -> str:
    if type(value) is str:  # the usual item of a signature's fields, checked first
        return _serialize_string(value)
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        if abs(value) > 999_999_999_999_999:
            raise StructuredFieldError("integer out of range")
        return str(value)
    if isinstance(value, Decimal):
        rounded = value.quantize(Decimal("0.001"))
        text = format(rounded.normalize(), "f")
        return text if "." in text else text + ".0"
    if isinstance(value, Token):
        return value.value
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    if isinstance(value, str):  # a subclass of str
        return _serialize_string(str(value))
    raise StructuredFieldError(f"cannot serialize {type(value).__name__}")


def serialize_params(params: dict[str, BareItem]) -> str:
    out = []
    for name, value in params.items():
        out.append(f";{name}" if value is True else f";{name}={serialize_bare_item(value)}")
    return "".join(out)


def serialize_member(member: Member) -> str:
    if isinstance(member, InnerList):
        inner = " ".join(serialize_member(item) for item in member.items)
        return f"({inner}){serialize_params(member.params)}"
    return serialize_bare_item(member.value) + serialize_params(member.params)


def serialize_dictionary(members: dict[str, Member]) -> str:
    out = []
    for name, member in members.items():
        if isinstance(member, Item) and member.value is True:
            out.append(name + serialize_params(member.params))
        else:
            out.append(f"{name}={serialize_member(member)}")
    return ", ".join(out)


def serialize_list(members: list[Member]) -> str:
    return ", ".join(serialize_member(member) for member in members)
