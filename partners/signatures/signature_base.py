"""Signature base construction (RFC 9421 section 2.5): the exact bytes that get signed.

Signer and verifier both call `build_signature_base`; the verifier passes the covered components
and parameters parsed from Signature-Input. RFC 8941 serialization is canonical, so re-serializing
the parsed inner list reproduces the `@signature-params` line the signer signed.
"""

from __future__ import annotations

from dataclasses import dataclass

from .components import ComponentError, component_values
from .message import HttpRequest
from .structured_fields import (
    BareItem,
    InnerList,
    Item,
    serialize_member,
)


@dataclass(frozen=True)
class SignatureBase:
    text: str
    lines: list[tuple[str, str]]  # (serialized identifier, value) per covered line
    params_line: str

    def encode(self) -> bytes:
        return self.text.encode("ascii")


def serialize_identifier(component: Item) -> str:
    return serialize_member(component)


def build_signature_base(
    request: HttpRequest, covered: list[Item], params: dict[str, BareItem]
) -> SignatureBase:
    seen: set[str] = set()
    lines: list[tuple[str, str]] = []
    for component in covered:
        identifier = serialize_identifier(component)
        if identifier in seen:
            raise ComponentError(f"component {identifier} is covered twice")
        seen.add(identifier)
        for value in component_values(request, component):
            if "\n" in value or "\r" in value or not value.isascii():
                raise ComponentError(f"component {identifier} has a non-ASCII or multi-line value")
            lines.append((identifier, value))
    signature_params = serialize_member(InnerList(list(covered), dict(params)))
    body = "".join(f"{identifier}: {value}\n" for identifier, value in lines)
    text = f'{body}"@signature-params": {signature_params}'
    return SignatureBase(text=text, lines=lines, params_line=signature_params)
