"""cases: priority (紧急件), assignee (the handler inside the department), and the feedback deadline
of the open leadership instructions (批示)

Revision ID: 0901_workflow
Revises: 0002_followup
Create Date: 2026-12-07 07:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0901_workflow'
down_revision = '0002_followup'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.String(length=16), nullable=False,
                                      server_default='normal'))
        batch_op.add_column(sa.Column('assignee', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('instruction_due_date', sa.Date(), nullable=True))
        batch_op.create_index('ix_cases_department_assignee', ['department_code', 'assignee'])
        batch_op.create_index('ix_cases_instruction_due', ['instruction_due_date'])


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_instruction_due')
        batch_op.drop_index('ix_cases_department_assignee')
        batch_op.drop_column('instruction_due_date')
        batch_op.drop_column('assignee')
        batch_op.drop_column('priority')
