"""department contacts: where a department is told of new, reminded and escalated cases

Revision ID: 0641_department_contacts
Revises: 0002_followup
Create Date: 2026-12-07 04:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0641_department_contacts'
down_revision = '0002_followup'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('department_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_code', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('address', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('department_code', 'channel', 'address',
                        name='uq_department_contacts_address')
    )
    with op.batch_alter_table('department_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_department_contacts_department_code'),
                              ['department_code'], unique=False)


def downgrade():
    with op.batch_alter_table('department_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_department_contacts_department_code'))
    op.drop_table('department_contacts')
