"""cases: due_mark and accept_mark, how far the supervision sweep has gone for the current
deadlines, beside the deadline in the sweep's indexes

Revision ID: 0963_sweep_marks_on_cases
Revises: 0002_followup
Create Date: 2026-12-07 10:50:00.000000

The sweep passes over the cases it has reminded and escalated by reading its indexes alone
instead of looking each one up in supervision_marks (workers.sweeps). Cases already swept get
their marks from supervision_marks here; the indexes replace ix_cases_status_due and
ix_cases_status_accept_due, which they serve as well (same leading columns).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0963_sweep_marks_on_cases'
down_revision = '0002_followup'
branch_labels = None
depends_on = '0003_supervision'  # supervision_marks and ix_cases_status_accept_due

MARKED = """
UPDATE cases SET
  due_mark = CASE
    WHEN EXISTS (SELECT 1 FROM supervision_marks m WHERE m.case_id = cases.id
                 AND m.kind = 'escalate_reply' AND m.deadline = cases.due_date) THEN 2
    WHEN EXISTS (SELECT 1 FROM supervision_marks m WHERE m.case_id = cases.id
                 AND m.kind = 'remind_reply' AND m.deadline = cases.due_date) THEN 1
    ELSE 0 END,
  accept_mark = CASE
    WHEN EXISTS (SELECT 1 FROM supervision_marks m WHERE m.case_id = cases.id
                 AND m.kind = 'escalate_accept' AND m.deadline = cases.accept_due_date) THEN 2
    WHEN EXISTS (SELECT 1 FROM supervision_marks m WHERE m.case_id = cases.id
                 AND m.kind = 'remind_accept' AND m.deadline = cases.accept_due_date) THEN 1
    ELSE 0 END
WHERE EXISTS (SELECT 1 FROM supervision_marks m WHERE m.case_id = cases.id)
"""


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_mark', sa.SmallInteger(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('accept_mark', sa.SmallInteger(), nullable=False,
                                      server_default='0'))
    op.execute(MARKED)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_status_due')
        batch_op.drop_index('ix_cases_status_accept_due')
        batch_op.create_index('ix_cases_status_due_mark', ['status', 'due_at', 'due_mark'])
        batch_op.create_index('ix_cases_status_accept_mark',
                              ['status', 'accept_due_date', 'accept_mark'])


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_status_accept_mark')
        batch_op.drop_index('ix_cases_status_due_mark')
        batch_op.create_index('ix_cases_status_accept_due', ['status', 'accept_due_date'])
        batch_op.create_index('ix_cases_status_due', ['status', 'due_at'])
        batch_op.drop_column('accept_mark')
        batch_op.drop_column('due_mark')
