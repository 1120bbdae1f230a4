"""An award row's two keys to shared rows go (issues 17 and 18, measured): each fired a lookup
per award row after the statement, and locked the campaign's and the funder's one row FOR KEY
SHARE, rows every programme earn shares (README: "Issues 17 and 18, row locks on shared rows").
Every invariant is still guarded, as 0037 did for the ledger's keys:

- campaign_awards (campaign_id) -> campaigns: an award is booked from a campaign the programme's
  compiled index read from its row in the same database, no code deletes a campaign (one ends
  by its status), and `ledger verify` ("award names an existing campaign") names an award
  whose campaign is missing. A tier effect's award has no campaign (NULL) and is not checked.
- campaign_awards (funder_party_id) -> parties: the funder is the issuer of a lot the same
  write books (network/programme/awards.py), whose issuer is checked before booking (0037);
  no code deletes a party, and `ledger verify` ("award names an existing funder") names an
  award whose funder is missing.

Measured with infra/bench/programme_ddl_ab.py, both dropped in turns against both kept: about
0.87-0.91 of PostgreSQL's CPU a programme-"on" batch line (README, Benchmarks).

Revision ID: 0038_award_keys
Revises: 0037_earn_keys
"""

from alembic import op

revision = "0038_award_keys"
down_revision = "0037_earn_keys"
branch_labels = None
depends_on = None

# name -> (table, columns, parent, parent columns)
KEYS = {
    "fk_campaign_awards_campaign_id_campaigns": ("campaign_awards", ["campaign_id"],
                                                 "campaigns", ["id"]),
    "fk_campaign_awards_funder_party_id_parties": ("campaign_awards", ["funder_party_id"],
                                                   "parties", ["id"]),
}


def upgrade() -> None:
    # SQLite rebuilds the table to drop a key (batch mode); PostgreSQL drops it in place.
    with op.batch_alter_table("campaign_awards") as batch:
        for name in KEYS:
            batch.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("campaign_awards") as batch:
        for name, (_table, columns, parent, parent_columns) in KEYS.items():
            batch.create_foreign_key(name, parent, columns, parent_columns)
