"""cleanup leases: a worker holds the run it cleans; learning in batches; re-importing a
deleted draft's page

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 09:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cleanup_runs') as batch_op:
        batch_op.add_column(sa.Column('queued_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('lease_token', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('lease_expires_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_cleanup_runs_status'), ['status'], unique=False)
    op.execute("UPDATE cleanup_runs SET queued_at = COALESCE(started_at, created_at)")
    with op.batch_alter_table('cleanup_runs') as batch_op:
        batch_op.alter_column('queued_at', existing_type=sa.DateTime(timezone=True),
                              nullable=False)

    # Only the import whose draft still exists answers a re-import of the same bytes.
    with op.batch_alter_table('raw_inputs') as batch_op:
        batch_op.add_column(sa.Column('dedup_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('learned_lines', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('raw_inputs') as batch_op:
        batch_op.alter_column('learned_lines', server_default=None)
    op.execute("UPDATE raw_inputs SET dedup_sha256 = sha256 WHERE article_id IN "
               "(SELECT id FROM articles WHERE deleted_at IS NULL)")
    with op.batch_alter_table('raw_inputs') as batch_op:
        batch_op.drop_constraint('uq_raw_inputs_source_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_raw_inputs_source_id'),
                                          ['source_id', 'dedup_sha256'])


def downgrade() -> None:
    # Fails (unique violation) if a page was imported again after its draft was deleted:
    # the old constraint allows one import per source and bytes; remove one of them first.
    with op.batch_alter_table('raw_inputs') as batch_op:
        batch_op.drop_constraint('uq_raw_inputs_source_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_raw_inputs_source_id'), ['source_id', 'sha256'])
        batch_op.drop_column('learned_lines')
        batch_op.drop_column('dedup_sha256')
    with op.batch_alter_table('cleanup_runs') as batch_op:
        batch_op.drop_index(batch_op.f('ix_cleanup_runs_status'))
        batch_op.drop_column('lease_expires_at')
        batch_op.drop_column('lease_token')
        batch_op.drop_column('queued_at')
