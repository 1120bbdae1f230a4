"""Why an earn gave its points, line by line: the contract's base, then each campaign or tier
part with the party that funds it. One model for every reader: the partner's awardPoints answer
(from the receipt's stored breakdown), the member's history and the `me` API (from
campaign_awards), in English and Persian.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from network.db.schema import parties
from network.programme import ladder_store, store
from network.programme.campaigns import Campaign, IssueReward
from network.programme.campaigns_schema import campaign_awards
from network.programme.rewards_schema import rewards
from network.programme.tiers import TierDefinition


@dataclass(frozen=True, slots=True)
class Line:
    source: str  # base | campaign | tier | reward (a campaign's points spent on its reward)
    code: str | None  # the campaign's or the tier's code; None for the base
    name_en: str | None  # the campaign's or tier's name; None for the base
    name_fa: str | None
    funder_id: int
    funder_kind: str  # partner | network
    funder_code: str
    funder_name_en: str
    funder_name_fa: str | None
    points: int
    reward_en: str | None = None  # a reward campaign's line: "reward <this> issued"
    reward_fa: str | None = None

    def reward(self, language: str) -> str | None:
        return self.reward_fa if language == "fa" and self.reward_fa else self.reward_en

    def name(self, language: str) -> str | None:
        return self.name_fa if language == "fa" and self.name_fa else self.name_en

    def funder_name(self, language: str) -> str:
        return (self.funder_name_fa if language == "fa" and self.funder_name_fa
                else self.funder_name_en)


def receipt_parts(breakdown: Sequence[Mapping[str, Any]], *, issuer_id: int,
                  points: int) -> list[Mapping[str, Any]]:
    """A receipt's stored breakdown as unnamed parts; a receipt without one is all base."""
    return list(breakdown) or [{"source": "base", "code": None, "campaign_id": None,
                                "funder_id": issuer_id, "points": points}]


def from_receipt(conn: Connection, breakdown: Sequence[Mapping[str, Any]], *, issuer_id: int,
                 points: int) -> list[Line]:
    """A receipt's stored breakdown as lines; a receipt without one is all base."""
    return _named(conn, receipt_parts(breakdown, issuer_id=issuer_id, points=points))


def for_entries(conn: Connection, entries: Mapping[int, tuple[int, int]]) -> dict[int, list[Line]]:
    """Lines for the earn entries given as id -> (issuing partner, points), read from
    campaign_awards; entries the programme added nothing to are left out."""
    if not entries:
        return {}
    ca = campaign_awards.c
    rows = conn.execute(select(ca.entry_id, ca.campaign_id, ca.tier_code, ca.funder_party_id,
                               ca.points)
                        .where(ca.entry_id.in_(sorted(entries)), ca.points > 0)
                        .order_by(ca.entry_id, ca.id)).all()
    raw: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        raw.setdefault(row.entry_id, []).append({
            "source": "tier" if row.campaign_id is None else "campaign", "code": row.tier_code,
            "campaign_id": row.campaign_id, "funder_id": row.funder_party_id,
            "points": int(row.points)})
    for entry_id, parts in raw.items():
        issuer, total = entries[entry_id]
        base = total - sum(p["points"] for p in parts)
        if base:  # a bonus a fact earned has no base (network/programme/fact_awards.py)
            parts.insert(0, {"source": "base", "code": None, "campaign_id": None,
                             "funder_id": issuer, "points": base})
    named = _named(conn, [line for parts in raw.values() for line in parts])
    out: dict[int, list[Line]] = {}
    at = 0
    for entry_id, parts in raw.items():
        out[entry_id] = named[at:at + len(parts)]
        at += len(parts)
    return out


class Names:
    """Funders' and campaigns' names, each read once however many lines name them: a batch of
    1,000 answers explains its lines with one read, not one per line (see shared_names)."""

    def __init__(self) -> None:
        self.funders: dict[int, tuple[str, str, str, str | None]] = {}
        self.campaigns: dict[int, Campaign] = {}
        self.rewards: dict[int, tuple[str, str]] = {}  # reward id -> (name_en, name_fa)

    def missing(self, raw: Iterable[Mapping[str, Any]]) -> bool:
        return any(r["funder_id"] not in self.funders
                   or (r.get("campaign_id") and r["campaign_id"] not in self.campaigns)
                   for r in raw)

    def load(self, conn: Connection, raw: Iterable[Mapping[str, Any]]) -> None:
        raw = list(raw)
        self.campaigns.update(store.names(conn, (
            r["campaign_id"] for r in raw
            if r.get("campaign_id") and r["campaign_id"] not in self.campaigns)))
        self.funders.update(_parties(conn, {r["funder_id"] for r in raw
                                            if r["funder_id"] not in self.funders}))
        wanted = {c.effect.reward_id for c in self.campaigns.values()
                  if isinstance(c.effect, IssueReward)} - set(self.rewards)
        if wanted:
            self.rewards.update((row.id, (row.name_en, row.name_fa)) for row in conn.execute(
                select(rewards.c.id, rewards.c.name_en, rewards.c.name_fa)
                .where(rewards.c.id.in_(sorted(wanted)))))

    def lines(self, raw: Iterable[Mapping[str, Any]], ladder: Sequence[TierDefinition]
              ) -> list[Line]:
        """The lines of `raw`, a tier part named from `ladder` (the ladder in force)."""
        tiers = {t.code: t for t in ladder}
        lines = []
        for r in raw:
            source, code, name_en, name_fa = r["source"], r.get("code"), None, None
            reward: tuple[str | None, str | None] = (None, None)
            if source == "campaign" and r.get("campaign_id") in self.campaigns:
                c = self.campaigns[r["campaign_id"]]
                code, name_en, name_fa = c.code, c.name_en, c.name_fa
                if isinstance(c.effect, IssueReward):
                    source = "reward"
                    reward = self.rewards.get(c.effect.reward_id, (None, None))
            elif r["source"] == "tier" and code in tiers:
                name_en, name_fa = tiers[code].name_en, tiers[code].name_fa
            funder = self.funders.get(r["funder_id"], ("partner", str(r["funder_id"]),
                                                       str(r["funder_id"]), None))
            lines.append(Line(source, code, name_en, name_fa, r["funder_id"], *funder,
                              int(r["points"]), *reward))
        return lines


# Names change rarely (a partner renamed, a campaign edited), and an explanation a minute behind
# is harmless; reading them on every award cost about 600 µs of hub CPU per signed earn.
NAMES_TTL = 60.0
_shared: dict[str, tuple[float, Names]] = {}


def shared_names(db_url: str, now: float | None = None) -> Names:
    """This process's names for the database at `db_url`, started afresh every NAMES_TTL s."""
    now = time.monotonic() if now is None else now
    found = _shared.get(db_url)
    if found is None or now - found[0] >= NAMES_TTL:
        found = _shared[db_url] = (now, Names())
    return found[1]


def forget_names() -> None:
    """Tests that empty and refill a database under one URL (ids are reused)."""
    _shared.clear()


def _named(conn: Connection, raw: Iterable[Mapping[str, Any]]) -> list[Line]:
    raw = list(raw)
    names = Names()
    names.load(conn, raw)
    return names.lines(raw, ladder_store.ladder(conn))


def _parties(conn: Connection, ids: set[int]) -> dict[int, tuple[str, str, str, str | None]]:
    if not ids:
        return {}
    rows = conn.execute(select(parties.c.id, parties.c.kind, parties.c.code, parties.c.name,
                               parties.c.name_fa).where(parties.c.id.in_(sorted(ids))))
    return {r.id: (r.kind, r.code, r.name, r.name_fa) for r in rows}
