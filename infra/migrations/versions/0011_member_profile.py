"""Members get an optional birth date, a referral code of their own (backfilled here for every
existing member) and the member who referred them.

Revision ID: 0011_member_profile
Revises: 0010_member_events
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0011_member_profile"
down_revision = "0010_member_events"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# A frozen copy of network/referrals.py's alphabet and length: Crockford's base32 (no I, L, O,
# U), 10 characters, 50 random bits.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 10


def _code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("referral_code", sa.String(16), nullable=True))
        batch.add_column(sa.Column("referred_by", BigId, nullable=True))
    conn = op.get_bind()
    ids = [row[0] for row in conn.execute(sa.text("SELECT id FROM members ORDER BY id"))]
    taken: set[str] = set()
    for member_id in ids:
        code = _code()
        while code in taken:  # 2^50 codes: a clash is astronomically rare, but never a failure
            code = _code()
        taken.add(code)
        conn.execute(sa.text("UPDATE members SET referral_code = :code WHERE id = :id"),
                     {"code": code, "id": member_id})
    with op.batch_alter_table("members") as batch:
        batch.alter_column("referral_code", existing_type=sa.String(16), nullable=False)
        batch.create_unique_constraint(op.f("uq_members_referral_code"), ["referral_code"])
        batch.create_foreign_key(op.f("fk_members_referred_by_members"), "members",
                                 ["referred_by"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.drop_constraint(op.f("fk_members_referred_by_members"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_members_referral_code"), type_="unique")
        batch.drop_column("referred_by")
        batch.drop_column("referral_code")
        batch.drop_column("birth_date")
