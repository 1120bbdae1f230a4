"""The chart of accounts: an account is a kind and an owner, never a row of its own.

| kind                | owner   | moves when                                        |
|---------------------|---------|---------------------------------------------------|
| member_wallet       | member  | points are credited to or spent by a member       |
| member_hold         | member  | a hold reserves points until capture or void      |
| issuance            | party   | a partner (or the network, for bonuses) issues    |
| redemption          | partner | a partner takes points as payment                 |
| donation            | charity | a member donates points                           |
| expiry              | network | lots expire                                       |
| transfer            | network | points in transit between two members             |
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AccountKind(StrEnum):
    MEMBER_WALLET = "member_wallet"
    MEMBER_HOLD = "member_hold"
    ISSUANCE = "issuance"
    REDEMPTION = "redemption"
    DONATION = "donation"
    EXPIRY = "expiry"
    TRANSFER = "transfer"


MEMBER_KINDS = frozenset({AccountKind.MEMBER_WALLET, AccountKind.MEMBER_HOLD})


@dataclass(frozen=True)
class Posting:
    kind: AccountKind
    points: int
    member_id: int | None = None
    party_id: int | None = None


def wallet(member_id: int, points: int) -> Posting:
    return Posting(AccountKind.MEMBER_WALLET, points, member_id=member_id)


def hold(member_id: int, points: int) -> Posting:
    return Posting(AccountKind.MEMBER_HOLD, points, member_id=member_id)


def party(kind: AccountKind, party_id: int, points: int) -> Posting:
    return Posting(kind, points, party_id=party_id)
