"""staff identity: console passwords and session versions

Revision ID: 0601_identity
Revises: 0002_followup
Create Date: 2026-12-07 04:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0601_identity'
down_revision = '0002_followup'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('password_hash', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('session_version', sa.Integer(), nullable=False,
                                   server_default='1'))


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.drop_column('session_version')
        batch.drop_column('must_change_password')
        batch.drop_column('password_hash')
