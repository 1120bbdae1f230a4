"""Settlement runs, their inputs, lines, net positions and payments; Stripe webhook events;
finance staff bearer tokens.

Revision ID: 0004_settlement
Revises: 0001_ledger
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_settlement"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('settlement_runs',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'closed', 'paying', 'paid')", name=op.f('ck_settlement_runs_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_runs')),
    sa.UniqueConstraint('period', name=op.f('uq_settlement_runs_period'))
    )
    op.create_table('staff_tokens',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('roles', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_staff_tokens_token_hash'))
    )
    op.create_table('stripe_webhook_events',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('payment_id', BigId, nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_stripe_webhook_events'))
    )
    op.create_table('settlement_lines',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('run_id', BigId, nullable=False),
    sa.Column('payer_party_id', BigId, nullable=False),
    sa.Column('payee_party_id', BigId, nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('source_kind', sa.String(length=16), nullable=False),
    sa.Column('segment', sa.Integer(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('basis', sa.BigInteger(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['payee_party_id'], ['parties.id'], name=op.f('fk_settlement_lines_payee_party_id_parties')),
    sa.ForeignKeyConstraint(['payer_party_id'], ['parties.id'], name=op.f('fk_settlement_lines_payer_party_id_parties')),
    sa.ForeignKeyConstraint(['run_id'], ['settlement_runs.id'], name=op.f('fk_settlement_lines_run_id_settlement_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_lines'))
    )
    op.create_index('ix_settlement_lines_run', 'settlement_lines', ['run_id'], unique=False)
    op.create_table('settlement_payments',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('run_id', BigId, nullable=False),
    sa.Column('party_id', BigId, nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('stripe_object_id', sa.String(length=64), nullable=True),
    sa.Column('stripe_status', sa.String(length=32), nullable=True),
    sa.Column('error_code', sa.String(length=64), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'submitted', 'succeeded', 'failed')", name=op.f('ck_settlement_payments_status')),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_settlement_payments_amount_positive')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_settlement_payments_party_id_parties')),
    sa.ForeignKeyConstraint(['run_id'], ['settlement_runs.id'], name=op.f('fk_settlement_payments_run_id_settlement_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_payments')),
    sa.UniqueConstraint('run_id', 'party_id', name=op.f('uq_settlement_payments_run_id_party_id'))
    )
    op.create_index('ix_settlement_payments_stripe', 'settlement_payments', ['stripe_object_id'], unique=False)
    op.create_table('settlement_positions',
    sa.Column('run_id', BigId, nullable=False),
    sa.Column('party_id', BigId, nullable=False),
    sa.Column('receivable_minor', sa.BigInteger(), nullable=False),
    sa.Column('payable_minor', sa.BigInteger(), nullable=False),
    sa.Column('net_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_settlement_positions_party_id_parties')),
    sa.ForeignKeyConstraint(['run_id'], ['settlement_runs.id'], name=op.f('fk_settlement_positions_run_id_settlement_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'party_id', name=op.f('pk_settlement_positions'))
    )
    op.create_table('settlement_totals',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('run_id', BigId, nullable=False),
    sa.Column('issuer_party_id', BigId, nullable=False),
    sa.Column('sink_party_id', BigId, nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reversal', sa.Boolean(), nullable=False),
    sa.Column('segment', sa.Integer(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['settlement_runs.id'], name=op.f('fk_settlement_totals_run_id_settlement_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_totals'))
    )
    op.create_index('ix_settlement_totals_run', 'settlement_totals', ['run_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_settlement_totals_run', table_name='settlement_totals')
    op.drop_table('settlement_totals')
    op.drop_table('settlement_positions')
    op.drop_index('ix_settlement_payments_stripe', table_name='settlement_payments')
    op.drop_table('settlement_payments')
    op.drop_index('ix_settlement_lines_run', table_name='settlement_lines')
    op.drop_table('settlement_lines')
    op.drop_table('stripe_webhook_events')
    op.drop_table('staff_tokens')
    op.drop_table('settlement_runs')
