"""article search index: a pg_trgm GIN index on the folded search text (PostgreSQL)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

INDEX = 'ix_articles_search_text_trgm'


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.create_index(INDEX, 'articles', ['search_text'], postgresql_using='gin',
                        postgresql_ops={'search_text': 'gin_trgm_ops'})
    else:
        # SQLite scans for q=; the index is declared on no rows so the schema matches the models.
        op.create_index(INDEX, 'articles', ['search_text'], sqlite_where=sa.false())


def downgrade() -> None:
    # The extension stays: other objects may use it, and it holds no data of ours.
    op.drop_index(INDEX, table_name='articles')
