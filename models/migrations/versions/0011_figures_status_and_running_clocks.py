"""figures: tickets by status with their departments, the running clocks of a ticket

The dashboard's open and overdue tickets and its clocks (which leave invalid tickets out)
read these indexes alone: `ix_tickets_status_figures` replaces `ix_tickets_status`.

Revision ID: 0011
Revises: 0007
Create Date: 2026-11-29 05:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_status'))
        batch_op.create_index(
            'ix_tickets_status_figures',
            ['status', 'id'],
            unique=False,
            postgresql_include=['handling_department_id', 'receiving_department_id'],
        )
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.create_index(
            'ix_deadlines_running_ticket',
            ['ticket_id', 'due_at'],
            unique=False,
            postgresql_where=sa.text("state = 'running'"),
            sqlite_where=sa.text("state = 'running'"),
        )


def downgrade() -> None:
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_deadlines_running_ticket')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_status_figures')
        batch_op.create_index(batch_op.f('ix_tickets_status'), ['status'], unique=False)
