"""phones stored as E.164: the citizen's phone on cases (and its search key), callback tasks,
surveys by SMS or call, WeChat followers' bound numbers and the lines' own numbers

Numbers were stored as they were typed (13985012345, 139 8501 2345, 0851-86833668) beside
Twilio's +8613985012345. Each becomes its E.164 form by the one rule, hotline/domain/phones.py;
text that is no phone number stays as it was. Downgrading keeps E.164, which every earlier
version also reads.

Revision ID: 0961_phones_e164
Revises: 0621_phone_key
Create Date: 2026-12-08 10:40:00

"""
import sqlalchemy as sa
from alembic import op

from hotline.domain import phones

# revision identifiers, used by Alembic.
revision = '0961_phones_e164'
# On 0621's branch (it made cases.citizen_phone_key); wechat_followers comes from 0101. With
# down_revision 0002_followup and both as depends_on, Alembic's head bookkeeping fails
# (KeyError '0002_followup': that head was already replaced by the other branches).
down_revision = '0621_phone_key'
branch_labels = None
depends_on = '0101_wechat'

BATCH = 1000


def _convert(table: str, columns: tuple[str, ...], *, key: str | None = None,
             only: tuple[str, tuple[str, ...]] | None = None) -> None:
    """Rewrite `columns` of `table` as E.164 in batches by id; `key` is a column that holds
    the search key of the first one; `only` (column, values) limits the rows."""
    bind = op.get_bind()
    names = (*columns, key) if key else columns
    t = sa.table(table, sa.column('id', sa.Integer), *(sa.column(c, sa.String) for c in names),
                 *([sa.column(only[0], sa.String)] if only else []))
    last = 0
    while True:
        query = (sa.select(t.c.id, *(t.c[c] for c in columns)).where(t.c.id > last)
                 .where(sa.or_(*(t.c[c].is_not(None) for c in columns)))
                 .order_by(t.c.id).limit(BATCH))
        if only is not None:
            query = query.where(t.c[only[0]].in_(only[1]))
        rows = bind.execute(query).all()
        if not rows:
            break
        changes = []
        for row in rows:
            values = {c: phones.stored(getattr(row, c)) for c in columns}
            if key:
                values[key] = phones.key(values[columns[0]]) or None
            if any(values[c] != getattr(row, c) for c in columns) or key:
                changes.append({'row_id': row.id, **{f'new_{c}': v for c, v in values.items()}})
        if changes:
            bind.execute(t.update().where(t.c.id == sa.bindparam('row_id'))
                         .values({c: sa.bindparam(f'new_{c}') for c in names}), changes)
        last = rows[-1].id


def upgrade():
    _convert('cases', ('citizen_phone',), key='citizen_phone_key')
    _convert('callback_tasks', ('phone',))
    _convert('surveys', ('recipient',), only=('channel', ('sms', 'voice')))
    _convert('wechat_followers', ('phone', 'pending_phone'))
    _convert('lines', ('phone_number',))


def downgrade():
    pass  # E.164 is a spelling every earlier version reads and compares
