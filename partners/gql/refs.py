"""Turning what a partner sends (Relay ids, card numbers) into database ids, with field-keyed
errors a till developer can act on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql_relay import from_global_id
from sqlalchemy import Connection

from network import cards, member_ids, members
from network.db.engine import Database
from network.gql.pagination import parse_key
from network.ledger.errors import (
    InvalidCardNumber,
    InvalidId,
    LedgerError,
    MemberNotFound,
    MemberReference,
    Required,
)
from network.member_ids import ByCard
from partners.gql.app_caches import AppCaches

# How every partner input names its member (resolve_member below reads them).
MEMBER_ID_DOC = "The member's PartnerMember id; give exactly one of memberId or cardNumber."
CARD_NUMBER_DOC = ("The member's 16-digit card number (Luhn-checked; spaces, dashes and Persian "
                   "digits accepted); or give memberId.")


def decode_id(value: str | None, type_name: str, field: str) -> int:
    if not value:
        raise Required(f"{field} is required", field=field)
    try:
        kind, raw = from_global_id(value)
    except Exception as exc:  # noqa: BLE001 - graphql_relay raises several types on junk
        raise InvalidId(f"{field} is not a valid id", field=field) from exc
    key = parse_key(raw) if kind == type_name else None
    if key is None:
        raise InvalidId(f"{field} is not a {type_name} id", field=field)
    return key


MemberRef = tuple[str | None, str | None]  # (PartnerMember id, card number)


def _parse_ref(ref: MemberRef, prefix: str) -> tuple[str, int | str]:
    """('id', member id) or ('card', normalized card number); raises on malformed input."""
    member_id, card_number = ref
    if (member_id is None) == (card_number is None):
        raise MemberReference("give exactly one of memberId or cardNumber",
                              field=f"{prefix}memberId")
    if member_id is not None:
        return "id", decode_id(member_id, "PartnerMember", f"{prefix}memberId")
    assert card_number is not None
    if not cards.is_valid(card_number):
        raise InvalidCardNumber("the card number is not 16 digits with a valid check digit",
                                field=f"{prefix}cardNumber")
    return "card", cards.normalize(card_number)


def member_ids_for(conn: Connection, refs: list[MemberRef],
                   prefixes: list[str]) -> list[int | LedgerError]:
    """Resolve many references with two queries (a 1,000-line batch must not make 1,000)."""
    parsed: list[tuple[str, int | str] | LedgerError] = []
    for ref, prefix in zip(refs, prefixes, strict=True):
        try:
            parsed.append(_parse_ref(ref, prefix))
        except LedgerError as exc:
            parsed.append(exc)
    ids = {v for p in parsed if not isinstance(p, LedgerError) and p[0] == "id" for v in [p[1]]}
    numbers = {v for p in parsed if not isinstance(p, LedgerError) and p[0] == "card"
               for v in [p[1]]}
    known_ids = member_ids.known_ids(conn, ids)  # type: ignore[arg-type]
    by_card = member_ids.ids_by_card(conn, numbers)  # type: ignore[arg-type]
    out: list[int | LedgerError] = []
    for item, prefix in zip(parsed, prefixes, strict=True):
        if isinstance(item, LedgerError):
            out.append(item)
        elif item[0] == "id":
            out.append(int(item[1]) if item[1] in known_ids else MemberNotFound(
                "no member with this id", field=f"{prefix}memberId"))
        else:
            found = by_card.get(str(item[1]))
            out.append(found if found is not None else MemberNotFound(
                "no member with this card number", field=f"{prefix}cardNumber"))
    return out


def cached_member_id(data: Mapping[str, Any], caches: AppCaches) -> int | None:
    """The member an input names (`member_id` or `card_number`), if known without a query: a
    cached card, or a Relay id (the ledger itself answers MEMBER_NOT_FOUND for an id that names
    nobody). None means `resolve_member` must look."""
    member_id, card_number = data.get("member_id"), data.get("card_number")
    if member_id is not None and card_number is None:
        return decode_id(member_id, "PartnerMember", "memberId")
    if card_number is not None and member_id is None:
        return caches.cards.get(cards.normalize(card_number))
    return None


def member_or_card(data: Mapping[str, Any], caches: AppCaches) -> int | ByCard:
    """The member an input names, as `cached_member_id` knows it, else the card to look up
    (`resolve_member`, or a single earn's own statement); a specific error for a malformed
    reference."""
    found = cached_member_id(data, caches)
    if found is not None:
        return found
    kind, value = _parse_ref((data.get("member_id"), data.get("card_number")), "")
    assert kind == "card" and isinstance(value, str)  # cached_member_id answers every Relay id
    return ByCard(value)


def resolve_member(db: Database, data: Mapping[str, Any], caches: AppCaches) -> int:
    """The member an input names: `cached_member_id` when it knows, else the card is looked up
    (and remembered); a specific error for a malformed reference or an unknown card."""
    found = member_or_card(data, caches)
    return found if isinstance(found, int) else card_holder(db, found, caches)


def card_holder(db: Database, card: ByCard, caches: AppCaches) -> int:
    """Who holds the card (remembered), or MemberNotFound."""
    found = members.id_by_card(db, card.number)
    if found is None:
        raise MemberNotFound("no member with this card number", field="cardNumber")
    caches.cards.put(card.number, found)
    return found
