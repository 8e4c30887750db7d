"""headline experiments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 06:09:24.396827
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('experiment_event_counters',
    sa.Column('outcome', sa.String(length=64), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('outcome', name=op.f('pk_experiment_event_counters'))
    )
    op.create_table('experiment_event_flushes',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('events', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment_event_flushes'))
    )
    with op.batch_alter_table('experiment_event_flushes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_experiment_event_flushes_applied_at'), ['applied_at'], unique=False)

    op.create_table('experiment_exposures',
    sa.Column('experiment_id', sa.String(length=26), nullable=False),
    sa.Column('visitor', sa.String(length=128), nullable=False),
    sa.Column('candidate_id', sa.String(length=26), nullable=False),
    sa.Column('impressions', sa.BigInteger(), nullable=False),
    sa.Column('clicks', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('experiment_id', 'visitor', 'candidate_id', name=op.f('pk_experiment_exposures'))
    )
    op.create_table('experiment_seen_events',
    sa.Column('experiment_id', sa.String(length=26), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('experiment_id', 'event_id', name=op.f('pk_experiment_seen_events'))
    )
    with op.batch_alter_table('experiment_seen_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_experiment_seen_events_received_at'), ['received_at'], unique=False)

    op.create_table('sites',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites')),
    sa.UniqueConstraint('key', name=op.f('uq_sites_key'))
    )
    op.create_table('experiments',
    sa.Column('article_id', sa.String(length=26), nullable=False),
    sa.Column('status', sa.Enum('running', 'paused', 'concluded', name='experimentstatus', native_enum=False, length=16), nullable=False),
    sa.Column('allocation', sa.Enum('thompson', 'fixed', name='allocation', native_enum=False, length=16), nullable=False),
    sa.Column('salt', sa.String(length=32), nullable=False),
    sa.Column('arm_ids', sa.JSON(), nullable=False),
    sa.Column('arm_texts', sa.JSON(), nullable=False),
    sa.Column('weights', sa.JSON(), nullable=False),
    sa.Column('default_candidate_id', sa.String(length=26), nullable=False),
    sa.Column('min_impressions', sa.Integer(), nullable=False),
    sa.Column('max_impressions', sa.Integer(), nullable=True),
    sa.Column('started_by_id', sa.String(length=26), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Enum('winner', 'no_winner', 'override', 'stopped', name='experimentoutcome', native_enum=False, length=16), nullable=True),
    sa.Column('winner_candidate_id', sa.String(length=26), nullable=True),
    sa.Column('verdict', sa.JSON(), nullable=False),
    sa.Column('weights_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('weight_history', sa.JSON(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_experiments_article_id_articles')),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_experiments_started_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiments'))
    )
    with op.batch_alter_table('experiments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_experiments_article_id'), ['article_id'], unique=False)
        batch_op.create_index('ix_experiments_ended_at', ['ended_at'], unique=False)
        batch_op.create_index('ix_experiments_status_updated_at', ['status', 'updated_at'], unique=False)
        batch_op.create_index('ix_experiments_updated_at', ['updated_at'], unique=False)
        batch_op.create_index('uq_experiments_active_article', ['article_id'], unique=True, postgresql_where=sa.text("status <> 'concluded'"), sqlite_where=sa.text("status <> 'concluded'"))

    op.create_table('experiment_counts',
    sa.Column('experiment_id', sa.String(length=26), nullable=False),
    sa.Column('candidate_id', sa.String(length=26), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('impressions', sa.BigInteger(), nullable=False),
    sa.Column('clicks', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiments.id'], name=op.f('fk_experiment_counts_experiment_id_experiments')),
    sa.PrimaryKeyConstraint('experiment_id', 'candidate_id', 'period_start', name=op.f('pk_experiment_counts'))
    )
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('canonical_headline_id', sa.String(length=26), nullable=True))
        batch_op.add_column(sa.Column('canonical_headline_text', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('canonical_headline_text')
        batch_op.drop_column('canonical_headline_id')

    op.drop_table('experiment_counts')
    with op.batch_alter_table('experiments', schema=None) as batch_op:
        batch_op.drop_index('uq_experiments_active_article', postgresql_where=sa.text("status <> 'concluded'"), sqlite_where=sa.text("status <> 'concluded'"))
        batch_op.drop_index('ix_experiments_updated_at')
        batch_op.drop_index('ix_experiments_status_updated_at')
        batch_op.drop_index('ix_experiments_ended_at')
        batch_op.drop_index(batch_op.f('ix_experiments_article_id'))

    op.drop_table('experiments')
    op.drop_table('sites')
    with op.batch_alter_table('experiment_seen_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_experiment_seen_events_received_at'))

    op.drop_table('experiment_seen_events')
    op.drop_table('experiment_exposures')
    with op.batch_alter_table('experiment_event_flushes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_experiment_event_flushes_applied_at'))

    op.drop_table('experiment_event_flushes')
    op.drop_table('experiment_event_counters')
