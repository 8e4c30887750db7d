"""four-eyes by contribution: who wrote part of an article's content since its last approval

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 10:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('articles') as batch_op:
        batch_op.add_column(sa.Column('contributor_ids', sa.JSON(), nullable=False,
                                      server_default='[]'))
    with op.batch_alter_table('articles') as batch_op:
        batch_op.alter_column('contributor_ids', server_default=None)
    # Before this revision only the author counted; keep that for existing articles.
    array = "json_build_array" if op.get_bind().dialect.name == "postgresql" else "json_array"
    op.execute(f"UPDATE articles SET contributor_ids = {array}(author_id)")


def downgrade() -> None:
    with op.batch_alter_table('articles') as batch_op:
        batch_op.drop_column('contributor_ids')
