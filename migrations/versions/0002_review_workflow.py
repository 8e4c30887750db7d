"""review workflow

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 02:34:39.395425
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('article_id', sa.String(length=26), nullable=False),
    sa.Column('actor_id', sa.String(length=26), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_state', sa.String(length=32), nullable=True),
    sa.Column('to_state', sa.String(length=32), nullable=True),
    sa.Column('revision_id', sa.String(length=26), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users')),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_audit_events_article_id_articles')),
    sa.ForeignKeyConstraint(['revision_id'], ['article_revisions.id'], name=op.f('fk_audit_events_revision_id_article_revisions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_article_id_created_at', ['article_id', 'created_at'], unique=False)

    op.create_table('comments',
    sa.Column('article_id', sa.String(length=26), nullable=False),
    sa.Column('revision_id', sa.String(length=26), nullable=False),
    sa.Column('author_id', sa.String(length=26), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.String(length=26), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_comments_article_id_articles')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_comments_author_id_users')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_comments_resolved_by_id_users')),
    sa.ForeignKeyConstraint(['revision_id'], ['article_revisions.id'], name=op.f('fk_comments_revision_id_article_revisions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comments_article_id'), ['article_id'], unique=False)

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_revision_id', sa.String(length=26), nullable=True))
        batch_op.add_column(sa.Column('live_revision_id', sa.String(length=26), nullable=True))
        batch_op.add_column(sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('publish_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('embargo_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('published_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_published_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('publish_lateness_seconds', sa.Double(), nullable=True))
        batch_op.create_index('ix_articles_state_publish_at', ['state', 'publish_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_articles_live_revision_id_article_revisions'), 'article_revisions', ['live_revision_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_articles_approved_revision_id_article_revisions'), 'article_revisions', ['approved_revision_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_articles_approved_revision_id_article_revisions'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_articles_live_revision_id_article_revisions'), type_='foreignkey')
        batch_op.drop_index('ix_articles_state_publish_at')
        batch_op.drop_column('publish_lateness_seconds')
        batch_op.drop_column('last_published_at')
        batch_op.drop_column('published_at')
        batch_op.drop_column('embargo_until')
        batch_op.drop_column('publish_at')
        batch_op.drop_column('submitted_at')
        batch_op.drop_column('live_revision_id')
        batch_op.drop_column('approved_revision_id')

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_article_id'))

    op.drop_table('comments')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_article_id_created_at')

    op.drop_table('audit_events')
