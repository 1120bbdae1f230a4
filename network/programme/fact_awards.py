"""Campaign effects for the facts the inbox stores: a custom event (a review, a survey...) or a
lifecycle fact (enrolled, birthday, referral converted) gives points when an active campaign's
trigger matches it.

`book` runs inside the transaction that stores the fact (network/programme/inbox.record), only
for a NEW fact, so the fact's own idempotency (scope, key) is what makes a retry, a job run twice
or a replayed request book nothing twice. It reuses the purchase path's pieces rather than
copying them: `rules.evaluate` with base points 0, `earn.CampaignExtras` to claim under the
member's lock (member limits read there, budgets taken with the same conditional UPDATE, the
campaign_awards rows) and the ledger's line-by-line writer `credit.book_credit`, which books
one `bonus` entry, one issuance posting and one lot per funder (the lot's issuer is the funder,
so monthly settlement bills it with no path of its own).

The entry: kind `bonus`, party the partner that sent the event (the network for its own facts),
details `{"factId": <member_events id>, "trigger": ...}`, which is how `award_of` finds it again
for a replay's answer (no reference: that is the partner's own, shown to the member). The lots
vest at once (there is no purchase that a return could take back, which is what a contract's
pending days wait for) and expire after the funder's contract validity when the funder is a
partner with a contract in force, else after the network's default, DEFAULT_VALIDITY_MONTHS (the
contracts' own default); a split between funders uses the shortest validity among them, so no
funder's points outlive what its contract allows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from network import parties
from network.clock import add_months
from network.db.schema import journal_entries
from network.ledger import balances
from network.ledger.credit import book_credit
from network.ledger.rules import CreditPart
from network.programme import ladder_store, store
from network.programme.earn import CampaignExtras, Prepared, member_state
from network.programme.facts import CustomEvent, LifecycleEvent
from network.programme.rules import Programme, trigger_of

DEFAULT_VALIDITY_MONTHS = 24
KIND = "bonus"


@dataclass(frozen=True, slots=True)
class FactAward:
    """The points a stored fact gave: its ledger entry and the total (the breakdown is the
    entry's campaign_awards rows, network/programme/explain.for_entries)."""

    entry_id: int
    issuer_id: int  # the entry's party: the partner that sent the event, or the network
    points: int


def book(conn: Connection, event_id: int, fact: CustomEvent | LifecycleEvent, *,
         timezone: str, now: dt.datetime) -> FactAward | None:
    """Evaluate the active campaigns triggered by `fact` and book what they give, in the
    caller's transaction; None when nothing applies (no campaign, a condition unmatched, a
    limit reached, the budget spent). Nothing is read when no campaign has this trigger."""
    index = store.load_index(conn)
    candidates = index.candidates(trigger_of(fact), fact.partner_id)
    if not candidates:
        return None
    network_id = parties.network_party_id(conn)
    programme = Programme(zone=ZoneInfo(timezone), network_party_id=network_id,
                          tiers=ladder_store.ladder(conn))
    member = member_state(conn, fact.member_id, candidates, fact.at, programme, purchase=False)
    prepared = Prepared(fact.partner_id or network_id, index, candidates, programme,
                        {fact.member_id: member}, {}, frozenset())
    extras = CampaignExtras(fact, member, 0, prepared)
    balances.lock(conn, fact.member_id)
    parts = extras.claim(conn, fact.member_id, now)
    if not parts:  # lottery entries alone cost no points: no ledger entry, the fact is origin
        extras.give_entries_only(conn, fact.member_id, f"fact:{event_id}", now)
        return None
    issuer = fact.partner_id or network_id
    details = {"factId": event_id, "trigger": "/".join(x for x in trigger_of(fact) if x)}
    receipt = book_credit(conn, kind=KIND, member_id=fact.member_id, issuer_id=issuer, points=0,
                          reference=None, details=details, vests_at=now,
                          expires_at=_expiry(conn, parts, network_id, now), at=now,
                          extras=_Claimed(parts, extras))
    return FactAward(receipt.entry_id, issuer, receipt.points)


@dataclass(frozen=True)
class _Claimed:
    """The parts already claimed under the member's lock (`book` needs them before the
    booking, to book nothing when there are none); `record` is the purchase path's."""

    parts: tuple[CreditPart, ...]
    extras: CampaignExtras

    def claim(self, conn: Connection, member_id: int, at: dt.datetime) -> tuple[CreditPart, ...]:
        return self.parts

    def record(self, conn: Connection, entry_id: int, member_id: int,
               parts: tuple[CreditPart, ...], at: dt.datetime) -> balances.BalanceRow | None:
        return self.extras.record(conn, entry_id, member_id, parts, at)


# A partner's contract validity in months at an instant, None without a contract in force.
# Contracts belong to the partners' package, a layer above this one, which registers its reader
# when it is imported (partners/contracts.py); until then every funder gets the default.
ValiditySource = Callable[[Connection, int, dt.datetime], "int | None"]
_validity_sources: list[ValiditySource] = []


def use_validity_source(source: ValiditySource) -> None:
    """Where `book` reads a funding partner's contract validity (the partners' contracts)."""
    _validity_sources[:] = [source]


def _validity_months(conn: Connection, funder: int, network_id: int, at: dt.datetime) -> int:
    if funder == network_id or not _validity_sources:
        return DEFAULT_VALIDITY_MONTHS
    found = _validity_sources[0](conn, funder, at)
    return DEFAULT_VALIDITY_MONTHS if found is None else found


def _expiry(conn: Connection, parts: Iterable[CreditPart], network_id: int,
            at: dt.datetime) -> dt.datetime:
    months = min(_validity_months(conn, funder, network_id, at)
                 for funder in {part.issuer_id for part in parts})
    return add_months(at, months)


def award_of(conn: Connection, event_id: int, member_id: int) -> FactAward | None:
    """The award booked for the stored fact `event_id`, if any (a replay's answer): among the
    member's bonus entries (a few; the member's index), the one whose details name the fact."""
    j = journal_entries.c
    for row in conn.execute(select(j.id, j.party_id, j.points, j.details).where(
            j.member_id == member_id, j.kind == KIND)):
        if (row.details or {}).get("factId") == event_id:
            return FactAward(int(row.id), int(row.party_id), int(row.points))
    return None
