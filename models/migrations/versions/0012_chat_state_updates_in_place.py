"""chat state: updated in place (HOT) at every conversation step

Every step of a conversation rewrites its `chat_states` row. With `expires_at` indexed, each
rewrite had to add index entries and leave a dead row behind the live one (no HOT update),
so the rows of busy openids bloated. The retention sweep that used the index runs once an
hour over a table of recent conversations only; it now scans that table. On PostgreSQL the
table keeps a fifth of each page free for the new versions of its rows.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 11:00:00
"""

from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('chat_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_states_expires_at'))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE chat_states SET (fillfactor = 80)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE chat_states RESET (fillfactor)')
    with op.batch_alter_table('chat_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_states_expires_at'), ['expires_at'], unique=False)
