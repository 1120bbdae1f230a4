"""The ledger: parties, contracts, members, entries, postings, lots, consumptions, holds.

Revision ID: 0001_ledger
Revises: 
Create Date: 2026-11-23 03:08:07.396371
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op


revision = '0001_ledger'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idempotency_keys',
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('parties',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_fa', sa.String(length=200), nullable=True),
    sa.Column('stripe_account_id', sa.String(length=64), nullable=True),
    sa.Column('stripe_customer_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('partner', 'charity', 'network')", name=op.f('ck_parties_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parties')),
    sa.UniqueConstraint('code', name=op.f('uq_parties_code'))
    )
    op.create_table('contracts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('effective_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('earn_points_per_unit', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('allow_explicit_points', sa.Boolean(), nullable=False),
    sa.Column('pending_days', sa.Integer(), nullable=False),
    sa.Column('validity_months', sa.Integer(), nullable=False),
    sa.Column('clearing_price_per_point', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('network_fee_bps', sa.Integer(), nullable=False),
    sa.Column('donation_value_per_point', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('breakage_price_per_point', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('own_redemption_fee_per_point', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_contracts_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts')),
    sa.UniqueConstraint('party_id', 'effective_from', name=op.f('uq_contracts_party_id_effective_from'))
    )
    op.create_table('members',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('card_number', sa.String(length=32), nullable=False),
    sa.Column('phone_cipher', sa.LargeBinary(), nullable=True),
    sa.Column('phone_lookup', sa.String(length=64), nullable=True),
    sa.Column('email_cipher', sa.LargeBinary(), nullable=True),
    sa.Column('email_lookup', sa.String(length=64), nullable=True),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('enrolled_by_party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enrolled_by_party_id'], ['parties.id'], name=op.f('fk_members_enrolled_by_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('card_number', name=op.f('uq_members_card_number')),
    sa.UniqueConstraint('email_lookup', name=op.f('uq_members_email_lookup')),
    sa.UniqueConstraint('phone_lookup', name=op.f('uq_members_phone_lookup'))
    )
    op.create_table('holds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('captured', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_holds_member_id_members')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_holds_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holds'))
    )
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.create_index('ix_holds_member', ['member_id', 'status'], unique=False)
        batch_op.create_index('ix_holds_open_expiry', ['status', 'expires_at'], unique=False)

    op.create_table('journal_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('reverses_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('hold_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('booked_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('points > 0', name=op.f('ck_journal_entries_points_positive')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_journal_entries_member_id_members')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_journal_entries_party_id_parties')),
    sa.ForeignKeyConstraint(['reverses_entry_id'], ['journal_entries.id'], name=op.f('fk_journal_entries_reverses_entry_id_journal_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_entries'))
    )
    with op.batch_alter_table('journal_entries', schema=None) as batch_op:
        batch_op.create_index('ix_journal_entries_booked', ['booked_at'], unique=False)
        batch_op.create_index('ix_journal_entries_member_booked', ['member_id', 'booked_at'], unique=False)
        batch_op.create_index('ix_journal_entries_party_booked', ['party_id', 'booked_at'], unique=False)
        batch_op.create_index('ix_journal_entries_reverses', ['reverses_entry_id'], unique=False)

    op.create_table('member_balances',
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('held', sa.BigInteger(), nullable=False),
    sa.Column('debt', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('debt >= 0', name=op.f('ck_member_balances_debt_nonnegative')),
    sa.CheckConstraint('held >= 0', name=op.f('ck_member_balances_held_nonnegative')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_balances_member_id_members')),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_member_balances'))
    )
    op.create_table('lots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('issuer_party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('remaining', sa.BigInteger(), nullable=False),
    sa.Column('vests_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source_lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(points > 0 AND remaining >= 0 AND remaining <= points) OR (points < 0 AND remaining <= 0 AND remaining >= points)', name=op.f('ck_lots_remaining_in_range')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entries.id'], name=op.f('fk_lots_entry_id_journal_entries')),
    sa.ForeignKeyConstraint(['issuer_party_id'], ['parties.id'], name=op.f('fk_lots_issuer_party_id_parties')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_lots_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lots'))
    )
    with op.batch_alter_table('lots', schema=None) as batch_op:
        batch_op.create_index('ix_lots_entry', ['entry_id'], unique=False)
        batch_op.create_index('ix_lots_member_open', ['member_id', 'expires_at', 'id'], unique=False, postgresql_where=sa.text('remaining > 0'), sqlite_where=sa.text('remaining > 0'))
        batch_op.create_index('ix_lots_member', ['member_id'], unique=False)

    op.create_table('postings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_kind', sa.String(length=24), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("(account_kind IN ('member_wallet', 'member_hold')) = (party_id IS NULL)", name=op.f('ck_postings_one_owner')),
    sa.CheckConstraint('points <> 0', name=op.f('ck_postings_points_nonzero')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entries.id'], name=op.f('fk_postings_entry_id_journal_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_postings'))
    )
    with op.batch_alter_table('postings', schema=None) as batch_op:
        batch_op.create_index('ix_postings_entry', ['entry_id'], unique=False)
        batch_op.create_index('ix_postings_member', ['member_id', 'account_kind'], unique=False)
        batch_op.create_index('ix_postings_party', ['party_id', 'account_kind'], unique=False)

    op.create_table('consumptions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('issuer_party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('sink_party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('reversal_of_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('debt_lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('booked_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('points <> 0', name=op.f('ck_consumptions_points_nonzero')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entries.id'], name=op.f('fk_consumptions_entry_id_journal_entries')),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_consumptions_lot_id_lots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consumptions'))
    )
    with op.batch_alter_table('consumptions', schema=None) as batch_op:
        batch_op.create_index('ix_consumptions_booked', ['booked_at'], unique=False)
        batch_op.create_index('ix_consumptions_entry', ['entry_id'], unique=False)
        batch_op.create_index('ix_consumptions_lot', ['lot_id'], unique=False)
        batch_op.create_index('ix_consumptions_member', ['member_id', 'entry_id'], unique=False)

    op.create_table('hold_allocations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('hold_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('points >= 0', name=op.f('ck_hold_allocations_points_nonnegative')),
    sa.ForeignKeyConstraint(['hold_id'], ['holds.id'], name=op.f('fk_hold_allocations_hold_id_holds')),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_hold_allocations_lot_id_lots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hold_allocations'))
    )
    with op.batch_alter_table('hold_allocations', schema=None) as batch_op:
        batch_op.create_index('ix_hold_allocations_hold', ['hold_id'], unique=False)
        batch_op.create_index('ix_hold_allocations_member', ['member_id'], unique=False)
    # The network is a party of its own: issuer of bonuses, sink of expiry, receiver of fees.
    parties = sa.table("parties", sa.column("kind"), sa.column("code"), sa.column("name"),
                       sa.column("created_at", sa.DateTime(timezone=True)))
    op.bulk_insert(parties, [{"kind": "network", "code": "network", "name": "Points Network",
                              "created_at": datetime.now(UTC)}])


def downgrade() -> None:
    with op.batch_alter_table('hold_allocations', schema=None) as batch_op:
        batch_op.drop_index('ix_hold_allocations_member')
        batch_op.drop_index('ix_hold_allocations_hold')

    op.drop_table('hold_allocations')
    with op.batch_alter_table('consumptions', schema=None) as batch_op:
        batch_op.drop_index('ix_consumptions_member')
        batch_op.drop_index('ix_consumptions_lot')
        batch_op.drop_index('ix_consumptions_entry')
        batch_op.drop_index('ix_consumptions_booked')

    op.drop_table('consumptions')
    with op.batch_alter_table('postings', schema=None) as batch_op:
        batch_op.drop_index('ix_postings_party')
        batch_op.drop_index('ix_postings_member')
        batch_op.drop_index('ix_postings_entry')

    op.drop_table('postings')
    with op.batch_alter_table('lots', schema=None) as batch_op:
        batch_op.drop_index('ix_lots_member_open')
        batch_op.drop_index('ix_lots_member')
        batch_op.drop_index('ix_lots_entry')

    op.drop_table('lots')
    op.drop_table('member_balances')
    with op.batch_alter_table('journal_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_entries_reverses')
        batch_op.drop_index('ix_journal_entries_party_booked')
        batch_op.drop_index('ix_journal_entries_member_booked')
        batch_op.drop_index('ix_journal_entries_booked')

    op.drop_table('journal_entries')
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.drop_index('ix_holds_open_expiry')
        batch_op.drop_index('ix_holds_member')

    op.drop_table('holds')
    op.drop_table('members')
    op.drop_table('contracts')
    op.drop_table('parties')
    op.drop_table('idempotency_keys')
