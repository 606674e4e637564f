"""surveys: superseded_at, set when the case is reopened (重办) before the survey was answered

Revision ID: 0811_survey_superseded
Revises: 0002_followup
Create Date: 2026-12-07 04:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0811_survey_superseded'
down_revision = '0002_followup'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('superseded_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_column('superseded_at')
