"""Campaigns in the database: save (validated), change status, read, and the two things every earn
needs from here: the compiled index of active campaigns and the budget take.

Every change validates first and writes nothing on a problem (CampaignError carries every
problem, each naming its field). Status moves draft -> active <-> paused, and any of those ->
ended (final); activating or resuming re-validates against the programme's other campaigns,
because the overlap rule depends on which of them are active at that moment.

The index cache (`load_index`). An earn must not pay a round trip to learn that nothing changed,
so each process keeps the compiled index with the programme version it was built from and
re-reads the version (one one-row SELECT) at most every VERSION_TTL seconds
(network/programme/checked_cache.py, which the tier ladder's cache shares). A change made in
this process drops the cache at once; a change made elsewhere (the CLI, another worker) is seen
within VERSION_TTL. That lag is harmless for money: the budget is taken by a conditional UPDATE
under the booking transaction whatever the cached index says, and a campaign paused a second ago
giving its points once more is what a till already printing the receipt would have done. The
version is a random 62-bit token rather than a counter, so a database that was emptied and
refilled (tests do this) never presents a token a process has already cached.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select
from sqlalchemy import update as sql_update

from network.clock import utcnow
from network.db.clauses import one_of
from network.db.engine import Database, cache_key
from network.db.schema import journal_entries, parties
from network.errors import HubError
from network.programme import budgets, codec, event_types, ladder_store, segments_store
from network.programme.campaigns import Campaign, IssueReward, LotteryEntries, Status
from network.programme.campaigns_schema import campaign_awards, campaigns, programme_version
from network.programme.checked_cache import CheckedCache
from network.programme.index import EMPTY, CampaignIndex
from network.programme.index import build as build_index
from network.programme.lottery_schema import lottery_draws, lottery_entries
from network.programme.rewards_schema import rewards as rewards_table
from network.programme.rules import Programme, Usage, periods
from network.programme.validation import Problem, validate

# The basket categories campaigns may name. A fixed list until partners register their own
# (no table holds them yet); validation refuses any other so a typo cannot silently never match.
CATEGORIES: frozenset[str] = frozenset({
    "coffee", "tea", "pastry", "beans", "food", "groceries", "pharmacy", "beauty",
    "electronics", "mobile_data", "airtime", "books", "clothing", "home", "travel"})
VERSION_TTL = 1.0  # seconds an earn may use an index without re-reading the version

# Moves `set_status` allows; ended is final.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    "draft": frozenset({"active", "ended"}),
    "active": frozenset({"paused", "ended"}),
    "paused": frozenset({"active", "ended"}),
    "ended": frozenset(),
}


class CampaignError(HubError):
    """A campaign change the programme refuses; `problems` lists every reason, each with the field
    it is about (the first is also the error's own code, field and message)."""

    code = "CAMPAIGN_INVALID"
    codes = ("CAMPAIGN_INVALID", "CAMPAIGN_NOT_FOUND", "CAMPAIGN_CODE_TAKEN",
             "STATUS_CHANGE_NOT_ALLOWED", "PARTY_UNKNOWN", "CAMPAIGN_ENDED")

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        super().__init__(first.message, code=first.code, field=first.field)


def _refuse(field: str, code: str, message: str) -> CampaignError:
    return CampaignError((Problem(field, code, message),))


@dataclass(frozen=True, slots=True)
class StoredCampaign:
    campaign: Campaign  # its id and status are the row's
    owner_party_id: int
    spent_points: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def budget_left(self) -> int | None:
        budget = self.campaign.limits.budget_points
        return None if budget is None else budget - self.spent_points


# ---- reading ----------------------------------------------------------------------------------

_COLUMNS = (campaigns.c.id, campaigns.c.status, campaigns.c.definition,
            campaigns.c.owner_party_id, budgets.SPENT, campaigns.c.created_at,
            campaigns.c.updated_at)


def _stored(row: object) -> StoredCampaign:
    id, status, definition, owner, spent, created, updated = row  # type: ignore[misc]
    campaign = codec.from_document(json.loads(definition), id=id)
    return StoredCampaign(dataclasses.replace(campaign, status=status), owner, spent,
                          created, updated)


def get(conn: Connection, code: str) -> StoredCampaign:
    row = conn.execute(select(*_COLUMNS).where(campaigns.c.code == code)).first()
    if row is None:
        raise _refuse("code", "CAMPAIGN_NOT_FOUND", f"no campaign with code {code!r}")
    return _stored(row)


def list_campaigns(conn: Connection, *, statuses: Iterable[str] | None = None
                   ) -> list[StoredCampaign]:
    """Campaigns in the order they were created, optionally only those in `statuses`."""
    query = select(*_COLUMNS).order_by(campaigns.c.id)
    if statuses is not None:
        query = query.where(campaigns.c.status.in_(tuple(statuses)))
    return [_stored(row) for row in conn.execute(query)]


def names(conn: Connection, ids: Iterable[int]) -> dict[int, Campaign]:
    """Campaigns by id, for explanations (history, receipts)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(select(*_COLUMNS).where(campaigns.c.id.in_(wanted)))
    return {row[0]: _stored(row).campaign for row in rows}


# ---- changing ---------------------------------------------------------------------------------

def create(conn: Connection, campaign: Campaign, *, owner_party_id: int,
           now: dt.datetime | None = None) -> StoredCampaign:
    """Save a new campaign as a draft (whatever status it names: activation is its own step)."""
    now = now or utcnow()
    campaign = dataclasses.replace(campaign, id=0, status="draft")
    _check_parties(conn, campaign, owner_party_id)
    _check(conn, campaign, spent_points=0)
    if conn.execute(select(campaigns.c.id).where(campaigns.c.code == campaign.code)).first():
        raise _refuse("code", "CAMPAIGN_CODE_TAKEN",
                      f"a campaign with code {campaign.code!r} already exists")
    campaign_id = conn.execute(insert(campaigns).values(
        code=campaign.code, status="draft", definition=_definition(campaign),
        budget_points=campaign.limits.budget_points,
        owner_party_id=owner_party_id, created_at=now, updated_at=now,
    ).returning(campaigns.c.id)).scalar_one()
    budgets.create(conn, campaign_id, campaign.limits.budget_points)
    _bump(conn)
    return get(conn, campaign.code)


def update(conn: Connection, code: str, campaign: Campaign,
           now: dt.datetime | None = None) -> StoredCampaign:
    """Replace CODE's definition (its code, id, status and owner stay). An ended campaign is
    final; a budget may not drop below what was already spent (validation says so)."""
    stored = _locked(conn, code)
    if stored.campaign.status == "ended":
        raise _refuse("status", "CAMPAIGN_ENDED", f"campaign {code!r} has ended; it cannot "
                                                  "change")
    campaign = dataclasses.replace(campaign, id=stored.campaign.id, code=code,
                                   status=stored.campaign.status)
    _check_parties(conn, campaign, stored.owner_party_id)
    _check(conn, campaign, spent_points=stored.spent_points)
    conn.execute(sql_update(campaigns).where(campaigns.c.id == campaign.id).values(
        definition=_definition(campaign), budget_points=campaign.limits.budget_points,
        updated_at=now or utcnow()))
    if campaign.limits.budget_points != stored.campaign.limits.budget_points:
        budgets.recap(conn, campaign.id, campaign.limits.budget_points)
    _bump(conn)
    return get(conn, code)


def set_status(conn: Connection, code: str, status: Status,
               now: dt.datetime | None = None) -> StoredCampaign:
    """Move CODE to `status` if TRANSITIONS allows; to active, validate it again first."""
    stored = _locked(conn, code)
    current = stored.campaign.status
    if status not in TRANSITIONS.get(current, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (it has ended)"
        raise _refuse("status", "STATUS_CHANGE_NOT_ALLOWED",
                      f"campaign {code!r} is {current}; it can move to {allowed}, not {status}")
    campaign = dataclasses.replace(stored.campaign, status=status)
    if status == "active":
        _check(conn, campaign, spent_points=stored.spent_points)
    conn.execute(sql_update(campaigns).where(campaigns.c.id == campaign.id).values(
        status=status, updated_at=now or utcnow()))
    _bump(conn)
    return get(conn, code)


def _locked(conn: Connection, code: str) -> StoredCampaign:
    row = conn.execute(select(*_COLUMNS).where(campaigns.c.code == code)
                       .with_for_update()).first()
    if row is None:
        raise _refuse("code", "CAMPAIGN_NOT_FOUND", f"no campaign with code {code!r}")
    return _stored(row)


def _definition(campaign: Campaign) -> str:
    doc = codec.to_document(campaign)
    doc.pop("status")  # the row's column is the one truth
    return json.dumps(doc, ensure_ascii=False, sort_keys=True)


def _check(conn: Connection, campaign: Campaign, *, spent_points: int) -> None:
    others = [s.campaign for s in list_campaigns(conn, statuses=("active", "paused"))]
    problems = validate(campaign, categories=CATEGORIES, tiers=ladder_store.ladder(conn),
                        segments=segments_store.codes(conn),
                        event_types=event_types.codes(conn), spent_points=spent_points,
                        others=others, rewards=reward_statuses(conn, campaign),
                        draws=draws_open(conn, campaign))
    if problems:
        raise CampaignError(problems)


def reward_statuses(conn: Connection, campaign: Campaign) -> dict[int, str]:
    """The status of the catalog reward the campaign issues, if it issues one that exists."""
    effect = campaign.effect
    if not isinstance(effect, IssueReward) or not isinstance(effect.reward_id, int):
        return {}
    r = rewards_table.c
    return dict(conn.execute(select(r.id, r.status).where(r.id == effect.reward_id)).all())


def draws_open(conn: Connection, campaign: Campaign) -> dict[str, bool]:
    """Whether the draw the campaign gives entries in is open (its window is the rules' to
    check at each fact: outside it the campaign skips, DRAW_CLOSED)."""
    effect = campaign.effect
    if not isinstance(effect, LotteryEntries) or not isinstance(effect.draw_code, str):
        return {}
    d = lottery_draws.c
    status = conn.execute(select(d.status).where(d.code == effect.draw_code)).scalar()
    return {} if status is None else {effect.draw_code: status == "open"}


# How a campaign's lottery entries name it (lottery_entries.granted_by): "campaign:<id>:" then
# their origin, "entry:<journal entry id>" (an earn) or "fact:<member_events id>".
def entries_granted_by(campaign_id: int, origin: str) -> str:
    return f"campaign:{campaign_id}:{origin}"


def entry_usage(conn: Connection, member_id: int, campaign_ids: Iterable[int], at: dt.datetime,
                programme: Programme) -> dict[int, Usage]:
    """How many lottery entries the member had from each campaign in the local day, week and
    month containing `at`, and ever (a LotteryEntries campaign's limits count entries)."""
    le = lottery_entries.c
    p = periods(at, programme)
    found = {}
    for campaign_id in sorted(set(campaign_ids)):
        counts = [0, 0, 0, 0]
        for (created,) in conn.execute(select(le.created_at).where(
                le.member_id == member_id,
                le.granted_by.like(entries_granted_by(campaign_id, "%")))):
            created = created if created.tzinfo else created.replace(tzinfo=dt.UTC)
            counts[0] += created >= p.day
            counts[1] += created >= p.week
            counts[2] += created >= p.month
            counts[3] += 1
        found[campaign_id] = Usage(*counts)
    return found


def _check_parties(conn: Connection, campaign: Campaign, owner_party_id: int) -> None:
    """Funders must be partners or the network; partner conditions must name partners."""
    kinds = dict(conn.execute(select(parties.c.id, parties.c.kind)).all())
    problems = []
    if kinds.get(owner_party_id) not in ("partner", "network"):
        problems.append(Problem("owner", "PARTY_UNKNOWN",
                                f"the owner must be a partner or the network, got party "
                                f"{owner_party_id}"))
    for index, part in enumerate(campaign.funder):
        if kinds.get(part.party_id) not in ("partner", "network"):
            problems.append(Problem(f"funder[{index}].partyId", "PARTY_UNKNOWN",
                                    f"funder[{index}].partyId {part.party_id} is not a partner "
                                    "or the network"))
    for party in sorted(campaign.conditions.partners or ()):
        if kinds.get(party) != "partner":
            problems.append(Problem("conditions.partners", "PARTY_UNKNOWN",
                                    f"conditions.partners names {party}, which is not a "
                                    "partner"))
    if problems:
        raise CampaignError(problems)


# ---- the version and the index cache ----------------------------------------------------------

_cache: CheckedCache[CampaignIndex] = CheckedCache(lambda: VERSION_TTL)


def _bump(conn: Connection) -> None:
    token = secrets.randbits(62)
    if not conn.execute(sql_update(programme_version).where(programme_version.c.id == 1)
                        .values(version=token)).rowcount:
        conn.execute(insert(programme_version).values(id=1, version=token))
    _cache.drop(cache_key(conn.engine))


def version(conn: Connection) -> int:
    """The programme's current version token (0 before any campaign was ever saved)."""
    found = conn.execute(select(programme_version.c.version)
                         .where(programme_version.c.id == 1)).scalar()
    return int(found or 0)


def load_index(conn: Connection, at: float | None = None) -> CampaignIndex:
    """The compiled index of the active campaigns, from this process's cache when it was checked
    against the database's version within VERSION_TTL seconds (`at`: a time.monotonic() reading,
    given by tests; now by default)."""
    def build(current: int) -> CampaignIndex:
        return (build_index(s.campaign for s in list_campaigns(conn, statuses=("active",)))
                if current else EMPTY)

    return _cache.get(cache_key(conn.engine), lambda: version(conn), build, at)


def index_for(db: Database, at: float | None = None) -> CampaignIndex:
    """`load_index` outside a transaction: while the cache is fresh no connection is checked
    out at all (an earn asks on every request; the pool's checkout and return, with its switch
    to autocommit and back, cost about a tenth of a single earn's hub CPU for nothing)."""
    def build(current: int) -> CampaignIndex:
        return (db.read(lambda conn: build_index(
            s.campaign for s in list_campaigns(conn, statuses=("active",))))
            if current else EMPTY)

    return _cache.get(cache_key(db.engine), lambda: db.read(version), build, at)


def forget_cache() -> None:
    """Drop every cached index (tests that reuse a database URL across emptied databases)."""
    _cache.clear()


# ---- usage, under the booking transaction (budgets: budgets.py) ------------------------------

def usage(conn: Connection, member_id: int, campaign_ids: Iterable[int], at: dt.datetime,
          programme: Programme) -> dict[int, Usage]:
    """How many awards the member had from each campaign in the local day, week and month
    containing `at`, and ever. An award is one earn entry (a split effect has a row per funder);
    an earn since reversed no longer counts."""
    return usage_many(conn, [member_id], campaign_ids, at, programme).get(member_id, {})


def usage_many(conn: Connection, member_ids: Iterable[int], campaign_ids: Iterable[int],
               at: dt.datetime, programme: Programme, *,
               excluding: frozenset[int] = frozenset()) -> dict[int, dict[int, Usage]]:
    """`usage` for each of `member_ids` (a batch's), in one read, not counting the entries
    `excluding` (a batch's own, already written); members with no award from these campaigns
    are left out."""
    ids, members = sorted(set(campaign_ids)), sorted(set(member_ids))
    if not ids or not members:
        return {}
    ca = campaign_awards.c
    rows = conn.execute(
        select(ca.member_id, ca.campaign_id, ca.entry_id, ca.points, ca.booked_at,
               journal_entries.c.reverses_entry_id)
        .join(journal_entries, journal_entries.c.id == ca.entry_id)
        .where(one_of(conn, ca.member_id, members), ca.campaign_id.in_(ids))).all()
    reversed_entries = {row.reverses_entry_id for row in rows if row.points < 0}
    awards = {(row.member_id, row.campaign_id, row.entry_id): row.booked_at for row in rows
              if row.points > 0 and row.entry_id not in reversed_entries
              and row.entry_id not in excluding}
    p = periods(at, programme)
    counts: dict[int, dict[int, list[int]]] = {}
    for (member_id, campaign_id, _), booked in awards.items():
        booked = booked if booked.tzinfo else booked.replace(tzinfo=dt.UTC)
        c = counts.setdefault(int(member_id), {}).setdefault(campaign_id, [0, 0, 0, 0])
        c[0] += booked >= p.day
        c[1] += booked >= p.week
        c[2] += booked >= p.month
        c[3] += 1
    return {m: {cid: Usage(*c) for cid, c in per.items()} for m, per in counts.items()}
