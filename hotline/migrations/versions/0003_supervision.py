"""supervision: sweep marks (催办/督办), outbox delivery bookkeeping, survey indexes

Revision ID: 0003_supervision
Revises: 0002_followup
Create Date: 2026-11-23 18:29:47.557051

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003_supervision'
down_revision = '0002_followup'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('supervision_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('department_code', sa.String(length=32), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('sweep', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'kind', 'deadline',
                        name='uq_supervision_marks_case_kind_deadline')
    )
    with op.batch_alter_table('supervision_marks', schema=None) as batch_op:
        batch_op.create_index('ix_supervision_marks_sweep', ['sweep', 'kind'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_status_accept_due', ['status', 'accept_due_date'],
                              unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))
        # Rows written before this revision were never attempted uncertainly.
        batch_op.add_column(sa.Column('maybe_sent', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('relayed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('handled_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))

    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index('ix_surveys_answer', ['answered_at', 'sent_at'], unique=False)
        batch_op.create_index('ix_surveys_rating', ['rating', 'handled_at'], unique=False)


def downgrade():
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index('ix_surveys_rating')
        batch_op.drop_index('ix_surveys_answer')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('note')
        batch_op.drop_column('handled_by')
        batch_op.drop_column('relayed_at')
        batch_op.drop_column('maybe_sent')
        batch_op.drop_column('claimed_at')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_status_accept_due')

    with op.batch_alter_table('supervision_marks', schema=None) as batch_op:
        batch_op.drop_index('ix_supervision_marks_sweep')

    op.drop_table('supervision_marks')
