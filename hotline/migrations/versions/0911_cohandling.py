"""co-handling (协办) departments of a case, and merging cases (并单) into a lead case

Revision ID: 0911_cohandling
Revises: 0002_followup
Create Date: 2026-12-07 07:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0911_cohandling'
down_revision = '0002_followup'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_cohandlers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('department_code', sa.String(length=32), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.Column('added_by', sa.String(length=100), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('part_text', sa.Text(), nullable=True),
    sa.Column('part_at', sa.DateTime(), nullable=True),
    sa.Column('part_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'department_code', name='uq_case_cohandlers_department')
    )
    with op.batch_alter_table('case_cohandlers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_cohandlers_case_id'), ['case_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_case_cohandlers_department_code'),
                              ['department_code'], unique=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_merged_into_id'), ['merged_into_id'],
                              unique=False)
        batch_op.create_foreign_key('fk_cases_merged_into_id', 'cases', ['merged_into_id'],
                                    ['id'])


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint('fk_cases_merged_into_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_cases_merged_into_id'))
        batch_op.drop_column('merged_into_id')
    with op.batch_alter_table('case_cohandlers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_cohandlers_department_code'))
        batch_op.drop_index(batch_op.f('ix_case_cohandlers_case_id'))
    op.drop_table('case_cohandlers')
