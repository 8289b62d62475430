"""inbound pushes: partial indexes for the few unfinished ones, nonces in one B-tree

Nearly every push is recorded already done. Indexes on `openid`, `status` and
`(openid, status)` made each of them add three index entries that only the few pushes still
being handled (or failed) are ever looked up by. They are replaced by partial indexes on
those statuses, which a push recorded as done does not touch. `push_nonces.seen_at` loses its
index: nonces live for twice the clock skew and the hourly purge takes nearly all of them.
On SQLite `push_nonces` is rebuilt WITHOUT ROWID: the nonce, its key, is then the table's
only B-tree, and each push writes one page there instead of three.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 13:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

NONCES = (
    'CREATE TABLE push_nonces_new (nonce VARCHAR(64) NOT NULL, digest VARCHAR(64) NOT NULL, '
    'seen_at DATETIME NOT NULL, CONSTRAINT pk_push_nonces PRIMARY KEY (nonce)){rowid}'
)


def _where(status: str) -> dict:
    clause = f"status = '{status}'"
    return {'sqlite_where': sa.text(clause), 'postgresql_where': sa.text(clause)}


def upgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_messages_openid_status')
        batch_op.drop_index(batch_op.f('ix_inbound_messages_openid'))
        batch_op.drop_index(batch_op.f('ix_inbound_messages_status'))
    op.create_index(
        'ix_inbound_messages_processing', 'inbound_messages', ['id'], **_where('processing')
    )
    op.create_index(
        'ix_inbound_messages_sender_processing', 'inbound_messages', ['openid', 'id'],
        **_where('processing'),
    )
    op.create_index('ix_inbound_messages_failed', 'inbound_messages', ['id'], **_where('failed'))
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_nonces(' WITHOUT ROWID')  # its index is not carried over
    else:
        op.drop_index('ix_push_nonces_seen_at', table_name='push_nonces')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_nonces('')
    op.create_index('ix_push_nonces_seen_at', 'push_nonces', ['seen_at'], unique=False)
    op.drop_index('ix_inbound_messages_failed', table_name='inbound_messages')
    op.drop_index('ix_inbound_messages_sender_processing', table_name='inbound_messages')
    op.drop_index('ix_inbound_messages_processing', table_name='inbound_messages')
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_messages_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_messages_openid'), ['openid'], unique=False)
        batch_op.create_index(
            'ix_inbound_messages_openid_status', ['openid', 'status'], unique=False
        )


def _rebuild_nonces(rowid: str) -> None:
    """SQLite: push_nonces rebuilt with or without its rowid, its rows kept."""
    op.execute(NONCES.format(rowid=rowid))
    op.execute('INSERT INTO push_nonces_new (nonce, digest, seen_at) '
               'SELECT nonce, digest, seen_at FROM push_nonces')
    op.execute('DROP TABLE push_nonces')
    op.execute('ALTER TABLE push_nonces_new RENAME TO push_nonces')
