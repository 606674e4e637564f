"""cases: due_key, what `sort=due` orders by (the deadline, cases without one last), and the
indexes a page of the list or of a department's queue walks

Revision ID: 0952_due_sort_key
Revises: 0002_followup
Create Date: 2026-12-07 08:10:00.000000

A stored column rather than an index on an expression: SQLite's batch migrations rebuild a
table without the expression indexes they cannot reflect.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0952_due_sort_key'
down_revision = '0002_followup'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_key', sa.DateTime(), nullable=True))
    op.execute("UPDATE cases SET due_key = coalesce(due_at, '9999-12-31 23:59:59')")
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('due_key', existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index('ix_cases_status_due_key', ['status', 'due_key', 'id'])
        batch_op.create_index('ix_cases_department_status_due_key',
                              ['department_code', 'status', 'due_key', 'id'])


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_department_status_due_key')
        batch_op.drop_index('ix_cases_status_due_key')
        batch_op.drop_column('due_key')
