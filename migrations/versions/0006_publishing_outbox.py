"""publishing outbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 08:52:13.457261
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outlets',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('webhook', 'feed', name='outletkind', native_enum=False, length=16), nullable=False),
    sa.Column('format', sa.String(length=32), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=True),
    sa.Column('secret', sa.String(length=128), nullable=True),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('next_sequence', sa.Integer(), nullable=False),
    sa.Column('circuit', sa.Enum('closed', 'open', 'probing', name='circuit', native_enum=False, length=16), nullable=False),
    sa.Column('circuit_retry_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outlets')),
    sa.UniqueConstraint('name', name=op.f('uq_outlets_name'))
    )
    op.create_table('deliveries',
    sa.Column('outlet_id', sa.String(length=26), nullable=False),
    sa.Column('article_id', sa.String(length=26), nullable=False),
    sa.Column('revision_id', sa.String(length=26), nullable=True),
    sa.Column('kind', sa.Enum('publish', 'update', 'takedown', name='deliverykind', native_enum=False, length=16), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'sending', 'delivered', 'dead', 'cancelled', name='deliverystate', native_enum=False, length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_token', sa.String(length=32), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_deliveries_article_id_articles')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_deliveries_outlet_id_outlets')),
    sa.ForeignKeyConstraint(['revision_id'], ['article_revisions.id'], name=op.f('fk_deliveries_revision_id_article_revisions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('outlet_id', 'sequence', name=op.f('uq_deliveries_outlet_id'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliveries_article_id'), ['article_id'], unique=False)
        batch_op.create_index('ix_deliveries_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_deliveries_outlet_id_article_id_sequence', ['outlet_id', 'article_id', 'sequence'], unique=False)
        batch_op.create_index('ix_deliveries_state_next_attempt_at', ['state', 'next_attempt_at'], unique=False)

    op.create_table('delivery_attempts',
    sa.Column('delivery_id', sa.String(length=26), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('latency_ms', sa.Double(), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('response_excerpt', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_delivery_attempts_delivery_id_deliveries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_attempts'))
    )
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_attempts_delivery_id'), ['delivery_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_attempts_delivery_id'))

    op.drop_table('delivery_attempts')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_state_next_attempt_at')
        batch_op.drop_index('ix_deliveries_outlet_id_article_id_sequence')
        batch_op.drop_index('ix_deliveries_created_at_id')
        batch_op.drop_index(batch_op.f('ix_deliveries_article_id'))

    op.drop_table('deliveries')
    op.drop_table('outlets')
