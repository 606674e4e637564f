"""inbox: every message a channel acknowledged, stored before the answer and worked off by the
workers; cases: the duplicate search's indexes (the caller, then the time)

Revision ID: 0962_inbox
Revises: 0002_followup
Create Date: 2026-12-07 10:50:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0962_inbox'
down_revision = '0002_followup'
branch_labels = None
# The phone key's column comes from that branch.
depends_on = ('0621_phone_key',)


def upgrade():
    op.create_table(
        'inbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('dedupe_key', sa.String(length=200), nullable=False),
        sa.Column('sender', sa.String(length=100), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('queued_at', sa.DateTime(), nullable=True),
        sa.Column('processed_at', sa.DateTime(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('dedupe_key'),
    )
    op.create_index('ix_inbox_pending', 'inbox', ['processed_at', 'id'])
    op.create_index('ix_inbox_sender', 'inbox', ['channel', 'sender', 'id'])
    # The duplicate search at intake reads one caller's recent cases, newest first: the
    # caller's key and the time in one index, so it reads only those rows.
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_citizen_phone_key_received',
                              ['citizen_phone_key', 'received_at'])
        batch_op.create_index('ix_cases_citizen_openid_received',
                              ['citizen_openid', 'received_at'])


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_citizen_openid_received')
        batch_op.drop_index('ix_cases_citizen_phone_key_received')
    op.drop_index('ix_inbox_sender', table_name='inbox')
    op.drop_index('ix_inbox_pending', table_name='inbox')
    op.drop_table('inbox')
