"""staff accounts: sign-in locks, API token expiry and revocation, the account log

Revision ID: 0611_accounts
Revises: 0002_followup
Create Date: 2026-12-07 04:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0611_accounts'
down_revision = '0002_followup'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('failed_sign_ins', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('last_sign_in_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('token_issued_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('token_expires_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('token_revoked_at', sa.DateTime(), nullable=True))
        # A user made on the console for signing in only has no API token at all.
        batch.alter_column('token_hash', existing_type=sa.String(length=64), nullable=True)
    op.create_table(
        'auth_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('user_name', sa.String(length=64), nullable=False),
        sa.Column('by_name', sa.String(length=64), nullable=True),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.Column('detail', sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_auth_events_at', 'auth_events', ['at'])
    op.create_index('ix_auth_events_user_at', 'auth_events', ['user_name', 'at'])
    op.create_index('ix_auth_events_address_at', 'auth_events', ['address', 'at'])


def downgrade():
    op.drop_table('auth_events')
    with op.batch_alter_table('users') as batch:
        batch.alter_column('token_hash', existing_type=sa.String(length=64), nullable=False)
        for column in ('token_revoked_at', 'token_expires_at', 'token_issued_at',
                       'last_sign_in_at', 'locked_until', 'failed_sign_ins'):
            batch.drop_column(column)
