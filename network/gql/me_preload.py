"""Reading what `me { … }` asks for in one snapshot, instead of one transaction per field.

The common query -- the member, their wallet and the first history page -- is what the app and
the page show on every open, so it is worth one round of reads: the field resolvers then use
what was preloaded when it matches their arguments exactly, and read for themselves otherwise
(aliases, fragments, variables that fail validation). A preload can only save work, never
change an answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import graphene
from graphql import FieldNode
from graphql.utilities import value_from_ast_untyped
from sqlalchemy.engine import Connection

from network import members
from network.gql.me_types import WalletData
from network.wallet import history
from network.wallet.errors import WalletError
from network.wallet.history import HistoryPage

HistoryKey = tuple[int, str | None]


@dataclass(frozen=True)
class Plan:
    wallet: bool
    history: HistoryKey | None


@dataclass
class Preloaded:
    member: members.Member | None
    wallet: WalletData | None = None
    history: dict[HistoryKey, HistoryPage] = field(default_factory=dict)


def plan(info: graphene.ResolveInfo) -> Plan:
    selections = [selection for node in info.field_nodes if node.selection_set
                  for selection in node.selection_set.selections
                  if isinstance(selection, FieldNode)]
    names = [s.name.value for s in selections]
    pages = [s for s in selections if s.name.value == "history"]
    key: HistoryKey | None = None
    if len(pages) == 1:
        args = {a.name.value: value_from_ast_untyped(a.value, info.variable_values)
                for a in pages[0].arguments}
        first, after = args.get("first", 20), args.get("after")
        if isinstance(first, int) and (after is None or isinstance(after, str)):
            key = (first, after)
    return Plan(wallet="wallet" in names, history=key)


def load(conn: Connection, member_id: int, secret: str, now: dt.datetime,
         wanted: Plan) -> Preloaded:
    found = Preloaded(members.get(conn, member_id, secret))
    if found.member is None:
        return found
    if wanted.wallet:
        found.wallet = WalletData.read(conn, member_id, now)
    if wanted.history is not None:
        first, after = wanted.history
        try:
            size = history.check_page_size(first)
            cursor = history.decode_cursor(after) if after else None
        except WalletError:
            return found  # the field resolver reports it, with its own path
        found.history[wanted.history] = history.page(conn, member_id, first=size, after=cursor)
    return found
