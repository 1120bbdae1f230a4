"""Member-keyed tables keyed by member: PRIMARY KEY (id, member_id), and a child points at its
parent by (<parent>_id, member_id), so the schema is what Citus can distribute by member
(infra/distribution.py, README: Scaling out). signin_codes is keyed (id, address_hash),
reward_codes (id, partner_id); a purchase's code is (code_id, partner_id) and its entry unique as
(entry_id, member_id).

No row changes. On PostgreSQL each new key builds an index and the new foreign keys check every
child row against its parent, under an exclusive lock: a row whose member is not its parent's
fails the migration loudly (none can exist: the ledger writes a child with its parent's member).
SQLite keeps its one-column (id) keys, which alone give ids there (network/db/schema.keyed_by),
gets UNIQUE (id, member_id) on the tables others point at, and has its tables rebuilt.

Revision ID: 0024_member_keys
Revises: 0023_kpi_rollups
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0024_member_keys"
down_revision = "0023_kpi_rollups"
branch_labels = None
depends_on = None

# table -> its shard key; the starred ones are pointed at by other tables' keys.
KEYED = {
    "journal_entries": "member_id", "postings": "member_id", "lots": "member_id",
    "consumptions": "member_id", "holds": "member_id", "hold_allocations": "member_id",
    "campaign_awards": "member_id", "member_events": "member_id", "member_sessions": "member_id",
    "message_consents": "member_id", "gifts": "sender_member_id",
    "lottery_entries": "member_id", "reward_purchases": "member_id",
    "tier_changes": "member_id", "signin_codes": "address_hash", "reward_codes": "partner_id",
}
REFERENCED = ("journal_entries", "lots", "holds", "reward_codes")

# (table, column, its shard key, parent): once (column) -> parent (id), now
# (column, shard key) -> parent (id, the parent's shard key).
CHILDREN = [
    ("journal_entries", "reverses_entry_id", "member_id", "journal_entries"),
    ("postings", "entry_id", "member_id", "journal_entries"),
    ("lots", "entry_id", "member_id", "journal_entries"),
    ("consumptions", "entry_id", "member_id", "journal_entries"),
    ("consumptions", "lot_id", "member_id", "lots"),
    ("hold_allocations", "hold_id", "member_id", "holds"),
    ("hold_allocations", "lot_id", "member_id", "lots"),
    ("campaign_awards", "entry_id", "member_id", "journal_entries"),
    ("gifts", "hold_id", "sender_member_id", "holds"),
    ("gifts", "out_entry_id", "sender_member_id", "journal_entries"),
    ("lottery_entries", "journal_entry_id", "member_id", "journal_entries"),
    ("reward_purchases", "entry_id", "member_id", "journal_entries"),
    ("reward_purchases", "closed_entry_id", "member_id", "journal_entries"),
    ("reward_purchases", "code_id", "partner_id", "reward_codes"),
]

OLD_UNIQUE = ("uq_reward_purchases_entry_id", ["entry_id"])
NEW_UNIQUE = ("uq_reward_purchases_entry_id_member_id", ["entry_id", "member_id"])


def _fk_name(table: str, column: str, parent: str) -> str:
    return f"fk_{table}_{column}_{parent}"  # the metadata's naming convention, both ways


def _create_fk(batch: Any, table: str, column: str, key: str, parent: str, composite: bool) -> None:
    if composite:
        batch.create_foreign_key(_fk_name(table, column, parent), parent, [column, key],
                                 ["id", KEYED[parent]])
    else:
        batch.create_foreign_key(_fk_name(table, column, parent), parent, [column], ["id"])


def _postgresql(composite: bool) -> None:
    # Children's keys first: a foreign key needs its parent's key, so the old ones go before
    # the parents' keys change and the new ones come after.
    for table, column, _key, parent in CHILDREN:
        op.drop_constraint(_fk_name(table, column, parent), table, type_="foreignkey")
    old, new = (OLD_UNIQUE, NEW_UNIQUE) if composite else (NEW_UNIQUE, OLD_UNIQUE)
    op.drop_constraint(old[0], "reward_purchases", type_="unique")
    for table, key in KEYED.items():
        op.drop_constraint(f"pk_{table}", table, type_="primary")
        op.create_primary_key(f"pk_{table}", table, ["id", key] if composite else ["id"])
    for table, column, key, parent in CHILDREN:
        with op.batch_alter_table(table) as batch:
            _create_fk(batch, table, column, key, parent, composite)
    op.create_unique_constraint(new[0], "reward_purchases", new[1])


def _sqlite(composite: bool) -> None:
    # One rebuild per table, with everything it gets; SQLite checks no key while migrating
    # (the migrations' connection leaves foreign_keys off), so the order does not matter.
    for table, key in KEYED.items():
        children = [child for child in CHILDREN if child[0] == table]
        if table not in REFERENCED and not children and table != "reward_purchases":
            continue
        with op.batch_alter_table(table, recreate="always") as batch:
            if table in REFERENCED:
                name = f"uq_{table}_id_{key}"
                if composite:
                    batch.create_unique_constraint(name, ["id", key])
                else:
                    batch.drop_constraint(name, type_="unique")
            for _table, column, child_key, parent in children:
                batch.drop_constraint(_fk_name(table, column, parent), type_="foreignkey")
                _create_fk(batch, table, column, child_key, parent, composite)
            if table == "reward_purchases":
                old, new = (OLD_UNIQUE, NEW_UNIQUE) if composite else (NEW_UNIQUE, OLD_UNIQUE)
                batch.drop_constraint(old[0], type_="unique")
                batch.create_unique_constraint(new[0], new[1])
    # What PostgreSQL's ALTER would have checked: every child row names its parent's member.
    bind = op.get_bind()
    for table in sorted({child[0] for child in CHILDREN}):
        broken = bind.execute(sa.text(f"PRAGMA foreign_key_check({table})")).all()
        if broken:
            raise RuntimeError(f"{table}: rows whose parent key does not hold: {broken[:5]}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite(composite=True)
    else:
        _postgresql(composite=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite(composite=False)
    else:
        _postgresql(composite=False)
