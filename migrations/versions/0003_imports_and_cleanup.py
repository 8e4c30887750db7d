"""imports and cleanup

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 03:05:58.627550
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sources',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('base_url', sa.String(length=2048), nullable=True),
    sa.Column('language', sa.String(length=35), nullable=True),
    sa.Column('article_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sources')),
    sa.UniqueConstraint('name', name=op.f('uq_sources_name'))
    )
    op.create_table('source_lines',
    sa.Column('source_id', sa.String(length=26), nullable=False),
    sa.Column('line_key', sa.String(length=64), nullable=False),
    sa.Column('sample', sa.Text(), nullable=False),
    sa.Column('article_count', sa.Integer(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_source_lines_source_id_sources')),
    sa.PrimaryKeyConstraint('source_id', 'line_key', name=op.f('pk_source_lines'))
    )
    op.create_table('raw_inputs',
    sa.Column('article_id', sa.String(length=26), nullable=False),
    sa.Column('source_id', sa.String(length=26), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('source_url', sa.String(length=2048), nullable=True),
    sa.Column('language', sa.String(length=35), nullable=True),
    sa.Column('learned', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.String(length=26), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_raw_inputs_article_id_articles')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_raw_inputs_created_by_id_users')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_raw_inputs_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_raw_inputs')),
    sa.UniqueConstraint('source_id', 'sha256', name=op.f('uq_raw_inputs_source_id'))
    )
    with op.batch_alter_table('raw_inputs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_raw_inputs_article_id'), ['article_id'], unique=False)

    op.create_table('cleanup_runs',
    sa.Column('raw_input_id', sa.String(length=26), nullable=False),
    sa.Column('article_id', sa.String(length=26), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'succeeded', 'failed', name='runstatus', native_enum=False, length=16), nullable=False),
    sa.Column('requested_by_id', sa.String(length=26), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('revision_id', sa.String(length=26), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_ms', sa.Double(), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_cleanup_runs_article_id_articles')),
    sa.ForeignKeyConstraint(['raw_input_id'], ['raw_inputs.id'], name=op.f('fk_cleanup_runs_raw_input_id_raw_inputs')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_cleanup_runs_requested_by_id_users')),
    sa.ForeignKeyConstraint(['revision_id'], ['article_revisions.id'], name=op.f('fk_cleanup_runs_revision_id_article_revisions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cleanup_runs'))
    )
    with op.batch_alter_table('cleanup_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cleanup_runs_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cleanup_runs_raw_input_id'), ['raw_input_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('cleanup_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cleanup_runs_raw_input_id'))
        batch_op.drop_index(batch_op.f('ix_cleanup_runs_article_id'))

    op.drop_table('cleanup_runs')
    with op.batch_alter_table('raw_inputs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_raw_inputs_article_id'))

    op.drop_table('raw_inputs')
    op.drop_table('source_lines')
    op.drop_table('sources')
