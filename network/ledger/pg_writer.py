"""The earn's writes on PostgreSQL: one statement, built once, for one earn or a whole batch.

An earn is balance move + entry + two postings + lot + remembered receipt. Run as separate
statements through SQLAlchemy that is six round trips and most of a millisecond of client CPU
per earn; here it is ONE `INSERT … WITH` statement. Both forms are built by `_statement` from the
same parts: a `line` relation (one row per earn, with its entry and lot ids drawn from the
tables' sequences up front, so the postings and the lot name their entry directly and the
caller gets the ids back in input order) and the shared writes below it. Only where the lines
come from differs:

- `earn_statement`, a single earn, the hub's hottest write: the line is the request's own
  parameters, sent through `Database.pg_statement` (autocommit: the statement is its own
  atomic transaction, prepared on the server). It claims the idempotency key itself, as
  `network.idempotency.claim` does (a transaction-scoped advisory lock on the key, held to the
  end of the statement, and the stored answer, in one snapshot), and moves the balance only when
  the member owes no debt and the issuer may issue. Otherwise it writes nothing and answers "not
  handled" (None), and `earning.earn` books the earn through the writer's general way
  (`stores.EarnWriter.book`), which handles all of those and names the error. If another earn
  with the key commits after our snapshot, our insert into idempotency_keys fails on its primary
  key, the whole statement rolls back, and the general way replays the stored answer.
  A signed request's single earn is its only round trip: the statement also claims the
  request's nonce (`nonce`, network.auth.DeferredClaim: nothing is booked unless it claimed)
  and finds the member of a card not in the hub's cache (`who`, network.member_ids.ByCard:
  MemberNotFound when nobody holds it).
- With the programme's parts (campaign and tier points, `rules.TieredCredit`) the single earn is
  still one statement (`_programme`): it reads the member's tier, books the parts planned
  for the tier in force (an issuance posting and a lot per funder, `campaign_awards` rows) and
  takes the campaigns' budgets; it hands over when the earn crosses a tier or a budget is short.
  It counts member limits and takes budgets only when some tier's plan needs it.
- `book`, a batch's lines without debt (with their programme parts and campaign_awards rows, if
  any), inside the batch's transaction: the lines are ONE JSON document (a single string
  parameter is cheap to send, where psycopg escapes every element of an array in Python and
  SQLAlchemy's multi-row VALUES form costs more to build and parse than the insert itself). The
  caller (`stores.EarnWriter.book`) has locked the members' balance rows, dropped replays,
  members in debt and unknown members, and computed each line's balance after it
  (`rules.plan_batch`).

The receipt each key remembers is built in SQL with exactly Receipt's fields (tests compare it
with the receipt of the general way for the same earn), so a replay returns what the first call
returned.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.numeric import Int8
from sqlalchemy import Connection

from network import idempotency
from network.auth import DeferredClaim
from network.ledger import summary
from network.ledger.errors import IdempotencyInProgress, MemberNotFound
from network.ledger.receipts import Receipt
from network.ledger.rules import Booking, CreditPart, TieredCredit, breakdown, issued_by
from network.member_ids import ERASED_CARD_PREFIX, ByCard

# The writes every earn makes, from `line` (columns: m member, party, kind, p points, r
# reference, d details, v vests, x expires, k key, h request hash, b balance after, hd held,
# bd the receipt's breakdown (NULL: all points are the base), entry_id, lot_id) and `issued`
# (one row per issuing party: entry_id, m, party, p its points, lot_id, v, x), and the parameters
# at, booked_at and scope. Every posting carries the entry's member (the ledger's shard key), the
# issuance ones their party too.
_RECEIPT = """json_build_object(
                   'entry_id', entry_id, 'kind', kind, 'member_id', m, 'points', p,
                   'booked_at', CAST(%(booked_at)s AS text), 'balance', b, 'held', hd,
                   'hold_id', NULL, 'lot_id', lot_id, 'debt', 0{more})"""
_WRITES = """
    entry AS (
        INSERT INTO journal_entries (id, kind, member_id, party_id, points, reference, details,
                                     booked_at)
        SELECT entry_id, kind, m, party, p, r, d, %(at)s FROM line
    ), posted AS (
        INSERT INTO postings (entry_id, account_kind, member_id, party_id, points)
        SELECT entry_id, 'issuance', m, party, -p FROM issued
        UNION ALL
        SELECT entry_id, 'member_wallet', m, NULL, p FROM line
    ), lot AS (
        INSERT INTO lots (id, member_id, entry_id, issuer_party_id, points, remaining, vests_at,
                          expires_at, created_at)
        SELECT lot_id, m, entry_id, party, p, p, v, x, %(at)s FROM issued
    ), remembered AS (
        INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at)
        SELECT %(scope)s, k, h, CASE WHEN bd IS NULL THEN """ + _RECEIPT.format(more="") + """
                                     ELSE """ + _RECEIPT.format(more=", 'breakdown', bd") + """
                                END, %(at)s
        FROM line
        RETURNING response
    )""" + summary.pg_upserts("line", "m", "party", summary.earned_sql("kind", "p"),
                           summary.spent_sql("kind", "p"), "%(at)s")

# A line issued by its one party (no programme part): the lot is the line's own.
_PLAIN_ISSUED = "issued AS (SELECT entry_id, m, party, p, lot_id, v, x FROM line)"

_IDS = "nextval('journal_entries_id_seq') AS entry_id, nextval('lots_id_seq') AS lot_id"


def _statement(lines: str, answer: str) -> str:
    """`WITH <lines>, <the shared writes> <answer>`: `lines` defines the `line` relation (and
    whatever it needs before it), `answer` is the final SELECT."""
    return f"WITH {lines},{_WRITES}\n    {answer}"


# One earn: claim the key, find the member (`who`: the id given, or the card's holder, with the
# request's digest, which names the member, computed for them: `_member_params`), move the
# balance (only for a member without debt, not erased, and an issuer that may issue: otherwise
# `moved`, and so `line`, is empty and nothing is written, and the general way names the
# refusal), then the writes.
# {before} adds relations `moved` reads ({points} is the points it moves, {sources} what it
# reads them from), {after} the writes beyond the shared ones, {answer_from} what the answer
# reads besides the claim.
_ONE_TEMPLATE = """{nonce}
    claim AS MATERIALIZED (
        SELECT pg_try_advisory_xact_lock(%(lock_key)s) AS locked, k.request_hash, k.response
        FROM (SELECT 1) AS one
        LEFT JOIN idempotency_keys AS k ON k.scope = %(scope)s AND k.key = %(key)s
    ), who AS MATERIALIZED (
        SELECT w.m, COALESCE(CAST(%(digest)s AS text), encode(sha256(convert_to(array_to_string(
                   CAST(%(digest_parts)s AS text[]), CAST(w.m AS text)), 'UTF8')), 'hex')) AS h
        FROM WHO_SOURCE AS w
    ),{before} moved AS (
        UPDATE member_balances AS b
        SET balance = b.balance + {points}, updated_at = %(at)s
        FROM claim, who, parties AS issuer{sources}
        WHERE b.member_id = who.m AND b.debt = 0
          AND NOT EXISTS (SELECT 1 FROM members AS gone WHERE gone.id = b.member_id
                          AND starts_with(gone.card_number, '""" + ERASED_CARD_PREFIX + """'))
          AND claim.locked AND claim.request_hash IS NULL{nonce_claimed}
          AND issuer.id = %(issuer)s AND issuer.kind IN ('partner', 'network')
          AND {guard}{also}
        RETURNING b.balance, b.held
    ), line AS MATERIALIZED (
        SELECT who.m, CAST(%(issuer)s AS bigint) AS party,
               CAST(%(kind)s AS text) AS kind, CAST({points} AS bigint) AS p,
               CAST(%(reference)s AS text) AS r, CAST(%(details)s AS json) AS d,
               CAST(%(vests)s AS timestamptz) AS v, CAST(%(expires)s AS timestamptz) AS x,
               CAST(%(key)s AS text) AS k, who.h,
               moved.balance AS b, moved.held AS hd, {breakdown} AS bd, \
""" + _IDS + """
        FROM moved, who{sources}
    ), {issued}{after}"""

_ANSWER = """SELECT claim.locked, claim.request_hash, claim.response AS stored,
           remembered.response AS new, {nonce_answer} AS nonce_claimed, who.m AS member,
           who.h AS digest
    FROM claim CROSS JOIN who{answer_from} LEFT JOIN remembered ON true"""

# The request's nonce claim (network.auth.DeferredClaim), when the earn makes it: the earn books
# only if the claim returned a row, so a replayed nonce writes nothing at all.
_NONCE = "\n    nonce AS ({claim}),"
_NONCE_CLAIMED = "\n          AND EXISTS (SELECT 1 FROM nonce)"
_NONCE_ANSWER = "EXISTS (SELECT 1 FROM nonce)"

_ONE = _statement(_ONE_TEMPLATE.format(
    before="", points="%(points)s", sources="", breakdown="CAST(NULL AS json)",
    issued=_PLAIN_ISSUED, after="", guard="{guard}", also="", nonce="{nonce}",
    nonce_claimed="{nonce_claimed}"), _ANSWER.format(answer_from="", nonce_answer="{nonce_answer}"))

# One earn with the programme's parts (campaign and tier points, `rules.TieredCredit`), still one
# statement. The parts depend on the member's tier, which the statement reads itself rather than
# costing the earn a round trip before it: `standing` is the stored tier and the window's points
# (tiers_store.standings), `chosen` the plan the caller made for the tier in force there
# (tiers.in_force: the higher of the held tier and the one the points reach). An earn that takes
# the member above the tier they hold books nothing here (`chosen` is empty): the general way
# stores the upgrade with it. So does one that a campaign with member limits would give more
# than its limit allows (`used_up`, the usage counted as `store.usage` counts it). What the
# statement read of the member (tier, window points, usage) is exact because `moved` updates
# the member's row only if it is the version the statement's snapshot saw (`b.xmin =
# standing.seen`, checked again on the newest version once the row's lock is ours): any earn,
# spend or reversal of the member that committed since changed it, and the statement then
# books nothing and hands over; unless the plans hold one campaign with member limits, and the
# caller planned the earn of a member who reached it too (`TieredCredit.parts_if_reached`): the
# statement then books that plan. Each campaign's points come out of the member's slot of its
# budget with a conditional UPDATE (`took`, after the member's row is locked, as `budgets.take`
# does first); if the slot no longer has them, `ok` divides by zero, which rolls the whole
# statement back, and the general way books the earn from all the slots, cut to what is left
# (the budget is never overspent either way).
#
# The usage count and the budget take are there only when the plans need them (`_programme`'s
# `limits` and `campaigns`, chosen in Python from the plans, `_programme_shape`): an earn that
# no campaign touches for any tier (tiers on, nothing at this partner) reads the tier and books
# the tier's parts, and runs neither.
_STANDING = """
    standing AS MATERIALIZED (
        SELECT t.tier, w.earned,
               (SELECT xmin FROM member_balances WHERE member_id = (SELECT m FROM who)) AS seen
        FROM (SELECT 1) AS one
        LEFT JOIN member_tiers AS t ON %(tiered)s AND t.member_id = (SELECT m FROM who)
        CROSS JOIN (
            -- the window's points as summary.earned_since reads them: whole days from the
            -- wallet's day sums, the entries of the window's first day after its start
            SELECT GREATEST(0, (
                SELECT COALESCE(SUM(d.earned), 0) FROM wallet_earned_days AS d
                WHERE %(tiered)s AND d.member_id = (SELECT m FROM who)
                  AND d.day > %(since_day)s) + (
                SELECT COALESCE(SUM(""" + summary.earned_sql("e.kind", "e.points") + """), 0)
                FROM journal_entries AS e
                WHERE %(tiered)s AND e.member_id = (SELECT m FROM who) AND e.booked_at > %(since)s
                  AND e.booked_at < %(next_day)s
                  AND e.kind IN ('earn', 'bonus', 'reverse_earn'))) AS earned) AS w
    ), ranked AS MATERIALIZED (
        SELECT s.earned,
               GREATEST((SELECT count(*) - 1 FROM unnest(CAST(%(thresholds)s AS bigint[])) AS th
                         WHERE th <= s.earned),
                        COALESCE(array_position(CAST(%(codes)s AS text[]), s.tier) - 1, -1))
                   AS in_force,
               CASE WHEN s.tier IS NULL THEN 0
                    ELSE COALESCE(array_position(CAST(%(codes)s AS text[]), s.tier) - 1, -1)
               END AS held
        FROM standing AS s
    ), picked AS MATERIALIZED (
        SELECT p.total, p.issued, p.parts, p.bd, p.limits, p.used
        FROM ranked, json_to_recordset(CAST(%(plans)s AS json))
             AS p(tier int, total bigint, issued json, parts json, bd json, limits json,
                  used boolean)
        WHERE p.tier = ranked.in_force
          AND (NOT %(tiered)s
               OR (SELECT count(*) - 1 FROM unnest(CAST(%(thresholds)s AS bigint[])) AS th
                   WHERE th <= ranked.earned + p.total) <= ranked.held)
    ),"""
_USED_UP = """ used_up AS MATERIALIZED (
        SELECT l.campaign
        FROM picked, json_to_recordset(picked.limits)
             AS l(campaign bigint, day int, week int, month int, ever int)
        CROSS JOIN LATERAL (
            SELECT count(DISTINCT a.entry_id) FILTER (WHERE a.booked_at >= %(day)s) AS d,
                   count(DISTINCT a.entry_id) FILTER (WHERE a.booked_at >= %(week)s) AS w,
                   count(DISTINCT a.entry_id) FILTER (WHERE a.booked_at >= %(month)s) AS mo,
                   count(DISTINCT a.entry_id) AS e
            FROM campaign_awards AS a
            WHERE a.member_id = (SELECT m FROM who) AND a.campaign_id = l.campaign AND a.points > 0
              AND NOT EXISTS (
                  SELECT 1 FROM campaign_awards AS r
                  JOIN journal_entries AS re ON re.id = r.entry_id
                  WHERE r.member_id = (SELECT m FROM who) AND r.points < 0
                    AND r.campaign_id = ANY(CAST(%(limited)s AS bigint[]))
                    AND re.reverses_entry_id = a.entry_id)) AS u
        WHERE picked.used IS NOT TRUE
          AND (u.d >= l.day OR u.w >= l.week OR u.mo >= l.month OR u.e >= l.ever)
    ), chosen AS MATERIALIZED (
        -- a plan with `used` NULL books only under the limits; with a plan for the limit
        -- reached (`used` true, TieredCredit.parts_if_reached), the one that fits
        SELECT * FROM picked
        WHERE CASE WHEN picked.used IS NULL THEN NOT EXISTS (SELECT 1 FROM used_up)
                   ELSE picked.used = EXISTS (SELECT 1 FROM used_up) END
    ),"""
_UNLIMITED = """ chosen AS MATERIALIZED (SELECT * FROM picked),"""
_ISSUED_BY_FUNDER = """issued AS MATERIALIZED (
        SELECT line.entry_id, line.m, i.party, i.p,
               CASE WHEN i.n = 1 THEN line.lot_id ELSE nextval('lots_id_seq') END AS lot_id,
               line.v, line.x
        FROM line, chosen,
             ROWS FROM (json_to_recordset(chosen.issued) AS (party bigint, p bigint))
             WITH ORDINALITY AS i(party, p, n)
    )"""
_AWARDED = """, awarded AS (
        INSERT INTO campaign_awards (entry_id, campaign_id, tier_code, member_id,
                                     funder_party_id, points, booked_at)
        SELECT line.entry_id, a.campaign, a.tier, line.m, a.party, a.p, %(at)s
        FROM line, chosen,
             json_to_recordset(chosen.parts) AS a(party bigint, p bigint, campaign bigint,
                                                  tier text)
    )"""
_TAKEN = """, spend AS MATERIALIZED (
        SELECT a.campaign, sum(a.p) AS p
        FROM line, chosen, json_to_recordset(chosen.parts) AS a(campaign bigint, p bigint)
        WHERE a.campaign IS NOT NULL
        GROUP BY a.campaign
    ), ordered AS MATERIALIZED (
        -- the member's slot of each campaign (programme/budgets.py), locked in ascending
        -- campaign id, as every other writer takes them, so two earns sharing two budgets
        -- never wait for each other in a circle
        SELECT s.campaign_id FROM campaign_budget_slots AS s JOIN spend ON spend.campaign =
            s.campaign_id WHERE s.slot = %(slot)s ORDER BY s.campaign_id FOR UPDATE OF s
    ), took AS (
        UPDATE campaign_budget_slots AS s SET spent = s.spent + spend.p
        FROM spend, ordered
        WHERE s.campaign_id = spend.campaign AND ordered.campaign_id = s.campaign_id
          AND s.slot = %(slot)s AND (s.cap IS NULL OR s.spent + spend.p <= s.cap)
        RETURNING s.campaign_id
    ), ok AS MATERIALIZED (
        SELECT 1 / CASE WHEN (SELECT count(*) FROM took) = (SELECT count(*) FROM spend)
                        THEN 1 ELSE 0 END AS fine
    )"""


def _programme(limits: bool, campaigns: bool) -> str:
    """`_ONE_TEMPLATE` with the programme's parts: with `limits` the usage count (some plan
    has a campaign with member limits), with `campaigns` the budget take (some plan has a
    campaign's points)."""
    return _statement(_ONE_TEMPLATE.format(
        before=_STANDING + (_USED_UP if limits else _UNLIMITED),
        points="chosen.total", sources=", chosen, standing", breakdown="chosen.bd",
        issued=_ISSUED_BY_FUNDER, after=_AWARDED + (_TAKEN if campaigns else ""),
        guard="{guard}", also="""
          AND b.xmin = standing.seen""", nonce="{nonce}", nonce_claimed="{nonce_claimed}"),
        _ANSWER.format(answer_from=" CROSS JOIN ok" if campaigns else "",
                       nonce_answer="{nonce_answer}"))


# A batch's lines: from the JSON document, in input order; one balance move per member.
# A line with programme parts has `i`, its points per issuing party (the earning partner first:
# its lot is the one the receipt names), `a`, its campaign_awards rows (the parts with points,
# as `awards.record_many` writes them), and `bd`, its receipt's breakdown; `p` is its total.
_MANY = summary.compact(_statement("""
    line AS MATERIALIZED (
        SELECT r.*, CAST(%(party)s AS bigint) AS party, """ + _IDS + """
        FROM ROWS FROM (json_to_recordset(CAST(%(lines)s AS json)) AS (
                 m bigint, kind text, p bigint, r text, d json, v timestamptz, x timestamptz,
                 k text, h text, b bigint, hd bigint, i json, a json, bd json))
             WITH ORDINALITY AS r(m, kind, p, r, d, v, x, k, h, b, hd, i, a, bd, n)
        ORDER BY r.n
    ), moved AS (
        UPDATE member_balances AS b SET balance = b.balance + t.delta, updated_at = %(at)s
        FROM (SELECT m, sum(p) AS delta FROM line GROUP BY m) AS t
        WHERE b.member_id = t.m
    ), issued AS MATERIALIZED (
        SELECT entry_id, m, party, p, lot_id, v, x FROM line WHERE i IS NULL
        UNION ALL
        SELECT line.entry_id, line.m, s.party, s.p,
               CASE WHEN s.n = 1 THEN line.lot_id ELSE nextval('lots_id_seq') END, line.v, line.x
        FROM line, ROWS FROM (json_to_recordset(line.i) AS (party bigint, p bigint))
                   WITH ORDINALITY AS s(party, p, n)
        WHERE line.i IS NOT NULL
    ), awarded AS (
        INSERT INTO campaign_awards (entry_id, campaign_id, tier_code, member_id,
                                     funder_party_id, points, booked_at)
        SELECT line.entry_id, a.campaign, a.tier, line.m, a.party, a.p, %(at)s
        FROM line, json_to_recordset(line.a) AS a(party bigint, p bigint, campaign bigint,
                                                  tier text)
        WHERE line.a IS NOT NULL
    )""", "SELECT entry_id, lot_id FROM line ORDER BY n"))



# `who`'s member: the id the caller knows, or (`by_card`) the holder of a card not in the hub's
# cache. Only the card's form reads members without naming the member (the one exception to
# routing by member, infra/distribution.py HOT_STATEMENT_EXCEPTIONS, once per card per hub
# process), so an earn by id stays a statement Citus sends to the member's node alone.
_BY_ID = "(SELECT CAST(%(member)s AS bigint) AS m)"
_BY_CARD = "(SELECT (SELECT id FROM members WHERE card_number = %(card)s) AS m)"


@functools.lru_cache(maxsize=64)
def _one(guard: str, shape: tuple[bool, bool] | None, claim: str | None,
         by_card: bool = False) -> str:
    """The one-earn statement with the observers' guard (network/ledger/observers.py: "true"
    when nobody observes this earn; false makes it book nothing and hand the earn to `book`),
    plain or with the programme's parts of this `_programme_shape`, and the request's `claim`
    (DeferredClaim.sql) if it makes it."""
    sql = (_ONE if shape is None else _programme(*shape)).replace("{guard}", guard).replace(
        "WHO_SOURCE", _BY_CARD if by_card else _BY_ID)
    parts = ((_NONCE.format(claim=claim), _NONCE_CLAIMED, _NONCE_ANSWER) if claim is not None
             else ("", "", "true"))
    for name, part in zip(("{nonce}", "{nonce_claimed}", "{nonce_answer}"), parts, strict=True):
        sql = sql.replace(name, part)
    return summary.compact(sql)


def _programme_shape(tiered: TieredCredit) -> tuple[bool, bool]:
    """(limits, campaigns): whether some tier's plan has a campaign with member limits, and
    whether some tier's plan has a campaign's points (their budget slots are taken)."""
    return (any(tiered.limits),
            any(p.campaign_id is not None for parts in tiered.parts for p in parts))


def _programme_params(tiered: TieredCredit, issuer_id: int, base: int) -> dict[str, Any]:
    """`_programme`'s parameters: per tier rank (and, with `parts_if_reached`, per rank again
    for a member who reached the one limited campaign's limit: `used`), the total, the points
    per issuing party (the earning partner first: its lot is the receipt's), the parts and the
    receipt's breakdown, all from the ledger's pure rules (`issued_by`, `breakdown`) as the
    general way books them."""
    alternative = tiered.parts_if_reached is not None

    def plan(rank: int, parts: Sequence[CreditPart], used: bool | None,
             limits: Sequence[Sequence[int | None]]) -> dict[str, Any]:
        return {"tier": rank, "total": base + sum(p.points for p in parts), "used": used,
                "limits": [dict(zip(("campaign", "day", "week", "month", "ever"), limit,
                                    strict=True)) for limit in limits],
                "issued": _issued(issuer_id, base, parts), "parts": _awards(parts),
                "bd": list(breakdown(issuer_id, base, parts)) or None}

    plans = [plan(rank, parts, False if alternative else None, tiered.limits[rank])
             for rank, parts in enumerate(tiered.parts)]
    plans += [plan(rank, parts, True, ())
              for rank, parts in enumerate(tiered.parts_if_reached or ())]
    return {"tiered": bool(tiered.codes), "codes": list(tiered.codes),
            "thresholds": [Int8(t) for t in tiered.thresholds or (0,)],
            **_window(tiered.since),
            "day": tiered.periods[0], "week": tiered.periods[1], "month": tiered.periods[2],
            "limited": [Int8(c) for c in tiered.limited],
            "slot": tiered.budget_slot,
            "plans": json.dumps(plans, separators=(",", ":"))}


def _awards(parts: Sequence[CreditPart]) -> list[dict[str, Any]]:
    """The campaign_awards rows of an earn's parts, as the statements' JSON reads them: one
    per part with points, a tier's part naming its tier (`awards.record_many`'s rows)."""
    return [{"party": p.issuer_id, "p": p.points, "campaign": p.campaign_id,
             "tier": p.code if p.source == "tier" else None} for p in parts if p.points]


def _window(since: datetime) -> dict[str, Any]:
    """The tier window's start, its UTC day and the next day's start (summary.since_params)."""
    found = summary.since_params(0, since)
    return {"since": since, "since_day": found["since_day"], "next_day": found["next_day"]}


# Conflicts that mean "someone else got there first": the general way sorts them out; and the
# programme statement's refusal when a budget no longer has its points (`ok`).
_HAND_OVER = (psycopg.errors.UniqueViolation, psycopg.errors.SerializationFailure,
              psycopg.errors.DeadlockDetected, psycopg.errors.DivisionByZero)


def earn_statement(statement: Callable[[str, Mapping[str, Any]], Any], *, scope: str, key: str,
                   digest: str | list[str], kind: str, issuer_id: int,
                   member_id: int | ByCard, points: int,
                   reference: str | None, details: dict[str, Any] | None, vests_at: datetime,
                   expires_at: datetime | None, at: datetime, booked_at: str,
                   guard: str = "true", guard_params: Mapping[str, Any] | None = None,
                   tiered: TieredCredit | None = None,
                   claim: DeferredClaim | None = None) -> Receipt | None:
    """Book the earn, or replay it; None when the general way must handle it (`guard`, an SQL
    condition over `guard_params`, is false: someone observes this earn, observers.py; with the
    programme's `tiered` parts: the earn crosses a tier, or a budget ran short). `claim`, the
    request's nonce claim, is made in the same statement: refused, it raises ClaimRefused and
    nothing is written; if the statement rolled back, it is left unmade for the general way.
    A member named `ByCard` is looked up in the statement (MemberNotFound if nobody holds the
    card), `digest` then being the digest's text cut where the member's id goes
    (`idempotency.request_hash_around`)."""
    # Int8: psycopg types a Python int by its size; one type keeps one prepared statement.
    params = {"lock_key": Int8(idempotency.advisory_key(scope, key)), "scope": scope, "key": key,
              **_member_params(member_id, digest), "kind": kind, "issuer": Int8(issuer_id),
              "points": Int8(points), "reference": reference,
              "details": json.dumps(details), "vests": vests_at, "expires": expires_at,
              "at": at, "booked_at": booked_at, **(guard_params or {})}
    if tiered is not None:
        params.update(_programme_params(tiered, issuer_id, points))
    if claim is not None:
        params.update(claim.params)
    try:
        row = statement(_one(guard, None if tiered is None else _programme_shape(tiered),
                             claim and claim.sql, isinstance(member_id, ByCard)), params)
    except _HAND_OVER:
        return None
    if claim is not None:
        claim.settle(row.nonce_claimed)
    if row.member is None:
        raise MemberNotFound("no member with this card number", field="cardNumber")
    if not row.locked:
        raise IdempotencyInProgress(
            "a request with this idempotency key is still being processed; retry shortly",
            field="idempotencyKey")
    if row.request_hash is not None:
        return Receipt.from_dict(idempotency.check_replay(row.request_hash, row.digest,
                                                          row.stored))
    return Receipt.from_dict(row.new) if row.new is not None else None


def _member_params(member_id: int | ByCard, digest: str | list[str]) -> dict[str, Any]:
    """`who`'s parameters: the member's id and the request's digest, or the card and the
    digest's text around the id (the statement joins the parts with the id it finds)."""
    if isinstance(member_id, ByCard):
        assert isinstance(digest, list)
        return {"member": None, "card": member_id.number, "digest": None,
                "digest_parts": digest}
    assert isinstance(digest, str)
    return {"member": Int8(member_id), "card": None, "digest": digest, "digest_parts": None}


def _issued(issuer_id: int, base: int, parts: Sequence[CreditPart]) -> list[dict[str, int]]:
    """Points per issuing party, the earning partner first (`rules.issued_by`), as the
    statements' JSON reads them."""
    return [{"party": party, "p": n} for party, n in issued_by(issuer_id, base, parts).items()]


def _with_parts(b: Booking, issuer_id: int) -> dict[str, Any]:
    """A batch line's programme columns: its lots per issuing party, its campaign_awards rows
    and its breakdown."""
    return {"i": _issued(issuer_id, b.line.points, b.parts), "a": _awards(b.parts),
            "bd": list(breakdown(issuer_id, b.line.points, b.parts))}


def _isoformats() -> Callable[[datetime], str]:
    """`datetime.isoformat`, each distinct time once: a batch's lots mostly share their dates
    (the contract's vesting and expiry from one clock reading)."""
    done: dict[tuple[datetime, Any], str] = {}

    def iso(at: datetime) -> str:
        # Equal instants in other offsets print differently: the offset is part of the key.
        key = (at, at.utcoffset())
        text = done.get(key)
        if text is None:
            text = done[key] = at.isoformat()
        return text

    return iso


def book(conn: Connection, *, issuer_id: int, scope: str, bookings: list[Booking], at: datetime,
         booked_at: str) -> list[tuple[int, int]]:
    """Write every booking; returns (entry id, lot id) per booking, in order."""
    iso = _isoformats()
    rows = [{"m": b.line.member_id, "kind": b.line.kind, "p": b.points,
             "r": b.line.reference, "d": b.line.details, "v": iso(b.vests_at),
             "x": b.expires_at and iso(b.expires_at), "k": b.line.key, "h": b.digest,
             "b": b.balance, "hd": b.held, **(_with_parts(b, issuer_id) if b.parts else {})}
            for b in bookings]
    result = conn.exec_driver_sql(_MANY, {"lines": json.dumps(rows, separators=(",", ":")),
                                          "party": issuer_id, "scope": scope, "at": at,
                                          "booked_at": booked_at})
    return [(row.entry_id, row.lot_id) for row in result]
