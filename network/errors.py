"""The one shape of every refusal the hub makes: a stable `code`, the `field` at fault (or
None) and a `message` a person can act on.

Ledger, partner, wallet and settlement errors are all `HubError`s, so the GraphQL endpoint,
the mutations' `userErrors` and the command line format them with one rule each. A class
names its default `code`; a family that passes codes at the raise site (`WalletError`,
`SettlementError`) lists them all in `codes`, which is what the GraphQL error-code enums are
generated from (network/gql/errors.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


class HubError(Exception):
    code: str = "ERROR"
    # Every code an instance of this class may carry; `(code,)` unless the class says more.
    codes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, message: str, *, code: str | None = None,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "codes" not in cls.__dict__:
            cls.codes = (cls.code,)

    @classmethod
    def only(cls, *codes: str) -> ErrorCodes:
        """Some of this family's codes, for a mutation that can meet only those."""
        unknown = [code for code in codes if code not in cls.codes]
        if unknown:
            raise ValueError(f"{cls.__name__} declares no code {', '.join(unknown)}")
        return ErrorCodes(cls, codes)

    def as_dict(self) -> dict[str, str | None]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class ErrorCodes:
    """Codes of one error family (`WalletError.only("INVALID_ID")`)."""

    family: type[HubError]
    codes: tuple[str, ...]


def codes_of(*errors: type[HubError] | ErrorCodes) -> tuple[str, ...]:
    """The codes these error classes (or selections of a family) may carry, in order, once."""
    seen: dict[str, None] = {}
    for error in errors:
        seen.update(dict.fromkeys(error.codes))
    return tuple(seen)
