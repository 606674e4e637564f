"""report figures kept with every step: report_cells, report_counts, report_rebuilds

Revision ID: 0951_report_figures
Revises: 0002_followup
Create Date: 2026-12-07 07:40:00.000000

A database upgraded with cases in it gets a row in report_rebuilds: the summary reads the
cases until `hotline report-figures --rebuild` has counted them into the new tables.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0951_report_figures'
down_revision = '0002_followup'
branch_labels = None
depends_on = None



def key():
    return [sa.Column('day', sa.Date(), nullable=False),
            sa.Column('line_id', sa.Integer(), autoincrement=False, nullable=False),
            sa.Column('category_id', sa.Integer(), autoincrement=False, nullable=False),
            sa.Column('department_code', sa.String(length=32), nullable=False)]
COUNTERS = ("cases", "accepted", "accepted_on_time", "replied", "replied_on_time", "closed",
            "supervised", "duplicates", "dispatched", "dispatch_steps", "return_steps",
            "extension_steps", "reopened", "instruct_steps", "responded", "decided", "approved",
            "extension_days")


def upgrade():
    op.create_table('report_cells',
    *key(),
    *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTERS],
    sa.PrimaryKeyConstraint('day', 'line_id', 'category_id', 'department_code')
    )
    op.create_table('report_counts',
    *[c for c in key() if c.name != 'category_id'],
    sa.Column('dimension', sa.String(length=16), nullable=False),
    sa.Column('value_key', sa.String(length=200), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'line_id', 'department_code', 'dimension', 'value_key')
    )
    op.create_table('report_rebuilds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.execute("INSERT INTO report_rebuilds (reason, at) SELECT 'upgraded with cases', "
               "CURRENT_TIMESTAMP WHERE EXISTS (SELECT 1 FROM cases)")


def downgrade():
    op.drop_table('report_rebuilds')
    op.drop_table('report_counts')
    op.drop_table('report_cells')
