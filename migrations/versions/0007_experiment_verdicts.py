"""experiment verdicts: equivalent and no_verdict outcomes, quality clicks, fitted priors,
dropped arms, and the impressions each split intended (for the sample-ratio check)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 08:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

ARCHIVE_PRIOR_SD = 0.24  # frozen here: the value when this migration was written


def upgrade() -> None:
    op.create_table(
        'experiment_priors',
        sa.Column('metric', sa.Enum('clicks', 'quality_clicks', name='metric', native_enum=False,
                                    length=16), nullable=False),
        sa.Column('prior_sd', sa.Double(), nullable=False),
        sa.Column('tests', sa.Integer(), nullable=False),
        sa.Column('fitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('metric', name=op.f('pk_experiment_priors')),
    )
    with op.batch_alter_table('experiments') as batch_op:
        batch_op.add_column(sa.Column('metric', sa.Enum('clicks', 'quality_clicks', name='metric',
                                                        native_enum=False, length=16),
                                      nullable=False, server_default='clicks'))
        batch_op.add_column(sa.Column('prior_sd', sa.Double(), nullable=False,
                                      server_default=str(ARCHIVE_PRIOR_SD)))
        batch_op.add_column(sa.Column('dropped', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.drop_column('weight_history')
    with op.batch_alter_table('experiments') as batch_op:
        for column in ('metric', 'prior_sd', 'dropped'):
            batch_op.alter_column(column, server_default=None)
    op.execute("UPDATE experiments SET outcome = 'no_verdict' WHERE outcome = 'no_winner'")
    for table in ('experiment_counts', 'experiment_exposures'):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('engaged', sa.BigInteger(), nullable=False,
                                          server_default='0'))
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column('engaged', server_default=None)
    with op.batch_alter_table('experiment_counts') as batch_op:
        batch_op.add_column(sa.Column('expected', sa.Double(), nullable=False, server_default='0'))
    with op.batch_alter_table('experiment_counts') as batch_op:
        batch_op.alter_column('expected', server_default=None)
    # Counts from before this revision: their intended split is unknown; take the observed one.
    op.execute("UPDATE experiment_counts SET expected = impressions")


def downgrade() -> None:
    with op.batch_alter_table('experiment_counts') as batch_op:
        batch_op.drop_column('expected')
    for table in ('experiment_exposures', 'experiment_counts'):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('engaged')
    op.execute("UPDATE experiments SET outcome = 'no_winner' WHERE outcome = 'no_verdict'")
    op.execute("UPDATE experiments SET outcome = 'stopped' WHERE outcome = 'equivalent'")
    with op.batch_alter_table('experiments') as batch_op:
        batch_op.add_column(sa.Column('weight_history', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.drop_column('dropped')
        batch_op.drop_column('prior_sd')
        batch_op.drop_column('metric')
    op.drop_table('experiment_priors')
