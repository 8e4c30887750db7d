"""headline candidates

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 03:33:10.581573
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('headline_candidates',
    sa.Column('article_id', sa.String(length=26), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('folded', sa.Text(), nullable=False),
    sa.Column('origin', sa.Enum('extracted', 'manual', name='candidateorigin', native_enum=False, length=16), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'accepted', 'rejected', 'removed', name='candidatestatus', native_enum=False, length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.String(length=26), nullable=False),
    sa.Column('source_run_id', sa.String(length=26), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_headline_candidates_article_id_articles')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_headline_candidates_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_headline_candidates'))
    )
    with op.batch_alter_table('headline_candidates', schema=None) as batch_op:
        batch_op.create_index('ix_headline_candidates_article_id_position', ['article_id', 'position'], unique=False)

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_headline_ids', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('live_headline_ids', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))



def downgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('live_headline_ids')
        batch_op.drop_column('approved_headline_ids')

    with op.batch_alter_table('headline_candidates', schema=None) as batch_op:
        batch_op.drop_index('ix_headline_candidates_article_id_position')

    op.drop_table('headline_candidates')
