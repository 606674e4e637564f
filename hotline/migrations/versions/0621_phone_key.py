"""cases: the citizen's phone as one searchable key (national digits), for the staff's phone search

Revision ID: 0621_phone_key
Revises: 0002_followup
Create Date: 2026-12-07 04:30:00

"""
import sqlalchemy as sa
from alembic import op

from hotline.domain.phones import key as national

# revision identifiers, used by Alembic.
revision = '0621_phone_key'
down_revision = '0002_followup'
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade():
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('citizen_phone_key', sa.String(length=32), nullable=True))
        batch.create_index('ix_cases_citizen_phone_key', ['citizen_phone_key'], unique=False)
    # The cases logged before: their key from the phone as it was written (one rule: phones.py).
    bind = op.get_bind()
    cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('citizen_phone', sa.String),
                     sa.column('citizen_phone_key', sa.String))
    last = 0
    while True:
        rows = bind.execute(sa.select(cases.c.id, cases.c.citizen_phone)
                            .where(cases.c.citizen_phone.is_not(None), cases.c.id > last)
                            .order_by(cases.c.id).limit(BATCH)).all()
        if not rows:
            break
        bind.execute(cases.update().where(cases.c.id == sa.bindparam('row_id'))
                     .values(citizen_phone_key=sa.bindparam('key')),
                     [{'row_id': row.id, 'key': national(row.citizen_phone) or None}
                      for row in rows])
        last = rows[-1].id


def downgrade():
    with op.batch_alter_table('cases') as batch:
        batch.drop_index('ix_cases_citizen_phone_key')
        batch.drop_column('citizen_phone_key')
