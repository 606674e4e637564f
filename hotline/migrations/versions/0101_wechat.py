"""wechat channel: accounts, followers, inbound message log

Revision ID: 0101_wechat
Revises: 0002_followup
Create Date: 2026-11-23 19:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0101_wechat'
down_revision = '0002_followup'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('wechat_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('appid', sa.String(length=32), nullable=False),
    sa.Column('token_enc', sa.Text(), nullable=False),
    sa.Column('secret_enc', sa.Text(), nullable=True),
    sa.Column('aes_key_enc', sa.Text(), nullable=True),
    sa.Column('line_code', sa.String(length=32), nullable=False),
    sa.Column('template_id', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['line_code'], ['lines.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('appid'),
    sa.UniqueConstraint('code')
    )
    op.create_table('wechat_followers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_code', sa.String(length=32), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('subscribed', sa.Boolean(), nullable=False),
    sa.Column('subscribed_at', sa.DateTime(), nullable=True),
    sa.Column('unsubscribed_at', sa.DateTime(), nullable=True),
    sa.Column('last_inbound_at', sa.DateTime(), nullable=True),
    sa.Column('line_code', sa.String(length=32), nullable=True),
    sa.Column('draft_case_id', sa.Integer(), nullable=True),
    sa.Column('draft_until', sa.DateTime(), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('phone_confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('pending_phone', sa.String(length=32), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('code_sent_at', sa.DateTime(), nullable=True),
    sa.Column('code_attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['draft_case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_code', 'openid')
    )
    with op.batch_alter_table('wechat_followers', schema=None) as batch_op:
        batch_op.create_index('ix_wechat_followers_openid', ['openid'], unique=False)
        batch_op.create_index('ix_wechat_followers_phone', ['phone'], unique=False)

    op.create_table('wechat_inbound',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_code', sa.String(length=32), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('msg_type', sa.String(length=32), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=True),
    sa.Column('msg_id', sa.String(length=32), nullable=True),
    sa.Column('create_time', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('intent', sa.String(length=32), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('reply', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key')
    )
    with op.batch_alter_table('wechat_inbound', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wechat_inbound_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_wechat_inbound_openid', ['openid', 'received_at'], unique=False)


def downgrade():
    with op.batch_alter_table('wechat_inbound', schema=None) as batch_op:
        batch_op.drop_index('ix_wechat_inbound_openid')
        batch_op.drop_index(batch_op.f('ix_wechat_inbound_case_id'))

    op.drop_table('wechat_inbound')
    with op.batch_alter_table('wechat_followers', schema=None) as batch_op:
        batch_op.drop_index('ix_wechat_followers_phone')
        batch_op.drop_index('ix_wechat_followers_openid')

    op.drop_table('wechat_followers')
    op.drop_table('wechat_accounts')
