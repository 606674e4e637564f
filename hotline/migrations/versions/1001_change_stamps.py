"""change_stamps: a stamp per table, renewed by every change made through the session, against
which each process checks its copies of users, lines, categories, departments and routing's
rules (hotline/reference.py)

Revision ID: 1001_change_stamps
Revises: 1000_baseline
Create Date: 2026-12-07 20:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '1001_change_stamps'
down_revision = '1000_baseline'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'change_stamps',
        sa.Column('table_name', sa.String(64), primary_key=True),
        sa.Column('stamp', sa.BigInteger(), nullable=False),
    )


def downgrade():
    op.drop_table('change_stamps')
