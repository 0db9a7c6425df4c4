"""Accounts that can be shut off, and login throttling shared by every worker

- core_users.last_login_at;
- core_api_tokens.expires_at, revoked_at, last_used_at (a token can expire or be revoked; when it was last used);
- core_login_throttle replaces core_login_attempts: one counter row per client address and per (login, address),
  changed by single atomic statements (core/throttle.py), instead of one row per failure counted with a SELECT
  that concurrent workers all passed before any of them wrote.

Revision ID: core_0005
Revises: core_0004
"""
from alembic import op
import sqlalchemy as sa


revision = 'core_0005'
down_revision = 'core_0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD/DROP COLUMN (SQLite 3.35+ has both), not a batch: SQLite's batch copies and drops the
    # table, which its foreign keys refuse once tokens and audit rows point at the users.
    op.add_column('core_users', sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True))
    for column in ('expires_at', 'revoked_at', 'last_used_at'):
        op.add_column('core_api_tokens', sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    op.create_table('core_login_throttle',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('core_login_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_login_throttle_last_at'), ['last_at'], unique=False)
    # Past failures are not carried over: the old rows count per login only, and they last 5 minutes anyway.
    with op.batch_alter_table('core_login_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_login_attempts_login'))
    op.drop_table('core_login_attempts')


def downgrade() -> None:
    op.create_table('core_login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login', sa.String(length=80), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('core_login_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_login_attempts_login'), ['login'], unique=False)
    with op.batch_alter_table('core_login_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_login_throttle_last_at'))
    op.drop_table('core_login_throttle')
    for column in ('last_used_at', 'revoked_at', 'expires_at'):
        op.drop_column('core_api_tokens', column)
    op.drop_column('core_users', 'last_login_at')
