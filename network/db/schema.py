"""The ledger's tables: the one `metadata` every package adds its tables to.

Member-keyed tables carry `member_id` in their primary key (`keyed_by`) and point at each other
through it (`belongs_to`), so they can be sharded by member (infra/distribution.py); parties
(partners, charities, the network) and contracts (partners' own table,
partners/contracts_schema.py) are small reference tables every shard would copy.

Accounts are not rows: an account is (kind, owner), where the owner is a member for
`member_wallet`/`member_hold` and a party for every other kind (see network/ledger/accounts.py).
Only member wallets keep a locked running balance (`member_balances`); party balances are summed
from postings on read, so an earn never queues behind its partner's row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Constraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    event,
    literal_column,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateColumn
from sqlalchemy.sql.compiler import DDLCompiler

from network import referrals

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Timestamp = DateTime(timezone=True)
# Prices per point in minor units, e.g. 0.5 cent: exact decimals, never floats.
Price = Numeric(18, 6)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# ---- Keys that carry their shard key --------------------------------------------------------
# Citus (README: Scaling out; infra/distribution.py) wants a distributed table's distribution
# column in its primary key, and a foreign key between co-located tables to include it. So a
# member-keyed table's key is PRIMARY KEY (id, member_id): `id` stays the generated identity the
# code uses, and leads, so a lookup by id alone (a hold to capture, a gift the receiver accepts)
# still reads the key's index, without a second index on (id) that every insert would pay for
# (neither Citus nor a foreign key cares about the key's column order; member-wide reads have
# their indexes leading with member_id). A child points at its parent by (<parent>_id,
# member_id).
#
# SQLite gives ids only to a one-column INTEGER PRIMARY KEY (the rowid), so there the key stays
# (id) (`_sqlite_rowid_key` below, and the migrations) and a table others point at by
# (id, member_id) gets UNIQUE (id, member_id), which SQLite's composite foreign keys need and
# PostgreSQL's key already is. That constraint exists on SQLite only: `on_dialect` keeps
# Alembic's comparisons from asking PostgreSQL for it.
SQLITE_ONLY = "sqlite_only"
_ROWID_KEY = "sqlite_rowid_key"


def keyed_by(shard_key: str = "member_id", *, referenced: bool = False) -> list[Constraint]:
    """The constraints of a table with a surrogate `id` whose rows belong to `shard_key`:
    PRIMARY KEY (id, shard_key), plus UNIQUE (id, shard_key) on SQLite when other tables'
    foreign keys point at it (`referenced`). The table declares `id` without primary_key=True
    and with autoincrement=True (SQLAlchemy's generated column in a composite key)."""
    key: list[Constraint] = [PrimaryKeyConstraint("id", shard_key, info={_ROWID_KEY: True})]
    if referenced:
        key.append(UniqueConstraint("id", shard_key, info={SQLITE_ONLY: True})
                   .ddl_if(dialect="sqlite"))
    return key


def belongs_to(parent: str, column: str, shard_key: str = "member_id",
               parent_key: str = "member_id") -> ForeignKeyConstraint:
    """`column` names a row of `parent` that belongs to the same member (shard key) as this
    row: (column, shard_key) -> parent (id, parent_key). Named as the one-column key it
    replaces (the naming convention takes the first column)."""
    return ForeignKeyConstraint([column, shard_key], [f"{parent}.id", f"{parent}.{parent_key}"])


# What the migrations keep on SQLite (see `keyed_by`), for a schema made by create_all: the id
# column plain (SQLAlchemy refuses autoincrement in a composite key there) and PRIMARY KEY (id).
@compiles(CreateColumn, "sqlite")
def _sqlite_rowid_column(create: CreateColumn, compiler: DDLCompiler, **kw: Any) -> str:
    column = create.element
    if column.name == "id" and column.table.primary_key.info.get(_ROWID_KEY):
        return f"id {compiler.type_compiler.process(column.type)} NOT NULL"
    return compiler.visit_create_column(create, **kw)


@compiles(PrimaryKeyConstraint, "sqlite")
def _sqlite_rowid_key(constraint: PrimaryKeyConstraint, compiler: DDLCompiler,
                      **kw: Any) -> str:
    if constraint.info.get(_ROWID_KEY):
        return f"CONSTRAINT {compiler.preparer.format_constraint(constraint)} PRIMARY KEY (id)"
    return compiler.visit_primary_key_constraint(constraint, **kw)


def on_dialect(dialect: str) -> Callable[..., bool]:
    """Alembic's include_object for comparing `metadata` with a database of `dialect`: leaves
    out what is declared for SQLite only when the database is not SQLite. (Alembic does not
    read SQLAlchemy's ddl_if.)"""
    def include(obj: Any, _name: Any, _type: str, reflected: bool, _compare_to: Any) -> bool:
        info = getattr(obj, "info", {}) if not reflected else {}
        return dialect == "sqlite" or not info.get(SQLITE_ONLY)
    return include


parties = Table(
    "parties",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # partner | charity | network
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("name_fa", String(200)),
    Column("stripe_account_id", String(64)),  # acct_… for transfers to this party
    Column("stripe_customer_id", String(64)),  # cus_… for invoices to this party
    Column("created_at", Timestamp, nullable=False),
    CheckConstraint("kind IN ('partner', 'charity', 'network')", name="kind"),
)

members = Table(
    "members",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("card_number", String(32), nullable=False, unique=True),
    # Contact details are encrypted; the *_lookup columns hold a keyed hash for exact search.
    Column("phone_cipher", LargeBinary),
    Column("phone_lookup", String(64), unique=True),
    Column("email_cipher", LargeBinary),
    Column("email_lookup", String(64), unique=True),
    Column("display_name", String(200)),
    Column("locale", String(8), nullable=False, default="en"),
    Column("enrolled_by_party_id", BigId, ForeignKey("parties.id")),
    Column("created_at", Timestamp, nullable=False),
    Column("birth_date", Date),  # optional; the birthday job reads month and day
    # The member's own code for inviting others (network/referrals.py); unguessable, unique.
    Column("referral_code", String(16), nullable=False, unique=True, default=referrals.generate),
    Column("referred_by", BigId, ForeignKey("members.id")),  # the member whose code they gave
)

# The one locked running balance: balance = sum of the member's lots' remaining points (debt lots
# are negative), held = points reserved by open holds, debt = points still owed after a clawback.
member_balances = Table(
    "member_balances",
    metadata,
    Column("member_id", BigId, ForeignKey("members.id"), primary_key=True),
    Column("balance", BigInteger, nullable=False, default=0),
    Column("held", BigInteger, nullable=False, default=0),
    Column("debt", BigInteger, nullable=False, default=0),
    Column("updated_at", Timestamp, nullable=False),
    CheckConstraint("held >= 0", name="held_nonnegative"),
    CheckConstraint("debt >= 0", name="debt_nonnegative"),
)
# Every earn, debit and hold updates its member's row here. With room left on each page the
# new version stays on the row's page (a HOT update): no new key entry, no extra row lock
# logged to move it, about 100 bytes less WAL per batch line (issue 21, migration 0030).
BALANCES_FILLFACTOR = 70
event.listen(member_balances, "after_create", DDL(
    f"ALTER TABLE member_balances SET (fillfactor = {BALANCES_FILLFACTOR})"
).execute_if(dialect="postgresql"))

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("id", BigId, autoincrement=True),
    # No foreign key to members (migration 0037): no code deletes a member (erasure blanks the
    # row), every writer books for a member whose balance row it moves or locks (and that row's
    # key does need the member), and `ledger verify` ("entry's member exists") names an entry
    # without one. The key cost a lookup and a logged row lock on the member per entry.
    Column("member_id", BigId, nullable=False),
    # earn | bonus | redeem | hold | capture | void | hold_expiry | reverse_earn
    # | reverse_redemption | donate | transfer_out | transfer_in | expire
    Column("kind", String(24), nullable=False),
    # The partner or charity on the other side. No foreign key (migration 0031): every writer
    # checks the party first, none deletes one, and `ledger verify` names an entry without it.
    Column("party_id", BigId),
    Column("points", BigInteger, nullable=False),  # the headline amount, always > 0
    Column("reference", String(200)),  # the partner's own reference (order number, till receipt)
    Column("reverses_entry_id", BigId),  # the member's own entry it reverses
    Column("hold_id", BigId),
    Column("details", JSON),  # purchase amount, reason, related member…
    Column("booked_at", Timestamp, nullable=False),
    CheckConstraint("points > 0", name="points_positive"),
    *keyed_by(referenced=True),
    belongs_to("journal_entries", "reverses_entry_id"),
)
Index("ix_journal_entries_member_booked", journal_entries.c.member_id, journal_entries.c.booked_at)
Index("ix_journal_entries_party_booked", journal_entries.c.party_id, journal_entries.c.booked_at)
# Partial: most entries (every earn) reverse nothing, and no query looks up the NULLs.
Index("ix_journal_entries_reverses", journal_entries.c.reverses_entry_id,
      postgresql_where=journal_entries.c.reverses_entry_id.is_not(None),
      sqlite_where=journal_entries.c.reverses_entry_id.is_not(None))
Index("ix_journal_entries_booked", journal_entries.c.booked_at)

# The wallet's per-member sums, kept by every writer of journal entries in the entry's own
# transaction (network/ledger/summary.py), so the wallet reads a few rows whatever the length of
# a member's history. Derived data: `pointsnet ledger verify` recomputes both from the entries.
# Earned and spent per party (the wallet's per-partner table), for entries with a party.
wallet_summary = Table(
    "wallet_summary",
    metadata,
    Column("member_id", BigId, primary_key=True, autoincrement=False),
    Column("party_id", BigId, primary_key=True, autoincrement=False),
    Column("earned", BigInteger, nullable=False),
    Column("spent", BigInteger, nullable=False),
)
# Points earned per UTC day (the tier's trailing window sums at most a window's days of them).
wallet_earned_days = Table(
    "wallet_earned_days",
    metadata,
    Column("member_id", BigId, primary_key=True, autoincrement=False),
    Column("day", Date, primary_key=True),
    Column("earned", BigInteger, nullable=False),
)

postings = Table(
    "postings",
    metadata,
    Column("id", BigId, autoincrement=True),
    Column("entry_id", BigId, nullable=False),
    Column("account_kind", String(24), nullable=False),
    # The entry's member, on every posting (the shard key). An entry only ever touches its own
    # member's wallet and hold, so for those kinds this is also the account's owner.
    Column("member_id", BigId, nullable=False),
    Column("party_id", BigId),  # owner of every non-member account kind; NULL for member kinds
    Column("points", BigInteger, nullable=False),  # signed; an entry's postings sum to zero
    CheckConstraint("points <> 0", name="points_nonzero"),
    CheckConstraint(
        "(account_kind IN ('member_wallet', 'member_hold')) = (party_id IS NULL)",
        name="one_owner"),
    *keyed_by(),
    # No foreign key to the entry: every writer inserts an entry and its postings together, and
    # the key cost a lookup and a row lock on the entry per posting (issue 21). `ledger verify`
    # ("posting belongs to its entry's member") names a posting whose entry is missing or is
    # another member's.
)
Index("ix_postings_entry", postings.c.entry_id)
Index("ix_postings_member", postings.c.member_id, postings.c.account_kind)
# Partial: member postings (half of all, every earn's wallet side) have no party.
Index("ix_postings_party", postings.c.party_id, postings.c.account_kind,
      postgresql_where=postings.c.party_id.is_not(None),
      sqlite_where=postings.c.party_id.is_not(None))

# Provenance: each credit to a member is a lot. A debt lot (points < 0) records what a clawback
# could not take back; later credits repay it first.
lots = Table(
    "lots",
    metadata,
    Column("id", BigId, autoincrement=True),
    # No foreign keys (migrations 0030, 0037; issue 21): every writer inserts a lot in the
    # statement or transaction that books its entry, from the issuer it checked first (no code
    # deletes a party), and each key cost a lookup and a row lock per lot: the entry's, and the
    # issuer's row, which every earn at that partner locked. `ledger verify` names a lot whose
    # entry is missing or another member's ("lot belongs to its entry's member", which also
    # holds its member to an existing one through "entry's member exists") and a lot whose
    # issuer is missing ("lot names an existing issuer").
    Column("member_id", BigId, nullable=False),
    Column("entry_id", BigId, nullable=False),  # the member's entry that credited it
    Column("issuer_party_id", BigId, nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("vests_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp),  # NULL: never expires (debt lots)
    Column("source_lot_id", BigId),  # a lot received by transfer remembers where it came from
    Column("created_at", Timestamp, nullable=False),
    CheckConstraint(
        "(points > 0 AND remaining >= 0 AND remaining <= points)"
        " OR (points < 0 AND remaining <= 0 AND remaining >= points)",
        name="remaining_in_range",
    ),
    *keyed_by(referenced=True),
)
# Only lots with points left: spent lots pile up forever and must not slow the FIFO walk.
Index("ix_lots_member_open", lots.c.member_id, lots.c.expires_at, lots.c.id,
      postgresql_where=lots.c.remaining > 0, sqlite_where=lots.c.remaining > 0)
Index("ix_lots_member", lots.c.member_id)
# The open-lot test every read of open lots uses. Its 0 is written into the SQL, not bound: a
# prepared statement's generic plan (psycopg prepares a statement on its fifth run) can use the
# partial index above only when the query's predicate visibly implies the index's; with
# `remaining > $1` it reads all of a member's lots, spent ones included, so the read slowed as
# the member's history grew.
LOT_IS_OPEN = lots.c.remaining > literal_column("0")
Index("ix_lots_entry", lots.c.entry_id)

# What settlement clears: one row per lot touched by a debit. Reversals are negative rows.
consumptions = Table(
    "consumptions",
    metadata,
    Column("id", BigId, autoincrement=True),
    Column("entry_id", BigId, nullable=False),
    Column("member_id", BigId, nullable=False),  # the entry's and the lot's member
    Column("lot_id", BigId, nullable=False),
    Column("issuer_party_id", BigId, nullable=False),
    # redemption | donation | expiry | clawback | reversal | transfer
    Column("kind", String(16), nullable=False),
    Column("sink_party_id", BigId),  # redeeming partner, charity, network (expiry); NULL: transfer
    Column("points", BigInteger, nullable=False),
    Column("reversal_of_id", BigId),  # set on the negative row that undoes a consumption
    Column("debt_lot_id", BigId),  # set when these points repaid a debt lot
    Column("booked_at", Timestamp, nullable=False),
    CheckConstraint("points <> 0", name="points_nonzero"),
    # No foreign keys to the entry and the lot (migration 0031): every writer inserts its
    # consumptions with the entry and the lot's update; `ledger verify` names an orphan.
    *keyed_by(),
)
Index("ix_consumptions_booked", consumptions.c.booked_at)
# A member's consumptions, and an entry's (its member is known wherever its consumptions are
# read: a reversal, the privacy export). No index on entry_id or lot_id alone (migration 0032):
# no query looks a consumption up by either without its member, and they cost an index entry
# per consumption written.
Index("ix_consumptions_member", consumptions.c.member_id, consumptions.c.entry_id)

holds = Table(
    "holds",
    metadata,
    Column("id", BigId, autoincrement=True),
    Column("member_id", BigId, ForeignKey("members.id"), nullable=False),
    Column("party_id", BigId, ForeignKey("parties.id"), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("captured", BigInteger, nullable=False, default=0),
    Column("status", String(16), nullable=False),  # authorized | captured | voided | expired
    Column("expires_at", Timestamp, nullable=False),
    Column("reference", String(200)),
    Column("created_at", Timestamp, nullable=False),
    Column("closed_at", Timestamp),
    *keyed_by(referenced=True),
)
Index("ix_holds_member", holds.c.member_id, holds.c.status)
Index("ix_holds_open_expiry", holds.c.status, holds.c.expires_at)

# Which lots an open hold reserves; capture turns them into consumptions, void gives them back.
hold_allocations = Table(
    "hold_allocations",
    metadata,
    Column("id", BigId, autoincrement=True),
    Column("hold_id", BigId, nullable=False),
    Column("member_id", BigId, nullable=False),  # the hold's and the lot's member
    Column("lot_id", BigId, nullable=False),
    Column("points", BigInteger, nullable=False),
    CheckConstraint("points >= 0", name="points_nonnegative"),
    *keyed_by(),
    belongs_to("holds", "hold_id"),
    belongs_to("lots", "lot_id"),
)
Index("ix_hold_allocations_hold", hold_allocations.c.hold_id)
Index("ix_hold_allocations_member", hold_allocations.c.member_id)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    # partner:<id> | member:<id> | staff:<id> | system
    Column("scope", String(40), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", Timestamp, nullable=False),
)
