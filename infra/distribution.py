"""Where each table goes when the hub's PostgreSQL becomes a Citus cluster: the plan, as data.

Citus cannot be installed on this machine, so the plan is kept honest by a test
(tests/infra/test_distribution.py) that reads this module beside the schema (infra/tables.py):

- every table has a placement here, and every placement names a table;
- a distributed table carries its distribution column, NOT NULL, in its primary key and in every
  unique constraint and unique index (Citus enforces uniqueness only within a shard);
- a foreign key from a distributed table points at a reference table, or at a table
  co-located with it through the distribution column; reference tables point only at reference
  tables; local tables at local or reference tables;
- the hot statements (earn, batch, redeem, holds, the wallet's reads), captured as they run on
  PostgreSQL, name the distribution column of every distributed table they touch, so Citus can
  route them to the member's shard instead of asking every shard;
- every database function (FUNCTIONS) is distributed by the argument that carries the member,
  co-located with the member's tables, and its statements name the member too.

Today's schema was designed on one PostgreSQL and breaks some of these rules; each break is in
EXCEPTIONS with why it is so and what the move to Citus does about it. The test fails on any
break not listed (a new table, a new unique index) and on any listed break that is gone (the
list only ever shrinks). The README's "Scaling out" is the prose of this plan.
"""

from __future__ import annotations

from dataclasses import dataclass

MEMBER = "distributed by member"  # hash on the member id, all co-located: one member, one shard
OWN_KEY = "distributed by its own key"  # hash on another column, not co-located with members
REFERENCE = "reference"  # small, read by every shard's transactions: a copy on every node
LOCAL = "local"  # on the coordinator only: operations' and finance's tables, not on a hot path


@dataclass(frozen=True)
class Placement:
    kind: str
    column: str | None = None  # the distribution column (MEMBER, OWN_KEY)
    why: str = ""


def _member(why: str = "", column: str = "member_id") -> Placement:
    return Placement(MEMBER, column, why)


PLACEMENTS: dict[str, Placement] = {
    # The member-keyed heart: a member's earn, redemption or hold touches only these, all on
    # the member's shard, so it stays a single-shard transaction.
    "members": _member("the member row itself; its id is the member id", column="id"),
    "member_balances": _member(),
    "journal_entries": _member("every entry has a member (NOT NULL): the ledger's shard key"),
    "postings": _member("both postings of an entry carry its member, the issuance side too"),
    "lots": _member(),
    "consumptions": _member(),
    "holds": _member(),
    "hold_allocations": _member(),
    "campaign_awards": _member(),
    "member_events": _member(),
    "member_rfm": _member(),
    "member_sessions": _member(),
    "segment_members": _member(),
    "member_profiles": _member(),
    "message_preferences": _member(),
    "message_consents": _member(),
    "message_occasions": _member(),
    "gift_blocks": _member(),
    "gifts": _member("the sender's: the gift's hold and its transfer entry are the sender's "
                     "(the receiver's side is a second shard, as any transfer)",
                     column="sender_member_id"),
    "lottery_entries": _member(),
    "reward_purchases": _member(),
    "member_tiers": _member(),
    "tier_changes": _member(),
    "member_blocks": _member(),
    "wallet_summary": _member("derived sums the ledger writers keep beside the entry"),
    "wallet_earned_days": _member(),
    # Keyed by something a request knows before it knows the member.
    "idempotency_keys": Placement(OWN_KEY, "scope", "a key is unique per partner, whoever "
                                  "the member: looked up by (scope, key)"),
    "partner_nonces": Placement(OWN_KEY, "key_id", "claimed by (key, nonce) in a statement of "
                                "its own, before anything else"),
    "rate_limit_counters": Placement(OWN_KEY, "bucket", "counted per hashed address or IP"),
    "signin_codes": Placement(OWN_KEY, "address_hash", "asked for by address, often of no "
                              "member (member_id is NULL for strangers)"),
    # Small tables every shard's transactions read: partners, contracts, the programme.
    "parties": Placement(REFERENCE),
    "contracts": Placement(REFERENCE),
    "partner_api_keys": Placement(REFERENCE),
    "campaigns": Placement(REFERENCE),
    "campaign_budget_slots": Placement(REFERENCE, why="budgets are rows updated by earns on "
                                       "every shard: a reference table's write is a 2PC on "
                                       "every node; see README"),
    "campaign_approvals": Placement(REFERENCE),
    "event_types": Placement(REFERENCE),
    "segments": Placement(REFERENCE),
    "programme_version": Placement(REFERENCE),
    "tier_ladders": Placement(REFERENCE, why="the tier ladder: a few rows written by an "
                              "operator's edit, read by every shard's earn and tier job"),
    "rewards": Placement(REFERENCE, why="the catalog: read by every purchase; stock is taken "
                         "by a guarded update, a 2PC on every node (as campaign budgets)"),
    "lottery_draws": Placement(REFERENCE),
    "lottery_prizes": Placement(REFERENCE),
    "webhook_endpoints": Placement(REFERENCE, why="read by every earn's guard on every shard"),
    # A reward's code pool: claimed by (reward, partner) with SKIP LOCKED, never by member.
    "reward_codes": Placement(OWN_KEY, "partner_id", "a pool belongs to the partner that "
                              "uploaded it; a purchase claims one code (two shards: 2PC)"),
    # Operations and finance: the coordinator's own.
    "notification_outbox": Placement(LOCAL, why="a queue drained by status and time, not by "
                                     "member; messages to non-members have no member"),
    "job_leases": Placement(LOCAL),
    "audit_log": Placement(LOCAL),
    "backoffice_accounts": Placement(LOCAL),
    "backoffice_sessions": Placement(LOCAL),
    "goodwill_requests": Placement(LOCAL, why="a console queue of a few rows a day"),
    "kpi_daily": Placement(LOCAL, why="rollups the dashboards read, made by a job from "
                           "set-based reads of every shard"),
    "kpi_flows": Placement(LOCAL),
    "kpi_days": Placement(LOCAL),
    "webhook_events": Placement(LOCAL, why="a queue, as the notification outbox: written with "
                                "the booking (a 2PC with the coordinator on Citus)"),
    "webhook_deliveries": Placement(LOCAL),
    "job_runs": Placement(LOCAL),
    "staff_tokens": Placement(LOCAL),
    "settlement_runs": Placement(LOCAL),
    "settlement_lines": Placement(LOCAL),
    "settlement_payments": Placement(LOCAL),
    "settlement_positions": Placement(LOCAL),
    "settlement_totals": Placement(LOCAL),
    "stripe_webhook_events": Placement(LOCAL),
}

# (table, rule) -> why. Rules: "pk", "unique:<col,col>", "fk:<col,col>", "null:<col>".
# A member-keyed table's key is (id, member_id) and a child points at its parent by
# (<parent>_id, member_id) (network/db/schema.keyed_by, belongs_to): what is left is a key
# between different members' rows, or a value unique network-wide.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("reward_purchases", "fk:code_id,partner_id"): (
        "the code is in its partner's pool, on another shard: dropped on Citus; the purchase "
        "claims the code in the same transaction (2PC) and keeps its id"),
    ("gifts", "fk:receiver_member_id"): (
        "the receiver is on another shard: dropped on Citus, the gift checks the receiver "
        "when it books (as a transfer does)"),
    ("gift_blocks", "fk:blocked_member_id"): "the other member, on another shard: dropped",
    ("goodwill_requests", "fk:member_id"): (
        "a console request on the coordinator names a member on a shard: dropped on Citus; "
        "approving it books through the ledger, which reads the member first"),
    ("lottery_entries", "unique:entry_hash"): (
        "a salted hash of the draw's code and the entry id, unique by construction; a "
        "directory keyed by the hash on Citus if the constraint must stay"),
    ("members", "unique:card_number"): (
        "card numbers are unique network-wide: a Citus table card_numbers(card_number PRIMARY "
        "KEY, member_id) distributed by card_number keeps that, and is what the card lookup "
        "reads (the hub caches card -> member per process, partners/gql/app_caches.py)"),
    ("members", "unique:phone_lookup"): "as card_number: a directory distributed by the hash",
    ("members", "unique:email_lookup"): "as card_number: a directory distributed by the hash",
    ("members", "unique:referral_code"): "as card_number: a directory distributed by the code",
    ("members", "fk:referred_by"): (
        "a member refers another, on another shard: the key is dropped on Citus and the "
        "referral checked by the code that books it (it reads the referrer first)"),
    ("member_sessions", "unique:token_hash"): (
        "a session is found by its token before its member is known: a directory "
        "session_tokens(token_hash PRIMARY KEY, member_id) distributed by token_hash"),
    ("member_events", "unique:scope,idempotency_key"): (
        "a partner's event key is unique whoever the member (as idempotency_keys): a directory "
        "distributed by scope, written in the same transaction (two shards: Citus's 2PC)"),
    ("signin_codes", "fk:member_id"): (
        "codes are distributed by address, members by id: dropped on Citus, the code's member "
        "is read when the code is checked"),
}

# Hot statements that touch a member-keyed table without naming the member: what finds the
# member in the first place. Each is a regular expression the statement matches, and why.
HOT_STATEMENT_EXCEPTIONS: dict[str, str] = {
    r"FROM members\s+WHERE (members\.)?card_number = ": (
        "card -> member: a fan-out to every shard today, the card_numbers directory on Citus; "
        "once per card per hub process (app_caches.CardIds)"),
    r"SELECT holds\.member_id, holds\.party_id\s+FROM holds\s+WHERE holds\.id = ": (
        "hold id -> member, for a capture or void: a fan-out on Citus unless the hold's global "
        "id carries its member (PartnerHold ids are opaque to partners, so that is a change of "
        "encoding only); every statement after it names the member"),
    r"SELECT coalesce\(max\(members\.id\)|WHERE members\.referred_by IS NOT NULL AND|"
    r"WHERE member_events\.type = %\(type_1\)s AND member_events\.scope = ": (
        "which members may have a referral pending (network/programme/conversions.py): "
        "network-wide reads once a minute per hub process, not per request"),
}


@dataclass(frozen=True)
class FunctionPlacement:
    """A database function the hot path calls, as Citus would run it: distributed by the
    argument that carries the member (`create_distributed_function(signature, argument,
    colocate_with => table)`), so the coordinator sends the whole call to the member's node."""
    argument: str
    colocate_with: str
    why: str = ""


# Every function the migrations create (the test checks that each one is here, that its argument
# exists, and that its statements name the member, as the hot statements do).
FUNCTIONS: dict[str, FunctionPlacement] = {
    "ledger_debit": FunctionPlacement(
        "p_member", "member_balances",
        "a redemption or donation in one call (migration 0034_debit_function). Citus delegates "
        "`SELECT ledger_debit(...)` alone, outside a transaction block, with no subquery among "
        "its arguments: the redemption's autocommit call when nobody observes it. The key it "
        "claims lives on its partner's shard (idempotency_keys by scope), so the delegated "
        "call writes two shards, as an earn does; a purchase's call (inside pg_buy's "
        "transaction) and an observed one run on the coordinator, each statement routed by "
        "its member"),
    "reward_buy": FunctionPlacement(
        "p_member", "reward_purchases",
        "a purchase in one call (migration 0035_reward_buy_function): ledger_debit's debit, "
        "then the take (the member's purchases, the code, the stock, the purchase row). The "
        "member's rows are on the member's shard; the code is its partner's (reward_codes by "
        "partner_id, which the take names) and the stock a reference table's row (rewards), so "
        "on Citus the call runs on the coordinator, each statement routed, and commits on "
        "those shards together (2PC), as the purchase's transaction did before"),
}
