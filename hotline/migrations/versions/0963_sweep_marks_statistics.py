"""cases: PostgreSQL statistics of status with the sweep's marks together, so that the planner
knows the open cases already dealt with are nearly all of them

Revision ID: 0963_sweep_marks_statistics
Revises: 0963_sweep_marks_on_cases
Create Date: 2026-12-07 12:10:00.000000

Closed cases keep due_mark 0 and open ones are nearly all marked, so the planner's separate
statistics of status and due_mark multiply to "most open cases still to sweep": at 10M it
scanned the whole table for the steady sweep (10 s) instead of the index range that holds no
row (2 ms). A multivariate MCV list on (status, due_mark, accept_mark) gives it the right
estimate from the next ANALYZE (autovacuum's, or `ANALYZE cases`). SQLite needs none: it
walks the index whose leading columns the sweep names.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0963_sweep_marks_statistics'
down_revision = '0963_sweep_marks_on_cases'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE STATISTICS IF NOT EXISTS cases_status_marks (mcv) '
                   'ON status, due_mark, accept_mark FROM cases')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP STATISTICS IF EXISTS cases_status_marks')
