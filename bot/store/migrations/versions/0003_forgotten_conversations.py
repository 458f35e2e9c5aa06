"""forgotten conversations (a forget reaches every server's outage spool)

Revision ID: 0003
Revises: 0002_staff_sessions
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002_staff_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('forgotten_conversations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('salt', sa.String(length=32), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('forgotten_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('forgotten_conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forgotten_conversations_forgotten_at'), ['forgotten_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('forgotten_conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forgotten_conversations_forgotten_at'))
    op.drop_table('forgotten_conversations')
